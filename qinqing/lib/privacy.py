"""Personal information (个人信息保护法): who sees phone and ID numbers in full, and how they are masked.

One rule, `may_see_personal(user, obj=None)`, decides for every page (the `{% personal %}` tag in
qinqing.accounts.templatetags.privacy_tags), every export (`export_header` / `shown`) and the API (`api_value`
in the schemas' resolvers). Nothing else masks or unmasks a number.

Who needs a number in full, and where (minimum necessary, 最小必要原则):

* **Administrators** — everywhere, lists and exports included: they maintain the registry and the accounts,
  and the Django admin shows every row anyway.
* **An enterprise's own accounts** — their own data, everywhere (Enterprise/Demand.objects.visible_to keeps
  anything else out of their lists, so a list of theirs holds only their own numbers).
* **On a demand** (its reporter's phone and its enterprise's contact phone):
  - the **dispatcher** whose jurisdiction covers it: dispatching writes the 交办单, which carries the contact;
  - the **lead unit's handlers and head while the demand is open**: they must contact the enterprise within
    the 1231 clock's contact stage (2 working days; the 1-day acceptance before it) — once it is closed they
    no longer need the number;
  - the **first receiver** (首接负责): they took the number down and follow the demand.
* **On an enterprise** (its contact phone): the **dispatcher** who manages its town (they edit the record, whose
  form holds the number), and its **service specialist and contact leader** (为企服务专员、包联领导), whose
  duty is to be in touch with it. On a demand page the enterprise's contact phone is shown in full to anyone
  the demand rule or the enterprise rule lets see it.
* **Everyone else** — co-units, supervisors, leaders, other units — sees masked numbers, and **every list and
  export is masked for staff** (obj=None): nobody's daily work needs a column of other people's numbers. A
  staff member who can see the object may reveal one number with a reason (qinqing.accounts.privacy_views),
  which is written to the audit log.

Staff members' own work phones (a specialist's number shown to the enterprises they serve) are published on
purpose for those enterprises to call and are not masked here. The platform holds no 身份证 number field
today; `mask_id_number` is the rule any future one must follow.
"""

import re
from dataclasses import dataclass
from typing import Any

MASK = "****"

_MOBILE = re.compile(r"^(?P<country>(?:\+?86)[\s-]?)?(?P<head>1\d{2})[\s-]?(?P<mid>\d{4})[\s-]?(?P<tail>\d{4})$")
_LANDLINE = re.compile(r"^(?P<area>\(?0\d{2,3}\)?)[\s-]?(?P<local>\d{7,8})(?P<ext>\s*(?:转|-|ext\.?|#)\s*\d{1,6})?$",
                       re.IGNORECASE)
_ID_NUMBER = re.compile(r"^(?P<head>\d{6})(?P<mid>\d{8}|\d{5})(?P<tail>\d{3}[\dXx]|\d{4})$")


def mask_phone(value: str) -> str:
    """A phone number with its middle hidden: 13812345678 → 138****5678, 0755-86001234 → 0755-****1234,
    an extension hidden too (0755-86001234转801 → 0755-****1234转***); anything else keeps only its last
    four digits (88001234 → ****1234). Empty stays empty."""
    text = (value or "").strip()
    if not text:
        return ""
    compact = text.replace("－", "-").replace("（", "(").replace("）", ")")
    if match := _MOBILE.match(compact):
        country = match["country"] or ""
        return f"{country}{match['head']}{MASK}{match['tail']}"
    if match := _LANDLINE.match(compact):
        ext = "转***" if match["ext"] else ""
        return f"{match['area']}-{MASK}{match['local'][-4:]}{ext}"
    digits = re.sub(r"\D", "", text)
    return MASK + digits[-4:] if len(digits) > 4 else MASK


def mask_id_number(value: str) -> str:
    """A 居民身份证 number: the first 6 (the place of registration) and the last 4 kept, the birth date and
    order hidden — 110101199003071234 → 110101********1234 (15-digit old numbers likewise: 6 + ***** + 4).
    Anything else keeps only its last four characters."""
    text = (value or "").strip()
    if not text:
        return ""
    if match := _ID_NUMBER.match(text):
        return f"{match['head']}{'*' * len(match['mid'])}{match['tail'].upper()}"
    return "*" * max(len(text) - 4, 4) + text[-4:] if len(text) > 4 else MASK


MASKERS = {"phone": mask_phone, "id_number": mask_id_number}


# ---------------------------------------------------------------- the rule

def is_enterprise_only(user) -> bool:
    """An enterprise's account with no staff role: everything it can see is its own enterprise's."""
    from qinqing.accounts.models import Role

    return bool(user.enterprise_id) and user.has_role(Role.ENTERPRISE) and not user.is_staff_user


def may_see_personal(user, obj=None) -> bool:
    """Whether `user` sees the phone and ID numbers of `obj` (a Demand or an Enterprise) in full; with no
    object, whether they see them in full in lists and exports. See the module docstring for why.

    Costs no query for a demand loaded with its jurisdiction, nor for an enterprise loaded with its jurisdiction
    and helpers (HELPERS), given the user's jurisdiction: the checks read ids and paths already loaded.
    """
    from qinqing.accounts.models import Role
    from qinqing.demands.models import Demand
    from qinqing.enterprises.models import Enterprise

    if user is None or not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser or user.has_role(Role.ADMIN):
        return True
    own = user.enterprise_id if user.has_role(Role.ENTERPRISE) else None
    if obj is None:
        return is_enterprise_only(user)
    if isinstance(obj, Demand):
        if own and obj.enterprise_id == own:
            return True
        if obj.first_receiver_id is not None and obj.first_receiver_id == user.pk:
            return True
        if user.has_role(Role.HANDLER, Role.UNIT_HEAD) and user.unit_id and obj.lead_unit_id == user.unit_id:
            return obj.is_open
        return _covers(user, obj.jurisdiction)
    if isinstance(obj, Enterprise):
        if own and obj.pk == own:
            return True
        if _covers(user, obj.jurisdiction):
            return True
        # Helpers are read only for staff who got this far (loaded with HELPERS on the pages that show it).
        return user.is_staff_user and user.pk in (obj.service_specialist_id, obj.contact_leader_id)
    raise TypeError(f"may_see_personal: no rule for {type(obj).__name__}")


def _covers(user, jurisdiction) -> bool:
    """A dispatcher whose jurisdiction is this place or above it."""
    from qinqing.accounts.models import Role

    if not (user.has_role(Role.DISPATCHER) and user.jurisdiction_id and jurisdiction is not None):
        return False
    return jurisdiction.path.startswith(user.jurisdiction.path)


# ---------------------------------------------------------------- the personal fields

@dataclass(frozen=True)
class PersonalField:
    """A personal number shown somewhere: what it is called, how it is read from its object and masked."""

    kind: str  # "demand" or "enterprise": the object it is read from
    name: str  # as in the reveal URL and the audit entry
    label: str
    kind_of_number: str  # a key of MASKERS

    def value(self, obj) -> str:
        if self.kind == "demand" and self.name == "contact_phone":
            return obj.enterprise.contact_phone if obj.enterprise_id else ""
        return getattr(obj, self.name) or ""

    def may_see(self, user, obj) -> bool:
        """The rule for this field on this object: the enterprise's contact on a demand page is also shown to
        whoever the enterprise rule lets see it (its specialist, say), as on the enterprise's own page."""
        if may_see_personal(user, obj):
            return True
        if self.kind == "demand" and self.name == "contact_phone" and obj.enterprise_id:
            return may_see_personal(user, obj.enterprise)
        return False

    def mask(self, value: str) -> str:
        return MASKERS[self.kind_of_number](value)


FIELDS = {
    ("demand", "reporter_phone"): PersonalField("demand", "reporter_phone", "反映人电话", "phone"),
    ("demand", "contact_phone"): PersonalField("demand", "contact_phone", "企业联系电话", "phone"),
    ("enterprise", "contact_phone"): PersonalField("enterprise", "contact_phone", "联系电话", "phone"),
}


def kind_of(obj) -> str:
    from qinqing.demands.models import Demand

    return "demand" if isinstance(obj, Demand) else "enterprise"


def personal_field(obj, name: str) -> PersonalField:
    return FIELDS[(kind_of(obj), name)]


def shown(user, obj, name: str, *, listing: bool = False) -> str:
    """The value of personal field `name` of `obj` as `user` may see it: in full or masked. `listing` for a
    row of a list or an export, where the list rule (`may_see_personal(user)`) decides."""
    field = personal_field(obj, name)
    value = field.value(obj)
    if not value:
        return ""
    full = may_see_personal(user) if listing else field.may_see(user, obj)
    return value if full else field.mask(value)


def api_value(obj, name: str, context: dict[str, Any] | None) -> str:
    """For the API schemas' resolvers: an object the router marked `api_shows_personal` (one demand or one
    enterprise, decided by `PersonalField.may_see`) is shown as marked; rows of a list are not marked and
    follow the list rule."""
    request = (context or {}).get("request")
    user = getattr(request, "auth", None) or getattr(request, "user", None)
    field = personal_field(obj, name)
    value = field.value(obj)
    if not value:
        return ""
    full = getattr(obj, "api_shows_personal", None)
    if full is None:
        full = may_see_personal(user)
    return value if full else field.mask(value)


def mark_for_api(user, obj, name: str):
    """Mark one object for `api_value`: whether `user` sees its field `name` in full. Returns the object."""
    obj.api_shows_personal = personal_field(obj, name).may_see(user, obj)
    return obj


def export_header(user, header: str) -> str:
    """An export's column header for a personal field: marked 已脱敏 when the column is masked. The registry
    importer does not know that header and ignores the column, so re-importing an exported file keeps the
    stored numbers instead of refusing the masked ones."""
    return header if may_see_personal(user) else f"{header}（已脱敏）"
