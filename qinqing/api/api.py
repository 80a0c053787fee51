"""The JSON API under /api/v1/: one NinjaAPI, one router per resource, JSON errors in Chinese."""

import functools
import json

from ninja import NinjaAPI

from qinqing.handling.api import router as handling_router

from . import errors
from .auth import SessionAuth, TokenAuth
from .demands import router as demands_router
from .enterprises import router as enterprises_router
from .policies import router as policies_router
from .renderer import RENDERER


def utf8_document(view):
    """The OpenAPI document as UTF-8 text like every other answer: ninja serves it through its own view, whose
    JsonResponse escapes every Chinese character. Used as ninja's docs_decorator, applied to that view."""

    @functools.wraps(view)
    def document(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        if response.status_code == 200 and response.get("Content-Type", "").startswith("application/json"):
            response.content = json.dumps(json.loads(response.content), ensure_ascii=False).encode()
        return response

    return document


api = NinjaAPI(
    title="亲清 API",
    version="1",
    description="诉求受理、台账与闭环办理。认证：请求头 Authorization: Bearer <令牌>（manage.py issue_token 签发），"
                "或已登录浏览器的会话（写操作需带 CSRF 令牌）。错误统一为 {\"detail\": 中文说明, \"code\": 错误代码}。",
    urls_namespace="api",
    auth=[TokenAuth(), SessionAuth()],
    renderer=RENDERER,  # Chinese as UTF-8 text, not \u escapes
    # The interactive docs page would load Swagger UI from a CDN unless "ninja" is an installed app;
    # no network at run time, so only the OpenAPI document is served.
    docs_url=None,
    docs_decorator=utf8_document,
)
errors.register(api)
api.add_router("/", handling_router)  # before demands: its /demands/{ref}/{verb} catch-all would answer /assign
api.add_router("/", demands_router)
api.add_router("/enterprises", enterprises_router)
api.add_router("/policies", policies_router)
api.add_router("/cooperation", "qinqing.cooperation.api.router")  # 提级队列, 协办意见, 批示
api.add_router("/fulfilment", "qinqing.fulfilment.api.router")
api.add_router("/hotissues", "qinqing.hotissues.api.router")
api.add_router("/textmodel", "qinqing.textmodel.api.router")  # 答复质量检查
api.add_router("/enterprises", "qinqing.api.policies.enterprise_router")  # /enterprises/{ref}/policies
api.add_router("/handoffs", "qinqing.handoffs.api.router")
