"""A hand-off to the city and back, and a pause and resume, in a real browser (Playwright, Debian's Chromium).

The district's dispatcher hands a demand to the city from its page; the city's dispatcher finds it under 移入 and
dispatches it to a city bureau, whose handler contacts the enterprise and replies; the district's page then shows
the city's reply. A handler asks to pause another demand, the dispatcher approves (已挂起 on its countdown), and
the handler resumes it. Screenshots go to build/screenshots/.
"""

from qinqing.accounts.models import Role, Unit
from qinqing.demands import services
from qinqing.demands.models import Channel, Demand, State
from qinqing.handoffs.models import HandOff, Pause

from .browser import MARKS
from .conftest import make_user
from .test_e2e_loop import DESKTOP, Actor

pytestmark = MARKS


def _handling(world, title):
    d = services.receive_demand(world.dispatcher, enterprise=world.enterprise, channel=Channel.VISIT, title=title,
                                content="新厂房消防验收排期较长，影响投产。", category=world.hiring)
    services.dispatch_demand(world.dispatcher, d, lead_unit=world.bureau)
    return services.accept_demand(world.handler, d)


def _submit(actor, form_id, fill=None):
    form = actor.page.locator(f"#{form_id}")
    if fill:
        fill(form)
    form.locator("button[type=submit]").click()
    actor.page.wait_for_load_state()


def test_a_hand_off_to_the_city_and_back_and_a_pause_and_resume_in_a_browser(browser, live_server, world):
    base = live_server.url
    city_unit = Unit.objects.create(name="深圳市人力资源和社会保障局", kind="department", jurisdiction=world.city)
    city_dispatcher = make_user("citydispatcher", Role.DISPATCHER, full_name="市调度", jurisdiction=world.city)
    city_handler = make_user("cityhandler", Role.HANDLER, full_name="市承办", unit=city_unit, jurisdiction=world.city)
    d = _handling(world, "跨区用工调剂")

    dispatcher = Actor(browser, base, world.dispatcher, DESKTOP, "handoff")
    dispatcher.open(f"/demands/{d.number}/")
    _submit(dispatcher, "handoff-handoff", lambda f: (
        f.locator("select[name=to_jurisdiction]").select_option(str(world.city.pk)),
        f.locator("textarea[name=reason]").fill("涉及跨区用工调剂，需市人社局统筹。")))
    assert "已移交其他层级" in dispatcher.messages()
    copy = HandOff.objects.get().target
    dispatcher.shot("01-district-handed-off")

    city = Actor(browser, base, city_dispatcher, DESKTOP, "handoff")
    city.open("/handoffs/")
    assert copy.number in city.page.content()
    city.open(f"/demands/{copy.number}/")
    city.act("dispatch", lambda f: f.locator("select[name=lead_unit]").select_option(str(city_unit.pk)))
    city.shot("02-city-dispatched")
    bureau = Actor(browser, base, city_handler, DESKTOP, "handoff")
    bureau.open(f"/demands/{copy.number}/")
    bureau.act("contact", lambda f: f.locator("select[name=method]").select_option("电话"))
    bureau.act("reply", lambda f: (
        f.locator("input[name=outcome][value=solved]").check(),
        f.locator("textarea[name=reply]").fill("市人社局已组织跨区用工调剂专场，企业已招到20人。")))
    assert Demand.objects.get(pk=d.pk).state == State.REPLIED

    dispatcher.open(f"/demands/{d.number}/")
    assert "市人社局已组织跨区用工调剂专场" in dispatcher.page.content()
    dispatcher.shot("03-district-sees-the-reply")

    # A pause: asked by the handler, approved by the dispatcher, resumed by the handler.
    paused = _handling(world, "等待企业补充环评材料")
    handler = Actor(browser, base, world.handler, DESKTOP, "pause")
    handler.open(f"/demands/{paused.number}/")
    _submit(handler, "handoff-pause", lambda f: f.locator("select[name=reason]").select_option("documents"))
    assert "已申请挂起" in handler.messages()
    dispatcher.open(f"/demands/{paused.number}/")
    _submit(dispatcher, "handoff-approve")
    assert "已挂起" in dispatcher.page.locator(".clock").inner_text()
    dispatcher.shot("04-paused")
    handler.open(f"/demands/{paused.number}/")
    _submit(handler, "handoff-resume")
    assert "已恢复计时" in handler.messages()
    assert Pause.objects.get(demand=paused).status == Pause.Status.ENDED
    assert not Demand.objects.get(pk=paused.pk).is_paused
