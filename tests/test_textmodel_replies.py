"""答复质量检查: advice on a formal reply before it is sent (never a block), recorded, and the unit assessment's
share of flagged replies."""

import csv
import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.urls import reverse

from qinqing.demands import services
from qinqing.demands.models import State
from qinqing.supervision.assessment import assess
from qinqing.textmodel import replies
from qinqing.textmodel.models import ReplyCheck
from tests.conftest import bearer, login

GOOD = ("经南山区人力资源局与深圳职业技术学院对接，已于12月5日组织专场招聘会，企业招到数控机床操作工12人；"
        "其余岗位可通过南山区公共就业服务窗口（电话0755-26666666）继续发布，我局将持续跟进。")
GENERIC = "您好，您的留言已收悉，感谢您对我们工作的关心和支持。"


def test_a_reply_that_answers_the_demand_gets_no_advice_and_a_generic_one_gets_each_missing_item(demand):
    good = replies.advise(demand.title, demand.content, GOOD)
    assert good.flags == [] and good.relevance >= replies.RELEVANCE_THRESHOLD
    generic = replies.advise(demand.title, demand.content, GENERIC)
    assert generic.flags == ["off_topic", "no_measure", "no_time", "no_unit", "no_path"]
    # 近期 is not a time, and a reply pasted from another demand does not address this one.
    late = replies.advise(demand.title, demand.content, GOOD.replace("已于12月5日", "近期"))
    assert late.flags == ["no_time"]
    wrong = replies.advise("园区道路破损严重", "园区主干道路面塌陷，货车无法通行。", GOOD)
    assert "off_topic" in wrong.flags


def advance_to_reply(world, demand):
    services.dispatch_demand(world.dispatcher, demand, lead_unit=world.bureau)
    services.accept_demand(world.handler, demand)
    services.contact_enterprise(world.handler, demand, method="电话")
    return demand


def test_sending_a_reply_is_never_blocked_and_is_recorded_with_its_advice(world, demand):
    advance_to_reply(world, demand)
    services.reply_demand(world.handler, demand, reply=GENERIC, outcome="explained")
    demand.refresh_from_db()
    assert demand.state == State.REPLIED  # advice, never a block
    check = ReplyCheck.objects.get(demand=demand)
    assert check.sent and check.flagged and "off_topic" in check.flags and check.unit == world.bureau


def test_the_same_reply_sent_on_many_demands_is_flagged_as_boilerplate(world, demand):
    for n in range(replies.BOILERPLATE_AFTER):
        other = services.receive_demand(world.dispatcher, enterprise=world.enterprise, channel="visit",
                                        title=f"招聘补贴咨询{n}", content="企业招用高校毕业生，想了解补贴如何申请。")
        ReplyCheck.objects.create(demand=other, relevance=0.5, text_hash=replies.text_hash(GOOD.replace("12", str(n))),
                                  sent=True)
    advice, check = replies.check_reply(world.handler, demand, GOOD)
    assert advice.reused == replies.BOILERPLATE_AFTER and "boilerplate" in advice.flags and not check.sent


def test_the_reply_form_button_shows_the_advice_to_whoever_may_reply(world, demand):
    advance_to_reply(world, demand)
    page = login(world.handler).get(reverse("demands:detail", args=[demand.number])).content.decode()
    assert "检查答复质量" in page and reverse("textmodel:reply_check", args=[demand.number]) in page
    url = reverse("textmodel:reply_check", args=[demand.number])
    response = login(world.handler).post(url, {"reply": GENERIC, "outcome": "explained"})
    text = response.content.decode()
    assert response.status_code == 200 and "没有写明负责办理的单位" in text and "不影响提交" in text
    assert "未发现问题" in login(world.handler).post(url, {"reply": GOOD}).content.decode()
    assert ReplyCheck.objects.filter(demand=demand, sent=False).count() == 2
    assert login(world.dispatcher).post(url, {"reply": GENERIC}).status_code == 403  # may not reply
    assert login(world.other_handler).post(url, {"reply": GENERIC}).status_code == 404  # cannot see it
    demand.refresh_from_db()
    assert demand.state == State.CONTACTED and not demand.reply  # checking sent nothing


def test_the_api_checks_a_reply_before_it_is_sent(world, demand, client):
    advance_to_reply(world, demand)
    url = f"/api/v1/textmodel/demands/{demand.number}/reply-check"
    answer = client.post(url, {"reply": GENERIC}, content_type="application/json", **bearer(world.handler))
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert [f["code"] for f in body["flags"]] == ["off_topic", "no_measure", "no_time", "no_unit", "no_path"]
    assert body["check_id"] == ReplyCheck.objects.get().pk and 0 <= body["relevance"] <= 1
    assert client.post(url, {"reply": GENERIC}, content_type="application/json",
                       **bearer(world.owner)).status_code == 403
    assert client.post(url, {"reply": GENERIC}, content_type="application/json",
                       **bearer(world.other_handler)).status_code == 404


def test_the_unit_assessment_shows_the_share_of_replies_flagged(world, demand):
    advance_to_reply(world, demand)
    services.reply_demand(world.handler, demand, reply=GENERIC, outcome="explained")
    second = services.receive_demand(world.dispatcher, enterprise=world.enterprise, channel="visit",
                                     title=demand.title, content=demand.content)
    advance_to_reply(world, second)
    services.reply_demand(world.handler, second, reply=GOOD, outcome="solved")
    today = dt.date(2026, 12, 3)
    bureau = next(s for s in assess([world.bureau], dt.date(2026, 1, 1), today, today))
    assert (bureau.replies_sent, bureau.replies_flagged_rate) == (2, 50.0)
    page = login(world.supervisor).get(reverse("supervision:assessment")).content.decode()
    assert "答复提示率" in page


def test_the_replies_command_prints_the_calibration_figures(tmp_path, demand):
    path = tmp_path / "replies.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(["留言主题", "留言详情", "答复意见"])
        out.writerow([demand.title, demand.content, GOOD])
        out.writerow(["园区道路破损严重", "园区主干道路面塌陷，货车无法通行。", "经区住建局核查，已于12月1日修复园区主干道，可拨打12345反映。"])
        out.writerow(["路灯不亮", "厂区门口路灯坏了。", GENERIC])
    stdout = io.StringIO()
    call_command("textmodel", "replies", str(path), stdout=stdout)
    text = stdout.getvalue()
    assert "留言与答复：3 条" in text and "阈值 0.05" in text and "至少一项提示：33.3%" in text


@pytest.mark.parametrize("missing", ["答复意见"])
def test_a_file_without_replies_is_refused_in_chinese(tmp_path, missing):
    from django.core.management import CommandError

    path = tmp_path / "x.csv"
    path.write_text("留言主题,留言详情\n标题,内容\n", encoding="utf-8")
    with pytest.raises(CommandError, match=f"缺少“{missing}”列"):
        call_command("textmodel", "replies", str(path))
