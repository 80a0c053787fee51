"""Gunicorn settings for `make run`: one small machine, SQLite or PostgreSQL behind it.

Read by `gunicorn -c gunicorn.conf.py`. Each value can be overridden from the environment so that
a deployment tunes the server without editing this file.
"""

import os

# Loopback by default: the demo is not exposed on the network unless the operator asks for it.
bind = os.environ.get("QINQING_BIND", "127.0.0.1:8000")

# Threads rather than many processes: most time is spent waiting on the database, and a few
# processes keep SQLite's writers (web + Huey worker) few enough for WAL to stay fast.
worker_class = "gthread"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))

# Excel exports and imports of a few thousand rows can take a while; anything longer is a job for Huey.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = 10

# Logs to the terminal `make run` was started from.
accesslog = "-"
errorlog = "-"

# The control socket would live in the user's home directory; nothing here uses it.
control_socket_disable = True


def post_worker_init(worker):
    """Load jieba's dictionary (about a second) as each worker starts, before it takes any request:
    otherwise the first intake or keyword search in every worker pays for it."""
    import jieba

    jieba.initialize()
