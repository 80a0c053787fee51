"""Admin for in-app notifications: the worker writes them, administrators may only look or tidy up."""

from django.contrib import admin

from .models import Notification


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["created_at", "recipient", "text", "demand", "read_at"]
    list_filter = [("read_at", admin.EmptyFieldListFilter)]
    search_fields = ["text", "recipient__username", "recipient__full_name", "demand__number"]
    list_select_related = ["recipient", "demand"]
    raw_id_fields = ["recipient", "demand", "event"]
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
