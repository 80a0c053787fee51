"""The credit-code validator against real codes (tests/data/uscc_gb32100, see its SOURCE.txt)."""

import csv

import pytest

from qinqing.lib import uscc

from .conftest import DATA

NAMED = list(csv.DictReader((DATA / "uscc_gb32100" / "uscc_named_testcases.csv").open(encoding="utf-8")))


@pytest.mark.parametrize("code", (DATA / "uscc_gb32100" / "python-stdnum_valid_uscc_unnamed.txt").read_text().split())
def test_two_hundred_real_codes_are_accepted(code):
    assert uscc.validate(code) == code


@pytest.mark.parametrize("row", [r for r in NAMED if r["expected_gb32100_checksum"] == "valid"],
                         ids=lambda r: r["code"])
def test_named_real_codes_are_accepted(row):
    assert uscc.is_valid(row["code"])


@pytest.mark.parametrize("row", [r for r in NAMED if r["expected_gb32100_checksum"] != "valid"],
                         ids=lambda r: r["code"])
def test_mock_altered_and_nonconforming_codes_are_refused(row):
    assert not uscc.is_valid(row["code"])


def test_the_error_names_the_expected_check_character():
    with pytest.raises(uscc.InvalidCreditCode, match="第18位应为“3”，实为“Z”"):
        uscc.validate("91350100M000100Y4Z")


def test_the_error_names_a_forbidden_letter_and_its_position():
    with pytest.raises(uscc.InvalidCreditCode, match="第14位“I”不是合法字符"):
        uscc.validate("9111000060003IOZSV")


def test_a_short_code_reports_its_length():
    with pytest.raises(uscc.InvalidCreditCode, match="应为18位，当前为5位"):
        uscc.validate("12345")


def test_lower_case_full_width_and_spaces_are_normalised():
    assert uscc.validate(" ９１４４０３００１９２２０３８２１６ ") == "914403001922038216"
    assert uscc.validate("9135010557098120xj") == "9135010557098120XJ"


def test_make_code_completes_a_valid_code():
    assert uscc.make_code("91350100M000100Y4") == "91350100M000100Y43"
