"""Admin for the people on a demand and canned replies: read-only, since every change goes through the services
(an assignment writes the demand's timeline, a canned reply the audit log), on the demand page and 常用语 page."""

from django.contrib import admin

from .models import Assignment, CannedReply, Watch


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Assignment)
class AssignmentAdmin(ReadOnly):
    list_display = ["demand", "assignee", "unit", "assigned_by", "assigned_at"]
    search_fields = ["demand__number", "assignee__username", "assignee__full_name"]
    list_select_related = ["demand", "assignee", "unit", "assigned_by"]
    raw_id_fields = ["demand", "assignee", "assigned_by"]


@admin.register(Watch)
class WatchAdmin(ReadOnly):
    list_display = ["demand", "user", "created_at"]
    search_fields = ["demand__number", "user__username", "user__full_name"]
    list_select_related = ["demand", "user"]
    raw_id_fields = ["demand", "user"]


@admin.register(CannedReply)
class CannedReplyAdmin(ReadOnly):
    list_display = ["title", "scope_label", "created_by", "updated_at"]
    search_fields = ["title", "text"]
    list_select_related = ["unit", "jurisdiction", "created_by"]

    @admin.display(description="范围")
    def scope_label(self, obj):
        return obj.scope_label
