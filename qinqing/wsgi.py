import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "qinqing.settings")
application = get_wsgi_application()

# No server signs sessions with the development key published in the repository (README, 安全).
from qinqing.accounts.security import refuse_published_secret_key  # noqa: E402

refuse_published_secret_key()
