#!/usr/bin/env bash
# Serve Qinqing on 127.0.0.1:8000 with demo data, plus the Huey worker that runs deadlines and
# notifications. Called by `make run` after the dependencies are installed; Ctrl-C stops both.
#
# Environment (all optional): DATABASE_URL, REDIS_URL, QINQING_VAR_DIR, QINQING_BIND, SECRET_KEY, DEBUG.
set -euo pipefail

cd "$(dirname "$0")/.."
PY=.venv/bin/python

if [ ! -x "$PY" ]; then
    echo "run.sh: .venv is missing; start the app with 'make run', which creates it." >&2
    exit 1
fi

# The SQLite database, Huey's queue, collected static files and outgoing mail live here.
# It is not in git, so a fresh clone has to create it before the first migrate.
VAR_DIR="${QINQING_VAR_DIR:-var}"
mkdir -p "$VAR_DIR"
# This is the local demo: without SECRET_KEY the server may use the published development key (README, 安全).
export QINQING_DEMO="${QINQING_DEMO:-true}"

echo "==> Database: ${DATABASE_URL:+PostgreSQL/URL from DATABASE_URL}${DATABASE_URL:-SQLite file $VAR_DIR/qinqing.sqlite3}"
"$PY" manage.py migrate --noinput
"$PY" manage.py collectstatic --noinput --verbosity 0

# Demo data is part of `make run`: without it there is nothing to log in with. Say so plainly
# rather than letting Django print "Unknown command".
if ! "$PY" manage.py help seed_demo >/dev/null 2>&1; then
    echo "run.sh: the seed_demo command is missing (qinqing/demo/management/commands/seed_demo.py)." >&2
    exit 1
fi
"$PY" manage.py seed_demo

# Both servers run in the background of this shell; whichever ends first (or Ctrl-C) stops the other,
# so no orphan worker keeps the SQLite file busy after the terminal is closed.
pids=()
stop_all() {
    trap - INT TERM EXIT
    if [ "${#pids[@]}" -gt 0 ]; then
        echo "==> Stopping web server and worker"
        kill -TERM "${pids[@]}" 2>/dev/null || true
        wait "${pids[@]}" 2>/dev/null || true
    fi
}
trap 'stop_all; exit 130' INT
trap 'stop_all; exit 143' TERM
trap stop_all EXIT

"$PY" manage.py run_huey &
pids+=("$!")

.venv/bin/gunicorn -c gunicorn.conf.py qinqing.wsgi:application &
pids+=("$!")

echo "==> Qinqing is at http://${QINQING_BIND:-127.0.0.1:8000}/  (login: /login/, admin: /admin/, API: /api/v1/openapi.json)  Ctrl-C to stop"

# Returns as soon as either process exits; the EXIT trap then stops the other one.
set +e
wait -n "${pids[@]}"
status=$?
set -e
echo "run.sh: a server process exited (status $status); stopping the other." >&2
exit "$status"
