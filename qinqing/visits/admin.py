"""Admin: cadres and cadence are configuration; assignments, visits and the trail change only through services."""

from django.contrib import admin

from qinqing.lib.admin import ReadOnlyAdmin

from .models import (
    Assignment,
    CadenceRule,
    Cadre,
    Campaign,
    ContactUrging,
    DutyEvent,
    Seminar,
    Visit,
)


@admin.register(Cadre)
class CadreAdmin(admin.ModelAdmin):
    list_display = ("user", "level", "jurisdiction", "unit", "capacity", "active")
    list_filter = ("level", "active")
    search_fields = ("user__full_name", "user__username")
    autocomplete_fields = ("user",)
    raw_id_fields = ("jurisdiction", "unit")

    def save_model(self, request, obj, form, change):
        from . import services

        saved = services.register_cadre(request.user, obj.user, level=obj.level, jurisdiction=obj.jurisdiction,
                                        unit=obj.unit, capacity=obj.capacity, sectors=obj.sectors,
                                        active=obj.active)
        obj.pk = saved.pk

    def has_delete_permission(self, request, obj=None):
        return False  # a cadre with history is retired (在岗 off), never deleted


@admin.register(CadenceRule)
class CadenceRuleAdmin(admin.ModelAdmin):
    """Editing here changes the rule only; services.set_cadence also moves current deadlines (see the form help)."""

    list_display = ("level", "contact_days", "visit_days", "active")

    def save_model(self, request, obj, form, change):
        from . import services

        services.set_cadence(request.user, obj.level, contact_days=obj.contact_days, visit_days=obj.visit_days)


@admin.register(Assignment)
class AssignmentAdmin(ReadOnlyAdmin):
    list_display = ("enterprise", "duty", "cadre", "level", "started_on", "ended_on", "next_contact_due",
                    "next_visit_due")
    list_filter = ("duty", "level")
    search_fields = ("enterprise__name", "enterprise__credit_code", "cadre__user__full_name")
    list_select_related = ("enterprise", "cadre__user")
    show_full_result_count = False


@admin.register(Visit)
class VisitAdmin(ReadOnlyAdmin):
    list_display = ("visited_on", "enterprise", "form", "confirmation", "rating", "recorded_by")
    list_filter = ("form", "confirmation")
    search_fields = ("enterprise__name",)
    list_select_related = ("enterprise", "recorded_by")
    date_hierarchy = "visited_on"
    show_full_result_count = False


@admin.register(Campaign)
class CampaignAdmin(ReadOnlyAdmin):
    list_display = ("name", "jurisdiction", "starts_on", "ends_on")


@admin.register(Seminar)
class SeminarAdmin(ReadOnlyAdmin):
    list_display = ("held_on", "kind", "title", "jurisdiction", "organiser")
    list_filter = ("kind",)
    date_hierarchy = "held_on"


@admin.register(ContactUrging)
class ContactUrgingAdmin(ReadOnlyAdmin):
    list_display = ("assignment", "kind", "due", "cadre", "created_at")
    list_filter = ("kind",)


@admin.register(DutyEvent)
class DutyEventAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "verb", "actor", "enterprise", "note")
    list_filter = ("verb",)
    list_select_related = ("actor", "enterprise")
    show_full_result_count = False
