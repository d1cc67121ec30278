"""The relationship graph: persons, organisations and projects, with kin links, company roles,
shared contacts, project participation and awards, every edge carrying its source row.

The graph takes typed frames whose people and organisations already carry identity keys
(``person_key``, ``org_key``: the resolver's work, see integrity.identity.keys); it knows nothing
of files. It serves explanations and single queries (networkx); the screening's bulk joins
are in graph.expand.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import networkx as nx
import pandas as pd

from graph.expand import invert
from graph.kinship import (
    CLOSENESS,
    Category,
    Classification,
    Sex,
    classify_path,
    closest_other,
    code_of,
    describe,
    parse_code,
)

PERSON, ORG, PROJECT, CONTACT = "person", "org", "project", "contact"
CONTACT_LABELS = {"phone": "电话", "email": "邮箱", "address": "地址"}
DEFAULT_HOPS = 3


def node(kind: str, key: str) -> str:
    return f"{kind}:{key}"


@dataclass(frozen=True)
class Hop:
    """One edge of an explained path."""

    src: str
    dst: str
    label: str  # the kin term or role as a reader sees it
    kind: str  # kin, role, participation, award, quote, contact
    source: dict[str, Any]  # file, row, table


@dataclass(frozen=True)
class KinPath:
    """How a relative is related, hop by hop, with the legal category of the whole."""

    hops: tuple[Hop, ...]
    code: str
    classification: Classification

    @property
    def category(self) -> Category:
        return self.classification.category


@dataclass
class RelationshipGraph:
    g: nx.MultiDiGraph = field(default_factory=nx.MultiDiGraph)

    # ------------------------------------------------------------------ building
    def add_node(self, kind: str, key: str, name: str, **attrs: Any) -> str:
        n = node(kind, key)
        if n not in self.g:
            self.g.add_node(n, kind=kind, key=key, name=name, names={name}, **attrs)
        else:
            self.g.nodes[n]["names"].add(name)
            for k, v in attrs.items():
                if v is not None and self.g.nodes[n].get(k) is None:
                    self.g.nodes[n][k] = v
        return n

    def add_kin(
        self,
        src: str,
        dst: str,
        code: str,
        term: str,
        source: dict[str, Any],
        src_sex: Sex = None,
        dst_sex: Sex = None,
    ) -> None:
        """A kin link src -> dst and its reading the other way."""
        self.g.add_edge(src, dst, kind="kin", code=code, label=term, source=source)
        back = code_of(invert(parse_code(code), src_sex))
        self.g.add_edge(
            dst,
            src,
            kind="kin",
            code=back,
            label=describe(parse_code(back)),
            source=source,
            inverted=True,
        )

    def add_role(
        self, person: str, org: str, role: str, source: dict[str, Any], share: float | None = None
    ) -> None:
        self.g.add_edge(person, org, kind="role", label=role, share=share, source=source)

    def add_edge(
        self, src: str, dst: str, kind: str, label: str, source: dict[str, Any], **attrs: Any
    ) -> None:
        self.g.add_edge(src, dst, kind=kind, label=label, source=source, **attrs)

    # ------------------------------------------------------------------ queries
    def name(self, n: str) -> str:
        return str(self.g.nodes[n]["name"])

    def sex(self, n: str) -> Sex:
        value = self.g.nodes[n].get("sex")
        return value if value in ("男", "女") else None

    def _kin_edges(self, n: str) -> Iterator[tuple[str, dict[str, Any]]]:
        for _, dst, data in self.g.out_edges(n, data=True):
            if data["kind"] == "kin":
                yield dst, data

    def relatives(
        self, person: str, *, hops: int = DEFAULT_HOPS, near_only: bool = True
    ) -> dict[str, KinPath]:
        """Every person reachable by kin links within ``hops``, with the closest path found;
        by default only those within the legal categories (配偶 to 近姻亲)."""
        speaker = self.sex(person)
        best: dict[str, KinPath] = {}
        frontier: list[tuple[str, tuple[Hop, ...], str]] = [(person, (), "")]
        for _ in range(hops):
            nxt: list[tuple[str, tuple[Hop, ...], str]] = []
            for at, path, code in frontier:
                visited = {person, *(h.dst for h in path)}
                for dst, data in self._kin_edges(at):
                    if dst in visited:
                        continue
                    composed = f"{code},{data['code']}" if code else data["code"]
                    chosen = closest_other(
                        classify_path(parse_code(composed), speaker, distinct=True)
                    )
                    if chosen is None:
                        continue
                    hop = Hop(at, dst, str(data["label"]), "kin", dict(data["source"]))
                    kp = KinPath((*path, hop), composed, chosen)
                    near = chosen.category != "非近亲属"
                    if near or not near_only:
                        prev = best.get(dst)
                        if prev is None or (CLOSENESS[kp.category], len(kp.hops)) < (
                            CLOSENESS[prev.category],
                            len(prev.hops),
                        ):
                            best[dst] = kp
                    if near:
                        nxt.append((dst, kp.hops, composed))
            frontier = nxt
        return best

    def roles_of(self, person: str) -> list[tuple[str, dict[str, Any]]]:
        return [
            (dst, data)
            for _, dst, data in self.g.out_edges(person, data=True)
            if data["kind"] == "role"
        ]

    def kin_organisations(
        self, person: str, *, hops: int = DEFAULT_HOPS
    ) -> list[tuple[KinPath | None, str, dict[str, Any]]]:
        """Every organisation where the person or a relative within the legal categories holds
        a role: (kin path or None for the person, organisation node, role edge)."""
        out: list[tuple[KinPath | None, str, dict[str, Any]]] = [
            (None, org, data) for org, data in self.roles_of(person)
        ]
        for relative, kp in self.relatives(person, hops=hops).items():
            out.extend((kp, org, data) for org, data in self.roles_of(relative))
        return out

    def kin_path(self, a: str, b: str, *, hops: int = 4) -> KinPath | None:
        """The closest kin path from a to b, or None within ``hops``."""
        return self.relatives(a, hops=hops, near_only=False).get(b)

    # ------------------------------------------------------------------ sentences
    def sentence(self, start: str, hops: tuple[Hop, ...], tail: Hop | None = None) -> str:
        """张三 —配偶→ 李四 —哥哥→ 李五 —法定代表人→ 深圳市某某物业管理有限公司"""
        parts = [self.name(start)]
        for h in (*hops, *((tail,) if tail else ())):
            parts.append(f" —{h.label}→ {self.name(h.dst)}")
        return "".join(parts)

    def role_hop(self, person: str, org: str, data: dict[str, Any]) -> Hop:
        return Hop(person, org, str(data["label"]), "role", dict(data["source"]))


def _src(row: dict[str, Any], table: str) -> dict[str, Any]:
    return {"file": row["_file"], "row": int(row["_row"]), "table": table}


def _sex(value: Any) -> Sex:
    return value if value in ("男", "女") else None


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [{str(k): v for k, v in r.items()} for r in frame.to_dict("records")]


def _missing(value: Any) -> bool:
    return value is None or bool(pd.isna(value))


def _add_staff(rg: RelationshipGraph, staff: pd.DataFrame) -> dict[str, str]:
    out: dict[str, str] = {}
    for row in _records(staff):
        out[str(row["staff_id"])] = rg.add_node(
            PERSON,
            row["person_key"],
            row["name"],
            sex=_sex(row.get("sex")),
            staff_id=row["staff_id"],
            street=row.get("street"),
        )
    return out


def _add_relatives(rg: RelationshipGraph, frame: pd.DataFrame, staff: dict[str, str]) -> None:
    for row in _records(frame):
        src = staff.get(str(row["staff_id"]))
        if src is None:
            continue
        dst = rg.add_node(PERSON, row["person_key"], row["relative_name"], sex=_sex(row.get("sex")))
        for code in row["codes"]:
            rg.add_kin(
                src,
                dst,
                code,
                str(row["relation"]),
                _src(row, "relatives"),
                rg.sex(src),
                rg.sex(dst),
            )


def _add_family_links(rg: RelationshipGraph, frame: pd.DataFrame) -> None:
    for row in _records(frame):
        if _missing(row["person_key"]) or _missing(row["relative_key"]):
            continue
        a = rg.add_node(
            PERSON, row["person_key"], row["person_name"], sex=_sex(row.get("person_sex"))
        )
        b = rg.add_node(
            PERSON, row["relative_key"], row["relative_name"], sex=_sex(row.get("relative_sex"))
        )
        for code in row["codes"]:
            rg.add_kin(
                a, b, code, str(row["relation"]), _src(row, "family_links"), rg.sex(a), rg.sex(b)
            )


def _add_supplier_people(rg: RelationshipGraph, frame: pd.DataFrame) -> None:
    for row in _records(frame):
        if _missing(row["person_key"]) or _missing(row["org_key"]):
            continue
        p = rg.add_node(PERSON, row["person_key"], row["name"], sex=_sex(row.get("sex")))
        o = rg.add_node(ORG, row["org_key"], row.get("supplier_name") or row["org_key"])
        share = row.get("share_ratio")
        rg.add_role(
            p,
            o,
            str(row["role"]),
            _src(row, "supplier_people"),
            None if share is None or _missing(share) else float(share),
        )


def _add_suppliers(rg: RelationshipGraph, frame: pd.DataFrame) -> None:
    for row in _records(frame):
        if _missing(row["org_key"]):
            continue
        o = rg.add_node(ORG, row["org_key"], row["supplier_name"])
        for role, key_col, name_col in (
            ("法定代表人", "legal_rep_key", "legal_rep_name"),
            ("负责人", "responsible_key", "responsible_person"),
        ):
            key = row.get(key_col)
            if key is None or _missing(key):
                continue
            p = rg.add_node(PERSON, str(key), row[name_col], sex=_sex(row.get(f"{key_col}_sex")))
            known = rg.g.get_edge_data(p, o, default={}).values()
            if not any(d["label"] == role for d in known):
                rg.add_role(p, o, role, _src(row, "suppliers"))


def _add_contacts(
    rg: RelationshipGraph,
    frame: pd.DataFrame,
    table: str,
    holder_kind: str,
    key_col: str,
    columns: dict[str, str],
) -> None:
    """Contact values as shared nodes: two holders of one phone meet at its node."""
    for row in _records(frame):
        holder_key = row.get(key_col)
        if holder_key is None or _missing(holder_key):
            continue
        holder = node(holder_kind, str(holder_key))
        if holder not in rg.g:
            continue
        for what, col in columns.items():
            value = row.get(col)
            if value is None or _missing(value) or not str(value).strip():
                continue
            text = normalise_contact(what, str(value))
            c = rg.add_node(CONTACT, f"{what}:{text}", text, what=what)
            rg.add_edge(holder, c, "contact", CONTACT_LABELS[what], _src(row, table))


def normalise_contact(what: str, value: str) -> str:
    """Phones as digits, e-mail in lower case, addresses without spaces (down to the room)."""
    text = unicodedata.normalize("NFKC", value).strip()
    if what == "phone":
        return re.sub(r"\D", "", text)
    if what == "email":
        return text.lower()
    return re.sub(r"\s", "", text)


def shared_contacts(rg: RelationshipGraph) -> list[tuple[str, list[str]]]:
    """Contact nodes held by two or more people or organisations: (contact, holders)."""
    out = []
    for n, data in rg.g.nodes(data=True):
        if data["kind"] != CONTACT:
            continue
        holders = sorted({src for src, _ in rg.g.in_edges(n)})
        if len(holders) > 1:
            out.append((n, holders))
    return out


def _add_quotes(rg: RelationshipGraph, quotes: pd.DataFrame) -> None:
    for row in _records(quotes):
        pr = node(PROJECT, str(row["project_id"]))
        if pr not in rg.g or _missing(row.get("org_key")):
            continue
        o = rg.add_node(ORG, str(row["org_key"]), row.get("supplier_name") or str(row["org_key"]))
        selected = row.get("selected")
        rg.add_edge(
            o,
            pr,
            "quote",
            "报价",
            _src(row, "quotes"),
            amount=row.get("amount"),
            selected=None if selected is None or _missing(selected) else bool(selected),
        )


def _add_projects(rg: RelationshipGraph, projects: pd.DataFrame) -> None:
    for row in _records(projects):
        pr = rg.add_node(
            PROJECT,
            str(row["project_id"]),
            str(row["name"]),
            street=row.get("street"),
            community=row.get("community"),
        )
        if not _missing(row.get("org_key")):
            o = rg.add_node(ORG, row["org_key"], row.get("supplier_name") or row["org_key"])
            rg.add_edge(o, pr, "award", "承接", _src(row, "projects"), amount=row.get("amount"))


def _add_participants(rg: RelationshipGraph, frame: pd.DataFrame, staff: dict[str, str]) -> None:
    for row in _records(frame):
        person = staff.get(str(row.get("staff_id")))
        pr = node(PROJECT, str(row["project_id"]))
        if person is None or pr not in rg.g:
            continue
        recused = row.get("recused")
        rg.add_edge(
            person,
            pr,
            "participation",
            str(row["role"]),
            _src(row, "participants"),
            recused=None if _missing(recused) else bool(recused),
        )


def build_graph(tables: dict[str, pd.DataFrame]) -> RelationshipGraph:
    """The graph of a dataset whose frames carry identity keys (integrity.identity.keys)."""
    rg = RelationshipGraph()
    staff = _add_staff(rg, tables["staff"])
    if "relatives" in tables:
        _add_relatives(rg, tables["relatives"], staff)
    if "family_links" in tables:
        _add_family_links(rg, tables["family_links"])
    if "supplier_people" in tables:
        _add_supplier_people(rg, tables["supplier_people"])
    if "suppliers" in tables:
        _add_suppliers(rg, tables["suppliers"])
    if "projects" in tables:
        _add_projects(rg, tables["projects"])
    if "participants" in tables:
        _add_participants(rg, tables["participants"], staff)
    if "quotes" in tables:
        _add_quotes(rg, tables["quotes"])
    if "suppliers" in tables:
        _add_contacts(
            rg,
            tables["suppliers"],
            "suppliers",
            ORG,
            "org_key",
            {"phone": "phone", "email": "email", "address": "address"},
        )
    _add_contacts(rg, tables["staff"], "staff", PERSON, "person_key", {"phone": "phone"})
    if "relatives" in tables:
        _add_contacts(
            rg, tables["relatives"], "relatives", PERSON, "person_key", {"phone": "relative_phone"}
        )
    return rg
