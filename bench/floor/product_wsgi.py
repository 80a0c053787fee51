"""The product's own WSGI application, as `make run` serves it, plus the bench-only worker pid header.

`gunicorn -c gunicorn.conf.py --pythonpath bench floor.product_wsgi:application`
"""

from qinqing.wsgi import application as _product

from .worker_pid import with_worker_pid

application = with_worker_pid(_product)
