from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "qinqing.audit"
    verbose_name = "安全审计"

    def ready(self):
        # Connects the receivers that record logins, logouts, failures and administrators' changes.
        from . import receivers  # noqa: F401
