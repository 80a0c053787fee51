"""Related rows carried in prefixed columns of a raw query, for the API's hottest lookups.

Every intake authenticates a token (with its user's jurisdiction and unit) and looks up an enterprise
(with its jurisdiction). Through `select_related`, building and compiling those two statements and
converting their columns cost more CPU than anything else in the request. The main model comes from
`Model.objects.raw` (which converts its own columns); each related object travels as columns named
`<prefix><attname>` and is rebuilt here with the converters the ORM would apply.
"""

from django.db import connection


class Prefixed:
    """The concrete columns of `model` (joined as `alias`), each selected as `<prefix><attname>`."""

    def __init__(self, model, alias: str):
        self.model, self.alias, self.prefix = model, alias, f"{alias}_"
        self.vendor = ""

    def _prepare(self) -> None:
        self.fields = []
        for field in self.model._meta.concrete_fields:
            col = field.get_col(self.model._meta.db_table)
            converters = connection.ops.get_db_converters(col) + field.get_db_converters(connection)
            self.fields.append((field.attname, field.column, converters, col))
        self.vendor = connection.vendor

    def columns(self) -> str:
        """The select-list entries, for composing the statement once per process."""
        if self.vendor != connection.vendor:
            self._prepare()
        qn = connection.ops.quote_name
        return ", ".join(f"{self.alias}.{qn(column)} AS {self.prefix}{attname}"
                         for attname, column, _, _ in self.fields)

    def pop(self, row):
        """The related instance carried by `row` (None for a null join), its columns removed from `row`."""
        if self.vendor != connection.vendor:
            self._prepare()
        values = []
        for attname, _, converters, col in self.fields:
            value = row.__dict__.pop(self.prefix + attname)
            for convert in converters:
                value = convert(value, col, connection)
            values.append(value)
        if values[0] is None:  # the primary key: nothing was joined
            return None
        return self.model.from_db(connection.alias, [f[0] for f in self.fields], values)
