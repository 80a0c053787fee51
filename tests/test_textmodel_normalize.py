"""The text model's normal form and words: traditional text reads as simplified, the administrators' terms
stay whole."""

import pytest

from qinqing.textmodel.models import Term
from qinqing.textmodel.normalize import dictionary, normalize, tokenize

pytestmark = pytest.mark.django_db  # the words come from a tokenizer built with the terms in the database


def test_a_report_in_traditional_characters_reads_as_simplified():
    # The first line of seed 004 as published: traditional characters with pinyin after some of them.
    text = "安徽省工商聯(lián)組織開展“進企業(yè)、解難題、送政策、促發(fā)展”活動情況"
    assert normalize(text) == "安徽省工商联组织开展“进企业、解难题、送政策、促发展”活动情况"


def test_full_width_letters_controls_and_white_space_are_evened_out():
    assert normalize("ＡＢＣ公司\x07 申请\n\n  １２３万元") == "ABC公司 申请 123万元"


def test_anonymised_place_letters_are_dropped_but_real_words_with_letters_stay():
    assert normalize("A市A3区杜鹃路占道施工") == "市区杜鹃路占道施工"
    assert "5g" in tokenize("园区5G基站建设")


def test_traditional_and_simplified_spellings_give_the_same_words():
    assert tokenize("企業申請貸款難") == tokenize("企业申请贷款难")


def test_numbers_and_punctuation_are_not_words():
    assert tokenize("2024年，企业欠薪30万元！") == ["年", "企业", "欠薪", "万元"]


def test_a_term_an_administrator_adds_stays_one_word_and_splits_again_once_removed():
    assert "专精特新" not in tokenize("申报专精特新企业")
    term = Term.objects.create(word="專精特新")  # entered in traditional characters: normalized too
    assert "专精特新" in tokenize("申报专精特新企业")
    term.delete()
    assert "专精特新" not in tokenize("申报专精特新企业")
    dictionary.invalidate()
