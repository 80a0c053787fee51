"""The API's contract: what /api/v1/openapi.json promises is what the API does, and its JSON is readable."""

from tests.conftest import bearer


def test_a_chinese_error_arrives_as_utf8_text_not_as_escapes(world, client):
    r = client.get("/api/v1/demands/QQ2026-999999", **bearer(world.dispatcher))
    assert r.status_code == 404
    assert r["Content-Type"] == "application/json; charset=utf-8"
    assert "诉求不存在或您无权查看。".encode() in r.content
    assert b"\\u" not in r.content


def test_a_demand_s_chinese_fields_arrive_as_utf8_text(world, demand, client):
    r = client.get(f"/api/v1/demands/{demand.number}", **bearer(world.dispatcher))
    assert r.status_code == 200
    assert "技术工人招聘困难".encode() in r.content and "待交办".encode() in r.content
    assert b"\\u" not in r.content
    assert r.json()["title"] == "技术工人招聘困难"
