"""Form widgets for pages rendered on every request, such as the ledger's filter bar."""

from html import escape as esc

from django import forms
from django.forms.models import ModelChoiceIterator
from django.forms.utils import flatatt
from django.utils.safestring import mark_safe


class QuickSelect(forms.Select):
    """A <select> rendered in one pass instead of one template per <option>.

    Django renders every option through its own template; the ledger's filter bar has a hundred
    options (units, jurisdictions, categories) and spent more time on them than on the rows.
    Option groups are not supported: none of the filters uses them.
    """

    def render(self, name, value, attrs=None, renderer=None):
        values = value if isinstance(value, list | tuple) else [value]
        selected = {str(v) for v in values if v is not None}
        final = self.build_attrs(self.attrs, attrs)
        if self.allow_multiple_selected:
            final["multiple"] = True
        parts = [f'<select name="{esc(name)}"{flatatt(final)}>']
        for option_value, label in self.choices:
            option_value = "" if option_value is None else str(option_value)
            mark = " selected" if option_value in selected else ""
            parts.append(f'<option value="{esc(option_value)}"{mark}>{esc(str(label))}</option>')
        parts.append("</select>")
        return mark_safe("".join(parts))  # noqa: S308 - names, attributes and labels are escaped above


class QuickSelectMultiple(QuickSelect):
    allow_multiple_selected = True

    def value_from_datadict(self, data, files, name):
        return forms.SelectMultiple.value_from_datadict(self, data, files, name)

    def value_omitted_from_data(self, data, files, name):
        return False


class _ListedChoices(ModelChoiceIterator):
    """Reads the choices with one plain SELECT. Django's iterator streams them through a server-side
    cursor on PostgreSQL (DECLARE, FETCH, CLOSE: three round trips per drop-down per page view)."""

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        for obj in list(self.queryset):
            yield self.choice(obj)


class ListedModelChoiceField(forms.ModelChoiceField):
    """A ModelChoiceField for short lists (units, jurisdictions, categories) shown on busy pages."""

    iterator = _ListedChoices
