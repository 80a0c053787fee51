"""Staff pages of the demand loop. Each module is one page family; URLs are in demands/urls.py."""

from .detail import act, attachment, detail
from .inbox import dispatch_inbox, overdue, unit_inbox
from .intake import receive
from .ledger import ledger
from .lists import demand_list
from .slip import slip

__all__ = ["act", "attachment", "demand_list", "detail", "dispatch_inbox", "ledger", "overdue", "receive", "slip", "unit_inbox"]
