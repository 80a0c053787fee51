from django.urls import path

from qinqing.transparency import import_views, material_views

from . import views

app_name = "demands"

urlpatterns = [
    path("demands/", views.ledger, name="ledger"),
    path("demands/new/", views.receive, name="receive"),
    path("demands/inbox/dispatch/", views.dispatch_inbox, name="dispatch_inbox"),
    path("demands/inbox/unit/", views.unit_inbox, name="unit_inbox"),
    path("demands/overdue/", views.overdue, name="overdue"),
    # Excel in (qinqing.transparency.import_views): upload, check, preview, confirm
    path("demands/import/", import_views.upload, name="import"),
    path("demands/import/<int:pk>/", import_views.job_page, name="import_job"),
    path("demands/import/<int:pk>/confirm/", import_views.confirm, name="import_confirm"),
    path("demands/import/<int:pk>/errors/", import_views.error_file, name="import_errors"),
    path("demands/lists/<slug:key>/", views.demand_list, name="list"),
    path("demands/<str:number>/", views.detail, name="detail"),
    path("demands/<str:number>/attachments/<int:pk>/", views.attachment, name="attachment"),
    # 答复附件 and in-page previews (qinqing.transparency.material_views), before the verbs' catch-all
    path("demands/<str:number>/reply-files/", material_views.reply_files, name="reply_files"),
    path("demands/<str:number>/attachments/<int:pk>/preview/", material_views.staff_preview, name="attachment_preview"),
    path("demands/<str:number>/<slug:verb>/", views.act, name="act"),
]
