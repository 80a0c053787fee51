"""The building blocks of a demand's story: who does each step, when, and with which words.

Both the 2026 campaign (campaign.py) and the current open demands (current.py) are told with
these, so every demand goes through the same services with the same actors.
"""

import datetime as dt
import random
import zlib
from dataclasses import dataclass

from qinqing.demands import services
from qinqing.demands.models import Category, Channel, Evaluation, Nature, Outcome

from . import texts
from .org import Org
from .runner import Plan, call
from .timing import Office

OPINION_CHANNELS = (Channel.SEMINAR, Channel.MEETING)


@dataclass
class Story:
    """Everything a plan needs to know about one demand while its steps are laid out."""

    plan: Plan
    enterprise: object
    category: Category
    template: texts.Template
    values: dict
    unit: object = None  # the lead unit once dispatched
    town: object = None  # the town of a demand without an enterprise (a person calling 12345)

    def fill(self, text: str) -> str:
        return text.format(**self.values)


class Teller:
    """Lays out the steps of demands; shared by the campaign and the current demands."""

    def __init__(self, org: Org, office: Office, rng: random.Random, owners: dict):
        self.org = org
        self.office = office
        self.rng = rng
        self.owners = owners  # enterprise id -> enterprise user

    # ------------------------------------------------------------ choices

    def template(self, category: Category, sector: str) -> texts.Template:
        options = [t for t in texts.TEMPLATES[category.name] if not t.sectors or sector in t.sectors]
        return self.rng.choices(options, [t.weight for t in options])[0]

    def story(self, enterprise, category, template=None, town=None) -> Story:
        template = template or self.template(category, enterprise.sector if enterprise else "")
        values = texts.slots(self.rng)
        town = enterprise.jurisdiction if enterprise else town
        values["town"] = town.name if town else "区内"
        return Story(Plan(), enterprise, category, template, values, town=town)

    def dispatcher(self):
        return self.rng.choices(self.org.dispatchers, (3, 1))[0]

    def handler(self, unit, head_share: float = 0.15):
        if self.rng.random() < head_share:
            return self.org.heads[unit.pk]
        return self.org.handlers[unit.pk]

    def lead_unit(self, story: Story):
        if story.template.unit == "town":
            return self.org.town_units[story.town.pk]
        return self.org.departments[story.template.unit]

    def co_units(self, story: Story, lead) -> list:
        """Now and then a co-unit: the town for a department's demand, or a related department."""
        if self.rng.random() > 0.12:
            return []
        if lead.kind == "department" and story.town is not None:
            return [self.org.town_units[story.town.pk]]
        others = [u for u in self.org.departments.values() if u.pk != lead.pk]
        return [self.rng.choice(others)]

    def wrong_unit(self, lead):
        return self.rng.choice([u for u in self.org.departments.values() if u.pk != lead.pk])

    def callback_staff(self, enterprise):
        owner = self.owners.get(enterprise.pk) if enterprise else None
        if owner is not None:
            return owner
        specialist = enterprise.service_specialist if enterprise else None
        staff = (specialist, self.dispatcher(), self.org.supervisor)
        options = [s for s in staff if s is not None]
        return self.rng.choices(options, (6, 3, 1)[-len(options):])[0]

    # ------------------------------------------------------------ steps

    def receive(self, story: Story, user, channel: str, moment: dt.datetime, **extra) -> dt.datetime:
        kwargs = {"channel": channel, "title": story.fill(story.template.title)[:120],
                  "content": story.fill(story.template.content), "enterprise": story.enterprise,
                  "category": story.category, "received_at": moment, **extra}
        if channel in OPINION_CHANNELS and zlib.crc32(f"{kwargs['title']}{moment}".encode()) % 3 == 0:
            # Some of what is said at a seminar or a meeting is an opinion (意见清单) rather than a difficulty.
            # Chosen from the text and time, not from the random stream, so every other step (and seed
            # 000's figures, which count opinions among the problems collected) stays as it was.
            kwargs["nature"] = Nature.OPINION
        return story.plan.add(moment, lambda _pk: services.receive_demand(user, **kwargs))

    def dispatch(self, story: Story, moment, unit=None, co_units=None, user=None) -> dt.datetime:
        unit = unit or self.lead_unit(story)
        co = self.co_units(story, unit) if co_units is None else co_units
        story.unit = unit
        note = self.rng.choice(texts.DISPATCH_NOTES) if not co else "请主办单位牵头，协办单位配合。"
        user = user or self.dispatcher()
        action = call(services.dispatch_demand, user, lead_unit=unit, co_units=co, note=note)
        return story.plan.add(moment, action)

    def bounce(self, story: Story, moment) -> dt.datetime:
        """Dispatched to the wrong unit and returned with a reason; the caller dispatches it again."""
        right = self.lead_unit(story)
        wrong = self.wrong_unit(right)
        moment = self.dispatch(story, moment, unit=wrong, co_units=[])
        reason = self.rng.choice(texts.RETURN_REASONS).format(unit=right.short_name or right.name)
        moment = story.plan.add(self.office.after(moment, 30, 300),
                                call(services.return_demand, self.org.handlers[wrong.pk], reason=reason))
        story.unit = None
        return moment

    def accept(self, story: Story, moment) -> dt.datetime:
        return story.plan.add(moment, call(services.accept_demand, self.handler(story.unit)))

    def contact(self, story: Story, moment, note: str = "") -> dt.datetime:
        methods, weights = zip(*texts.CONTACT_METHODS, strict=True)
        method = self.rng.choices(methods, weights)[0]
        if not note:
            note = self.rng.choice(texts.CONTACT_NOTES if story.enterprise else texts.CONTACT_NOTES_PERSON)
        handler = self.handler(story.unit)
        return story.plan.add(moment, call(services.contact_enterprise, handler, method=method, note=note))

    def feed_back(self, story: Story, moment) -> dt.datetime:
        return story.plan.add(moment, call(services.feed_back_path, self.handler(story.unit),
                                           path=story.fill(story.template.path)))

    def reply(self, story: Story, moment, explained: bool = False) -> dt.datetime:
        if explained:
            explained_text = story.template.explained
            text = story.fill(explained_text) if explained_text else texts.GENERIC_EXPLAINED
            outcome = Outcome.EXPLAINED
        else:
            text, outcome = story.fill(story.template.solved), Outcome.SOLVED
        return story.plan.add(moment, call(services.reply_demand, self.handler(story.unit, 0.25), reply=text,
                                           outcome=outcome))

    def evaluate(self, story: Story, moment, evaluation: str) -> dt.datetime:
        comment = self.rng.choice({Evaluation.SATISFIED: texts.SATISFIED_COMMENTS,
                                   Evaluation.BASIC: texts.BASIC_COMMENTS,
                                   Evaluation.UNSATISFIED: texts.UNSATISFIED_COMMENTS}[evaluation])
        return story.plan.add(moment, call(services.evaluate_demand, self.callback_staff(story.enterprise),
                                           evaluation=evaluation, comment=comment))

    def reopen(self, story: Story, moment) -> dt.datetime:
        reason = "企业评价不满意，要求承办单位重新办理，切实解决企业实际困难。"
        return story.plan.add(moment, call(services.reopen_demand, self.dispatcher(), reason=reason))

    def close(self, story: Story, moment) -> dt.datetime:
        return story.plan.add(moment, call(services.close_demand, self.dispatcher(),
                                           note=self.rng.choice(texts.CLOSE_NOTES)))

    def ask_extension(self, story: Story, moment, days: int) -> dt.datetime:
        reason = self.rng.choice(texts.EXTENSION_REASONS).format(days=days)
        handler = self.org.handlers[story.unit.pk]
        return story.plan.add(moment, call(services.request_extension, handler, days=days, reason=reason))

    def approve_extension(self, story: Story, moment) -> dt.datetime:
        return story.plan.add(moment, call(services.approve_extension, self.dispatcher(),
                                           note="同意延期，请在延长期限内办结。"))

    def escalate(self, story: Story, moment, reasons) -> dt.datetime:
        return story.plan.add(moment, call(services.escalate_demand, self.dispatcher(),
                                           reason=self.rng.choice(reasons)))

    def mark_long_term(self, story: Story, moment) -> dt.datetime:
        return story.plan.add(moment, call(services.mark_long_term, self.dispatcher(),
                                           reason=texts.LONG_TERM_REASONS[story.category.name]))

    def transfer(self, story: Story, moment) -> dt.datetime:
        return story.plan.add(moment, call(services.transfer_to_city, self.dispatcher(),
                                           reason=texts.TRANSFER_REASONS[story.category.name]))
