"""Audit entries for what Django and its apps signal rather than call a service for.

- Logins, failed logins and logouts: Django's auth signals, for every way in (the login page, the second
  factor's code step, the admin's login). A lockout: django-axes' `user_locked_out`, at the failure that locks.
- Changes made in the admin: the admin's own change log (LogEntry) is written after each addition, change
  and deletion there, in the same transaction; each becomes a role or account change (users, their roles
  and groups) or a configuration change (taxonomy, deadline rules, units, calendar, everything else).
"""

import json

from axes.signals import user_locked_out
from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db.models.signals import post_save
from django.dispatch import receiver

from .models import Action
from .services import record


@receiver(user_logged_in, dispatch_uid="qinqing-audit-login")
def _logged_in(sender, request, user, **kwargs):
    record(Action.LOGIN, actor=user, request=request, target=user.username)


@receiver(user_logged_out, dispatch_uid="qinqing-audit-logout")
def _logged_out(sender, request, user, **kwargs):
    if user is not None:  # logging out without a session writes nothing
        record(Action.LOGOUT, actor=user, request=request, target=user.username)


@receiver(user_login_failed, dispatch_uid="qinqing-audit-login-failed")
def _login_failed(sender, credentials, request=None, **kwargs):
    # Only the login name: Django has already masked the password in `credentials`.
    username = str(credentials.get("username") or "")[:150]
    locked = bool(getattr(request, "axes_locked_out", False))
    record(Action.LOGIN_FAILED, request=request, target=username, detail={"locked": locked} if locked else None)


@receiver(user_locked_out, dispatch_uid="qinqing-audit-locked-out")
def _locked_out(sender, request, username, ip_address, **kwargs):
    # axes also signals each attempt made while locked; only the failure that locks has counted failures.
    if getattr(request, "axes_failures_since_start", None) is None:
        return
    record(Action.LOCKED_OUT, request=request, target=str(username or "")[:150],
           detail={"failures": request.axes_failures_since_start})


# --- changes made in the admin -----------------------------------------------------------------------------

FLAGS = {ADDITION: "新增", CHANGE: "修改", DELETION: "删除"}
# Models whose admin pages call a service that writes its own, richer entry (one entry per change, not two).
SELF_RECORDING = {"workdays.workdayoverride"}  # qinqing.workdays.services: with the deadlines it moved
# Form labels as the admin logs them (untranslated): the User fields that grant or withdraw access.
ACCESS_FIELDS = {"Active", "Staff status", "Superuser status", "Groups", "User permissions"}


def _touches_access(model, flag: int, changes: list) -> bool:
    from django.contrib.auth.models import Group, Permission

    from qinqing.accounts.models import RoleGrant

    if model in (RoleGrant, Group, Permission):
        return True
    if flag != CHANGE:  # a user added (with roles) or deleted
        return True
    role_grant = str(RoleGrant._meta.verbose_name)
    for change in changes:
        for kind, about in change.items():
            if kind == "changed" and "name" not in about and ACCESS_FIELDS & set(about.get("fields", [])):
                return True
            if kind in ("added", "changed", "deleted") and about.get("name") == role_grant:
                return True
    return False


@receiver(post_save, sender=LogEntry, dispatch_uid="qinqing-audit-admin-change")
def _admin_change(sender, instance: LogEntry, created: bool, raw: bool = False, **kwargs):
    if not created or raw or instance.content_type_id is None:
        return
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group, Permission

    from qinqing.accounts.models import RoleGrant

    model = instance.content_type.model_class()
    if model is None or model._meta.app_label == "audit" or model._meta.label_lower in SELF_RECORDING:
        return
    try:
        changes = json.loads(instance.change_message or "[]")
    except ValueError:
        changes = []
    changes = changes if isinstance(changes, list) else []
    if model in (get_user_model(), RoleGrant, Group, Permission):
        action = Action.ROLE_CHANGED if _touches_access(model, instance.action_flag, changes) else Action.ACCOUNT_CHANGED
    else:
        action = Action.CONFIG_CHANGED
    detail = {"operation": FLAGS.get(instance.action_flag, str(instance.action_flag)),
              "model": f"{model._meta.app_label}.{model._meta.model_name}", "object_id": instance.object_id,
              "changes": instance.get_change_message()}
    if model is get_user_model() and instance.action_flag != DELETION:
        user = model.objects.filter(pk=instance.object_id).first()
        if user is not None:  # what the account may do now, after the change
            detail.update(roles=sorted(user.role_grants.values_list("role", flat=True)), is_active=user.is_active,
                          is_staff=user.is_staff, is_superuser=user.is_superuser,
                          groups=sorted(user.groups.values_list("name", flat=True)))
    record(action, actor=instance.user, target=f"{model._meta.verbose_name} {instance.object_repr}"[:300],
           detail=detail)
