"""The table of demo logins the command prints: one per role, described from the data itself."""

import unicodedata

from django.db.models import Count

from qinqing.accounts.models import Role, User
from qinqing.demands.models import Demand, State

from .org import PASSWORD

OWNERS = ("qiye", "qiye2", "qiye3")
STAFF = ("admin", "diaodu", "jrb_cbr", "jrb_fzr", "hutang_cbr", "ducha", "quzhang", "shiling", "zhuanyuan01",
         "xb_diaodu", "shi_diaodu")


def rows() -> list[tuple[str, str, str, str]]:
    """(角色, 用户名, 密码, 说明) rows; users missing from the database are left out."""
    users = {u.username: u for u in User.objects.select_related("unit", "enterprise")
             .filter(username__in=STAFF + OWNERS)
             .annotate(served=Count("specialist_for", distinct=True),
                       led=Count("leader_for", distinct=True))}
    awaiting = set(Demand.objects.filter(state=State.REPLIED, enterprise__accounts__username__in=OWNERS)
                   .values_list("enterprise__accounts__username", flat=True))

    def unit(user) -> str:
        return user.unit.name if user.unit else ""

    described = {
        "admin": (Role.ADMIN.label, lambda u: "系统管理员，可进入后台 /admin/"),
        "diaodu": (Role.DISPATCHER.label, lambda u: f"{u.display_name}，{unit(u)}"),
        "jrb_cbr": (Role.HANDLER.label, lambda u: f"{u.display_name}，{unit(u)}承办人"),
        "jrb_fzr": (Role.UNIT_HEAD.label, lambda u: f"{u.display_name}，{unit(u)}负责人"),
        "hutang_cbr": (Role.HANDLER.label, lambda u: f"{u.display_name}，{unit(u)}承办人（镇街）"),
        "ducha": (Role.SUPERVISOR.label, lambda u: f"{u.display_name}，{unit(u)}"),
        "quzhang": (Role.LEADER.label, lambda u: f"{u.display_name}，武进区区长，包联规上工业企业{u.led}家"),
        "shiling": (Role.LEADER.label, lambda u: f"{u.display_name}，常州市领导，可见武进、新北两区"),
        "zhuanyuan01": (Role.SPECIALIST.label, lambda u: f"{u.display_name}，服务企业{u.served}家"),
    }
    for username in OWNERS:
        described[username] = (Role.ENTERPRISE.label, lambda u: u.enterprise.name + (
            "，有答复待评价" if u.username in awaiting else ""))
    described["xb_diaodu"] = ("调度员（邻区）",
                              lambda u: f"{u.display_name}，新北区，看不到武进区的诉求")
    described["shi_diaodu"] = ("调度员（市级）",  # qinqing.handoffs: receives what the districts hand up
                               lambda u: f"{u.display_name}，常州市，接收区级移送市级的诉求")
    return [(role, username, PASSWORD, describe(users[username]))
            for username, (role, describe) in described.items() if username in users]


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def table() -> str:
    """The rows as aligned plain text (Chinese characters count double on a terminal)."""
    lines = [("角色", "用户名", "密码", "说明"), *rows()]
    widths = [max(_width(line[i]) for line in lines) for i in range(3)]
    return "\n".join("  ".join([*(cell + " " * (widths[i] - _width(cell)) for i, cell in enumerate(line[:3])),
                                line[3]]) for line in lines)
