"""What the ledger page shows around its table: the person's saved filters, columns and export link."""

from qinqing.demands.columns import LEDGER_TABLE
from qinqing.workbench import services as workbench
from qinqing.workbench.models import SavedFilter


def ledger_tools(request) -> dict:
    user = request.user
    query = workbench.clean_query(request.GET.urlencode())
    keys = workbench.ledger_columns(user)
    saved = list(SavedFilter.objects.filter(user=user).order_by("name", "id")[:30])
    return {
        "column_keys": keys,
        "column_choices": [(c.key, c.label, c.key in keys) for c in LEDGER_TABLE],
        "saved_filters": [(f, f.query == query) for f in saved],
        "query": query,
        "export_query": query,
    }
