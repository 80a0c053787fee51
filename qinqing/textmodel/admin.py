"""Admin for the text model: the user dictionary (editable), the trained versions (looked at, trained,
switched and rolled back through the services), and the dispatchers' corrections (looked at)."""

from django.contrib import admin, messages
from django.db import transaction

from qinqing.demands.errors import DomainError
from qinqing.lib import clock
from qinqing.lib.admin import ReadOnlyAdmin, ServiceAdmin, ServiceForm

from . import services
from .models import Correction, Kind, ReplyCheck, Settings, Term, TextModel


@admin.register(Term)
class TermAdmin(admin.ModelAdmin):
    list_display = ["word", "weight", "note", "updated_at"]
    search_fields = ["word", "note"]
    fields = ["word", "weight", "note"]

    def save_model(self, request, obj, form, change):
        obj.updated_at = clock.now()
        super().save_model(request, obj, form, change)


@admin.register(TextModel)
class TextModelAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "active", "macro_f1_display", "n_examples", "trained_at", "trained_by"]
    list_filter = ["kind", "active"]
    list_select_related = ["trained_by"]
    exclude = ["pipeline"]
    readonly_fields = ["kind", "version", "trained_at", "trained_by", "n_examples", "active", "scores_display"]
    actions = ["activate", "train_categories", "train_units", "roll_back"]

    def get_queryset(self, request):
        return super().get_queryset(request).defer("pipeline")

    def has_view_permission(self, request, obj=None):
        return services.is_admin(request.user)

    def get_actions(self, request):
        # Actions run services that check the role themselves; the admin's delete permission is not theirs.
        actions = super().get_actions(request)
        return actions if services.is_admin(request.user) else {}

    @admin.display(description="交叉验证宏F1")
    def macro_f1_display(self, obj):
        return f"{obj.macro_f1:.4f}" if obj.macro_f1 is not None else "—"

    @admin.display(description="交叉验证成绩")
    def scores_display(self, obj):
        scores = obj.scores or {}
        per_class = "；".join(f"{k} {v:.3f}" for k, v in (scores.get("per_class") or {}).items())
        return (f"{scores.get('protocol', '')}：宏F1 {scores.get('macro_f1', '—')}；{per_class}；"
                f"参数 {scores.get('params', {})}")

    @admin.action(description="启用所选版本")
    def activate(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, "请只选择一个版本。", messages.ERROR)
            return
        try:
            model = services.activate_model(request.user, queryset.get())
        except DomainError as exc:
            self.message_user(request, exc.message, messages.ERROR)
        else:
            self.message_user(request, f"已启用{model}。")

    @admin.action(description="回退到上一版本（所选版本的用途）")
    def roll_back(self, request, queryset):
        for kind in sorted(set(queryset.values_list("kind", flat=True))):
            try:
                model = services.rollback_model(request.user, kind)
            except DomainError as exc:
                self.message_user(request, exc.message, messages.ERROR)
            else:
                self.message_user(request, f"已回退到{model}。")

    def _queue(self, request, kind):
        from .tasks import train_text_model

        user_id = request.user.pk
        transaction.on_commit(lambda: train_text_model(user_id, kind))
        self.message_user(request, f"已提交{Kind(kind).label}模型的训练，完成后出现在列表中。")

    @admin.action(description="立即训练诉求类别模型")
    def train_categories(self, request, queryset):
        self._queue(request, Kind.CATEGORY)

    @admin.action(description="立即训练承办单位模型")
    def train_units(self, request, queryset):
        self._queue(request, Kind.UNIT)


@admin.register(Correction)
class CorrectionAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "demand", "kind", "suggested", "confidence", "chosen", "model", "actor"]
    list_filter = ["kind"]
    list_select_related = ["demand", "model", "actor"]
    raw_id_fields = ["demand"]

    def get_queryset(self, request):
        return super().get_queryset(request).defer("model__pipeline")


class SettingsForm(ServiceForm):
    class Meta:
        model = Settings
        fields = list(services.SETTING_FIELDS)

    def write(self):
        return services.configure(self.user, **{f: self.cleaned_data[f] for f in services.SETTING_FIELDS})


@admin.register(Settings)
class SettingsAdmin(ServiceAdmin):
    """The one row of switches; saving goes through services.configure (administrators only, audited)."""

    form = SettingsForm
    list_display = ["__str__", "auto_dispatch", "auto_dispatch_threshold", "duplicate_threshold", "duplicate_days",
                    "updated_at", "updated_by"]
    list_select_related = ["updated_by"]

    def has_module_permission(self, request):
        return services.is_admin(request.user)

    def has_view_permission(self, request, obj=None):
        return services.is_admin(request.user)

    def has_change_permission(self, request, obj=None):
        return services.is_admin(request.user)

    def has_add_permission(self, request):
        return services.is_admin(request.user) and not Settings.objects.exists()


@admin.register(ReplyCheck)
class ReplyCheckAdmin(ReadOnlyAdmin):
    list_display = ["checked_at", "demand", "unit", "relevance", "flags", "reused", "sent", "actor"]
    list_filter = ["flagged", "sent"]
    list_select_related = ["demand", "unit", "actor"]
    raw_id_fields = ["demand"]
