"""The floor under gunicorn: `gunicorn -c gunicorn.conf.py --pythonpath bench floor.wsgi:application`."""

import os

from django.core.wsgi import get_wsgi_application

from .worker_pid import with_worker_pid

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "floor.settings")
application = with_worker_pid(get_wsgi_application())
