from django.apps import AppConfig


class EnterprisesConfig(AppConfig):
    name = "qinqing.enterprises"
    verbose_name = "企业库"
