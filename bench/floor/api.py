"""The floor's one endpoint: validate, authenticate, write a row and an event, answer 201."""

import datetime as dt

from django.db import transaction
from django.utils import timezone
from ninja import Field, NinjaAPI, Schema, Status
from ninja.security import HttpBearer

from .models import Event, Row, Token


class TokenAuth(HttpBearer):
    def authenticate(self, request, token):
        found = (Token.objects.select_related("user").filter(digest=Token.hash(token.strip()), revoked=False)
                 .order_by().first())
        if found is None or not found.user.is_active:
            return None
        return found.user


class DemandIn(Schema):
    """The same JSON shape as the product's `DemandIn` (qinqing/api/schemas.py)."""

    credit_code: str | None = Field(None)
    channel: str
    title: str
    content: str
    category: int | str | None = Field(None)
    received_at: dt.datetime | None = Field(None)
    reporter_name: str = ""
    reporter_phone: str = ""


class EventOut(Schema):
    verb: str
    note: str
    data: dict
    created_at: dt.datetime


class RowOut(Schema):
    id: int
    credit_code: str
    channel: str
    title: str
    content: str
    category: str
    received_at: dt.datetime
    reporter_name: str
    reporter_phone: str
    events: list[EventOut]

    @staticmethod
    def resolve_events(obj) -> list:
        return obj.written_events


class Error(Schema):
    detail: str


api = NinjaAPI(title="floor", urls_namespace="floor", auth=[TokenAuth()], docs_url=None)


@api.post("/demands", response={201: RowOut, 400: Error})
def create(request, payload: DemandIn):
    title, content = payload.title.strip(), payload.content.strip()
    if not title or not content:
        return Status(400, {"detail": "请填写诉求标题和内容。"})
    now = timezone.now()
    with transaction.atomic():
        row = Row.objects.create(
            credit_code=payload.credit_code or "", channel=payload.channel, title=title[:120], content=content,
            category=str(payload.category or ""), received_at=payload.received_at or now,
            reporter_name=payload.reporter_name[:40], reporter_phone=payload.reporter_phone[:30],
            created_by=request.auth)
        event = Event.objects.create(row=row, actor=request.auth, verb="receive", note="受理",
                                     data={"channel": row.channel}, created_at=now)
    row.written_events = [event]
    return Status(201, row)
