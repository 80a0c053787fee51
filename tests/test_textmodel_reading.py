"""Each demand's text is segmented once and kept: training and classifying in bulk read the stored words,
and a changed text or a changed dictionary has the demand read again."""

import io

import pytest
from django.core.management import call_command

from qinqing.demands import services
from qinqing.demands.models import Channel, Demand
from qinqing.textmodel import reading
from qinqing.textmodel import services as textmodel
from qinqing.textmodel.classifier import make_doc
from qinqing.textmodel.models import Reading, Term
from qinqing.textmodel.normalize import dictionary

TEXTS = [("流动资金贷款到期", "銀行要求企業提前還貸，希望协调银行续贷。"),  # traditional: read as simplified
         ("申请贴息贷款迟迟未批", "去年申报的技改贴息贷款至今没有结果。"),
         ("技术工人招聘困难", "企业扩产后缺少数控技工，希望人社部门协助招聘。"),
         ("专精特新企业申报", "企业想申报专精特新，希望了解条件。")]


@pytest.fixture
def counted(monkeypatch):
    """How many texts reading.py segments (make_doc), counted."""
    calls = []

    def counting(title, content):
        calls.append(title)
        return make_doc(title, content)

    monkeypatch.setattr(reading, "make_doc", counting)
    return calls


def receive(world, texts=TEXTS):
    return [services.receive_demand(world.dispatcher, enterprise=world.enterprise, channel=Channel.VISIT,
                                    title=title, content=content) for title, content in texts]


def rows(demands):
    return [(d.pk, d.title, d.content) for d in demands]


def test_a_stored_reading_gives_the_classifier_exactly_what_segmenting_again_would(world):
    demands = receive(world)
    first = reading.docs_for(rows(demands))
    again = reading.docs_for(rows(demands))  # now from the stored rows
    assert again == first == [make_doc(d.title, d.content) for d in demands]
    assert "银行要求企业提前还贷" in again[0].content and "续贷" in again[0].content_words


def test_demands_are_segmented_once_however_often_they_are_read(world, counted):
    demands = receive(world)
    Reading.objects.all().delete()  # whatever the intake stored: counted from nothing
    reading.docs_for(rows(demands))
    assert len(counted) == 4 and Reading.objects.count() == 4
    reading.docs_for(rows(demands))
    reading.read_demands(demands)
    assert len(counted) == 4  # read from the database, nothing segmented again


def test_the_worker_reading_a_new_demand_stores_its_words(world):
    demand = receive(world, TEXTS[:1])[0]
    Reading.objects.all().delete()
    textmodel.read_received(demand)
    stored = Reading.objects.get(demand_id=demand.pk)
    assert stored.title == "流动资金贷款到期" and "续贷" in stored.content_words.split()


def test_a_demand_whose_text_changed_is_read_again(world, counted):
    demand = receive(world, TEXTS[:1])[0]
    reading.docs_for(rows([demand]))
    Demand.objects.filter(pk=demand.pk).update(content="企业招工难，希望组织招聘会。")
    demand.refresh_from_db()
    counted.clear()
    doc = reading.docs_for(rows([demand]))[0]
    assert counted == [demand.title] and "招聘会" in doc.content_words
    assert "招聘会" in Reading.objects.get(demand_id=demand.pk).content_words.split()


def test_a_term_added_to_the_dictionary_has_every_demand_read_again_with_it(world, counted):
    demands = receive(world)
    reading.docs_for(rows(demands))
    assert "专精特新" not in reading.docs_for(rows(demands))[3].title_words
    counted.clear()
    Term.objects.create(word="专精特新")
    try:
        docs = reading.docs_for(rows(demands))
        assert len(counted) == 4 and "专精特新" in docs[3].title_words
        assert Reading.objects.filter(title_words__contains="专精特新").count() == 1
    finally:
        Term.objects.all().delete()
        dictionary.invalidate()


def test_the_segment_command_reads_the_demands_loaded_without_a_reading_and_then_none(world):
    demands = receive(world)
    Reading.objects.filter(demand_id__in=[d.pk for d in demands[:3]]).delete()
    missing = Demand.objects.count() - Reading.objects.count()  # the three, and the world's own demands
    assert missing >= 3
    out = io.StringIO()
    call_command("textmodel", "segment", stdout=out)
    assert f"已为 {missing} 件诉求分词" in out.getvalue()
    assert Reading.objects.filter(demand_id__in=[d.pk for d in demands]).count() == 4
    out = io.StringIO()
    call_command("textmodel", "segment", stdout=out)
    assert "已为 0 件诉求分词" in out.getvalue()


def test_training_reads_the_stored_words_and_segments_only_demands_without_them(world, settings, counted):
    settings.QINQING_TEXTMODEL_MIN_EXAMPLES = 2
    demands = receive(world)
    for demand, unit in zip(demands, (world.finance, world.finance, world.bureau, world.bureau), strict=True):
        services.dispatch_demand(world.dispatcher, demand, lead_unit=unit)
    reading.read_demands(demands[:3])  # as the worker does at intake; the last one was loaded otherwise
    counted.clear()
    try:
        model = textmodel.train_model(world.admin, "unit")
        assert model.n_examples == 4 and counted == [demand.title]
    finally:
        textmodel._models.invalidate()
