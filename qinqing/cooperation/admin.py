"""Admin of the cooperation app. The 派单目录 is configuration and edited here; tasks, disputes, instructions
and reviews are read-only, since each change goes through the services (and the demand's timeline)."""

from django.contrib import admin

from .models import CatalogueEntry, CoTask, Dispute, Instruction, InstructionAnswer, Progress, Review


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(CatalogueEntry)
class CatalogueEntryAdmin(admin.ModelAdmin):
    list_display = ["matter", "unit", "jurisdiction", "category", "basis", "active"]
    list_filter = ["active", "jurisdiction"]
    search_fields = ["matter", "basis", "unit__name"]
    list_select_related = ["unit", "jurisdiction", "category"]


@admin.register(CoTask)
class CoTaskAdmin(ReadOnly):
    list_display = ["demand", "unit", "state", "due", "answered_at", "urged_for"]
    list_filter = ["state"]
    search_fields = ["demand__number", "unit__name"]
    list_select_related = ["demand", "unit"]


@admin.register(Dispute)
class DisputeAdmin(ReadOnly):
    list_display = ["demand", "unit", "entry", "status", "raised_at", "decided_by", "decided_at"]
    list_filter = ["status"]
    search_fields = ["demand__number", "unit__name", "entry__matter"]
    list_select_related = ["demand", "unit", "entry__unit", "decided_by"]


class AnswerInline(admin.TabularInline):
    model = InstructionAnswer
    extra = 0
    can_delete = False
    fields = ["unit", "lead", "text", "answered_by", "answered_at"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Instruction)
class InstructionAdmin(ReadOnly):
    list_display = ["demand", "author", "tier", "created_at"]
    search_fields = ["demand__number", "text", "author__full_name"]
    list_select_related = ["demand", "author"]
    inlines = [AnswerInline]


@admin.register(Review)
class ReviewAdmin(ReadOnly):
    list_display = ["demand", "review_on", "interval_months", "last_progress_at"]
    search_fields = ["demand__number"]
    list_select_related = ["demand"]


@admin.register(Progress)
class ProgressAdmin(ReadOnly):
    list_display = ["demand", "unit", "author", "created_at"]
    search_fields = ["demand__number", "text"]
    list_select_related = ["demand", "unit", "author"]
