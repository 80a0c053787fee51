"""Background jobs of the demand loop. Jobs receive ids and are queued after commit."""

import atexit
import logging
import os
import threading
import time

from huey import crontab
from huey.contrib.djhuey import HUEY, db_periodic_task, db_task

from qinqing.notifications.services import deliver_overdue_events, notify_for_event, notify_sweep

log = logging.getLogger(__name__)


@db_task()
def deliver_event(event_id: int) -> int:
    return notify_for_event(event_id)


@db_task()
def deliver_events(event_ids: list[int]) -> int:
    """The notifications of several timeline entries, handed over together by `queue_delivery`."""
    return sum(notify_for_event(event_id) for event_id in event_ids)


class _Handover:
    """Timeline entries committed by this process, queued for delivery by a thread of the process.

    Queueing a Huey task writes Huey's own store: with the default SQLite queue, a commit to a second
    database file that waits for the disk (several milliseconds on a small server), and every intake and
    transition waited for it before answering. Now the request only appends the event id here, after its
    commit as before; a background thread queues what has gathered within 20 ms as one `deliver_events`
    task (under load, several requests' entries share one write). Ids wait here only that long plus the
    previous write, and the process hands over what is left when it exits. A process killed outright in
    that window of milliseconds (or between its commit and the commit hook), or a worker killed while
    delivering, leaves the entries marked `awaiting_delivery`: `catch_up_deliveries` delivers them a minute
    later, once. With Huey in immediate mode (tests) delivery happens at once, in the request.
    """

    def __init__(self):
        self.ids: list[int] = []
        self.lock = threading.Lock()  # guards ids and the thread
        self.writing = threading.Lock()  # held while a batch is written to the queue
        self.wake = threading.Event()
        self.thread: threading.Thread | None = None
        self.pid = 0

    def add(self, event_id: int) -> None:
        with self.lock:
            self.ids.append(event_id)
            if self.thread is None or self.pid != os.getpid():  # none yet, or inherited through a fork
                self.pid = os.getpid()
                self.thread = threading.Thread(target=self._run, name="qinqing-handover", daemon=True)
                self.thread.start()
                atexit.register(self.flush)
        # Under load the event is still set while the thread gathers a batch; it is cleared before the ids
        # are taken, so an id added after that finds it clear and wakes the thread again. set() would take
        # the event's lock and notify for nothing.
        if not self.wake.is_set():
            self.wake.set()

    def flush(self) -> None:
        with self.writing:
            with self.lock:
                ids, self.ids = self.ids, []
            if not ids:
                return
            try:
                deliver_events(ids)
            except Exception:
                with self.lock:  # keep them for the next attempt rather than drop them
                    self.ids[:0] = ids
                raise

    GATHER_SECONDS = 0.02  # under load, the entries of a few requests go to the queue in one write

    def _run(self) -> None:
        while True:
            self.wake.wait()
            time.sleep(self.GATHER_SECONDS)
            self.wake.clear()
            try:
                self.flush()
            except Exception:  # noqa: BLE001 - a failed write must not end the thread; the next one retries
                log.exception("queueing notifications failed")


_handover = _Handover()


def queue_delivery(event_id: int) -> None:
    """Deliver the notifications of a committed timeline entry (called from `transaction.on_commit`)."""
    if HUEY.immediate:
        deliver_event(event_id)
    else:
        _handover.add(event_id)


@db_periodic_task(crontab(minute="*"))
def catch_up_deliveries() -> int:
    """Every minute: the notifications of timeline entries whose delivery was lost to a crash."""
    return deliver_overdue_events()


@db_task()
def deliver_sweep(sweep: str) -> int:
    return notify_sweep(sweep)


@db_periodic_task(crontab(minute="*/10"))
def sweep_overdue() -> int:
    """Every ten minutes: urge what became overdue. Idempotent, so a missed run costs nothing."""
    from .services import urge_overdue

    return urge_overdue()


@db_task()
def move_deadlines_for_calendar(days: list[str]) -> int:
    """Move the open demands' deadlines after a change of these calendar days (ISO dates).

    Queued when a change touches too many demands to move inline, and once more a few minutes after
    any change: a web process may have recomputed a deadline with its cached calendar from before the
    change. Reads the calendar from the database, one transaction per chunk; idempotent.
    """
    import datetime as dt

    from qinqing.workdays.calendar import load_calendar
    from qinqing.workdays.recompute import move_deadlines

    return move_deadlines([dt.date.fromisoformat(d) for d in days], load_calendar(), own_transactions=True)
