#!/usr/bin/env bash
# Every check CI runs, in order: lint, Django's system checks, migrations up to date, then the
# whole pytest suite twice — on SQLite (a district's laptop) and on a throwaway PostgreSQL cluster
# (a province's server) — because the same code must behave the same on both.
#
# Usage: scripts/test.sh [pytest args...]     (normally through `make test`)
#   QINQING_TEST_DATABASES="sqlite postgresql"  which suites to run (default: both)
# PostgreSQL binaries are found with pg_config or under /usr/lib/postgresql/*/bin; when they are
# missing they are installed with apt-get in CI (CI=true) or when running as root.
set -euo pipefail

cd "$(dirname "$0")/.."
PY=.venv/bin/python
DATABASES_TO_TEST="${QINQING_TEST_DATABASES:-sqlite postgresql}"
# pytest-xdist workers: one per core on the 2-core CI machine. Tests of one xdist group (the demo
# district, loaded once) stay on one worker.
WORKERS="${QINQING_TEST_WORKERS:-2}"

if [ ! -x "$PY" ]; then
    echo "test.sh: .venv is missing; run the checks with 'make test', which creates it." >&2
    exit 1
fi

# The suite decides which database it talks to; a developer's own settings must not leak in.
unset DATABASE_URL REDIS_URL

# A private var dir: tests, checks and Huey's SQLite queue never touch the developer's database,
# and a `make run` in another terminal keeps working while the tests run.
WORK_DIR="$(mktemp -d "${TMPDIR:-/tmp}/qinqing-test.XXXXXX")"
export QINQING_VAR_DIR="$WORK_DIR/var"
# static/ exists so WhiteNoise does not warn on every request of the suite.
mkdir -p "$QINQING_VAR_DIR/static"

PG_BIN=""
PG_DIR=""         # the cluster's own temp dir (owned by the postgres user when we are root)
PG_PORT=""
PG_STARTED=false

cleanup() {
    # Runs on success, failure and Ctrl-C alike: never leave a postgres process or a temp dir behind.
    print_phases
    if [ "$PG_STARTED" = true ]; then
        as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate -w stop >/dev/null 2>&1 || true
        PG_STARTED=false
    fi
    [ -n "$PG_DIR" ] && rm -rf "$PG_DIR"
    rm -rf "$WORK_DIR"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Each step is a phase; its duration is printed at the end (and on failure), so a slow phase shows up
# in every CI log before it grows past the budget.
PHASES=()
PHASE_NAME=""
PHASE_START=0
RUN_START=$(date +%s)
end_phase() {
    [ -n "$PHASE_NAME" ] && PHASES+=("$(( $(date +%s) - PHASE_START ))|$PHASE_NAME")
    PHASE_NAME=""
}
print_phases() {
    end_phase
    [ "${#PHASES[@]}" -gt 0 ] || return 0
    printf '\n==> Durations\n'
    local item
    for item in "${PHASES[@]}"; do
        printf '    %5ss  %s\n' "${item%%|*}" "${item#*|}"
    done
    printf '    %5ss  total\n' "$(( $(date +%s) - RUN_START ))"
}
step() {
    end_phase
    PHASE_NAME="$*"
    PHASE_START=$(date +%s)
    printf '\n==> %s\n' "$*"
}

# initdb and postgres refuse to run as root, so as root the cluster belongs to the postgres system
# user. Its commands run from inside the cluster dir, which that user can always enter.
as_pg() {
    if [ "$(id -u)" = 0 ]; then
        (cd "$PG_DIR" && runuser -u postgres -- "$@")
    else
        "$@"
    fi
}

find_pg_bin() {
    local dir
    if command -v pg_config >/dev/null 2>&1; then
        dir="$(pg_config --bindir 2>/dev/null || true)"
        # Debian's pg_config can come from libpq-dev alone and point at a server that isn't installed.
        if [ -n "$dir" ] && [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ]; then
            echo "$dir"
            return
        fi
    fi
    for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
        if [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ]; then
            echo "$dir"
            return
        fi
    done
}

ensure_postgres_installed() {
    PG_BIN="$(find_pg_bin)"
    [ -n "$PG_BIN" ] && return
    if [ "${CI:-}" = true ] || [ "$(id -u)" = 0 ]; then
        step "PostgreSQL is not installed: installing it with apt-get"
        local sudo=""
        [ "$(id -u)" = 0 ] || sudo="sudo -n"
        $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -q
        $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends postgresql
        PG_BIN="$(find_pg_bin)"
    fi
    if [ -z "$PG_BIN" ]; then
        echo "test.sh: PostgreSQL server binaries not found. Install the 'postgresql' package," >&2
        echo "         or run only the SQLite suite: QINQING_TEST_DATABASES=sqlite make test" >&2
        exit 1
    fi
}

# The browser tests drive Debian's Chromium (Playwright never downloads a browser here), with a CJK font
# so that screenshots show Chinese text. Installed with apt-get like PostgreSQL, in CI or as root.
ensure_chromium_installed() {
    [ -x /usr/bin/chromium ] && fc-list 2>/dev/null | grep -qi "wqy\|noto sans cjk" && return
    if [ "${CI:-}" = true ] || [ "$(id -u)" = 0 ]; then
        step "Chromium or a Chinese font is missing: installing them with apt-get"
        local sudo=""
        [ "$(id -u)" = 0 ] || sudo="sudo -n"
        $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -q
        $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
            chromium fonts-wqy-microhei
    fi
    if [ ! -x /usr/bin/chromium ]; then
        echo "test.sh: /usr/bin/chromium not found; the browser tests are skipped. Install 'chromium'." >&2
    fi
}

free_port() {
    "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

start_postgres() {
    ensure_postgres_installed
    PG_DIR="$(mktemp -d "${TMPDIR:-/tmp}/qinqing-pg.XXXXXX")"
    if [ "$(id -u)" = 0 ]; then
        id postgres >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin postgres
        chown postgres "$PG_DIR"
    fi
    PG_PORT="$(free_port)"
    step "Starting a throwaway PostgreSQL ($("$PG_BIN/postgres" --version)) on 127.0.0.1:$PG_PORT"
    # Trust auth is safe here: loopback only, a random port, and the cluster is deleted afterwards.
    # C locale: byte order sorting, the same as SQLite's, and no dependency on installed locales.
    as_pg "$PG_BIN/initdb" -D "$PG_DIR/data" -U postgres -A trust -E UTF8 --locale=C >"$PG_DIR/initdb.log" \
        || { cat "$PG_DIR/initdb.log" >&2; exit 1; }
    # Durability is pointless for a cluster that lives for one test run; turning it off halves the time.
    local options="-c listen_addresses=127.0.0.1 -c port=$PG_PORT -c unix_socket_directories=$PG_DIR"
    options+=" -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 -o "$options" start >/dev/null \
        || { cat "$PG_DIR/server.log" >&2; exit 1; }
    PG_STARTED=true
    "$PG_BIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U postgres qinqing
    # The superuser can create test_qinqing, the database pytest-django actually uses.
    export DATABASE_URL="postgresql://postgres@127.0.0.1:$PG_PORT/qinqing"
}

stop_postgres() {
    as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w stop >/dev/null
    PG_STARTED=false
    unset DATABASE_URL
}

# Ask Django itself which database it is configured for, so the log says what was really used.
describe_database() {
    "$PY" manage.py shell --verbosity 0 -c '
from django.db import connection
s = connection.settings_dict
if connection.vendor == "sqlite":
    print("    database: SQLite", connection.Database.sqlite_version, "(pytest uses an in-memory test database)")
else:
    with connection.cursor() as c:
        c.execute("show server_version")
        version = c.fetchone()[0]
    host, port, name = s["HOST"], s["PORT"], s["NAME"]
    print(f"    database: PostgreSQL {version} at {host}:{port} (pytest uses test_{name})")
'
}

# Counts from pytest's JUnit XML, so the last line can add up both runs.
RESULTS=()
run_pytest() {
    local label="$1"
    shift
    local xml="$WORK_DIR/$label.xml"
    "$PY" -m pytest -n "$WORKERS" --dist loadgroup --junitxml="$xml" "$@"
    RESULTS+=("$label:$xml")
}

summarise() {
    "$PY" - "${RESULTS[@]}" <<'PYEOF'
import sys
import xml.etree.ElementTree as ET

totals = {"passed": 0, "failed": 0, "skipped": 0}
for item in sys.argv[1:]:
    label, path = item.split(":", 1)
    root = ET.parse(path).getroot()
    suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
    tests = sum(int(s.get("tests", 0)) for s in suites)
    failed = sum(int(s.get("failures", 0)) + int(s.get("errors", 0)) for s in suites)
    skipped = sum(int(s.get("skipped", 0)) for s in suites)
    passed = tests - failed - skipped
    print(f"    {label:<10} {passed} passed, {failed} failed, {skipped} skipped")
    totals["passed"] += passed
    totals["failed"] += failed
    totals["skipped"] += skipped
print(f"total: {totals['passed']} passed, {totals['failed']} failed, {totals['skipped']} skipped")
PYEOF
}

# bench/ may not exist in a clone (git keeps no empty folders); lint what is there.
LINT_PATHS=()
for path in qinqing tests bench; do
    [ -e "$path" ] && LINT_PATHS+=("$path")
done
ensure_chromium_installed

step "ruff check ${LINT_PATHS[*]}"
.venv/bin/ruff check "${LINT_PATHS[@]}"

step "manage.py check"
"$PY" manage.py check

step "manage.py makemigrations --check --dry-run"
"$PY" manage.py makemigrations --check --dry-run

for db in $DATABASES_TO_TEST; do
    case "$db" in
        sqlite)
            step "pytest on SQLite"
            describe_database
            run_pytest sqlite "$@"
            ;;
        postgresql)
            start_postgres
            step "pytest on PostgreSQL ($DATABASE_URL)"
            describe_database
            # The browser tests run once, on SQLite: they drive the same views, and on PostgreSQL their
            # transactional database (flush and reload after each test) costs minutes for nothing new.
            run_pytest postgresql -m "not browser" "$@"
            stop_postgres
            ;;
        *)
            echo "test.sh: unknown database '$db' in QINQING_TEST_DATABASES (use sqlite, postgresql)" >&2
            exit 2
            ;;
    esac
done

end_phase
step "All checks passed"
PHASE_NAME=""
summarise
