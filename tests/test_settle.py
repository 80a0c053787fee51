"""现场解决: a problem raised face to face and solved there is recorded as a demand closed on the spot."""

import pytest

from qinqing.demands import services
from qinqing.demands.errors import IllegalTransition, NotFoundError, PermissionDeniedError
from qinqing.demands.models import Channel, Demand, Outcome, State
from qinqing.demands.verbs import allowed_verbs

from .conftest import bearer, login


@pytest.fixture
def visit_problem(world):
    """A problem the specialist wrote down while visiting the enterprise."""
    return services.receive_demand(world.specialist, enterprise=world.enterprise, channel=Channel.VISIT,
                                   title="不清楚稳岗补贴申领渠道", content="企业想了解稳岗返还政策的申领方式。")


def test_the_visitor_closes_a_problem_solved_on_the_spot_with_the_solution_as_its_reply(world, visit_problem):
    d = services.close_on_the_spot(world.specialist, visit_problem, solution="现场讲解了申领流程，企业已在线提交。")
    d.refresh_from_db()
    assert d.state == State.CLOSED
    assert d.outcome == Outcome.SOLVED
    assert d.reply == "现场讲解了申领流程，企业已在线提交。"
    assert d.closed_at is not None and d.current_stage == "" and d.next_due is None
    event = d.events.latest("id")
    assert (event.verb, event.from_state, event.to_state, event.actor) == (
        "settle", State.RECEIVED, State.CLOSED, world.specialist)


def test_a_solution_is_required_and_nothing_changes_without_it(world, visit_problem):
    with pytest.raises(Exception, match="请填写现场解决情况"):
        services.close_on_the_spot(world.specialist, visit_problem, solution="  ")
    visit_problem.refresh_from_db()
    assert visit_problem.state == State.RECEIVED
    assert visit_problem.events.count() == 1


def test_only_problems_raised_face_to_face_can_be_settled_on_the_spot(world):
    hotline = services.receive_demand(world.dispatcher, enterprise=world.enterprise, channel=Channel.HOTLINE,
                                      title="热线反映", content="内容")
    assert "settle" not in allowed_verbs(world.dispatcher, hotline)
    with pytest.raises(Exception, match="当面反映"):
        services.close_on_the_spot(world.dispatcher, hotline, solution="已解决")
    assert Demand.objects.get(pk=hotline.pk).state == State.RECEIVED


def test_a_dispatched_demand_can_no_longer_be_settled_on_the_spot(world, visit_problem):
    d = services.dispatch_demand(world.dispatcher, visit_problem, lead_unit=world.bureau)
    with pytest.raises(IllegalTransition):
        services.close_on_the_spot(world.specialist, d, solution="已解决")


def test_a_handler_who_did_not_receive_it_may_not_settle_it(world, visit_problem):
    with pytest.raises((PermissionDeniedError, NotFoundError)):
        services.close_on_the_spot(world.handler, visit_problem, solution="已解决")
    with pytest.raises(NotFoundError):
        services.close_on_the_spot(world.other_dispatcher, visit_problem, solution="已解决")
    assert Demand.objects.get(pk=visit_problem.pk).state == State.RECEIVED


def test_the_demand_page_offers_the_settle_form_and_posting_it_closes_the_demand(world, visit_problem):
    client = login(world.specialist)
    page = client.get(f"/demands/{visit_problem.number}/")
    assert "登记现场解决" in page.content.decode()
    response = client.post(f"/demands/{visit_problem.number}/settle/",
                           {"version": visit_problem.version, "solution": "当场协调，已解决。"})
    assert response.status_code == 302
    assert Demand.objects.get(pk=visit_problem.pk).state == State.CLOSED


def test_the_api_settles_on_the_spot_and_an_outsider_gets_404(world, visit_problem):
    client = login(world.specialist)
    outsider = client.post(f"/api/v1/demands/{visit_problem.number}/settle", {"solution": "已解决"},
                           content_type="application/json", **bearer(world.other_dispatcher))
    assert outsider.status_code == 404
    response = client.post(f"/api/v1/demands/{visit_problem.number}/settle", {"solution": "已解决"},
                           content_type="application/json", **bearer(world.specialist))
    assert response.status_code == 200, response.content
    assert response.json()["state"] == State.CLOSED


def test_the_enterprise_sees_its_problem_settled_on_the_spot_in_its_timeline(world, visit_problem):
    services.close_on_the_spot(world.specialist, visit_problem, solution="现场讲解了申领流程。")
    page = login(world.owner).get(f"/portal/demands/{visit_problem.number}/")
    text = page.content.decode()
    assert "现场解决" in text and "现场讲解了申领流程" in text
