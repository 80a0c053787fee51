"""One enterprise's fields, cleaned the same way whether they come from an Excel row, a form or the API.

`RowCleaner(user).clean(raw)` takes a mapping of field keys (see FIELDS) to raw values — text as typed,
numbers, or xlsx cells — and returns a CleanRow: model values, the year's figures, and a Chinese message
per faulty field. The cleaner reads its lookups (industry codes, divisions, jurisdictions in the user's
scope, tags, accepted non-conforming codes) once, so an import of 100,000 rows costs no query per row.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db.models import Q

from qinqing.lib import clock, uscc
from qinqing.lib.text import clean_text

from .models import Sector, Size


@dataclass(frozen=True)
class Field:
    key: str
    header: str  # the header the template and exports use
    aliases: tuple[str, ...] = ()
    hint: str = ""
    max_length: int = 0


FIELDS: tuple[Field, ...] = (
    Field("name", "企业名称", ("单位名称", "名称", "企业（单位）名称", "单位详细名称", "企业全称"), "必填", 120),
    Field("credit_code", "统一社会信用代码", ("信用代码", "社会信用代码", "统一代码", "统一社会信用代码（18位）"),
          "必填，18位；小写、全角会自动转换", 18),
    Field("industry_code", "行业代码", ("国民经济行业代码", "国民经济行业分类代码", "行业小类代码", "行业代码（GB/T4754）"),
          "GB/T 4754-2017，至少到大类，如 C3311 或 3311"),
    Field("sector", "行业门类", ("所属行业", "行业类别", "行业门类（统计口径）", "统计行业"),
          "未填行业代码时必填：" + "、".join(Sector.labels)),
    Field("jurisdiction", "所属镇街", ("镇街", "园区", "所属园区", "镇街园区", "所在镇街", "所在镇街园区", "属地",
                                   "所属镇街园区", "镇街（园区）"), "镇街园区名称或区划代码"),
    Field("division", "行政区划代码", ("区划代码", "注册地区划代码"), "6位，不填则取信用代码第3-8位"),
    Field("size", "企业规模", ("规模", "企业规模（大中小微）"), "有年度数据时按2017年标准自动测算"),
    Field("is_four_above", "是否四上", ("四上", "四上企业", "是否四上企业"), "是/否；有年度数据时自动测算"),
    Field("qualification", "建筑业资质", ("资质", "资质等级"), "建筑业填写总承包、专业承包资质", 60),
    Field("tags", "标签", ("企业标签",), "多个用顿号分隔，须为标签库中的名称"),
    Field("legal_representative", "法定代表人", ("法人代表", "法人"), "", 40),
    Field("contact_name", "联系人", ("企业联系人",), "", 40),
    Field("contact_phone", "联系电话", ("电话", "手机", "联系方式", "手机号", "联系人电话"), "", 30),
    Field("address", "地址", ("注册地址", "经营地址", "企业地址", "详细地址"), "", 200),
    Field("service_specialist", "为企服务专员", ("服务专员", "专员"), "用户名或姓名"),
    Field("contact_leader", "包联领导", ("包保领导", "联系领导", "挂钩领导"), "用户名或姓名"),
    Field("year", "年份", ("数据年份", "统计年度", "年度", "统计年份"), "填写年度数据时必填"),
    Field("employees", "从业人员", ("职工人数", "从业人员数", "年末从业人员", "员工人数", "从业人数"), "人"),
    Field("revenue", "营业收入（万元）", ("营业收入", "主营业务收入", "主营业务收入（万元）", "营收"), "万元"),
    Field("assets", "资产总额（万元）", ("资产总额", "总资产"), "万元"),
    Field("tax_paid", "纳税额（万元）", ("纳税额", "纳税总额", "税收", "实缴税金", "税收总额"), "万元"),
)
FIELD_BY_KEY = {f.key: f for f in FIELDS}
LABELS = {f.key: f.header for f in FIELDS}
FIGURE_KEYS = ("employees", "revenue", "assets", "tax_paid")
MONEY_KEYS = ("revenue", "assets", "tax_paid")
TEXT_KEYS = ("name", "qualification", "legal_representative", "contact_name", "address")
MAX_CELL_CHARS = 1000
_UNITS = {"万元": Decimal(1), "元": Decimal("0.0001"), "千元": Decimal("0.1"), "亿元": Decimal(10000)}
_SPLIT_TAGS = re.compile(r"[,，、;；/|\s]+")
_PHONE = re.compile(r"^[0-9+\-()（）\s转#]{5,30}$")
_INDUSTRY = re.compile(r"^([A-Z]?)(\d{2,4})?")
_TRUE = {"是", "y", "yes", "true", "1", "√", "✓", "四上", "是四上"}
_FALSE = {"否", "n", "no", "false", "0", "×", "✗", "四下", "非四上", "不是"}
_FULLWIDTH = {ord("０") + i: ord("0") + i for i in range(10)} | {ord("．"): ord("."), ord("，"): ord(",")}


def normalize_header(text: str) -> str:
    """"营业收入 (万元)*" → "营业收入（万元）": what staff type around a header must not matter."""
    text = str(text).strip().replace("(", "（").replace(")", "）").replace(" ", "").replace("\u3000", "")
    return text.strip("*＊:：")


def header_unit(text: str) -> tuple[str, Decimal]:
    """Split a money header's unit: ("营业收入", 1) for 万元, 0.0001 for 元."""
    norm = normalize_header(text)
    match = re.search(r"（([^）]*元)）$", norm)
    if match and match.group(1) in _UNITS:
        return norm[: match.start()], _UNITS[match.group(1)]
    return norm, Decimal(1)


_HEADER_INDEX: dict[str, str] = {}
for _f in FIELDS:
    for _name in (_f.header, *_f.aliases):
        _HEADER_INDEX[normalize_header(_name)] = _f.key
        _HEADER_INDEX[header_unit(_name)[0]] = _f.key


def field_for_header(text: str) -> tuple[str | None, Decimal]:
    """The field key a header names (or None) and the factor that turns its unit into 万元."""
    norm = normalize_header(text)
    if norm in _HEADER_INDEX and not norm.endswith("元）"):
        return _HEADER_INDEX[norm], Decimal(1)
    base, factor = header_unit(text)
    key = _HEADER_INDEX.get(base)
    if key in MONEY_KEYS:
        return key, factor
    return _HEADER_INDEX.get(norm), Decimal(1)


@dataclass
class CleanRow:
    values: dict[str, Any] = field(default_factory=dict)  # Enterprise field → value (only those given)
    figures: dict[str, Any] | None = None  # year + figure fields, when the row carries figures
    defaults: dict[str, Any] = field(default_factory=dict)  # derived values, used only for a new enterprise
    problems: dict[str, str] = field(default_factory=dict)  # field key → Chinese message

    @property
    def ok(self) -> bool:
        return not self.problems


class Problem(ValueError):
    """A field's value is wrong; the message is the Chinese sentence shown next to the cell."""


def _text(value: Any) -> str:
    """Text as shown: cells unwrapped, whitespace runs collapsed (fast path for the common clean string)."""
    if value.__class__ is tuple:  # an xlsx cell
        value = value[1]
    if value.__class__ is str:
        if value.isprintable() and "  " not in value:
            return value.strip()
        return " ".join(clean_text(value).split())  # control characters never reach the registry
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float | Decimal) and value == int(value):
        value = int(value)
    return " ".join(clean_text(str(value)).split())


def _cell_kind(value: Any) -> str:
    return value[0] if isinstance(value, tuple) else ""


def _number(value: Any, *, integer: bool, factor: Decimal = Decimal(1)) -> Decimal | int:
    if isinstance(value, tuple):
        value = value[1]
    if isinstance(value, bool):
        raise Problem("应为数字")
    text = str(value).translate(_FULLWIDTH).replace(",", "").replace(" ", "").strip()
    text = text.removesuffix("万元").removesuffix("人").removesuffix("元")
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise Problem(f"“{_text(value)[:20]}”不是数字") from None
    if not number.is_finite():
        raise Problem("应为数字")
    if number < 0:
        raise Problem("不能为负数")
    number = number * factor
    if integer:
        if number != number.to_integral_value():
            raise Problem("应为整数")
        if number > 10_000_000:
            raise Problem("数值过大")
        return int(number)
    if number >= Decimal("1e12"):
        raise Problem("数值过大（单位为万元）")
    number = number.quantize(Decimal("0.01"))
    if number >= Decimal("1e12"):  # 999999999999.995 rounds up past what numeric(14, 2) holds
        raise Problem("数值过大（单位为万元）")
    return number


class RowCleaner:
    """Validates enterprise fields for one user (their jurisdiction scope) with lookups read once."""

    def __init__(self, user=None):
        self.user = user
        self._loaded = False
        self._people: dict[str, Any] = {}
        self.max_year = clock.today().year + 1

    # ------------------------------------------------------------ lookups

    def _load(self):
        from qinqing.accounts.models import Jurisdiction

        from .models import CreditCodeOverride, Division, IndustryCode, Tag
        from .permissions import managed_scope

        self.industries = {code: (sector, level, name) for code, sector, level, name in
                           IndustryCode.objects.values_list("code", "sector", "level", "name")}
        self.by_number = {code[1:]: code for code in self.industries if len(code) > 1}
        names: dict[str, str | None] = {}
        for code, (_, _, name) in self.industries.items():
            names[name] = None if name in names else code
        self.by_name = {n: c for n, c in names.items() if c}
        self.divisions = dict(Division.objects.values_list("code", "pk"))
        self.tags = set(Tag.objects.filter(active=True).values_list("name", flat=True))
        self.overrides = dict(CreditCodeOverride.objects.values_list("code", "pk"))
        scope = managed_scope(self.user)
        places = Jurisdiction.objects.all() if scope is None else Jurisdiction.objects.filter(path__startswith=scope)
        self.places_by_code: dict[str, Any] = {}
        self.places_by_name: dict[str, list] = {}
        for place in places.only("pk", "code", "name", "path", "level"):
            self.places_by_code[place.code] = place
            self.places_by_name.setdefault(place.name, []).append(place)
        self.scope = scope
        self._loaded = True

    def ensure_loaded(self):
        if not self._loaded:
            self._load()

    # ------------------------------------------------------------ the one entry point

    def clean(self, raw: Mapping[str, Any], *, existing: bool = False, factors: Mapping[str, Decimal] | None = None,
              blank_clears: bool = False) -> CleanRow:
        """Clean the keys present in `raw`; for a new enterprise (`existing=False`) the required fields must
        be present. A blank value is left out — an import's empty cell keeps what was there — unless
        `blank_clears` (an edit form, an API PATCH naming the field), where it empties the field."""
        self.ensure_loaded()
        row = CleanRow()
        factors = factors or {}
        values = row.values
        for key, value in raw.items():
            if key not in FIELD_BY_KEY:
                continue
            if key == "tags" and isinstance(value, list | set):
                try:
                    values["tags"] = self.tag_list([_text(v) for v in value])
                except Problem as exc:
                    row.problems[key] = str(exc)
                continue
            kind = _cell_kind(value)
            text = _text(value)
            if kind == "f" or text.startswith("="):
                row.problems[key] = "内容以“=”开头（公式）。系统不计算公式，也不接受可被 Excel 当作公式执行的文本：请粘贴为数值或删除“=”"
                continue
            if kind == "e":
                row.problems[key] = f"单元格是错误值 {text}，请修正"
                continue
            if len(text) > MAX_CELL_CHARS:
                row.problems[key] = f"内容过长（{len(text)}字），单元格不能超过{MAX_CELL_CHARS}字"
                continue
            if text == "":
                if blank_clears:
                    self._clear(key, row)
                continue
            try:
                self._clean_one(key, value, text, row, factors.get(key, Decimal(1)))
            except Problem as exc:
                row.problems[key] = str(exc)
        self._cross_checks(row, existing)
        return row

    @staticmethod
    def _clear(key: str, row: CleanRow) -> None:
        if key in ("name", "credit_code"):
            row.problems[key] = "必填"
        elif key in ("sector", "jurisdiction"):
            pass  # cannot be emptied: derived from the industry code, or kept; a new enterprise is checked below
        elif key in ("service_specialist", "contact_leader", "division"):
            row.values[f"{key}_id"] = None
        elif key == "tags":
            row.values["tags"] = []
        elif key in ("industry_code", "qualification", "legal_representative", "contact_name", "contact_phone",
                     "address", "size"):
            row.values[key] = ""
        elif key == "is_four_above":
            row.values[key] = False

    def _clean_one(self, key: str, value: Any, text: str, row: CleanRow, factor: Decimal) -> None:
        values = row.values
        spec = FIELD_BY_KEY[key]
        if key in TEXT_KEYS:
            if spec.max_length and len(text) > spec.max_length:
                raise Problem(f"不能超过{spec.max_length}字")
            values[key] = text
        elif key == "credit_code":
            self._credit_code(value, text, values)
        elif key == "industry_code":
            values["industry_code"] = self.industry(text)
        elif key == "sector":
            values["sector"] = self._choice(text, Sector, "行业门类")
        elif key == "jurisdiction":
            values["jurisdiction"] = self.place(text)
        elif key == "division":
            code = text.translate(_FULLWIDTH)
            if code not in self.divisions:
                raise Problem(f"“{code}”不是 GB/T 2260 县级以上行政区划代码")
            values["division_id"] = self.divisions[code]
        elif key == "size":
            values["size"] = self._choice(text.removesuffix("企业"), Size, "企业规模", short=True)
        elif key == "is_four_above":
            values["is_four_above"] = self._yes_no(text)
        elif key == "tags":
            values["tags"] = self._tags(text)
        elif key == "contact_phone":
            phone = text.translate(_FULLWIDTH)
            if not _PHONE.match(phone):
                raise Problem(f"“{text[:30]}”不像电话号码")
            values["contact_phone"] = phone
        elif key in ("service_specialist", "contact_leader"):
            values[f"{key}_id"] = self._person(text)
        elif key == "year":
            year = _number(value, integer=True)
            if not 1949 <= year <= self.max_year:
                raise Problem(f"年份应在1949至{self.max_year}之间")
            row.figures = {**(row.figures or {}), "year": year}
        elif key in FIGURE_KEYS:
            number = _number(value, integer=key == "employees", factor=factor)
            row.figures = {**(row.figures or {}), key: number}

    def _cross_checks(self, row: CleanRow, existing: bool) -> None:
        values, problems = row.values, row.problems
        code = values.get("industry_code")
        if code:
            derived = self.industries[code][0]
            given = values.get("sector")
            if given and given != derived and "sector" not in problems:
                problems["sector"] = (f"行业代码{code}属于“{Sector(derived).label}”，与所填“{Sector(given).label}”不一致")
            values["sector"] = derived
        if not existing:
            for key in ("name", "credit_code"):
                if key not in values and key not in problems:
                    problems[key] = "必填"
            if "sector" not in values and not {"sector", "industry_code"} & problems.keys():
                problems["sector"] = "请填写行业代码或行业门类"
            if "jurisdiction" not in values and "jurisdiction" not in problems:
                problems["jurisdiction"] = "请填写所属镇街园区"
        if "division_id" not in values and "division" not in problems and values.get("credit_code"):
            # 登记管理机关行政区划码: positions 3–8 of the credit code, when it is a known division. A default
            # only: an existing enterprise keeps the division it has.
            division = self.divisions.get(values["credit_code"][2:8])
            if division:
                row.defaults["division_id"] = division
        figures = row.figures
        if figures is not None and "year" not in figures and "year" not in problems:
            if len(figures) > 0:
                problems["year"] = "填写了年度数据（从业人员、营业收入等）时须填写年份"

    # ------------------------------------------------------------ single fields, also used by forms

    def _credit_code(self, value: Any, text: str, values: dict) -> None:
        if _cell_kind(value) == "n" or isinstance(value, int | float | Decimal):
            digits = text.replace(".", "")
            if "E" in text.upper() or len(digits) > 15:
                raise Problem("信用代码被 Excel 存成了数字，后几位已丢失：请把该列设为“文本”格式后重新填写")
        code = uscc.normalize(text)
        try:
            values["credit_code"] = uscc.validate(code)
        except uscc.InvalidCreditCode as exc:
            if code in self.overrides:
                values["credit_code"] = code
                values["credit_code_override_id"] = self.overrides[code]
                return
            raise Problem(str(exc)) from None

    def industry(self, text: str) -> str:
        """"C3311", "3311", "c 3311 金属结构制造" or an exact 小类 name → "C3311"; at least a 大类."""
        raw = text.translate(_FULLWIDTH).upper().replace(" ", "")
        match = _INDUSTRY.match(raw)
        letter, number = (match.group(1), match.group(2)) if match else ("", None)
        if number:
            code = self.by_number.get(number)
            if code is None:
                raise Problem(f"“{text[:20]}”不是 GB/T 4754-2017 行业代码")
            if letter and code[0] != letter:
                raise Problem(f"行业代码{number}属于门类{code[0]}，不是{letter}")
            return code
        if text in self.by_name:
            code = self.by_name[text]
        elif letter and len(raw) == 1:
            code = letter
        else:
            raise Problem(f"“{text[:20]}”不是 GB/T 4754-2017 行业代码（如 C3311）")
        if self.industries.get(code, ("", "section"))[1] == "section":
            raise Problem("行业代码应至少细到大类（两位数字），如 C33 或 C3311")
        return code

    def place(self, text: str):
        if text in self.places_by_code:
            return self.places_by_code[text]
        matches = self.places_by_name.get(text, [])
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            raise Problem(f"有{len(matches)}个名为“{text}”的镇街园区，请改填区划代码（如 {matches[0].code}）")
        from qinqing.accounts.models import Jurisdiction

        if self.scope is not None and Jurisdiction.objects.filter(Q(code=text) | Q(name=text)).exists():
            raise Problem(f"“{text}”不在您的管辖范围内")
        raise Problem(f"没有名为“{text[:30]}”的镇街园区")

    @staticmethod
    def _choice(text: str, choices, label: str, short: bool = False):
        for value, name in choices.choices:
            if text in (value, name) or (short and text == name[:1]):
                return value
        raise Problem(f"“{text[:20]}”不是有效的{label}（可选：{'、'.join(choices.labels)}）")

    @staticmethod
    def _yes_no(text: str) -> bool:
        lowered = text.lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise Problem("请填写“是”或“否”")

    def _tags(self, text: str) -> list[str]:
        return self.tag_list(_SPLIT_TAGS.split(text))

    def tag_list(self, names: list[str]) -> list[str]:
        names = [n.strip() for n in names if n and n.strip()]
        unknown = [n for n in names if n not in self.tags]
        if unknown:
            known = "、".join(sorted(self.tags)[:12])
            raise Problem(f"标签“{'、'.join(unknown)[:40]}”不在标签库中（现有：{known}）")
        return list(dict.fromkeys(names))

    def _person(self, text: str) -> int:
        if text in self._people:
            found = self._people[text]
        else:
            from qinqing.accounts.models import Role, User

            staff = User.objects.filter(is_active=True).exclude(role_grants__role=Role.ENTERPRISE)
            by_username = list(staff.filter(username=text).values_list("pk", flat=True)[:2])
            found = by_username or list(staff.filter(full_name=text).values_list("pk", flat=True)[:2])
            self._people[text] = found
        if not found:
            raise Problem(f"没有用户名或姓名为“{text[:20]}”的工作人员")
        if len(found) > 1:
            raise Problem(f"有多名工作人员叫“{text[:20]}”，请改填用户名")
        return found[0]
