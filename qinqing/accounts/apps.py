from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "qinqing.accounts"
    verbose_name = "组织与用户"

    def ready(self):
        # Connects the login receiver (what a session still owes: a second factor) and the deploy check.
        from . import security  # noqa: F401
