"""惠企政策口袋书: the policies valid on the chosen day, grouped by benefit type, on A5 with a table of contents;
the download is audit-logged and a staff member outside the jurisdiction cannot pick it."""

import datetime as dt
import io

import pytest
from docx import Document
from docx.shared import Cm

from qinqing.audit.models import AuditEntry
from qinqing.policies import services
from tests.conftest import login, on_day


def _policy(world, title, benefit_type, *, publish=True, **extra):
    data = {"title": title, "issuer": "南山区工业和信息化局", "doc_number": "深南工信〔2026〕1号", "level": "district",
            "jurisdiction": world.district, "benefit_type": benefit_type, "valid_from": "2026-01-01",
            "valid_until": "2027-12-31", "apply_opens": "2026-11-01", "apply_closes": "2026-12-31",
            "interpretation": f"{title}的解读：企业按要求申报即可。", "contact_unit": "南山区工信局",
            "contact_phone": "0755-26000001", **extra}
    p = services.register_policy(world.dispatcher, data, rule_rows=[{"group": 1, "field": "four_above"}])
    return services.publish_policy(world.dispatcher, p) if publish else p


@pytest.fixture
def library(world):
    _policy(world, "技术改造奖励", "grant")
    _policy(world, "研发费用补贴", "grant")
    _policy(world, "首贷贴息", "financing", no_application=True)
    with on_day(dt.date(2026, 3, 1)):
        _policy(world, "已过期的稳岗补贴", "grant", valid_until="2026-06-30", apply_opens="2026-03-01",
                apply_closes="2026-06-30")
    _policy(world, "草稿中的人才政策", "talent", publish=False)
    services.register_policy(world.other_dispatcher, {
        "title": "宝安区用地政策", "issuer": "宝安区规划局", "level": "district", "jurisdiction": world.other_district,
        "benefit_type": "land"})
    return world


def _text(document) -> str:
    return "\n".join(p.text for p in document.paragraphs)


def test_the_pocket_book_is_an_a5_word_file_of_the_valid_policies_grouped_with_contents(library):
    client = login(library.dispatcher)
    response = client.get("/policies/pocket-book/", {"day": "2026-12-03", "place": library.district.pk,
                                                     "download": "1"})
    assert response.status_code == 200 and ".docx" in response["Content-Disposition"]
    document = Document(io.BytesIO(response.content))
    for section in document.sections:
        assert (round(section.page_width.cm, 1), round(section.page_height.cm, 1)) == (14.8, 21.0)
        assert section.left_margin <= Cm(2)
    headings = [p.text for p in document.paragraphs if p.style.name == "Heading 1"]
    assert headings == ["资金奖补", "融资支持"]
    text = _text(document)
    assert "截至2026年12月3日有效的惠企政策共3项" in text
    assert "1. 技术改造奖励" in text and "3. 首贷贴息" in text
    assert "适用于：四上企业" in text and "免申即享，无需申报" in text and "南山区工信局 0755-26000001" in text
    assert "首贷贴息的解读" in text
    assert "已过期的稳岗补贴" not in text and "草稿中的人才政策" not in text and "宝安区用地政策" not in text
    assert 'TOC \\o "1-2"' in document.element.xml  # the Word contents field, besides the printed list
    entry = AuditEntry.objects.filter(action="export").latest("pk")
    assert entry.target == "惠企政策口袋书" and entry.detail["rows"] == 3


def test_an_earlier_day_gives_the_policies_valid_then(library):
    response = login(library.dispatcher).get("/policies/pocket-book/", {"day": "2026-03-01",
                                                                        "place": library.district.pk})
    page = response.content.decode()
    assert "已过期的稳岗补贴" in page and "共4项" in page


def test_a_jurisdiction_outside_the_staff_members_own_is_refused(library):
    response = login(library.other_dispatcher).get("/policies/pocket-book/", {"day": "2026-12-03",
                                                                              "place": library.district.pk,
                                                                              "download": "1"})
    assert response.status_code == 400
    assert not AuditEntry.objects.filter(action="export").exists()


def test_the_page_opens_on_today_and_the_users_district(library):
    page = login(library.dispatcher).get("/policies/pocket-book/").content.decode()
    assert "南山区：共3项" in page
    assert dt.date(2026, 12, 3).isoformat() in page
