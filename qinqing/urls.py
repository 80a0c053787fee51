from django.contrib import admin
from django.urls import include, path

admin.site.site_header = "亲清 · 政企服务平台管理"
admin.site.site_title = "亲清管理"
admin.site.index_title = "系统管理"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include("qinqing.api.urls")),
    path("portal/visits/", include("qinqing.visits.portal_urls")),
    path("portal/policies/", include("qinqing.policies.portal_urls")),
    path("portal/", include("qinqing.portal.urls")),
    path("notifications/", include("qinqing.notifications.urls")),
    path("workbench/", include("qinqing.workbench.urls")),
    path("enterprises/", include("qinqing.enterprises.urls")),
    path("reports/", include("qinqing.reports.urls")),
    path("supervision/", include("qinqing.supervision.urls")),
    path("visits/", include("qinqing.visits.urls")),
    path("policies/", include("qinqing.policies.urls")),
    path("handling/", include("qinqing.handling.urls")),
    path("cooperation/", include("qinqing.cooperation.urls")),
    path("handoffs/", include("qinqing.handoffs.urls")),
    path("fulfilment/", include("qinqing.fulfilment.urls")),
    path("hot/", include("qinqing.hotissues.urls")),
    path("textmodel/", include("qinqing.textmodel.urls")),
    path("public/", include("qinqing.transparency.urls")),
    path("", include("qinqing.accounts.urls")),
    path("", include("qinqing.demands.urls")),
]

# Chinese error pages in the reader's frame (portal or staff); JSON under /api/.
handler403 = "qinqing.accounts.errorpages.permission_denied"
handler404 = "qinqing.accounts.errorpages.page_not_found"
handler500 = "qinqing.accounts.errorpages.server_error"
