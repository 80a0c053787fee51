"""The run and test infrastructure: what `make run` serves and how, checked without starting it."""

import json
import runpy
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_htmx_is_pinned_exactly_and_the_lock_file_agrees():
    wanted = json.loads((ROOT / "package.json").read_text())["dependencies"]["htmx.org"]
    locked = json.loads((ROOT / "package-lock.json").read_text())["packages"]
    assert wanted[0].isdigit(), "htmx must be pinned to one version, not a range"
    assert locked["node_modules/htmx.org"]["version"] == wanted
    assert locked[""]["dependencies"]["htmx.org"] == wanted


def test_the_lock_file_names_no_download_host():
    # `npm ci` resolves packages from the configured registry; the lock file only pins versions and hashes.
    assert "://" not in (ROOT / "package-lock.json").read_text()


def test_the_web_server_listens_on_loopback_unless_told_otherwise(monkeypatch):
    monkeypatch.delenv("QINQING_BIND", raising=False)
    config = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    assert config["bind"] == "127.0.0.1:8000"
    assert config["workers"] >= 2 and config["threads"] >= 2


def test_the_web_server_can_be_moved_by_the_environment(monkeypatch):
    monkeypatch.setenv("QINQING_BIND", "0.0.0.0:9000")
    monkeypatch.setenv("WEB_CONCURRENCY", "4")
    config = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    assert config["bind"] == "0.0.0.0:9000"
    assert config["workers"] == 4


@pytest.mark.parametrize("script", ["scripts/run.sh", "scripts/test.sh", ".ci/run"])
def test_the_scripts_are_executable_and_stop_on_the_first_error(script):
    path = ROOT / script
    assert path.stat().st_mode & 0o111, f"{script} must be executable"
    assert "set -euo pipefail" in path.read_text()
