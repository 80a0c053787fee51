"""Admin for in-app notifications: the worker writes them, administrators may only look or tidy up."""

from django.contrib import admin

from .models import Notification, Preference, SmsMessage


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


@admin.register(Preference)
class PreferenceAdmin(admin.ModelAdmin):
    list_display = ["user", "by_email", "by_sms", "updated_at"]
    list_filter = ["by_email", "by_sms"]
    search_fields = ["user__username", "user__full_name"]
    list_select_related = ["user"]
    raw_id_fields = ["user"]


@admin.register(SmsMessage)
class SmsMessageAdmin(admin.ModelAdmin):
    """What the SMS gateway was handed; the default gateway only records messages here."""

    list_display = ["created_at", "phone", "recipient", "text", "status", "backend"]
    list_filter = ["status", "backend"]
    search_fields = ["phone", "text", "recipient__username", "recipient__full_name"]
    list_select_related = ["recipient"]
    date_hierarchy = "created_at"
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
