"""Admin: read-only views of the policy library and its trail. Policies change only through the staff pages
(qinqing.policies.views), which go through the services: their permission checks, validation and trail."""

from django.contrib import admin

from qinqing.lib.admin import ReadOnlyAdmin

from .models import (
    Policy,
    PolicyAttachment,
    PolicyDemand,
    PolicyEvent,
    PolicyOpen,
    PolicyPush,
    PushNotice,
    PushOptOut,
)


@admin.register(Policy)
class PolicyAdmin(ReadOnlyAdmin):
    list_display = ("title", "doc_number", "level", "jurisdiction", "benefit_type", "status", "valid_until",
                    "apply_closes", "no_application")
    list_filter = ("status", "level", "benefit_type", "no_application")
    search_fields = ("title", "doc_number", "issuer")
    list_select_related = ("jurisdiction",)


@admin.register(PolicyEvent)
class PolicyEventAdmin(ReadOnlyAdmin):
    list_display = ("policy", "verb", "actor", "created_at")
    list_filter = ("verb",)
    list_select_related = ("policy", "actor")


@admin.register(PolicyAttachment)
class PolicyAttachmentAdmin(ReadOnlyAdmin):
    list_display = ("name", "policy", "size", "uploaded_by", "uploaded_at")
    list_select_related = ("policy", "uploaded_by")


@admin.register(PolicyPush)
class PolicyPushAdmin(ReadOnlyAdmin):
    list_display = ("policy", "enterprise", "stage", "created_at", "sms_due", "sent_at")
    list_filter = ("stage",)
    search_fields = ("policy__title", "enterprise__name", "enterprise__credit_code")
    list_select_related = ("policy", "enterprise")


@admin.register(PolicyOpen)
class PolicyOpenAdmin(ReadOnlyAdmin):
    list_display = ("policy", "enterprise", "via", "opened_at")
    list_filter = ("via",)
    list_select_related = ("policy", "enterprise")


@admin.register(PushOptOut)
class PushOptOutAdmin(ReadOnlyAdmin):
    list_display = ("enterprise", "by", "created_at")
    list_select_related = ("enterprise", "by")


@admin.register(PolicyDemand)
class PolicyDemandAdmin(ReadOnlyAdmin):
    list_display = ("policy", "demand", "created_at")
    list_select_related = ("policy", "demand")


@admin.register(PushNotice)
class PushNoticeAdmin(ReadOnlyAdmin):
    list_display = ("push", "notification")
    list_select_related = ("push__policy", "push__enterprise", "notification")
