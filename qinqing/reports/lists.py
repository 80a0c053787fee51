"""The three lists (三张清单) counted for a briefing: how many opinions and problems the period brought in,
and how many of those problems the district still answers for. One aggregate over the ledger's filter;
each number links to its list filtered the same way, so the list shows exactly what was counted."""

from dataclasses import dataclass
from urllib.parse import urlencode

from django.db.models import Count
from django.urls import reverse

from qinqing.accounts.models import Jurisdiction
from qinqing.demands.filters import apply_filters
from qinqing.demands.lists import LISTS
from qinqing.demands.models import Demand

from .stats import Item, Period


@dataclass
class ListCounts:
    opinions: Item
    problems: Item
    responsibility: Item

    def __iter__(self):
        return iter((self.opinions, self.problems, self.responsibility))


def list_counts(jurisdiction: Jurisdiction, period: Period) -> ListCounts:
    """The period's demands in each list, as its page would list them with the same filters."""
    qs = apply_filters(Demand.objects.all(), {"jurisdiction": jurisdiction, "received_from": period.start,
                                              "received_to": period.end})
    counts = qs.aggregate(**{key: Count("pk", filter=item.where) for key, item in LISTS.items()})
    query = urlencode({"jurisdiction": jurisdiction.code, "received_from": period.start.isoformat(),
                       "received_to": period.end.isoformat()})
    return ListCounts(**{key: Item(item.name, counts[key], f"{reverse('demands:list', args=[key])}?{query}")
                         for key, item in LISTS.items()})
