"""Admin of 一公开 and the demand import: the specialists' directory is edited here (each change goes to the
audit log as a configuration change, like every admin change); figures, source numbers and jobs are read-only."""

from django.contrib import admin

from qinqing.lib.admin import ReadOnlyAdmin

from .models import DemandImportJob, DemandSource, PublicFigure, ServiceSpecialist


@admin.register(ServiceSpecialist)
class ServiceSpecialistAdmin(admin.ModelAdmin):
    list_display = ("unit", "post", "title", "office_phone", "published")
    list_filter = ("post", "published")
    search_fields = ("unit__name", "title", "office_phone")
    list_select_related = ("unit",)
    autocomplete_fields = ("user",)
    raw_id_fields = ("unit",)


@admin.register(PublicFigure)
class PublicFigureAdmin(ReadOnlyAdmin):
    list_display = ("jurisdiction", "month", "unit", "n", "reply_done", "reply_ontime", "evaluated", "satisfied",
                    "built_at")
    list_select_related = ("jurisdiction", "unit")
    list_filter = ("month",)


@admin.register(DemandSource)
class DemandSourceAdmin(ReadOnlyAdmin):
    list_display = ("source_number", "demand", "imported_at")
    list_select_related = ("demand",)
    search_fields = ("source_number",)


@admin.register(DemandImportJob)
class DemandImportJobAdmin(ReadOnlyAdmin):
    list_display = ("original_name", "uploaded_by", "status", "total_rows", "valid_rows", "error_rows",
                    "created_count", "created_at")
    list_select_related = ("uploaded_by",)
    list_filter = ("status",)
