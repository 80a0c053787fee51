from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "qinqing.portal"
    verbose_name = "企业服务门户"
