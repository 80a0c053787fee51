"""Admin for the workbench: exports are a record of who exported what, so they are read-only here."""

from django.contrib import admin

from .models import ExportJob, SavedFilter


@admin.register(SavedFilter)
class SavedFilterAdmin(admin.ModelAdmin):
    list_display = ["name", "user", "query", "created_at"]
    search_fields = ["name", "user__username", "user__full_name"]
    list_select_related = ["user"]
    raw_id_fields = ["user"]


@admin.register(ExportJob)
class ExportJobAdmin(admin.ModelAdmin):
    list_display = ["created_at", "user", "status", "total_rows", "query", "finished_at"]
    list_filter = ["status"]
    search_fields = ["user__username", "user__full_name", "query"]
    list_select_related = ["user"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
