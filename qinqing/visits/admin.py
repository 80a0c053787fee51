"""Admin: cadres and cadence are configuration; assignments, visits and the trail change only through services."""

from django.contrib import admin

from qinqing.lib.admin import ReadOnlyAdmin, ServiceAdmin, ServiceForm

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


class CadreForm(ServiceForm):
    class Meta(ServiceForm.Meta):
        fields = ["user", "level", "jurisdiction", "unit", "capacity", "sectors", "active"]

    def write(self):
        from . import services

        data = self.cleaned_data
        person = data["user"] if self.instance.pk is None else self.instance.user
        return services.register_cadre(self.user, person, level=data["level"], jurisdiction=data["jurisdiction"],
                                       unit=data["unit"], capacity=data["capacity"], sectors=data["sectors"] or (),
                                       active=data["active"])


@admin.register(Cadre)
class CadreAdmin(ServiceAdmin):
    """登记包联干部 through services.register_cadre (its permission check and audit line); a cadre with
    history is retired (在岗 off), never deleted."""

    form = CadreForm
    list_display = ("user", "level", "jurisdiction", "unit", "capacity", "active")
    list_filter = ("level", "active")
    search_fields = ("user__full_name", "user__username")
    autocomplete_fields = ("user",)
    raw_id_fields = ("jurisdiction", "unit")

    def get_readonly_fields(self, request, obj=None):
        return ("user",) if obj is not None else ()  # the service keys a cadre by its person


class CadenceRuleForm(ServiceForm):
    class Meta(ServiceForm.Meta):
        fields = ["level", "contact_days", "visit_days"]

    def write(self):
        from . import services

        data = self.cleaned_data
        level = data["level"] if self.instance.pk is None else self.instance.level
        return services.set_cadence(self.user, level, contact_days=data["contact_days"],
                                    visit_days=data["visit_days"])


@admin.register(CadenceRule)
class CadenceRuleAdmin(ServiceAdmin):
    """Saved through services.set_cadence, which also moves every current deadline of the level."""

    form = CadenceRuleForm
    list_display = ("level", "contact_days", "visit_days", "active")

    def get_readonly_fields(self, request, obj=None):
        return ("level", "active") if obj is not None else ("active",)


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
