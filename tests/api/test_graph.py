"""The graph endpoints: a neighbourhood to draw, the path between two entities."""

from __future__ import annotations

from tests.api.conftest import Api


def test_neighbourhood_of_an_official(screened: Api) -> None:
    r = screened.get("/graph/neighbourhood", params={"entity": "staff:BT0234", "depth": 1})
    assert r.status_code == 200, r.text
    body = r.json()
    centre = next(n for n in body["nodes"] if n.get("centre"))
    assert centre["name"] == "张波龙" and centre["staff_id"] == "BT0234"
    names = {n["name"] for n in body["nodes"]}
    assert "张军海" in names  # the cousin, from the family register
    refs = {n["ref"] for n in body["nodes"]}
    assert body["edges"] and all(e["source"] in refs and e["target"] in refs for e in body["edges"])
    kin = [e for e in body["edges"] if e["kind"] == "kin"]
    assert kin and all(e["row"]["file"] and e["row"]["row"] for e in kin)


def test_path_from_official_to_supplier(screened: Api) -> None:
    r = screened.get(
        "/graph/path", params={"from": "staff:BT0234", "to": "深圳市润泽睿智体育用品有限公司"}
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["nodes"][0]["name"] == "张波龙"
    assert body["nodes"][-1]["kind"] == "org"
    assert len(body["edges"]) == len(body["nodes"]) - 1 >= 1
    # a node's ref names it again
    ref = body["nodes"][-1]["ref"]
    again = screened.get("/graph/neighbourhood", params={"entity": f"ref:{ref}"})
    assert again.status_code == 200


def test_ambiguous_and_unknown_entities(screened: Api) -> None:
    assert screened.get("/graph/neighbourhood", params={"entity": "查无此人"}).status_code == 404
    view = screened.service.index._graph_view  # built by the tests above or below
    if view is None:
        screened.get("/graph/neighbourhood", params={"entity": "staff:BT0234"})
        view = screened.service.index._graph_view
    name = next(
        n
        for n, nodes in sorted(view.by_name.items())
        if len(nodes) > 1 and not n.startswith("org:")
    )
    r = screened.get("/graph/neighbourhood", params={"entity": name})
    assert r.status_code == 409
    candidates = r.json()["candidates"]
    assert len(candidates) > 1 and len({c["ref"] for c in candidates}) == len(candidates)
    pick = screened.get("/graph/neighbourhood", params={"entity": f"ref:{candidates[0]['ref']}"})
    assert pick.status_code == 200


def test_commission_cannot_walk_into_another_street(screened: Api) -> None:
    theirs = screened.get(
        "/graph/neighbourhood", role="commission", params={"entity": "staff:LC0004"}
    )
    assert theirs.status_code == 404  # as if absent: a 403 would tell it exists elsewhere
    mine = screened.get(
        "/graph/neighbourhood", role="commission", params={"entity": "staff:BT0234", "depth": 3}
    ).json()
    streets = {n.get("street") for n in mine["nodes"] if n.get("staff_id")}
    assert streets <= {"坂田街道"}
    projects = {n.get("street") for n in mine["nodes"] if n.get("kind") == "project"}
    assert projects <= {"坂田街道"}
    path = screened.get(
        "/graph/path", role="commission", params={"from": "staff:BT0234", "to": "staff:LC0004"}
    )
    assert path.status_code == 404


def test_problem_details_mask_id_numbers(screened: Api) -> None:
    """An error echoes what was asked; an ID number in it is masked (the caller typed it,
    but a shared screen or a log should not show it whole)."""
    r = screened.get(
        "/graph/neighbourhood", role="auditor", params={"entity": "440303198001011234"}
    )
    assert r.status_code == 404
    assert "440303198001011234" not in r.text and "4403**********1234" in r.text
