"""The SMS gateway interface. A deployment names its backend in QINQING_SMS_BACKEND (a dotted path);
the default writes every message to the database and sends nothing, so no install ever needs a network."""

from django.conf import settings
from django.utils.module_loading import import_string

from .models import SmsMessage

DEFAULT_BACKEND = "qinqing.notifications.sms.DatabaseBackend"


class BaseBackend:
    """Subclasses implement `deliver(phone, text)`; raising an exception marks the message as failed."""

    def deliver(self, phone: str, text: str) -> None:
        raise NotImplementedError

    def send(self, phone: str, text: str, *, recipient=None) -> SmsMessage:
        name = f"{type(self).__module__}.{type(self).__qualname__}"
        message = SmsMessage(recipient=recipient, phone=phone, text=text[:300], backend=name)
        try:
            self.deliver(phone, text)
        except Exception as exc:  # noqa: BLE001 - a gateway failure must never lose the in-app notification
            message.status, message.error = SmsMessage.Status.FAILED, str(exc)[:300]
        else:
            message.status = self.delivered_status
        message.save()
        return message

    delivered_status = SmsMessage.Status.SENT


class DatabaseBackend(BaseBackend):
    """Records the message as "已记录（未发送）" and sends nothing: the default, and what tests use."""

    delivered_status = SmsMessage.Status.LOGGED

    def deliver(self, phone: str, text: str) -> None:
        return None


def get_backend() -> BaseBackend:
    """The configured backend, read from settings at call time (tests override it)."""
    return import_string(getattr(settings, "QINQING_SMS_BACKEND", DEFAULT_BACKEND))()


def send_sms(phone: str, text: str, *, recipient=None) -> SmsMessage:
    return get_backend().send(phone, text, recipient=recipient)
