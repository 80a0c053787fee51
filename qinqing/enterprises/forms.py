"""The registry's forms. They only collect input: the values are cleaned by the same RowCleaner the
importer and the API use (inside the services), and its Chinese messages come back onto the fields."""

from django import forms

from .models import Sector, Tag
from .rows import LABELS


class EnterpriseForm(forms.Form):
    name = forms.CharField(label=LABELS["name"], max_length=120)
    credit_code = forms.CharField(label=LABELS["credit_code"], max_length=40,
                                  help_text="18位；小写、全角会自动转换")
    industry_code = forms.CharField(label=LABELS["industry_code"], max_length=40, required=False,
                                    help_text="GB/T 4754-2017，如 C3311 或 3311；填写后行业门类自动确定")
    sector = forms.ChoiceField(label=LABELS["sector"], choices=[("", "按行业代码确定"), *Sector.choices],
                               required=False)
    jurisdiction = forms.ChoiceField(label="所属镇街园区")
    qualification = forms.CharField(label=LABELS["qualification"], max_length=60, required=False)
    tags = forms.MultipleChoiceField(label=LABELS["tags"], required=False, widget=forms.CheckboxSelectMultiple)
    legal_representative = forms.CharField(label=LABELS["legal_representative"], max_length=40, required=False)
    contact_name = forms.CharField(label=LABELS["contact_name"], max_length=40, required=False)
    contact_phone = forms.CharField(label=LABELS["contact_phone"], max_length=30, required=False)
    address = forms.CharField(label=LABELS["address"], max_length=200, required=False)
    service_specialist = forms.CharField(label=LABELS["service_specialist"], max_length=60, required=False,
                                         help_text="用户名或姓名")
    contact_leader = forms.CharField(label=LABELS["contact_leader"], max_length=60, required=False,
                                     help_text="用户名或姓名")

    def __init__(self, *args, places=(), editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["jurisdiction"].choices = [("", "请选择"), *((p.code, f"{p.name}（{p.code}）") for p in places)]
        self.fields["tags"].choices = [(t, t) for t in Tag.objects.filter(active=True).values_list("name", flat=True)]
        if editing:
            # The credit code is the enterprise's identity: shown, never edited here.
            self.fields["credit_code"].disabled = True

    @classmethod
    def initial_for(cls, enterprise) -> dict:
        return {
            "name": enterprise.name, "credit_code": enterprise.credit_code, "industry_code": enterprise.industry_code,
            "sector": enterprise.sector, "jurisdiction": enterprise.jurisdiction.code,
            "qualification": enterprise.qualification, "tags": enterprise.tags,
            "legal_representative": enterprise.legal_representative, "contact_name": enterprise.contact_name,
            "contact_phone": enterprise.contact_phone, "address": enterprise.address,
            "service_specialist": enterprise.service_specialist.username if enterprise.service_specialist else "",
            "contact_leader": enterprise.contact_leader.username if enterprise.contact_leader else "",
        }

    def data_for_service(self) -> dict:
        """The raw values, keyed like the importer's columns, for services.register/update_enterprise."""
        data = {key: self.cleaned_data.get(key) for key in self.fields if not self.fields[key].disabled}
        data["tags"] = list(data.get("tags") or [])
        return data

    def show_problems(self, problems: dict[str, str]) -> None:
        for key, message in problems.items():
            self.add_error(key if key in self.fields else None, message)


class FiguresForm(forms.Form):
    year = forms.IntegerField(label="年份", min_value=1949, max_value=2100)
    employees = forms.CharField(label="从业人员（人）", required=False, max_length=20)
    revenue = forms.CharField(label="营业收入（万元）", required=False, max_length=20)
    assets = forms.CharField(label="资产总额（万元）", required=False, max_length=20)
    tax_paid = forms.CharField(label="纳税额（万元）", required=False, max_length=20)

    def show_problems(self, problems: dict[str, str]) -> None:
        for key, message in problems.items():
            self.add_error(key if key in self.fields else None, message)


class ImportUploadForm(forms.Form):
    file = forms.FileField(label="Excel 文件（.xlsx）")
