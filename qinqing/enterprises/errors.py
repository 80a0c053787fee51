"""The registry's refusals, as members of the one domain exception family (qinqing.demands.errors)."""

from qinqing.demands.errors import DomainError


class InvalidEnterpriseData(DomainError):
    """One enterprise's fields failed validation; `problems` maps field keys to Chinese messages."""

    def __init__(self, problems: dict[str, str], labels: dict[str, str] | None = None):
        labels = labels or {}
        text = "；".join(f"{labels.get(k, k)}：{msg}" if labels.get(k) else msg for k, msg in problems.items())
        super().__init__(text or "企业信息有误。")
        self.problems = problems


class RefusedFile(DomainError):
    """The uploaded file is not something we will read (wrong type, too big, hostile); the message says why."""
