"""After the reply: the enterprise adds material or a follow-up message (补充材料), the lead unit attaches files
to its reply (答复附件), and both are previewed in the page when they are images or PDFs.

Both are verb-named services on the demand's timeline (`follow_up`, `reply_files`) with the attachments'
ids in the entry's data, in one transaction with the files' rows; files pass the same content checks as at
intake (qinqing.lib.uploads through `services.validate_attachments`). A follow-up notifies the lead unit's
members (its named handler and watchers too, through the notification rules) — or the dispatchers while the
demand has no unit yet. Nothing is written when a file is refused.
"""

import os

from django.db import transaction

from qinqing.demands import services
from qinqing.demands.errors import DomainError, IllegalTransition, PermissionDeniedError
from qinqing.demands.models import OPEN_STATES, Attachment, Demand, State
from qinqing.demands.verbs import is_admin, is_lead_handler
from qinqing.lib import clock
from qinqing.lib.text import clean_text
from qinqing.lib.uploads import BY_EXTENSION

# A follow-up is welcome while the demand is worked on and after the reply until it is closed out.
FOLLOW_UP_STATES = (*OPEN_STATES, State.REPLIED, State.EVALUATED, State.LONG_TERM)
# The lead unit attaches files to its reply from the moment it works on the demand until it is closed out.
REPLY_FILE_STATES = (State.ACCEPTED, State.CONTACTED, State.PLANNED, State.REOPENED, State.REPLIED,
                     State.EVALUATED)
PREVIEWED = {"png", "jpeg", "gif", "webp", "pdf"}


def preview_kind(name: str) -> str:
    """"image", "pdf" or "" for an attachment by its name. The name's extension agrees with the bytes (checked
    at upload), and the preview view checks the stored bytes again before showing anything in place."""
    kind = BY_EXTENSION.get(os.path.splitext(name)[1].lower().lstrip("."))
    if kind is None or kind.code not in PREVIEWED:
        return ""
    return "pdf" if kind.code == "pdf" else "image"


def _store(user, demand: Demand, files) -> list[int]:
    now = clock.now()
    rows = [Attachment.objects.create(demand=demand, file=f, name=os.path.basename(f.name)[:200], size=f.size,
                                      uploaded_by=user, uploaded_at=now) for f in files]
    return [a.pk for a in rows]


def add_follow_up(user, demand: Demand | int, *, text: str = "", files=()) -> Demand:
    """补充材料: the demand's enterprise adds a message and/or files to a demand not yet closed out."""
    files = list(files or ())
    text = clean_text(text or "").strip()
    if not (user.is_authenticated and user.enterprise_id):
        raise PermissionDeniedError("只有提出诉求的企业可以补充材料。")
    if not text and not files:
        raise DomainError("请填写补充说明或选择要补充的文件。")
    if len(text) > 2000:
        raise DomainError("补充说明最多2000字。")
    services.validate_attachments(files)
    with transaction.atomic():
        demand = services._lock(user, demand, None)
        if demand.enterprise_id != user.enterprise_id:
            raise PermissionDeniedError("只有提出诉求的企业可以补充材料。")
        if demand.state not in FOLLOW_UP_STATES:
            raise IllegalTransition(f"诉求当前为“{demand.get_state_display()}”，不能再补充材料。")
        ids = _store(user, demand, files)
        services._log(demand, user, "follow_up", demand.state, text,
                      {"attachments": ids, "files": [os.path.basename(f.name)[:200] for f in files]})
    return demand


def attach_reply_files(user, demand: Demand | int, *, files) -> Demand:
    """答复附件: the lead unit's handler attaches documents (a written reply, photos of the site) to its reply."""
    files = list(files or ())
    if not files:
        raise DomainError("请选择要上传的答复附件。")
    services.validate_attachments(files)
    with transaction.atomic():
        demand = services._lock(user, demand, None)
        if not (is_lead_handler(user, demand) or is_admin(user)):
            raise PermissionDeniedError("只有主办单位的承办人员可以上传答复附件。")
        if demand.state not in REPLY_FILE_STATES:
            raise IllegalTransition(f"诉求当前为“{demand.get_state_display()}”，不能上传答复附件。")
        ids = _store(user, demand, files)
        services._log(demand, user, "reply_files", demand.state, "",
                      {"attachments": ids, "files": [os.path.basename(f.name)[:200] for f in files]})
    return demand
