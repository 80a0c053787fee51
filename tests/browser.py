"""What every browser test shares: Debian's Chromium driven by Playwright against the live server.

The live server runs in a thread of this process, so these tests need a transactional database;
`serialized_rollback` puts the taxonomy rows written by migrations back for the tests that follow.
A module sets `pytestmark = MARKS`; the `browser` fixture reaches every test through `pytest_plugins` in
tests/conftest.py.
"""

import os
from pathlib import Path

import pytest
from django.db import connections

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SHOTS = Path(__file__).resolve().parent.parent / "build" / "screenshots"

try:
    from playwright import sync_api
except ImportError:  # `make install` installs it; without it the browser tests are skipped
    sync_api = None

MARKS = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.skipif(sync_api is None, reason="Playwright is installed by `make install`"),
    pytest.mark.skipif(not os.path.exists(CHROMIUM) and os.environ.get("CI") != "true",
                       reason="Chromium is not installed (scripts/test.sh installs it with apt-get)"),
]


@pytest.fixture
def browser(live_server, world):
    """Chromium for one test, started after the database is set up and closed before it is flushed.

    Playwright's sync API runs an event loop in this thread. While it runs, Django's connection handler
    (context-local) hands out other connection objects than the ones the test database was prepared on,
    so the database setup and teardown (with the serialized rollback) must happen outside it. The ORM
    calls the test body makes between browser steps are ordinary blocking calls, which Django would refuse
    next to a running loop without DJANGO_ALLOW_ASYNC_UNSAFE.
    """
    if not os.path.exists(CHROMIUM):  # in CI a missing browser is a failure, not a skip
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium package")
    SHOTS.mkdir(parents=True, exist_ok=True)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_api.sync_playwright() as p:
            chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            yield chromium
            chromium.close()
            connections.close_all()  # the ones the test body opened next to the loop; nobody else closes them
