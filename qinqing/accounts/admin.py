"""Admin for the org tree, users with their roles, and API tokens."""

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from .models import ApiToken, Jurisdiction, RoleGrant, Unit, User


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


class RoleGrantInline(admin.TabularInline):
    model = RoleGrant
    extra = 1
    verbose_name = verbose_name_plural = "角色"


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    """Django's user admin plus where the person sits (jurisdiction, unit, enterprise) and their roles."""

    inlines = [RoleGrantInline]
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

    @admin.display(description="角色")
    def role_list(self, obj):
        return "、".join(grant.get_role_display() for grant in obj.role_grants.all()) or "—"


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Tokens are issued by `manage.py issue_token`, which shows the raw value once; only its digest is stored."""

    list_display = ["prefix", "user", "name", "created_at", "last_used_at", "revoked"]
    list_filter = ["revoked"]
    search_fields = ["prefix", "name", "user__username", "user__full_name"]
    list_select_related = ["user"]
    fields = ["user", "name", "prefix", "digest", "created_at", "last_used_at", "revoked"]
    readonly_fields = ["user", "prefix", "digest", "created_at", "last_used_at"]
    actions = ["revoke"]

    def has_add_permission(self, request):
        # A token created here could never be shown to anyone: the raw value is not stored.
        return False

    @admin.action(description="吊销所选令牌")
    def revoke(self, request, queryset):
        count = queryset.filter(revoked=False).update(revoked=True)
        self.message_user(request, f"已吊销 {count} 个令牌。", messages.SUCCESS)
