"""Admin: read-only views of the stored hot issues and the policy studies. Hot issues are computed by the worker
and studies started from the leaders' page (qinqing.hotissues.services), never edited here."""

from django.contrib import admin

from qinqing.lib.admin import ReadOnlyAdmin

from .models import HotIssue, PolicyStudy


@admin.register(HotIssue)
class HotIssueAdmin(ReadOnlyAdmin):
    list_display = ("title", "jurisdiction", "period_start", "rank", "heat", "enterprise_count", "demand_count",
                    "computed_at")
    list_filter = ("period_start",)
    search_fields = ("title", "jurisdiction__name")
    list_select_related = ("jurisdiction",)
    exclude = ("demands",)


@admin.register(PolicyStudy)
class PolicyStudyAdmin(ReadOnlyAdmin):
    list_display = ("title", "jurisdiction", "lead_unit", "created_by", "created_at")
    search_fields = ("title", "source_title", "jurisdiction__name")
    list_select_related = ("jurisdiction", "lead_unit", "created_by")
    exclude = ("demands",)
