"""The enterprise portal's forms: few fields, plain words, limits stated up front."""

from django import forms
from django.conf import settings

from qinqing.demands import services
from qinqing.demands.errors import DomainError
from qinqing.demands.models import Category, Evaluation

TITLE_FROM_CONTENT = 30  # characters of the content used as the title when the owner leaves it empty


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files under one name (Django's documented pattern for `multiple`)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        if isinstance(data, list | tuple):
            return [super(MultipleFileField, self).clean(d, initial) for d in data if d]
        return [super().clean(data, initial)] if data else []


def attachment_help() -> str:
    """The upload rules in words an owner understands; read from settings at request time."""
    kinds = "、".join(settings.QINQING_ATTACHMENT_EXTENSIONS)
    size_mb = settings.QINQING_ATTACHMENT_MAX_BYTES // (1024 * 1024)
    return (f"可拍照或选文件，最多{settings.QINQING_ATTACHMENTS_PER_DEMAND}个，"
            f"每个不超过{size_mb}MB。支持格式：{kinds}。")


class SubmitDemandForm(forms.Form):
    content = forms.CharField(
        label="遇到了什么问题？", max_length=5000,
        widget=forms.Textarea(attrs={"rows": 6, "placeholder": "请说说具体情况，比如：什么事、涉及哪个部门、希望得到什么帮助。"}),
        error_messages={"required": "请说说遇到的问题。"},
    )
    title = forms.CharField(
        label="一句话概括", max_length=120, required=False,
        help_text="不填会自动取问题描述的开头。",
        widget=forms.TextInput(attrs={"placeholder": "例如：招不到数控技术工人"}),
    )
    category = forms.ModelChoiceField(
        label="问题类型", queryset=Category.objects.none(), required=False,
        empty_label="不确定，请工作人员帮我判断",
    )
    attachments = MultipleFileField(label="图片或材料", required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = Category.objects.filter(active=True)
        self.fields["attachments"].help_text = attachment_help()
        accept = ",".join(f".{ext}" for ext in settings.QINQING_ATTACHMENT_EXTENSIONS)
        self.fields["attachments"].widget.attrs["accept"] = accept

    def clean_attachments(self):
        files = self.cleaned_data.get("attachments") or []
        try:
            services.validate_attachments(files)
        except DomainError as exc:
            raise forms.ValidationError(exc.message) from None
        return files

    def clean(self):
        data = super().clean()
        content = (data.get("content") or "").strip()
        if content and not (data.get("title") or "").strip():
            first_line = content.splitlines()[0].strip()
            data["title"] = first_line[:TITLE_FROM_CONTENT] + ("…" if len(first_line) > TITLE_FROM_CONTENT else "")
        return data


class VersionForm(forms.Form):
    """The version of the demand the owner saw, so that a stale page cannot overwrite newer work."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)


class RateForm(VersionForm):
    evaluation = forms.ChoiceField(
        label="您对办理结果满意吗？", choices=Evaluation.choices, widget=forms.RadioSelect,
        error_messages={"required": "请选择满意、基本满意或不满意。"},
    )
    comment = forms.CharField(
        label="说说您的意见", max_length=2000, required=False,
        help_text="选择“不满意”时请写明原因，我们会重新办理。",
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "选填（不满意时必填）"}),
    )


class ReopenForm(VersionForm):
    reason = forms.CharField(
        label="还有哪些问题没解决？", max_length=2000, required=False,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "请写明需要继续解决的问题"}),
    )
