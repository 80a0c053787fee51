"""The pages a person sees when something goes wrong: 403, 404, 405, CSRF failure and 500, in Chinese.

Each page is drawn in the frame its reader already knows: the portal's for enterprise accounts, the
staff frame for staff, the staff frame without navigation (and with a login link) for visitors not
signed in. Every page offers a way back: "返回首页", and "返回上一页" when the browser says it came from
one of our own pages. Addresses under /api/ answer in JSON, as the API does everywhere else.

Django's `require_POST` and friends answer a wrong method with an empty 405, which browsers show as
"This page isn't working"; `ErrorPageMiddleware` puts the Chinese page into such empty 403/404/405
answers, keeping their status code and their Allow header.

The 500 page is a static template rendered without a request: when the database is down it must
still show, so it neither reads the user nor loads template tags that query anything.
"""

import logging
import re

from django.http import HttpRequest, HttpResponse, HttpResponseServerError, JsonResponse
from django.template import loader
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

from .models import Role
from .security import inline_style_hashes

log = logging.getLogger(__name__)

API_PREFIX = "/api/"
CJK = re.compile(r"[\u4e00-\u9fff]")

# status → (title, explanation, JSON code for /api/ addresses)
PAGES = {
    403: ("没有权限", "您没有执行这项操作的权限。如需开通，请联系本单位管理员。", "forbidden"),
    404: ("页面不存在", "您要找的页面不存在，或不在您的查看范围内。地址可能输错了，或内容已被移走。", "not_found"),
    405: ("不能这样打开这个地址",
          "这个地址只接受页面上按钮的提交，不能直接在地址栏打开或刷新。请回到原来的页面，点击相应的按钮完成操作。",
          "method_not_allowed"),
}
CSRF_TITLE = "页面已过期，请刷新后重试"
CSRF_TEXT = ("为保护您的账号安全，每次提交都要核对页面里的校验信息。页面打开太久、在别的窗口退出或重新登录后，"
             "校验信息就会失效。请返回上一页，刷新后重新提交。")
CSRF_API = "CSRF校验失败，请刷新页面后重试。"  # the API's own wording (qinqing.api.errors)
SERVER_ERROR_API = "服务器内部错误，请稍后再试。"
FALLBACK_500 = "系统出错了：服务器处理您的请求时出错，请稍后重试；如果反复出现，请联系管理员。"


def is_api(request: HttpRequest) -> bool:
    return request.path_info.startswith(API_PREFIX)


def frame_for(user) -> str:
    """portal (enterprise accounts), staff (anyone else signed in) or visitor."""
    if user is None or not user.is_authenticated:
        return "visitor"
    if not user.is_staff_user and user.has_role(Role.ENTERPRISE):
        return "portal"
    return "staff"


def _back_url(request: HttpRequest) -> str:
    """The page the browser came from, if it is one of ours and not this very address."""
    referer = request.META.get("HTTP_REFERER", "")
    if not referer or not url_has_allowed_host_and_scheme(referer, allowed_hosts={request.get_host()},
                                                          require_https=request.is_secure()):
        return ""
    if referer == request.build_absolute_uri():
        return ""
    return referer


def _said_in_chinese(exception) -> str:
    """The reason a view gave (Http404("该区划不存在…")), if it gave one in Chinese; Django's own are English."""
    if exception is None or not exception.args or not isinstance(exception.args[0], str):
        return ""
    text = exception.args[0]
    return text if CJK.search(text) and len(text) <= 200 else ""


def _json(status: int, detail: str, code: str, response: HttpResponse | None = None) -> JsonResponse:
    answer = JsonResponse({"detail": detail, "code": code}, status=status, json_dumps_params={"ensure_ascii": False})
    if response is not None and response.has_header("Allow"):
        answer["Allow"] = response["Allow"]
    return answer


def render_error(request: HttpRequest, status: int, *, title: str, text: str, reason: str = "",
                 allow: str = "") -> HttpResponse:
    """The Chinese page for `status` in the reader's frame (templates 403.html, 404.html, 405.html)."""
    frame = frame_for(getattr(request, "user", None))
    home = reverse("portal:home") if frame == "portal" else reverse("home")
    context = {
        "status": status, "title": title, "text": text, "reason": reason, "frame": frame,
        "error_base": f"errors/{frame if frame == 'portal' else 'staff'}.html",
        "home_url": home, "back_url": _back_url(request),
        "login_url": f"{reverse('login')}?next={request.path}" if frame == "visitor" else "",
        "allow": allow,
    }
    body = loader.render_to_string(f"{status}.html", context, request)
    response = HttpResponse(body, status=status)
    if allow:
        response["Allow"] = allow
    return response


def page_not_found(request, exception=None):
    title, text, code = PAGES[404]
    if is_api(request):
        return _json(404, "没有这个API地址。", code)
    return render_error(request, 404, title=title, text=text, reason=_said_in_chinese(exception))


def permission_denied(request, exception=None):
    title, text, code = PAGES[403]
    reason = _said_in_chinese(exception)
    if is_api(request):
        return _json(403, reason or text, code)
    return render_error(request, 403, title=title, text=text, reason=reason)


def csrf_failure(request, reason=""):
    """CSRF_FAILURE_VIEW: the form's token was missing or stale (`reason` is Django's English, not shown)."""
    if is_api(request):
        return _json(403, CSRF_API, "csrf")
    return render_error(request, 403, title=CSRF_TITLE, text=CSRF_TEXT)


def server_error(request=None):
    """handler500: a static page, or JSON under /api/. Nothing here may need the database."""
    if request is not None and is_api(request):
        return _json(500, SERVER_ERROR_API, "server_error")
    try:
        response = HttpResponseServerError(loader.get_template("500.html").render())
        # Its one inline <style> (it may not rely on static files) is allowed by its hash, nothing else inline.
        response._csp_update = {"style-src": inline_style_hashes(response.content.decode())}
        return response
    except Exception:  # noqa: BLE001 - the error page itself must never fail
        log.exception("rendering 500.html failed")
        return HttpResponseServerError(FALLBACK_500, content_type="text/plain; charset=utf-8")


def _is_empty(response: HttpResponse) -> bool:
    return not response.streaming and not response.content


class ErrorPageMiddleware:
    """Empty 403, 404 and 405 answers (require_POST, HttpResponseForbidden()) get the Chinese page.

    The status code stays, and so does the Allow header a 405 must carry. Answers that already have a
    body are left alone, and so is the API, which answers in JSON.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.status_code not in PAGES or not _is_empty(response):
            return response
        allow = response.get("Allow", "")
        title, text, code = PAGES[response.status_code]
        if is_api(request):
            return _json(response.status_code, text, code, response)
        if response.status_code == 405:
            text = _method_text(allow)
        page = render_error(request, response.status_code, title=title, text=text, allow=allow)
        for key, morsel in response.cookies.items():  # a cookie the view set still has to reach the browser
            page.cookies[key] = morsel
        return page


def _method_text(allow: str) -> str:
    methods = {m.strip().upper() for m in allow.split(",") if m.strip()}
    if methods and methods <= {"POST", "PUT", "PATCH", "DELETE", "OPTIONS"}:
        return PAGES[405][1]
    return "这个地址不接受这种打开方式。请回到原来的页面，通过页面上的链接或按钮完成操作。"
