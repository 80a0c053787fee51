"""Admin for the enterprise registry."""

from django.contrib import admin

from .models import HELPERS, Enterprise, Helpers


class HelpersInline(admin.StackedInline):
    model = Helpers
    autocomplete_fields = ["service_specialist", "contact_leader"]
    can_delete = False


@admin.register(Enterprise)
class EnterpriseAdmin(admin.ModelAdmin):
    list_display = ["name", "credit_code", "sector", "size", "is_four_above", "jurisdiction",
                    "service_specialist", "contact_leader"]
    list_filter = ["sector", "size", "is_four_above"]
    search_fields = ["name", "credit_code", "contact_name", "contact_phone"]
    list_select_related = ["jurisdiction", *HELPERS]
    # Thousands of enterprises and users: search boxes, never a <select> of every row.
    autocomplete_fields = ["jurisdiction"]
    inlines = [HelpersInline]
    readonly_fields = ["created_at"]
    # The registry can reach millions of rows in a province; don't count them twice per page.
    show_full_result_count = False


from . import admin_registry  # noqa: E402, F401 - reference data and configuration (issue 4)
