"""The relationship graph around a person or an organisation, and the path between two.

Entities are named as ``staff:<工号>``, ``uscc:<统一社会信用代码>``, ``ref:<node ref>`` (each node
returned carries its ``ref``: an HMAC of the screening and the node under the service's
secret, so that no sweep of birth dates can find the ID number a person's node is keyed on)
or a plain name (a person's or a supplier's; several matches answer 409 with the candidates
the caller may see). Edges carry
their label (kin term, role, 参与, 承接, 报价, shared contact) and the source row.

A commission sees its own streets' officials only: another street's officials are left out
of a neighbourhood, with everything reachable only through them, and a path through them is
not found.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import threading
from typing import Annotated, Any

import networkx as nx
from fastapi import APIRouter, Query

from api.check.index import CheckIndex
from api.deps import AuditDep, PrincipalDep, ServiceDep, roles
from api.jsonable import plain
from api.problems import Problem, problem_responses
from api.routing import MaskedRoute
from api.schemas import GraphOut
from api.security import Principal
from graph.build import RelationshipGraph, build_graph
from integrity.identity.names import org_name, person_name

router = APIRouter(
    tags=["graph"],
    route_class=MaskedRoute,
    responses=problem_responses(401, 403, 404, 409, 422, 503),
)
READERS = roles("admin", "auditor", "commission")
MAX_NODES = 500
_lock = threading.Lock()


class GraphView:
    """The screening's relationship graph, built on first use and kept with the index."""

    def __init__(self, index: CheckIndex, key: bytes) -> None:
        self.key = hmac.new(key, index.screening_id.encode(), hashlib.sha256).digest()
        self.rg: RelationshipGraph = build_graph(index.scr.keyed)
        self.g = self.rg.g
        self.undirected = self.g.to_undirected(as_view=True)
        self.ref_of = {n: self._ref(n) for n in self.g.nodes}
        self.refs = {r: n for n, r in self.ref_of.items()}
        self.by_name: dict[str, list[str]] = {}
        for n, data in self.g.nodes(data=True):
            if data.get("kind") == "person":
                for name in data.get("names", ()):
                    self.by_name.setdefault(person_name(str(name)), []).append(n)
            elif data.get("kind") == "org":
                for name in data.get("names", ()):
                    self.by_name.setdefault("org:" + org_name(str(name)), []).append(n)
        self.staff_node = {
            str(d["staff_id"]): n for n, d in self.g.nodes(data=True) if d.get("staff_id")
        }

    def _ref(self, node: str) -> str:
        return hmac.new(self.key, node.encode(), hashlib.sha256).hexdigest()[:24]

    def resolve(self, entity: str, hidden: set[str]) -> str:
        """The node ``entity`` names. A name is looked up among the nodes the caller may see
        only: a commission is never shown another street's officials as candidates."""
        kind, _, value = entity.partition(":")
        found: list[str] = []
        if kind == "staff" and value:
            found = [self.staff_node[value]] if value in self.staff_node else []
        elif kind == "uscc" and value:
            found = [f"org:uscc:{value.strip().upper()}"]
            found = [n for n in found if n in self.g]
        elif kind == "ref" and value:
            found = [self.refs[value]] if value in self.refs else []
        else:
            found = [
                n
                for n in dict.fromkeys(
                    self.by_name.get(person_name(entity), [])
                    + self.by_name.get("org:" + org_name(entity), [])
                )
                if n not in hidden
            ]
        if not found:
            raise Problem(404, f"图中没有「{entity}」/ no entity {entity!r} in the graph")
        if len(found) > 1:
            raise Problem(
                409,
                f"「{entity}」对应{len(found)}个实体，请用 ref 指定 / {entity!r} names "
                f"{len(found)} entities; name one by its ref",
                candidates=[self.node(n) for n in found[:50]],
            )
        return found[0]

    def node(self, n: str) -> dict[str, Any]:
        d = self.g.nodes[n]
        out = {"ref": self.ref_of[n], "id": n, "kind": d.get("kind"), "name": d.get("name")}
        for key in ("staff_id", "street", "sex"):
            if d.get(key) is not None:
                out[key] = d[key]
        return out

    def hidden(self, principal: Principal) -> set[str]:
        """What a commission may not see: the officials and the projects of other streets
        (and with them whatever is reachable only through them)."""
        if not principal.scoped:
            return set()
        return {
            n
            for n, d in self.g.nodes(data=True)
            if (d.get("staff_id") or d.get("kind") == "project")
            and not principal.sees_street(d.get("street"))
        }

    def edges(self, nodes: set[str]) -> list[dict[str, Any]]:
        out = []
        for a, b, data in self.g.edges(data=True):
            if a in nodes and b in nodes and not data.get("inverted"):
                out.append(
                    {
                        "source": self.ref_of[a],
                        "target": self.ref_of[b],
                        "kind": data.get("kind"),
                        "label": data.get("label"),
                        "row": data.get("source"),
                    }
                )
        return out


def _view(service: Any, audit: AuditDep, subject: dict[str, Any]) -> GraphView:
    index: CheckIndex | None = service.index
    if index is None:
        audit(subject, 503)
        raise Problem(503, "尚无已完成的筛查 / no finished screening yet")
    with _lock:
        view = index._graph_view
        if view is None:
            view = GraphView(index, service.ref_key)
            index._graph_view = view
    assert isinstance(view, GraphView)
    return view


@router.get("/graph/neighbourhood", response_model=GraphOut, dependencies=[READERS])
def neighbourhood(
    service: ServiceDep,
    principal: PrincipalDep,
    audit: AuditDep,
    entity: Annotated[str, Query(min_length=1, max_length=200)],
    depth: Annotated[int, Query(ge=1, le=3)] = 1,
) -> dict[str, Any]:
    """Nodes and edges within ``depth`` hops of a person or organisation, for a page to draw
    (at most 500 nodes; ``truncated`` says when more were left out)."""
    view = _view(service, audit, {"entity": entity})
    hidden = view.hidden(principal)
    try:
        centre = view.resolve(entity, hidden)
    except Problem as exc:
        audit({"entity": entity}, exc.status)
        raise
    if centre in hidden:  # answered as absent: a 403 would say another street has it
        audit({"entity": entity, "denied": "street"}, 404)
        raise Problem(404, f"图中没有「{entity}」/ no entity {entity!r} in the graph")
    seen = {centre}
    frontier = [centre]
    truncated = False
    for _ in range(depth):
        nxt = []
        for n in frontier:
            for m in view.undirected.neighbors(n):
                if m in seen or m in hidden:
                    continue
                if len(seen) >= MAX_NODES:
                    truncated = True
                    break
                seen.add(m)
                nxt.append(m)
        frontier = nxt
    audit({"entity": entity, "resolved": centre, "depth": depth})
    body = {
        "nodes": [view.node(n) | {"centre": n == centre} for n in sorted(seen)],
        "edges": view.edges(seen),
        "truncated": truncated,
    }
    result: dict[str, Any] = plain(body)
    return result


@router.get("/graph/path", response_model=GraphOut, dependencies=[READERS])
def path(
    service: ServiceDep,
    principal: PrincipalDep,
    audit: AuditDep,
    source: Annotated[str, Query(alias="from", min_length=1, max_length=200)],
    target: Annotated[str, Query(alias="to", min_length=1, max_length=200)],
    max_hops: Annotated[int, Query(ge=1, le=8)] = 6,
) -> dict[str, Any]:
    """The shortest chain of recorded relations between two entities (kin, roles,
    participation, awards, quotes, shared contacts), each edge with its source row."""
    subject = {"from": source, "to": target}
    view = _view(service, audit, subject)
    hidden = view.hidden(principal)
    try:
        a, b = view.resolve(source, hidden), view.resolve(target, hidden)
    except Problem as exc:
        audit(subject, exc.status)
        raise
    if a in hidden or b in hidden:
        audit(subject | {"denied": "street"}, 404)
        raise Problem(404, "图中没有所指实体 / no such entity in the graph")
    graph = nx.restricted_view(view.undirected, hidden, []) if hidden else view.undirected
    try:
        nodes = nx.shortest_path(graph, a, b)
    except nx.NetworkXNoPath:
        nodes = []
    if len(nodes) - 1 > max_hops:
        nodes = []
    audit(subject | {"hops": max(len(nodes) - 1, 0)})
    edges = []
    for x, y in itertools.pairwise(nodes):
        data: dict[str, Any] | None = next(
            (d for d in view.g.get_edge_data(x, y, default={}).values() if not d.get("inverted")),
            None,
        )
        forward = data is not None
        if data is None:
            data = next(iter(view.g.get_edge_data(y, x, default={}).values()))
        data = dict(data)
        edges.append(
            {
                "source": view.ref_of[x if forward else y],
                "target": view.ref_of[y if forward else x],
                "kind": data.get("kind"),
                "label": data.get("label"),
                "row": data.get("source"),
            }
        )
    body = {"nodes": [view.node(n) for n in nodes], "edges": edges, "truncated": False}
    result: dict[str, Any] = plain(body)
    return result
