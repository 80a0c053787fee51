"""`X-Worker-Pid` on every answer, so the benchmark can tell when each gunicorn worker has been warmed.

Bench-only: the product never sends it. It wraps both the floor and the product the same way.
"""

import os


def with_worker_pid(app):
    def wrapped(environ, start_response):
        def start(status, headers, exc_info=None):
            return start_response(status, [*headers, ("X-Worker-Pid", str(os.getpid()))], exc_info)

        return app(environ, start)

    return wrapped
