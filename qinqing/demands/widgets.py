"""Form widgets for pages rendered on every request, such as the ledger's filter bar."""

from django import forms
from django.utils.html import format_html, format_html_join


class QuickSelect(forms.Select):
    """A <select> rendered in one pass instead of one template per <option>.

    Django renders every option through its own template; the ledger's filter bar has a hundred
    options (units, jurisdictions, categories) and spent more time on them than on the rows.
    Groups are not supported: none of the filters uses them.
    """

    def render(self, name, value, attrs=None, renderer=None):
        context = self.get_context(name, value, attrs)["widget"]
        options = [option for _group, opts, _index in context["optgroups"] for option in opts]
        html_attrs = format_html_join("", ' {}="{}"', ((k, v) for k, v in context["attrs"].items()
                                                        if v is not False and v is not None and v is not True))
        flags = format_html_join("", " {}", ((k,) for k, v in context["attrs"].items() if v is True))
        body = format_html_join("", '<option value="{}"{}>{}</option>', (
            (option["value"] if option["value"] is not None else "",
             " selected" if option["selected"] else "", option["label"]) for option in options))
        return format_html('<select name="{}"{}{}>{}</select>', context["name"], html_attrs, flags, body)


class QuickSelectMultiple(QuickSelect):
    allow_multiple_selected = True

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        context["widget"]["attrs"]["multiple"] = True
        return context

    def value_from_datadict(self, data, files, name):
        return forms.SelectMultiple.value_from_datadict(self, data, files, name)

    def value_omitted_from_data(self, data, files, name):
        return False
