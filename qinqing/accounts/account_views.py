"""A person's own account security: 账号安全 (the overview), 修改密码, and the TOTP second factor (绑定, and
the code asked at login). The rules they serve live in qinqing.accounts.security."""

from base64 import b32encode

import segno
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import password_validation, update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordChangeForm
from django.db import transaction
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from . import security
from .errorpages import frame_for

DEVICE_NAME = "手机验证器"


def qr_image(text: str) -> str:
    """`text` as a QR code: an SVG image in a data: address, drawn here with no network and no script (the CSP
    allows data: images). A full QR code, never a Micro QR, which most phone cameras do not read; white
    ground and the four-module margin, so it scans on a dark screen too."""
    code = segno.make(text, error="m", micro=False)
    return code.svg_data_uri(scale=4, border=4, dark="#000", light="#fff")


def _next(request, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                  require_https=request.is_secure()):
        return target
    return default


def _home(request) -> str:
    return reverse("portal:home") if frame_for(request.user) == "portal" else reverse("home")


def _frame(request) -> dict:
    portal = frame_for(request.user) == "portal"
    return {"portal": portal, "frame_base": "portal/base.html" if portal else "base.html"}


class OwnPasswordForm(PasswordChangeForm):
    """Django's change form (old password, new twice, the validators) that also refuses the old one again."""

    def clean_new_password1(self):
        new = self.cleaned_data.get("new_password1")
        if new and self.user.check_password(new):
            raise forms.ValidationError("新密码不能与原密码相同。", code="password_unchanged")
        return new


@login_required
@require_http_methods(["GET", "POST"])
def password_change(request):
    form = OwnPasswordForm(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        security.change_password(request.user, form.cleaned_data["new_password1"])
        update_session_auth_hash(request, request.user)  # this session stays signed in; others end
        messages.success(request, "密码已修改。")
        return redirect(_next(request, _home(request)))
    return render(request, "accounts/password_change.html", {
        "form": form, "forced": request.user.must_change_password, "next": _next(request, ""),
        "rules": password_validation.password_validators_help_texts(), **_frame(request),
    })


@login_required
def account_security(request):
    device = security.confirmed_devices(request.user).order_by("created_at").first()
    return render(request, "accounts/security.html", {
        "device": device, "required": security.requires_second_factor(request.user),
        "failure_limit": settings.AXES_FAILURE_LIMIT, **_frame(request),
    })


class CodeForm(forms.Form):
    code = forms.CharField(label="动态验证码", max_length=6, min_length=6,
                           widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code",
                                                         "pattern": "[0-9]{6}", "autofocus": True}),
                           error_messages={"required": "请输入6位动态验证码。",
                                           "min_length": "动态验证码是6位数字。",
                                           "max_length": "动态验证码是6位数字。"})

    def clean_code(self):
        code = self.cleaned_data["code"].strip()
        if not code.isdigit():
            raise forms.ValidationError("动态验证码是6位数字。")
        return code


def _check_code(form: CodeForm, device: TOTPDevice) -> bool:
    """Whether the code is right now; django-otp slows down repeated wrong codes (throttling)."""
    allowed, _ = device.verify_is_allowed()
    if not allowed:
        form.add_error("code", "错误次数过多，请稍等片刻再试。")
        return False
    if not device.verify_token(form.cleaned_data["code"]):
        form.add_error("code", "验证码不正确或已过期，请输入验证器上当前显示的6位数字。")
        return False
    return True


@login_required
@require_http_methods(["GET", "POST"])
def otp_verify(request):
    """The second step of a login for a person with a device: the 6-digit code of this half-minute."""
    device = security.confirmed_devices(request.user).order_by("created_at").first()
    if device is None:  # removed by an administrator meanwhile: nothing to verify against
        security.second_factor_passed(request)
        return redirect(_next(request, _home(request)))
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid() and _check_code(form, device):
        otp_login(request, device)
        security.second_factor_passed(request)
        return redirect(_next(request, _home(request)))
    return render(request, "accounts/otp_verify.html", {"form": form, "next": _next(request, ""),
                                                        **_frame(request)})


def _pending_device(user) -> TOTPDevice:
    """The person's unconfirmed device, created once: the secret shown stays the same across visits."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("created_at").first()
    return device or TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)


@never_cache  # the page carries the secret (as text and as QR code): no browser or proxy may keep a copy
@login_required
@require_http_methods(["GET", "POST"])
def otp_enrol(request):
    """Bind an authenticator app: show the otpauth:// address as a QR code to scan and the secret as text to type
    (for phones without a camera), confirm with one code."""
    if security.confirmed_devices(request.user).exists():
        messages.info(request, "两步验证已经启用。")
        return redirect("account_security")
    with transaction.atomic():
        device = _pending_device(request.user)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid() and _check_code(form, device):
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        otp_login(request, device)
        security.second_factor_passed(request)
        messages.success(request, "两步验证已启用：以后登录时，输入密码后还要输入验证器上的动态验证码。")
        return redirect(_next(request, reverse("account_security")))
    secret = b32encode(device.bin_key).decode()
    uri = device.config_url
    return render(request, "accounts/otp_enrol.html", {
        "form": form, "secret": " ".join(secret[i:i + 4] for i in range(0, len(secret), 4)),
        "uri": uri, "qr": qr_image(uri), "required": security.requires_second_factor(request.user),
        "next": _next(request, ""), **_frame(request),
    })
