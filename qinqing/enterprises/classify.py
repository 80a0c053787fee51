"""Size (大中小微) and 四上 status from an enterprise's figures, by the rules stored as configuration.

Pure once the rules are read: a Classifier holds a snapshot of the active SizeRule and FourAboveRule rows
and answers for any number of rows (an import of 100,000 enterprises reads the rules once).
"""

from dataclasses import dataclass
from decimal import Decimal

TIERS = ("large", "medium", "small")
INDICATORS = ("employees", "revenue", "assets")


@dataclass(frozen=True)
class SizeBounds:
    name: str
    prefixes: tuple[str, ...]
    # indicator → {tier: lower bound or None}; only the indicators the table lists for this industry.
    bounds: dict[str, dict[str, Decimal | None]]


@dataclass(frozen=True)
class FourAboveBounds:
    name: str
    prefixes: tuple[str, ...]
    min_revenue: Decimal | None
    min_employees: int | None
    needs_qualification: bool


@dataclass(frozen=True)
class Figures:
    employees: int | None = None
    revenue: Decimal | None = None  # 万元
    assets: Decimal | None = None  # 万元


def size_for(rule: SizeBounds, figures: Figures) -> str:
    """The 2017 rule: large/medium/small must meet every listed lower bound, else drop a tier; micro otherwise.

    Returns "" when a listed indicator is missing: the size cannot be decided without it.
    """
    values = {}
    for indicator in rule.bounds:
        value = getattr(figures, indicator)
        if value is None:
            return ""
        values[indicator] = Decimal(value)
    for tier in TIERS:
        if all(bounds.get(tier) is None or values[ind] >= bounds[tier] for ind, bounds in rule.bounds.items()):
            return tier
    return "micro"


def four_above_for(rule: FourAboveBounds, figures: Figures, qualification: str = "") -> bool:
    if rule.needs_qualification:
        return bool(qualification.strip())
    if rule.min_revenue is None and rule.min_employees is None:
        return True  # 房地产开发经营: every enterprise of the industry counts
    by_revenue = rule.min_revenue is not None and figures.revenue is not None and figures.revenue >= rule.min_revenue
    by_people = (rule.min_employees is not None and figures.employees is not None
                 and figures.employees >= rule.min_employees)
    return by_revenue or by_people


def _longest_prefix(index: dict, code: str):
    for length in range(len(code), 0, -1):
        if (found := index.get(code[:length])) is not None:
            return found
    return None


class Classifier:
    """A snapshot of the active rules, indexed by code prefix (the longest matching prefix wins)."""

    def __init__(self, size_rules: list[SizeBounds], four_rules: list[FourAboveBounds]):
        self.size_rules = {p: r for r in size_rules for p in r.prefixes}
        self.four_rules = {p: r for r in four_rules for p in r.prefixes}

    @classmethod
    def load(cls) -> "Classifier":
        from .models import FourAboveRule, SizeRule

        size_rules = []
        for row in SizeRule.objects.filter(active=True):
            bounds = {}
            for indicator in INDICATORS:
                tiers = {tier: getattr(row, f"{indicator}_{tier}") for tier in TIERS}
                if any(v is not None for v in tiers.values()):
                    bounds[indicator] = {t: (Decimal(v) if v is not None else None) for t, v in tiers.items()}
            size_rules.append(SizeBounds(row.name, tuple(row.prefixes()), bounds))
        four_rules = [FourAboveBounds(r.name, tuple(r.prefixes()), r.min_revenue, r.min_employees,
                                      r.needs_qualification)
                      for r in FourAboveRule.objects.filter(active=True)]
        return cls(size_rules, four_rules)

    def size_rule(self, industry_code: str) -> SizeBounds | None:
        return _longest_prefix(self.size_rules, industry_code or "")

    def four_above_rule(self, industry_code: str) -> FourAboveBounds | None:
        return _longest_prefix(self.four_rules, industry_code or "")

    def size(self, industry_code: str, figures: Figures) -> str:
        rule = self.size_rule(industry_code)
        return size_for(rule, figures) if rule else ""

    def four_above(self, industry_code: str, figures: Figures, qualification: str = "") -> tuple[bool, str]:
        """(counts as 四上, the name of the criterion met) — the name explains the answer on the page."""
        rule = self.four_above_rule(industry_code)
        if rule is None:
            return False, ""
        met = four_above_for(rule, figures, qualification)
        return met, rule.name if met else ""
