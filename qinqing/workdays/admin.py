"""Admin for the working-day calendar: edit single days, or import the State Council's arrangement as CSV."""

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse

from qinqing.demands.errors import DomainError
from qinqing.lib import uploads

from .models import WorkdayOverride
from .services import delete_overrides, import_workdays, save_override


class WorkdayImportForm(forms.Form):
    file = forms.FileField(label="CSV 文件", help_text="UTF-8 编码，表头 date,kind[,note]；kind 为 holiday（放假）"
                                                     "或 workday（调休上班），date 为 YYYY-MM-DD。")

    def clean_file(self):
        upload = self.cleaned_data["file"]
        try:  # by content: UTF-8 text without NUL bytes, whatever the name says
            uploads.check_upload(upload, allowed=["csv", "txt"],
                                 max_bytes=settings.QINQING_CALENDAR_UPLOAD_MAX_BYTES)
        except uploads.UploadRefused as exc:
            raise forms.ValidationError(f"{exc.message}文件须为 UTF-8 编码的 CSV。") from None
        return upload.read().decode("utf-8-sig")


@admin.register(WorkdayOverride)
class WorkdayOverrideAdmin(admin.ModelAdmin):
    list_display = ["date", "weekday", "kind", "note"]
    list_filter = ["kind"]
    search_fields = ["note"]
    date_hierarchy = "date"
    change_list_template = "admin/workdays/workdayoverride/change_list.html"

    def save_model(self, request, obj, form, change):
        """Through the service, which moves the deadlines the changed day touches."""
        old_date = form.initial.get("date") if change else None
        self._tell(request, save_override(request.user, obj, old_date=old_date))

    def delete_model(self, request, obj):
        self._tell(request, delete_overrides(request.user, WorkdayOverride.objects.filter(pk=obj.pk)))

    def delete_queryset(self, request, queryset):
        self._tell(request, delete_overrides(request.user, queryset))

    def _tell(self, request, change) -> None:
        if change.message:
            self.message_user(request, change.message, messages.INFO)

    @admin.display(description="星期")
    def weekday(self, obj):
        return "一二三四五六日"[obj.date.weekday()]

    def get_urls(self):
        return [
            path("import/", self.admin_site.admin_view(self.import_view), name="workdays_workdayoverride_import"),
            *super().get_urls(),
        ]

    def import_view(self, request):
        """Upload a CSV; the service checks every row before writing any, and its message is shown as is."""
        if not (self.has_add_permission(request) and self.has_change_permission(request)):
            raise PermissionDenied
        form = WorkdayImportForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            try:
                change = import_workdays(form.cleaned_data["file"], user=request.user)
            except DomainError as exc:
                form.add_error("file", exc.message)
            else:
                self.message_user(request, f"已导入 {change.saved} 个日期。", messages.SUCCESS)
                self._tell(request, change)
                return redirect(reverse("admin:workdays_workdayoverride_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "title": "导入节假日与调休（CSV）",
            "opts": self.model._meta,
            "form": form,
        }
        return TemplateResponse(request, "admin/workdays/workdayoverride/import.html", context)
