"""Admin helpers shared by the apps: read-only records, and records whose admin saves through a service."""

from django import forms
from django.contrib import admin


class ReadOnlyAdmin(admin.ModelAdmin):
    """A record the admin may show but never add, change or delete: audit trails, jobs, figures written
    by services."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ServiceForm(forms.ModelForm):
    """An admin form whose save is a service call: the record changes the way the product's pages change
    it, with the service's permission check, cleaning and audit entry, never by a bare model save.

    A subclass implements `write()`, calling the verb-named service with `self.user` and the cleaned
    input, and returns the saved record. It runs where a ModelForm would copy the input onto the
    instance and validate it (`_post_clean`), so that a refusal comes back onto the form in the
    service's own words; the admin's view transaction wraps it, and the service's own transaction
    leaves nothing behind when it refuses. ServiceAdmin hands the form its user and adopts the result.
    """

    user = None  # set per request by ServiceAdmin.get_form
    saved = None

    class Meta:
        fields: list[str] = []

    def write(self):
        raise NotImplementedError

    def show_problem(self, field: str | None, message: str) -> None:
        self.add_error(field if field in self.fields else None, message)

    def _post_clean(self):
        from qinqing.demands.errors import DomainError

        if self.errors:
            return
        try:
            self.saved = self.write()
        except DomainError as exc:
            problems = getattr(exc, "problems", None)
            if problems:
                for field, message in problems.items():
                    self.show_problem(field, message)
            else:
                self.show_problem(None, exc.message)


class ServiceAdmin(admin.ModelAdmin):
    """The admin of a record that only services change (see ServiceForm); never deleted here."""

    form = ServiceForm
    save_as = False

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        form.user = request.user  # the class is built for this request
        return form

    def save_model(self, request, obj, form, change):
        # The service wrote the record while the form was validated; take its result.
        obj.pk = form.saved.pk
        obj.refresh_from_db()
        obj._state.adding = False

    def save_related(self, request, form, formsets, change):
        pass  # the service wrote whatever goes with the record

    def has_delete_permission(self, request, obj=None):
        return False  # no service deletes it; the bulk delete action goes with this
