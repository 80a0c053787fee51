"""Admin for the org tree, users with their roles, and API tokens."""

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminPasswordChangeForm
from django.utils import timezone

from qinqing.demands.errors import DomainError
from qinqing.lib import clock

from . import security, services
from .models import ApiToken, Jurisdiction, LoginLockout, LoginRecord, RoleGrant, Unit, User


@admin.register(Jurisdiction)
class JurisdictionAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "level", "parent"]
    list_filter = ["level"]
    search_fields = ["name", "code"]
    list_select_related = ["parent"]
    # A province has thousands of towns: a search box, not a <select> with every one of them.
    autocomplete_fields = ["parent"]
    readonly_fields = ["path"]


@admin.register(Unit)
class UnitAdmin(admin.ModelAdmin):
    list_display = ["name", "short_name", "kind", "jurisdiction", "phone", "active"]
    list_filter = ["kind", "active", "jurisdiction__level"]
    search_fields = ["name", "short_name", "jurisdiction__name"]
    list_select_related = ["jurisdiction"]
    autocomplete_fields = ["jurisdiction"]


class SetInitialPasswordForm(AdminPasswordChangeForm):
    """The administrator sets someone's password: its holder must replace it at their next login."""

    def save(self, commit=True):
        security.require_password_change(self.user)
        return super().save(commit)


class RoleGrantInline(admin.TabularInline):
    model = RoleGrant
    extra = 1
    verbose_name = verbose_name_plural = "角色"


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    """Django's user admin plus where the person sits (jurisdiction, unit, enterprise) and their roles."""

    inlines = [RoleGrantInline]
    change_password_form = SetInitialPasswordForm
    list_display = ["username", "full_name", "role_list", "unit", "jurisdiction", "enterprise", "is_active",
                    "is_staff"]
    list_filter = ["role_grants__role", "is_active", "is_staff", "is_superuser", "unit__kind"]
    search_fields = ["username", "full_name", "phone", "email", "unit__name", "enterprise__name"]
    list_select_related = ["unit", "jurisdiction", "enterprise"]
    autocomplete_fields = ["jurisdiction", "unit", "enterprise"]
    ordering = ["username"]
    fieldsets = [
        (None, {"fields": ["username", "password"]}),
        ("个人信息", {"fields": ["full_name", "phone", "email"]}),
        ("所属机构", {"fields": ["jurisdiction", "unit", "enterprise"],
                  "description": "工作人员填写区划和单位；企业用户填写所属企业。"}),
        ("后台权限", {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"],
                  "classes": ["collapse"]}),
        ("账号安全", {"fields": ["must_change_password"],
                  "description": "管理员新建账号或重设密码后，本人登录时须先修改密码。"}),
        ("重要日期", {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [
        (None, {"classes": ["wide"],
                "fields": ["username", "usable_password", "password1", "password2"]}),
        ("个人信息与所属机构", {"classes": ["wide"],
                       "fields": ["full_name", "phone", "jurisdiction", "unit", "enterprise"]}),
    ]

    def get_queryset(self, request):
        # One extra query for all roles on the page, instead of one per row.
        return super().get_queryset(request).prefetch_related("role_grants")

    def save_model(self, request, obj, form, change):
        if not change:  # the administrator chose the first password: its holder must replace it
            security.require_password_change(obj)
        super().save_model(request, obj, form, change)

    @admin.display(description="角色")
    def role_list(self, obj):
        return "、".join(grant.get_role_display() for grant in obj.role_grants.all()) or "—"


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Tokens are issued by `manage.py issue_token`, which shows the raw value once; only its digest is stored."""

    list_display = ["prefix", "user", "name", "scope", "created_at", "expires_at", "last_used_at", "revoked"]
    list_filter = ["revoked", "scope"]
    search_fields = ["prefix", "name", "user__username", "user__full_name"]
    list_select_related = ["user"]
    fields = ["user", "name", "prefix", "digest", "scope", "created_at", "expires_at", "last_used_at", "revoked",
              "revoked_at"]
    # Revoking goes through 吊销所选令牌 (accounts.services.revoke_token, which writes the audit log); the
    # scope and expiry are chosen when the token is issued.
    readonly_fields = ["user", "prefix", "digest", "scope", "created_at", "expires_at", "last_used_at", "revoked",
                       "revoked_at"]
    actions = ["revoke"]

    def has_add_permission(self, request):
        # A token created here could never be shown to anyone: the raw value is not stored.
        return False

    @admin.action(description="吊销所选令牌")
    def revoke(self, request, queryset):
        count = 0
        try:
            for token in queryset.filter(revoked=False).select_related("user"):
                count += services.revoke_token(request.user, token, "管理后台吊销", request=request)
        except DomainError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return
        self.message_user(request, f"已吊销 {count} 个令牌。", messages.SUCCESS)


@admin.register(LoginLockout)
class LoginLockoutAdmin(admin.ModelAdmin):
    """Failed logins counted by django-axes, one row per account, address and browser; 解除锁定 forgets them."""

    list_display = ["account", "address", "failures", "last_failure", "status", "browser"]
    search_fields = ["username", "ip_address"]
    date_hierarchy = "attempt_time"
    fields = ["username", "ip_address", "user_agent", "failures_since_start", "attempt_time", "path_info"]
    readonly_fields = fields
    actions = ["unlock"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="账号", ordering="username")
    def account(self, obj):
        return obj.username or "—"

    @admin.display(description="IP地址", ordering="ip_address")
    def address(self, obj):
        return obj.ip_address

    @admin.display(description="失败次数", ordering="failures_since_start")
    def failures(self, obj):
        return obj.failures_since_start

    @admin.display(description="浏览器")
    def browser(self, obj):
        return obj.user_agent

    @admin.display(description="最近失败时间", ordering="attempt_time")
    def last_failure(self, obj):
        return timezone.localtime(obj.attempt_time).strftime("%Y-%m-%d %H:%M:%S")

    @admin.display(description="状态")
    def status(self, obj):
        until = obj.attempt_time + settings.AXES_COOLOFF_TIME
        if until <= clock.now():
            return "已过期"
        if obj.failures_since_start >= settings.AXES_FAILURE_LIMIT:
            return f"账号已锁定，至 {timezone.localtime(until):%m-%d %H:%M}"
        return f"还可尝试{settings.AXES_FAILURE_LIMIT - obj.failures_since_start}次"

    @admin.action(description="解除锁定（清除所选失败记录）")
    def unlock(self, request, queryset):
        count = security.unlock(request.user, queryset)
        self.message_user(request, f"已清除 {count} 条登录失败记录，相应账号和地址可以重新登录。", messages.SUCCESS)


@admin.register(LoginRecord)
class LoginRecordAdmin(admin.ModelAdmin):
    """Successful logins and their logouts (django-axes' access log), for 安全审计."""

    list_display = ["account", "address", "login_time", "logout", "browser"]
    search_fields = ["username", "ip_address"]
    date_hierarchy = "attempt_time"
    fields = ["username", "ip_address", "user_agent", "attempt_time", "logout_time", "path_info"]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # an audit trail

    @admin.display(description="账号", ordering="username")
    def account(self, obj):
        return obj.username

    @admin.display(description="IP地址", ordering="ip_address")
    def address(self, obj):
        return obj.ip_address

    @admin.display(description="浏览器")
    def browser(self, obj):
        return obj.user_agent

    @admin.display(description="登录时间", ordering="attempt_time")
    def login_time(self, obj):
        return timezone.localtime(obj.attempt_time).strftime("%Y-%m-%d %H:%M:%S")

    @admin.display(description="退出时间", ordering="logout_time")
    def logout(self, obj):
        return timezone.localtime(obj.logout_time).strftime("%Y-%m-%d %H:%M:%S") if obj.logout_time else "—"
