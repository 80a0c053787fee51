"""Forms of the staff pages: one per action verb (fields = the service's keyword arguments) and intake.

The forms only shape input; every rule (who may act, in which state, what is required) stays in
the services, whose Chinese messages the views show unchanged.
"""

from django import forms
from django.db.models import Q

from qinqing.accounts.models import Unit
from qinqing.enterprises.models import Enterprise
from qinqing.lib import clock, uscc

from .models import Category, Channel, Evaluation, Nature, Outcome
from .services import REPLY_OUTCOMES, dispatchable_units
from .taxonomy import aspect_label, get_taxonomy

DATETIME_INPUT_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"]


def textarea(rows=3, placeholder=""):
    return forms.Textarea(attrs={"rows": rows, "placeholder": placeholder})


class LocalDateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)


class VerbForm(forms.Form):
    """An action on one demand. `version` is the Demand.version the user saw (stale edits are refused)."""

    verb = ""
    service_name = ""
    primary = True  # shown open on the demand page; secondary actions sit behind a fold
    submit_label = ""
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args, demand, user, **kwargs):
        kwargs.setdefault("auto_id", f"id_{self.verb}_%s")
        kwargs.setdefault("initial", {"version": demand.version})
        super().__init__(*args, **kwargs)
        self.demand, self.user = demand, user

    def service_kwargs(self) -> dict:
        return {k: v for k, v in self.cleaned_data.items() if k != "version"}


class DispatchForm(VerbForm):
    verb, service_name, submit_label = "dispatch", "dispatch_demand", "交办"
    lead_unit = forms.ModelChoiceField(label="主办单位", queryset=Unit.objects.none(), empty_label="请选择主办单位")
    co_units = forms.ModelMultipleChoiceField(label="协办单位", queryset=Unit.objects.none(), required=False,
                                              widget=forms.CheckboxSelectMultiple)
    category = forms.ModelChoiceField(label="确认类别", queryset=Category.objects.filter(active=True),
                                      required=False, empty_label="保持不变")
    aspect = forms.TypedChoiceField(label="营商环境方面", coerce=int, required=False, empty_value=None)
    nature = forms.ChoiceField(label="性质", choices=Nature.choices, required=False, widget=forms.RadioSelect,
                               help_text="意见建议列入意见清单，困难问题列入问题清单和帮扶责任清单")
    note = forms.CharField(label="交办意见", required=False, widget=textarea(2, "可写明办理要求"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Grouped by class, from the cached taxonomy. Left unchanged, the aspect follows a corrected kind.
        groups: dict[str, list] = {}
        for aspect in get_taxonomy().aspects:
            groups.setdefault(aspect.env_class.name, []).append((aspect.pk, aspect.name))
        self.fields["aspect"].choices = [("", "保持不变"), *groups.items()]
        self.fields["nature"].initial = self.demand.nature
        current = aspect_label(self.demand.aspect_id)
        self.fields["aspect"].help_text = f"当前：{current}" if current else "当前未归类"
        units = dispatchable_units(self.demand)  # the same units dispatch_demand accepts
        self.fields["lead_unit"].queryset = units
        self.fields["co_units"].queryset = units
        # The one suggestion path (qinqing.textmodel.suggest): the model's category and lead unit with their
        # confidence and the words behind them, or the keywords' category and its suggested unit.
        from qinqing.textmodel.suggest import MODEL, suggest

        self.suggestion = suggestion = suggest(self.demand.title, self.demand.content)
        if suggestion.category is not None:
            self.fields["category"].help_text = f"建议：{suggestion.as_text()}"
        if suggestion.unit_source == MODEL and suggestion.unit_id:
            self.fields["lead_unit"].initial = suggestion.unit_id
            self.fields["lead_unit"].help_text = (f"建议：{suggestion.unit_name}"
                                                  f"（{suggestion.unit_confidence:.0%}，模型）")
        elif suggested := self.demand.category.default_unit_id:
            self.fields["lead_unit"].initial = suggested

    def service_kwargs(self):
        data = super().service_kwargs()
        data["co_units"] = list(data.get("co_units") or [])
        return data


class ReturnForm(VerbForm):
    verb, service_name, submit_label, primary = "return", "return_demand", "退回", False
    reason = forms.CharField(label="退回理由", widget=textarea(2, "说明为何不属于本单位职责，建议由哪个单位办理"))


class AcceptForm(VerbForm):
    verb, service_name, submit_label = "accept", "accept_demand", "签收"
    note = forms.CharField(label="备注", required=False, widget=textarea(1))


CONTACT_METHODS = [(m, m) for m in ("电话", "上门走访", "微信", "视频会议", "约见面谈", "短信")]


class ContactForm(VerbForm):
    verb, service_name, submit_label = "contact", "contact_enterprise", "记录联系"
    method = forms.ChoiceField(label="联系方式", choices=CONTACT_METHODS)
    contacted_at = forms.DateTimeField(label="联系时间", required=False, input_formats=DATETIME_INPUT_FORMATS,
                                       widget=LocalDateTimeInput(), help_text="留空为当前时间")
    note = forms.CharField(label="沟通情况", required=False, widget=textarea(2))


class PlanForm(VerbForm):
    verb, service_name, submit_label = "plan", "feed_back_path", "反馈路径"
    path = forms.CharField(label="解决路径", widget=textarea(3, "采取哪些措施、由谁负责、预计何时解决"))


class RequestExtensionForm(VerbForm):
    verb, service_name, submit_label, primary = "request_extension", "request_extension", "提交申请", False
    days = forms.IntegerField(label="延期（工作日）", min_value=1, max_value=60)
    reason = forms.CharField(label="延期理由", widget=textarea(2))


class ApproveExtensionForm(VerbForm):
    verb, service_name, submit_label = "approve_extension", "approve_extension", "批准延期"
    note = forms.CharField(label="审批意见", required=False, widget=textarea(1))


class RejectExtensionForm(VerbForm):
    verb, service_name, submit_label = "reject_extension", "reject_extension", "驳回延期"
    note = forms.CharField(label="驳回理由", required=False, widget=textarea(1))


class EscalateForm(VerbForm):
    verb, service_name, submit_label, primary = "escalate", "escalate_demand", "提级", False
    reason = forms.CharField(label="提级理由", widget=textarea(2, "需要联席办会商或区领导协调的原因"))


class MarkLongTermForm(VerbForm):
    verb, service_name, submit_label, primary = "mark_long_term", "mark_long_term", "转区级研究推进", False
    reason = forms.CharField(label="研究推进说明", widget=textarea(2))


class TransferForm(VerbForm):
    verb, service_name, submit_label, primary = "transfer", "transfer_to_city", "移送市级", False
    reason = forms.CharField(label="移送理由", widget=textarea(2))


class ReplyForm(VerbForm):
    verb, service_name, submit_label = "reply", "reply_demand", "提交正式答复"
    outcome = forms.ChoiceField(label="办理结果", widget=forms.RadioSelect,
                                choices=[(o.value, o.label) for o in Outcome if o in REPLY_OUTCOMES])
    reply = forms.CharField(label="答复内容", widget=textarea(5, "向企业说明办理过程和结果"))


class EvaluateForm(VerbForm):
    verb, service_name, submit_label = "evaluate", "evaluate_demand", "记录回访评价"
    evaluation = forms.ChoiceField(label="企业评价（回访）", choices=Evaluation.choices, widget=forms.RadioSelect)
    comment = forms.CharField(label="回访记录", required=False, widget=textarea(2, "不满意时请记录原因"))


class ReopenForm(VerbForm):
    verb, service_name, submit_label = "reopen", "reopen_demand", "重办"
    reason = forms.CharField(label="重办原因", widget=textarea(2))


class CloseForm(VerbForm):
    verb, service_name, submit_label = "close", "close_demand", "销号"
    note = forms.CharField(label="销号说明", required=False, widget=textarea(1))


class MergeForm(VerbForm):
    verb, service_name, submit_label, primary = "merge", "merge_demand", "并单", False
    into = forms.CharField(label="并入诉求编号", max_length=20,
                           widget=forms.TextInput(attrs={"placeholder": "如 QQ2026-000001"}))
    note = forms.CharField(label="说明", required=False, widget=textarea(1))


class SettleForm(VerbForm):
    verb, service_name, submit_label, primary = "settle", "close_on_the_spot", "登记现场解决", False
    solution = forms.CharField(label="现场解决情况", widget=textarea(3, "当场如何解决、企业是否认可"))


VERB_FORMS: dict[str, type[VerbForm]] = {
    form.verb: form for form in (
        DispatchForm, ReturnForm, AcceptForm, ContactForm, PlanForm, RequestExtensionForm,
        ApproveExtensionForm, RejectExtensionForm, EscalateForm, MarkLongTermForm, TransferForm,
        ReplyForm, EvaluateForm, ReopenForm, CloseForm, MergeForm, SettleForm,
    )
}


# ---------------------------------------------------------------- intake

class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    widget = MultipleFileInput

    def clean(self, data, initial=None):
        files = data if isinstance(data, list | tuple) else [data] if data else []
        return [super(MultipleFileField, self).clean(f, initial) for f in files]


class ReceiveForm(forms.Form):
    """受理: what a dispatcher or specialist types in from a visit, a call or a meeting."""

    enterprise = forms.CharField(label="企业", required=False, max_length=120,
                                 widget=forms.TextInput(attrs={"placeholder": "统一社会信用代码或企业全称"}))
    reporter_name = forms.CharField(label="反映人", required=False, max_length=40,
                                    help_text="无对应企业（个人或匿名）时填写")
    reporter_phone = forms.CharField(label="反映人电话", required=False, max_length=30)
    channel = forms.ChoiceField(label="来源渠道", choices=Channel.choices, initial=Channel.VISIT)
    nature = forms.ChoiceField(label="性质", choices=Nature.choices, initial=Nature.PROBLEM, required=False,
                               widget=forms.RadioSelect, help_text="企业反映的困难和问题，或对政府工作的意见建议（默认困难问题）")
    title = forms.CharField(label="标题", max_length=120,
                            widget=forms.TextInput(attrs={"placeholder": "一句话概括，如：技术工人招聘困难"}))
    content = forms.CharField(label="诉求内容", max_length=5000, widget=textarea(6))
    category = forms.ModelChoiceField(label="类别", queryset=Category.objects.filter(active=True), required=False,
                                      empty_label="自动识别（交办时确认）")
    received_at = forms.DateTimeField(label="受理时间", required=False, input_formats=DATETIME_INPUT_FORMATS,
                                      widget=LocalDateTimeInput(), help_text="留空为当前时间")
    attachments = MultipleFileField(label="附件", required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["received_at"].initial = clock.localnow().replace(second=0, microsecond=0)

    def clean_enterprise(self) -> Enterprise | None:
        text = self.cleaned_data["enterprise"].strip()
        if not text:
            return None
        visible = Enterprise.objects.visible_to(self.user)
        code = uscc.normalize(text)
        found = visible.filter(credit_code=code).first() or visible.filter(name=text).first()
        if found:
            return found
        matches = list(visible.filter(Q(name__contains=text) | Q(credit_code__startswith=code))[:6])
        if len(matches) == 1:
            return matches[0]
        if matches:
            names = "、".join(e.name for e in matches[:5])
            raise forms.ValidationError(f"匹配到多家企业：{names}。请输入完整名称或信用代码。")
        raise forms.ValidationError("未找到该企业（或不在您的服务范围内）。请核对名称或信用代码，"
                                    "或留空并填写反映人。")

    def service_kwargs(self) -> dict:
        data = dict(self.cleaned_data)
        data["attachments"] = data.get("attachments") or []
        return data
