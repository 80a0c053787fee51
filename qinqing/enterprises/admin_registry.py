"""Admin for the registry's reference data and configuration (imported at the end of admin.py).

Size thresholds and 四上 rules are configuration the statistics bureau changes: saving one queues a
recomputation of every enterprise's size and 四上 status. Accepting a non-conforming credit code goes
through services.accept_nonconforming_code (administrators only, recorded with who/when/why). The audit
trail and import jobs are read-only.
"""

from django import forms
from django.contrib import admin, messages
from django.db import transaction

from qinqing.demands.errors import DomainError
from qinqing.lib.admin import ReadOnlyAdmin

from . import services
from .models import (
    CreditCodeOverride,
    Division,
    EnterpriseEvent,
    FourAboveRule,
    ImportJob,
    IndustryCode,
    SizeRule,
    Tag,
    YearlyFigures,
)


@admin.register(IndustryCode)
class IndustryCodeAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "level", "sector"]
    list_filter = ["level", "sector"]
    search_fields = ["code", "name"]
    list_editable = ["sector"]
    readonly_fields = ["code", "level", "parent"]
    list_per_page = 100

    def has_add_permission(self, request):
        return False  # the standard is loaded from data; only the sector mapping is edited here

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Division)
class DivisionAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "level", "parent"]
    list_filter = ["level"]
    search_fields = ["code", "name"]
    autocomplete_fields = ["parent"]
    list_select_related = ["parent"]


class RecomputeOnSave(admin.ModelAdmin):
    """Thresholds changed: every enterprise's size and 四上 status are recomputed in the background."""

    def _queue_refresh(self, request):
        from .tasks import refresh_classifications

        transaction.on_commit(refresh_classifications)
        messages.info(request, "标准已更新，系统正在后台重新测算全部企业的规模和四上状态。")

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        self._queue_refresh(request)

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        self._queue_refresh(request)


@admin.register(SizeRule)
class SizeRuleAdmin(RecomputeOnSave):
    list_display = ["name", "codes", "employees_large", "employees_medium", "employees_small", "revenue_large",
                    "revenue_medium", "revenue_small", "assets_large", "assets_medium", "assets_small", "active"]
    list_filter = ["active"]
    fieldsets = [
        (None, {"fields": ["name", "codes", "active", "note"]}),
        ("从业人员（人）", {"fields": [("employees_large", "employees_medium", "employees_small")]}),
        ("营业收入（万元）", {"fields": [("revenue_large", "revenue_medium", "revenue_small")]}),
        ("资产总额（万元）", {"fields": [("assets_large", "assets_medium", "assets_small")],
                         "description": "大型、中型、小型须同时满足所列指标的下限，否则下划一档；都不满足为微型。"}),
    ]


@admin.register(FourAboveRule)
class FourAboveRuleAdmin(RecomputeOnSave):
    list_display = ["name", "codes", "min_revenue", "min_employees", "needs_qualification", "active"]
    list_filter = ["active"]


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ["name", "description", "position", "active"]
    list_editable = ["position", "active"]
    search_fields = ["name"]


class OverrideForm(forms.ModelForm):
    class Meta:
        model = CreditCodeOverride
        fields = ["code", "reason"]

    def clean(self):
        data = super().clean()
        if data.get("code") and data.get("reason"):
            try:
                data["code"] = services.check_nonconforming_code(data["code"], data["reason"])
            except DomainError as exc:
                raise forms.ValidationError(exc.message) from None
            if CreditCodeOverride.objects.filter(code=data["code"]).exists():
                raise forms.ValidationError(f"{data['code']}已被特批，无需重复操作。")
        return data

    def validate_unique(self):
        pass  # the service reports a code accepted twice, in its own words


@admin.register(CreditCodeOverride)
class CreditCodeOverrideAdmin(admin.ModelAdmin):
    """特批信用代码: only a code whose check character alone fails GB 32100 can be accepted."""

    form = OverrideForm
    list_display = ["code", "reason", "accepted_by", "accepted_at"]
    search_fields = ["code"]
    list_select_related = ["accepted_by"]

    def has_change_permission(self, request, obj=None):
        return obj is None  # the record is the audit: not edited afterwards

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        saved = services.accept_nonconforming_code(request.user, obj.code, obj.reason)
        obj.pk, obj.accepted_by, obj.accepted_at = saved.pk, saved.accepted_by, saved.accepted_at


@admin.register(YearlyFigures)
class YearlyFiguresAdmin(ReadOnlyAdmin):
    list_display = ["enterprise", "year", "employees", "revenue", "assets", "tax_paid", "size", "is_four_above"]
    list_filter = ["year", "size", "is_four_above"]
    search_fields = ["enterprise__name", "enterprise__credit_code"]
    list_select_related = ["enterprise"]
    show_full_result_count = False


@admin.register(EnterpriseEvent)
class EnterpriseEventAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "verb", "enterprise", "actor", "note"]
    list_filter = ["verb"]
    search_fields = ["enterprise__name", "enterprise__credit_code", "note"]
    list_select_related = ["enterprise", "actor"]
    show_full_result_count = False


@admin.register(ImportJob)
class ImportJobAdmin(ReadOnlyAdmin):
    list_display = ["original_name", "status", "uploaded_by", "created_at", "total_rows", "valid_rows",
                    "error_rows", "created_count", "updated_count"]
    list_filter = ["status"]
    list_select_related = ["uploaded_by"]
