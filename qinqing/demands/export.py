"""The ledger view as a well-formed .xlsx.

The columns are the ledger's own (qinqing.demands.columns): the export writes the columns a person
chose to see, or every column, with the same Chinese headers as the table, widths, dates as real dates;
qinqing.lib.tables streams the rows in bounded memory and writes text beginning with "=" as text, never
as a formula.
"""

from collections.abc import Callable, Iterable

from qinqing.lib import tables

from .columns import LEDGER_EXPORT

SHEET_TITLE = "诉求台账"
# Exported columns are the registry's: the export offers every column, the table all but the long texts.
COLUMNS = LEDGER_EXPORT.columns
BY_KEY = LEDGER_EXPORT.by_key
DEFAULT_COLUMNS = LEDGER_EXPORT.default_keys


def clean_columns(keys: Iterable[str] | None) -> list[str]:
    """Known column keys in the order given, without repeats; the defaults when none are left."""
    return LEDGER_EXPORT.clean(keys)


def write_xlsx(qs, keys: list[str], out, *, progress: Callable[[int], None] | None = None) -> int:
    """Write the (filtered, ordered) demands to `out` as .xlsx; returns the number of rows written."""
    columns = LEDGER_EXPORT.pick(keys)
    # Number and title stay in view when scrolling sideways, as in the ledger table.
    frozen = 2 if [c.key for c in columns[:2]] == ["number", "title"] else 0
    return tables.write_xlsx(qs, columns, out, sheet_title=SHEET_TITLE, frozen_columns=frozen, progress=progress)
