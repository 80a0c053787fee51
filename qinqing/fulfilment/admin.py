"""Admin: read-only views of applications, batches, the ledger and the trail. They change only through the staff
pages (qinqing.fulfilment.views), which go through the services: permission, two-person rule, trail."""

from django.contrib import admin

from qinqing.lib.admin import ReadOnlyAdmin

from .models import Application, Batch, BatchLine, FulfilmentEvent, FulfilmentRecord


@admin.register(Application)
class ApplicationAdmin(ReadOnlyAdmin):
    list_display = ("enterprise", "policy", "channel", "submitted_on", "status", "amount_granted")
    list_filter = ("status", "channel")
    search_fields = ("enterprise__name", "policy__title")
    list_select_related = ("enterprise", "policy")


class BatchLineInline(admin.TabularInline):
    model = BatchLine
    fields = ("enterprise", "amount")
    readonly_fields = fields
    extra = 0
    max_num = 0
    can_delete = False
    show_change_link = False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("enterprise")


@admin.register(Batch)
class BatchAdmin(ReadOnlyAdmin):
    list_display = ("title", "policy", "status", "enterprise_count", "total_amount", "prepared_by", "decided_by")
    list_filter = ("status",)
    search_fields = ("title", "policy__title")
    list_select_related = ("policy", "prepared_by", "decided_by")
    inlines = [BatchLineInline]


@admin.register(FulfilmentRecord)
class FulfilmentRecordAdmin(ReadOnlyAdmin):
    list_display = ("enterprise", "policy", "source", "amount", "granted_on", "paid_on", "days_to_pay")
    list_filter = ("source", "benefit_type")
    search_fields = ("enterprise__name", "policy__title")
    list_select_related = ("enterprise", "policy")


@admin.register(FulfilmentEvent)
class FulfilmentEventAdmin(ReadOnlyAdmin):
    list_display = ("policy", "verb", "actor", "created_at")
    list_filter = ("verb",)
    search_fields = ("policy__title",)
    list_select_related = ("policy", "actor")
