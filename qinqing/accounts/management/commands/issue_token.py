from django.core.management.base import BaseCommand, CommandError

from qinqing.accounts.models import ApiToken, User


class Command(BaseCommand):
    help = "为用户签发一个 API 令牌（Bearer）。令牌只显示这一次，最后一行即令牌本身。"

    def add_arguments(self, parser):
        parser.add_argument("username", help="用户名")
        parser.add_argument("--name", default="", help="令牌用途，如“12345热线对接”")

    def handle(self, *args, username, name, **opts):
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"用户“{username}”不存在，请先在系统管理中创建该用户。")
        if not user.is_active:
            raise CommandError(f"用户“{username}”已停用，不能签发令牌。")
        name = name.strip()
        if len(name) > 60:
            raise CommandError("令牌用途不能超过60个字。")
        raw = ApiToken.issue(user, name=name)
        purpose = f"（用途：{name}）" if name else ""
        self.stdout.write(f"已为用户 {user.username}（{user.display_name}）签发 API 令牌{purpose}。"
                          "令牌只显示这一次，请妥善保存：")
        # The token alone on the last line, so scripts can take `tail -n 1`.
        self.stdout.write(raw)
