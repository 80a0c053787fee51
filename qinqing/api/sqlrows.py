"""Model instances from a composed SELECT, for the API's hottest lookups.

Every intake authenticates a token (with its user, the user's jurisdiction and unit) and looks up an
enterprise (with its jurisdiction). Through the ORM (`select_related`, or even `Model.objects.raw`),
building and compiling those statements and working out each column's converters on every call cost more
CPU than anything else in the request. Here the statement is composed once per process from the models'
own table and column names, the converters are worked out once, and each row becomes instances exactly as
the ORM would build them (`Model.from_db` after the same converters).
"""

from django.db import connection


class Columns:
    """The concrete columns of `model` joined as `alias`: their select list, and the instance they carry."""

    def __init__(self, model, alias: str):
        self.model, self.alias = model, alias
        self.vendor = ""

    def _prepare(self) -> None:
        self.attnames, self.converters = [], []
        for field in self.model._meta.concrete_fields:
            col = field.get_col(self.model._meta.db_table)
            self.attnames.append(field.attname)
            self.converters.append((col, connection.ops.get_db_converters(col) + field.get_db_converters(connection)))
        self.columns = [field.column for field in self.model._meta.concrete_fields]
        self.vendor = connection.vendor

    @property
    def width(self) -> int:
        return len(self.model._meta.concrete_fields)

    def select(self) -> str:
        """The select-list entries, in the order `build` reads them."""
        if self.vendor != connection.vendor:
            self._prepare()
        qn = connection.ops.quote_name
        return ", ".join(f"{self.alias}.{qn(column)}" for column in self.columns)

    def build(self, values):
        """The instance carried by `values` (this model's slice of a row); None when nothing was joined."""
        if values[0] is None:  # the primary key
            return None
        converted = []
        for value, (col, converters) in zip(values, self.converters, strict=True):
            for convert in converters:
                value = convert(value, col, connection)
            converted.append(value)
        return self.model.from_db(connection.alias, self.attnames, converted)
