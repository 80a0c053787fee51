"""One queryset decides what each user sees."""

from qinqing.demands import services
from qinqing.demands.models import Demand
from qinqing.enterprises.models import Enterprise


def visible(user):
    return set(Demand.objects.visible_to(user).values_list("number", flat=True))


def test_each_role_sees_its_own_slice(world, demand):
    n = demand.number
    assert visible(world.dispatcher) == {n}
    assert visible(world.supervisor) == {n}
    assert visible(world.leader) == {n}
    assert visible(world.specialist) == {n}  # serves the enterprise
    assert visible(world.owner) == {n}
    assert visible(world.admin) == {n}
    assert visible(world.handler) == set()  # not yet dispatched to the unit
    for outsider in (world.other_dispatcher, world.other_handler, world.other_owner, world.neighbour_owner):
        assert visible(outsider) == set()


def test_lead_and_co_units_see_a_dispatched_demand(world, demand):
    services.dispatch_demand(world.dispatcher, demand, lead_unit=world.bureau, co_units=[world.finance])
    assert visible(world.handler) == {demand.number}
    assert visible(world.co_handler) == {demand.number}
    assert visible(world.other_handler) == set()


def test_a_user_with_two_roles_sees_the_union(world, demand):
    from qinqing.accounts.models import Role, RoleGrant

    RoleGrant.objects.create(user=world.other_handler, role=Role.DISPATCHER)
    world.other_handler.jurisdiction = world.city
    world.other_handler.save()
    world.other_handler.refresh_from_db()
    assert visible(world.other_handler) == {demand.number}


def test_anonymous_and_inactive_users_see_nothing(world, demand):
    from django.contrib.auth.models import AnonymousUser

    assert visible(AnonymousUser()) == set()
    world.dispatcher.is_active = False
    assert visible(world.dispatcher) == set()


def test_enterprises_are_visible_by_the_same_rules(world, demand):
    names = set(Enterprise.objects.visible_to(world.owner).values_list("name", flat=True))
    assert names == {world.enterprise.name}
    assert world.other_enterprise not in Enterprise.objects.visible_to(world.dispatcher)
