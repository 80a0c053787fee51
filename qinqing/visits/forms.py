"""Forms of the visit pages: input checks only; the services decide."""

from django import forms

from qinqing.accounts.models import User
from qinqing.enterprises.models import Enterprise
from qinqing.lib import clock

from .models import Duty, Form, Level, Production, Seminar, Trend
from .services import TIERS, Problem

PROBLEM_ROWS = 3
BLANK = [("", "—")]


class DateInput(forms.DateInput):
    """A browser date picker. It accepts only an ISO value (2026-12-03); the zh-hans display format
    (2026/12/03) would be rejected and the field would start blank."""

    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%d")


class VisitForm(forms.Form):
    enterprise = forms.ModelChoiceField(Enterprise.objects.none(), label="企业",
                                        error_messages={"required": "请选择企业。",
                                                        "invalid_choice": "未找到该企业，或您无权为其记录走访。"})
    visited_on = forms.DateField(label="走访日期", widget=DateInput(),
                                 error_messages={"required": "请填写走访日期。", "invalid": "日期格式应为 2026-05-08。"})
    form = forms.ChoiceField(label="方式", choices=Form.choices, widget=forms.RadioSelect, initial=Form.ON_SITE)
    companions = forms.CharField(label="同行人员", required=False, max_length=200,
                                 help_text="同行工作人员的用户名，多人用逗号分隔；您本人自动计入")
    discussed = forms.CharField(label="交流内容", required=False, max_length=5000,
                                widget=forms.Textarea(attrs={"rows": 3}))
    policies = forms.CharField(label="送达政策", required=False, max_length=2000,
                               widget=forms.Textarea(attrs={"rows": 2}))
    production = forms.ChoiceField(label="生产经营", choices=BLANK + Production.choices, required=False)
    orders = forms.ChoiceField(label="订单情况", choices=BLANK + Trend.choices, required=False)
    employees = forms.IntegerField(label="用工人数", min_value=0, required=False)
    hiring_need = forms.IntegerField(label="用工缺口（人）", min_value=0, required=False)
    financing_need = forms.DecimalField(label="融资需求（万元）", min_value=0, max_digits=12, decimal_places=2,
                                        required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["enterprise"].queryset = Enterprise.objects.visible_to(user)
        self.fields["enterprise"].widget = forms.HiddenInput()
        self.fields["visited_on"].initial = clock.today()
        for i in range(1, PROBLEM_ROWS + 1):
            self.fields[f"problem_{i}_title"] = forms.CharField(label=f"问题{i}", required=False, max_length=120)
            self.fields[f"problem_{i}_content"] = forms.CharField(
                label=f"问题{i}详情", required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 2}))
            self.fields[f"problem_{i}_solution"] = forms.CharField(
                label=f"问题{i}现场解决情况", required=False, max_length=1000,
                help_text="现场已解决的填写解决办法；未解决的留空，将转为诉求交办")

    def clean_companions(self):
        return users_by_username(self.cleaned_data["companions"])

    def problems(self) -> list[Problem]:
        data = self.cleaned_data
        return [Problem(data[f"problem_{i}_title"], data[f"problem_{i}_content"], data[f"problem_{i}_solution"])
                for i in range(1, PROBLEM_ROWS + 1)]

    def service_kwargs(self) -> dict:
        d = self.cleaned_data
        return {"enterprise": d["enterprise"], "visited_on": d["visited_on"], "form": d["form"],
                "visitors": d["companions"], "discussed": d["discussed"], "policies": d["policies"],
                "production": d["production"], "orders": d["orders"], "employees": d["employees"],
                "hiring_need": d["hiring_need"], "financing_need": d["financing_need"], "problems": self.problems()}


class AssignForm(forms.Form):
    duty = forms.ChoiceField(label="职责", choices=Duty.choices)
    username = forms.CharField(label="干部用户名", max_length=150)
    on = forms.DateField(label="开始日期", required=False, widget=DateInput())


class RuleForm(forms.Form):
    tiers = forms.MultipleChoiceField(label="分配层级", choices=[(t.key, t.label) for t in TIERS],
                                      widget=forms.CheckboxSelectMultiple,
                                      initial=[t.key for t in TIERS])
    replace = forms.BooleanField(label="重新分配已有包联关系的企业", required=False,
                                 help_text="不勾选时只为尚无包联领导/专员的企业补齐")
    on = forms.DateField(label="生效日期", required=False, widget=DateInput())


class ImportForm(forms.Form):
    file = forms.FileField(label="包联关系表（.xlsx）")


class SeminarForm(forms.Form):
    kind = forms.ChoiceField(label="类型", choices=Seminar.Kind.choices)
    title = forms.CharField(label="主题", max_length=120)
    held_on = forms.DateField(label="举办日期", widget=DateInput())


class CadreForm(forms.Form):
    username = forms.CharField(label="用户名", max_length=150)
    level = forms.ChoiceField(label="包联层级", choices=Level.choices)
    capacity = forms.IntegerField(label="包联上限（家）", min_value=1, max_value=10000, initial=30)


class RespondForm(forms.Form):
    confirmed = forms.TypedChoiceField(label="这次走访", coerce=lambda v: v == "yes",
                                       choices=[("yes", "确有其事"), ("no", "有异议")], widget=forms.RadioSelect)
    rating = forms.TypedChoiceField(label="评分", coerce=int, required=False, empty_value=None,
                                    choices=[("", "—")] + [(str(i), f"{i}分") for i in range(5, 0, -1)])
    comment = forms.CharField(label="意见", required=False, max_length=300, widget=forms.Textarea(attrs={"rows": 2}))


FOUR_ABOVE_CHOICES = [("", "不限"), ("yes", "仅四上企业"), ("no", "仅四下企业")]


class CampaignForm(forms.Form):
    name = forms.CharField(label="活动名称", max_length=80)
    starts_on = forms.DateField(label="开始日期", widget=DateInput())
    ends_on = forms.DateField(label="结束日期", widget=DateInput())
    description = forms.CharField(label="说明", required=False, widget=forms.Textarea(attrs={"rows": 2}))
    sector = forms.MultipleChoiceField(label="目标行业", required=False, widget=forms.CheckboxSelectMultiple,
                                       choices=[], help_text="不选则为全部行业")
    four_above = forms.ChoiceField(label="目标范围", required=False, choices=FOUR_ABOVE_CHOICES)
    tag = forms.CharField(label="企业标签", required=False, max_length=30, help_text="如“专精特新”，不填则不限")

    def __init__(self, *args, **kwargs):
        from qinqing.enterprises.models import Sector

        super().__init__(*args, **kwargs)
        self.fields["sector"].choices = Sector.choices

    def rule(self) -> dict:
        d = self.cleaned_data
        rule = {}
        if d["sector"]:
            rule["sector"] = list(d["sector"])
        if d["four_above"]:
            rule["is_four_above"] = d["four_above"] == "yes"
        if d["tag"].strip():
            rule["tag"] = d["tag"].strip()
        return rule


def users_by_username(text: str) -> list:
    names = [n.strip() for n in (text or "").replace("，", ",").split(",") if n.strip()]
    users = list(User.objects.filter(username__in=names))
    missing = set(names) - {u.username for u in users}
    if missing:
        raise forms.ValidationError(f"未找到用户：{'、'.join(sorted(missing))}。")
    return users


class GroupForm(forms.Form):
    name = forms.CharField(label="组名", max_length=60)
    leader = forms.CharField(label="组长用户名", max_length=150, required=False)
    members = forms.CharField(label="组员用户名", max_length=2000, required=False)

    def clean_leader(self):
        found = users_by_username(self.cleaned_data["leader"])
        return found[0] if found else None

    def clean_members(self):
        return users_by_username(self.cleaned_data["members"])
