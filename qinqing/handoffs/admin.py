"""Hand-offs and pauses are written only by the services (timeline, deadlines): the admin reads them."""

from django.contrib import admin

from .models import HandOff, Pause


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(HandOff)
class HandOffAdmin(ReadOnly):
    list_display = ["source", "target", "direction", "from_jurisdiction", "to_jurisdiction", "status", "sent_at"]
    list_filter = ["direction", "status"]
    list_select_related = ["source", "target", "from_jurisdiction", "to_jurisdiction"]
    search_fields = ["source__number", "target__number"]


@admin.register(Pause)
class PauseAdmin(ReadOnly):
    list_display = ["demand", "reason", "status", "requested_at", "decided_at", "resumed_at", "workdays"]
    list_filter = ["reason", "status"]
    list_select_related = ["demand"]
    search_fields = ["demand__number"]
