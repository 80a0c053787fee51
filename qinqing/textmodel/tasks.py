"""Background jobs of the text model: the nightly retraining and the one an administrator asks for."""

import logging

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task, lock_task

from qinqing.demands.errors import DomainError

from .models import Kind

log = logging.getLogger(__name__)


def _train(user, kinds) -> dict[str, int | str]:
    from . import services

    done: dict[str, int | str] = {}
    for kind in kinds:
        try:
            done[kind] = services.train_model(user, kind).version
        except DomainError as exc:  # too few confirmed demands yet: the keywords keep suggesting
            done[kind] = exc.message
            log.info("文本模型未训练：%s", exc.message)
    return done


@db_periodic_task(crontab(hour="2", minute="30"))
@lock_task("qinqing-textmodel-train")
def retrain_text_models() -> dict[str, int | str]:
    """Every night, each kind whose training data grew since its active version (a demand dispatched)."""
    from . import services

    return _train(None, [kind for kind in Kind.values if services.retrain_due(kind)])


@db_task()
@lock_task("qinqing-textmodel-train")
def train_text_model(user_id: int, kind: str) -> dict[str, int | str]:
    """An administrator's "train now" (the admin action queues it after commit)."""
    from qinqing.accounts.models import User

    return _train(User.objects.get(pk=user_id), [kind])
