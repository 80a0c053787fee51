"""The audit log in the admin: looked at, filtered and searched; never added to, changed or deleted."""

from django.contrib import admin

from .models import Action, AuditEntry


class ActionFilter(admin.SimpleListFilter):
    title = "事项"
    parameter_name = "action"

    def lookups(self, request, model_admin):
        return Action.choices

    def queryset(self, request, queryset):
        return queryset.filter(action=self.value()) if self.value() else queryset


class ReadOnly:
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ["at", "actor_label", "action_label", "target", "ip"]
    list_filter = [ActionFilter, "at"]
    date_hierarchy = "at"
    search_fields = ["actor_label", "target", "ip"]
    fields = ["at", "actor", "actor_label", "action_label", "target", "detail", "ip", "chain_prev", "chain_hash"]
    readonly_fields = fields
    show_full_result_count = False

    @admin.display(description="事项", ordering="action")
    def action_label(self, obj):
        return obj.action_label

