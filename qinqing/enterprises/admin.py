"""Admin for the enterprise registry.

An enterprise is registered and changed only through services.register_enterprise / update_enterprise:
the admin's form is the registry page's form (the importer's cleaning, the helpers moving the 包联
assignments, the change log), and saving it calls the service as the user. No service deletes an
enterprise, so the admin does not either.
"""

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from qinqing.accounts.models import Jurisdiction
from qinqing.lib.admin import ServiceAdmin, ServiceForm

from . import services
from .forms import EnterpriseForm
from .models import HELPERS, Enterprise
from .permissions import managed_scope, may_manage_place, may_manage_registry


class EnterpriseAdminForm(EnterpriseForm, ServiceForm):
    """The registry page's fields; saving registers or updates the enterprise through the service."""

    def __init__(self, *args, instance=None, initial=None, **kwargs):
        editing = instance is not None and instance.pk is not None
        if editing:
            initial = {**EnterpriseForm.initial_for(instance), **(initial or {})}
        scope = managed_scope(self.user)
        places = Jurisdiction.objects.all() if scope is None else Jurisdiction.objects.filter(path__startswith=scope)
        super().__init__(*args, instance=instance, initial=initial, editing=editing,
                         places=list(places.only("code", "name", "path").order_by("path")), **kwargs)

    def write(self):
        if self.instance.pk is None:
            return services.register_enterprise(self.user, self.data_for_service(), note="管理后台登记")
        return services.update_enterprise(self.user, self.instance, self.data_for_service(), note="管理后台修改")


@admin.register(Enterprise)
class EnterpriseAdmin(ServiceAdmin):
    form = EnterpriseAdminForm
    list_display = ["name", "credit_code", "sector", "size", "is_four_above", "jurisdiction",
                    "service_specialist", "contact_leader"]
    list_filter = ["sector", "size", "is_four_above"]
    search_fields = ["name", "credit_code", "contact_name", "contact_phone"]
    list_select_related = ["jurisdiction", *HELPERS]
    readonly_fields = ["registry_page", "size", "is_four_above", "figures_year", "created_at", "updated_at"]
    # The registry can reach millions of rows in a province; don't count them twice per page.
    show_full_result_count = False

    @admin.display(description="企业库页面")
    def registry_page(self, obj):
        if obj.pk is None:
            return "—"
        return format_html('<a href="{}">{}</a>（年度数据、包联记录、变更记录在此录入和查看）',
                           reverse("enterprises:detail", args=[obj.credit_code]), obj.name)

    def has_add_permission(self, request):
        return super().has_add_permission(request) and may_manage_registry(request.user)

    def has_change_permission(self, request, obj=None):
        # The service decides again when saving; here the page turns read-only instead of failing at save.
        allowed = super().has_change_permission(request, obj) and may_manage_registry(request.user)
        return allowed and (obj is None or may_manage_place(request.user, obj.jurisdiction))


from . import admin_registry  # noqa: E402, F401 - reference data and configuration (issue 4)
