"""Admin for the text model: the user dictionary (editable), the trained models and corrections (looked at)."""

from django.contrib import admin

from qinqing.lib import clock

from .models import Term


@admin.register(Term)
class TermAdmin(admin.ModelAdmin):
    list_display = ["word", "weight", "note", "updated_at"]
    search_fields = ["word", "note"]
    fields = ["word", "weight", "note"]

    def save_model(self, request, obj, form, change):
        obj.updated_at = clock.now()
        super().save_model(request, obj, form, change)
