"""The dispatch slip (交办单) as a Word document, downloadable from the demand page."""

from io import BytesIO

from django.urls import reverse
from docx import Document

from qinqing.demands import services
from tests.conftest import login


def slip_url(demand):
    return reverse("workbench:slip", args=[demand.number])


def test_a_dispatched_demand_has_a_slip_in_the_official_layout(world, demand):
    world.dispatcher.phone = "0755-26660000"
    world.dispatcher.save()
    services.dispatch_demand(world.dispatcher, demand, lead_unit=world.bureau, co_units=[world.finance],
                             note="请于两日内对接职业院校。")
    page = login(world.handler).get(reverse("demands:detail", args=[demand.number])).content.decode()
    assert slip_url(demand) in page and "下载交办单" in page
    response = login(world.handler).get(slip_url(demand))
    assert response.status_code == 200
    assert response["Content-Type"].endswith("wordprocessingml.document")
    assert "attachment" in response["Content-Disposition"]
    doc = Document(BytesIO(response.content))
    paragraphs = [p.text for p in doc.paragraphs if p.text]
    assert paragraphs[0] == "政企服务诉求交办单"
    assert paragraphs[1] == f"编号：{demand.number}"
    cells = {row.cells[0].text: row.cells[1].text for row in doc.tables[0].rows}
    assert cells["企业名称"] == world.enterprise.name
    assert cells["信用代码"] == world.enterprise.credit_code
    assert cells["主办单位"] == "南山区人力资源局" and cells["协办单位"] == "南山区金融工作局"
    assert cells["交办意见"] == "请于两日内对接职业院校。"
    assert "联系企业：" in cells["办理时限"] and "办结答复：" in cells["办理时限"]
    assert any(p.startswith("交办单位（盖章）：南山区营商环境办公室") for p in paragraphs)
    assert any("经办人：赵调度" in p and "0755-26660000" in p for p in paragraphs)
    section = doc.sections[0]
    assert round(section.top_margin.mm) == 37 and round(section.left_margin.mm) == 28
    title_run = doc.paragraphs[0].runs[0]
    assert title_run.font.name == "方正小标宋简体"


def test_an_undispatched_demand_has_no_slip(world, demand):
    assert login(world.dispatcher).get(slip_url(demand)).status_code == 404
    page = login(world.dispatcher).get(reverse("demands:detail", args=[demand.number])).content.decode()
    assert "下载交办单" not in page


def test_outsiders_get_404_for_the_slip(world, demand):
    services.dispatch_demand(world.dispatcher, demand, lead_unit=world.bureau)
    for outsider in (world.other_dispatcher, world.other_handler, world.owner, world.neighbour_owner):
        assert login(outsider).get(slip_url(demand)).status_code == 404
