"""URLs for the registry's page and API tests until the lead wires them into qinqing/urls.py and
qinqing/api/api.py; once wired, these are the project's own URLs unchanged.

Use with `pytest.mark.urls("tests.test_registry_urls")`.
"""

from django.urls import include, path
from ninja import NinjaAPI

from qinqing import urls as project
from qinqing.api import api as project_api
from qinqing.api import errors
from qinqing.api.auth import SessionAuth, TokenAuth
from qinqing.api.enterprises import router


def _pages_wired() -> bool:
    return any(getattr(p, "namespace", None) == "enterprises" for p in project.urlpatterns)


def _api_wired() -> bool:
    return any(registration[1] is router for registration in project_api.api._router_registrations)


urlpatterns = list(project.urlpatterns)
if not _pages_wired():
    urlpatterns.insert(0, path("enterprises/", include("qinqing.enterprises.urls")))
if not _api_wired():
    _api = NinjaAPI(title="企业库（测试）", urls_namespace="registry-test-api", auth=[TokenAuth(), SessionAuth()],
                    docs_url=None)
    errors.register(_api)
    _api.add_router("/enterprises", router)
    urlpatterns.insert(0, path("api/v1/", _api.urls))


def test_the_registry_urls_resolve(db):
    from django.urls import resolve

    assert resolve("/enterprises/", urlconf=__name__).view_name == "enterprises:list"
    assert resolve("/api/v1/enterprises", urlconf=__name__) is not None
