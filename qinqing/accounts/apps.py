from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "qinqing.accounts"
    verbose_name = "组织与用户"
