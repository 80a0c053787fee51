"""The one suggestion path: for a demand's text, the likely category and lead unit, each with a confidence,
and the words that drove them.

With an active model of a kind (qinqing.textmodel.services), the model answers for that kind; its
confidence is the softmax of the SVM's scores at the temperature fitted in cross-validation. Without one,
the administrators' keyword lexicon answers: each active category's 识别关键词 (a keyword scores 1 per
occurrence; a context keyword such as "员工" 0.5 once; below 1 in all, no suggestion), its confidence the
best category's share of all the keyword score found; the lead unit is then the suggested category's
建议承办单位. The dispatch form, the API's demand detail, the corrections and the worker that reads each
new demand (auto-dispatch) call `suggest`.

Intake files a demand received without a category under the keywords' category only (`intake_category`,
microseconds): the model's suggestion cost two model evaluations per intake (~30 ms with both kinds
active), more than the rest of the intake, and the dispatcher, who confirms the category anyway, sees the
model's suggestion on the dispatch form and in GET /api/v1/demands/{id}.

No query once the process's caches are warm (the active models, the units' names, the taxonomy), so an
intake costs no more statements than before.
"""

from dataclasses import dataclass

from qinqing.demands.taxonomy import get_taxonomy

from .classifier import make_doc
from .models import Kind
from .services import _models

# Keywords that say who or what a demand touches rather than what is hard for the enterprise: "员工" is in
# complaints about street lights, parking or commuting as much as in hiring ones, "注册" in trademark
# disputes, "落实" in any request. Each counts half and once however often it is repeated, so alone it
# makes no suggestion (the demand falls back to 其它 and the dispatcher decides).
CONTEXT_KEYWORDS = frozenset({"员工", "注册", "落实"})
MIN_SUGGESTION_SCORE = 1.0

MODEL, LEXICON = "model", "lexicon"
SOURCE_LABELS = {MODEL: "模型", LEXICON: "关键词"}


@dataclass(frozen=True)
class Suggestion:
    category: object | None = None  # a Category from the cached taxonomy
    category_confidence: float | None = None
    unit_id: int | None = None
    unit_name: str = ""
    unit_confidence: float | None = None
    words: tuple = ()
    category_source: str = LEXICON
    unit_source: str = LEXICON
    category_model_id: int | None = None
    unit_model_id: int | None = None

    @property
    def category_id(self) -> int | None:
        return self.category.pk if self.category is not None else None

    def as_text(self) -> str:
        """"融资难（82%，模型；依据：贷款、续贷）" for the dispatch form."""
        if self.category is None:
            return ""
        share = f"{self.category_confidence:.0%}，" if self.category_confidence is not None else ""
        why = f"；依据：{'、'.join(self.words)}" if self.words else ""
        return f"{self.category.name}（{share}{SOURCE_LABELS[self.category_source]}{why}）"


def lexicon_category(text: str):
    """(category, confidence, matched keywords) from the administrators' keywords, or (None, None, ())."""
    best, best_score, total, matched = None, 0.0, 0.0, {}
    for category in get_taxonomy().active_categories:
        found = []
        score = 0.0
        for word in category.keywords.split():
            hits = (0.5 if word in text else 0.0) if word in CONTEXT_KEYWORDS else float(text.count(word))
            if hits:
                score += hits
                found.append(word)
        total += score
        if score > best_score:  # ties go to the category listed first
            best, best_score = category, score
            matched[category.pk] = found
    if best is None or best_score < MIN_SUGGESTION_SCORE:
        return None, None, ()
    return best, round(best_score / total, 3), tuple(matched[best.pk][:5])


def intake_category(title: str, content: str):
    """The category a demand received without one is filed under: the administrators' keywords' (or None)."""
    return lexicon_category(f"{title} {content}")[0]


def suggest(title: str, content: str, *, units: bool = True) -> Suggestion:
    """The suggestion for a demand's title and content (`units=False`: the category only, as at intake)."""
    category_model, unit_model = _models.get(Kind.CATEGORY), _models.get(Kind.UNIT)
    categories = {c.pk: c for c in get_taxonomy().active_categories}
    doc = make_doc(title, content) if category_model.clf or (units and unit_model.clf) else None
    result: dict = {}
    if category_model.clf is not None:
        prediction = category_model.clf.explain(doc)
        category = categories.get(int(prediction.label))  # None if retired since the model was trained
        if category is not None:
            result.update(category=category, category_confidence=prediction.confidence,
                          words=tuple(prediction.words), category_source=MODEL,
                          category_model_id=category_model.model.pk)
    if "category" not in result:
        category, confidence, words = lexicon_category(f"{title} {content}")
        result.update(category=category, category_confidence=confidence, words=words)
    if not units:
        return Suggestion(**result)
    if unit_model.clf is not None:
        prediction = unit_model.clf.explain(doc)
        result.update(unit_id=int(prediction.label), unit_name=unit_model.names.get(prediction.label, ""),
                      unit_confidence=prediction.confidence, unit_source=MODEL, unit_model_id=unit_model.model.pk)
        if not result["words"]:
            result["words"] = tuple(prediction.words)
    elif result["category"] is not None and result["category"].default_unit_id:
        unit_id = result["category"].default_unit_id
        name = _models.unit_names().get(unit_id)
        if name:
            result.update(unit_id=unit_id, unit_name=name, unit_confidence=result["category_confidence"])
    return Suggestion(**result)


def api_body(demand) -> dict | None:
    """DemandDetail.suggestion for a demand awaiting dispatch (the caller's right to dispatch is checked by
    the API before asking)."""
    s = suggest(demand.title, demand.content)
    return {
        "category": {"id": s.category.pk, "name": s.category.name} if s.category is not None else None,
        "category_confidence": s.category_confidence, "category_source": s.category_source,
        "lead_unit": {"id": s.unit_id, "name": s.unit_name} if s.unit_id else None,
        "lead_unit_confidence": s.unit_confidence, "lead_unit_source": s.unit_source,
        "words": list(s.words),
    }
