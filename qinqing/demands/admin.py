"""Admin for the demand taxonomy and deadline rules (editable) and the demands themselves (read-only).

Every change to a demand goes through a verb in qinqing.demands.services, which recomputes the clock,
writes the timeline and queues notifications. The admin must not become a side door around them, so
demands, their timeline, extensions and urgings can be looked at here but not added, changed or deleted.
"""

from django.contrib import admin

from .models import (
    Category,
    Demand,
    DemandEvent,
    EnvironmentAspect,
    EnvironmentClass,
    Extension,
    SlaRule,
    Urging,
)


class ReadOnlyAdminMixin:
    """View-only in the admin: Django then renders every field read-only and offers no save or delete."""

    @admin.display(description="操作")
    def verb_label(self, obj):
        return obj.verb_label

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(SlaRule)
class SlaRuleAdmin(admin.ModelAdmin):
    list_display = ["name", "dispatch_days", "contact_days", "path_days", "resolve_months", "resolve_workdays",
                    "redo_days", "is_default"]
    list_filter = ["is_default"]
    search_fields = ["name"]


class EnvironmentAspectInline(admin.TabularInline):
    model = EnvironmentAspect
    fields = ["name", "position", "active"]
    extra = 0


@admin.register(EnvironmentClass)
class EnvironmentClassAdmin(admin.ModelAdmin):
    """营商环境四大类 and their aspects (方面), edited together; aspects are retired, not deleted."""

    list_display = ["name", "position"]
    list_editable = ["position"]
    inlines = [EnvironmentAspectInline]


@admin.register(EnvironmentAspect)
class EnvironmentAspectAdmin(admin.ModelAdmin):
    list_display = ["name", "env_class", "position", "active"]
    list_filter = ["env_class", "active"]
    list_editable = ["position", "active"]
    list_select_related = ["env_class"]
    search_fields = ["name", "env_class__name"]


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "parent", "sla_rule", "default_unit", "default_aspect", "keywords", "position", "active"]
    list_filter = ["active", "sla_rule", ("parent", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["name", "keywords"]
    list_select_related = ["parent", "sla_rule", "default_unit", "default_aspect"]
    list_editable = ["position", "active"]
    autocomplete_fields = ["parent", "default_unit", "default_aspect"]
    fields = ["name", "parent", "sla_rule", "default_unit", "default_aspect", "keywords", "position", "active"]


class DemandEventInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = DemandEvent
    fields = ["created_at", "verb_label", "actor", "from_state", "to_state", "note", "internal"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor")


@admin.register(Demand)
class DemandAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["number", "title", "enterprise", "state", "current_stage", "lead_unit", "next_due",
                    "received_at"]
    list_filter = ["state", "current_stage", "channel", "tier", "category"]
    search_fields = ["number", "title", "enterprise__name", "enterprise__credit_code"]
    list_select_related = ["enterprise", "lead_unit"]
    inlines = [DemandEventInline]
    # A hotline-scale ledger has millions of rows: skip the second COUNT(*) on every page.
    show_full_result_count = False
    fieldsets = [
        ("诉求", {"fields": ["number", "title", "content", "enterprise", "reporter_name", "reporter_phone",
                           "jurisdiction", "channel", "category", "aspect", "received_at", "first_receiver"]}),
        ("办理", {"fields": ["state", "tier", "lead_unit", "co_units", "solution_path", "outcome", "reply",
                           "duplicate_of"]}),
        ("评价", {"fields": ["evaluation", "evaluation_comment", "evaluation_by_callback"]}),
        ("1231 时限", {"fields": ["current_stage", "next_due", "dispatch_due", "contact_due", "path_due",
                                "resolve_due", "extension_days"]}),
        ("时间", {"classes": ["collapse"],
                "fields": ["dispatched_at", "accepted_at", "contacted_at", "path_at", "replied_at",
                           "evaluated_at", "reopened_at", "closed_at", "reopen_count", "return_count",
                           "version", "created_at", "updated_at"]}),
    ]
    readonly_fields = ["version", "created_at", "updated_at"]


@admin.register(DemandEvent)
class DemandEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The timeline is append-only: the model refuses updates and deletes, and so does its admin."""

    list_display = ["created_at", "demand", "verb_label", "actor", "from_state", "to_state", "internal"]
    list_filter = ["verb", "internal", "to_state"]
    search_fields = ["demand__number", "note"]
    list_select_related = ["demand", "actor"]
    fields = ["demand", "created_at", "verb_label", "actor", "from_state", "to_state", "note", "data",
              "internal"]
    readonly_fields = fields
    show_full_result_count = False


@admin.register(Extension)
class ExtensionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Approving or rejecting moves the demand's deadlines: that is approve_extension/reject_extension's job."""

    list_display = ["demand", "days", "status", "requested_by", "requested_at", "decided_by", "decided_at"]
    list_filter = ["status"]
    search_fields = ["demand__number", "reason"]
    list_select_related = ["demand", "requested_by", "decided_by"]


@admin.register(Urging)
class UrgingAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["created_at", "demand", "stage", "due", "unit"]
    list_filter = ["stage"]
    search_fields = ["demand__number", "unit__name"]
    list_select_related = ["demand", "unit"]
    date_hierarchy = "created_at"
    show_full_result_count = False
