from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from qinqing.accounts import services
from qinqing.accounts.models import TokenScope, User
from qinqing.demands.errors import DomainError


class Command(BaseCommand):
    help = ("为用户签发一个 API 令牌（Bearer）。令牌只显示这一次，最后一行即令牌本身。"
            "默认只读、有效期 QINQING_API_TOKEN_DAYS 天（默认90天）。")

    def add_arguments(self, parser):
        parser.add_argument("username", help="用户名")
        parser.add_argument("--name", default="", help="令牌用途，如“12345热线对接”")
        parser.add_argument("--scope", default=TokenScope.READ, choices=TokenScope.values,
                            help="read：只读（仅查询，默认）；write：读写（查询、受理与办理）")
        parser.add_argument("--days", type=int, default=None, help="有效期天数，默认 QINQING_API_TOKEN_DAYS")

    def handle(self, *args, username, name, scope, days, **opts):
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"用户“{username}”不存在，请先在系统管理中创建该用户。")
        try:
            # No actor: an operator on the server, who may do anything (as with the other commands).
            raw, token = services.issue_token(None, user, name=name, scope=scope, days=days)
        except DomainError as exc:
            raise CommandError(exc.message) from None
        purpose = f"（用途：{token.name}）" if token.name else ""
        self.stdout.write(f"已为用户 {user.username}（{user.display_name}）签发 API 令牌{purpose}，"
                          f"权限：{token.get_scope_display()}，有效期至 "
                          f"{timezone.localtime(token.expires_at):%Y-%m-%d %H:%M}。令牌只显示这一次，请妥善保存：")
        # The token alone on the last line, so scripts can take `tail -n 1`.
        self.stdout.write(raw)
