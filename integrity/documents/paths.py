"""Who is related to whom, read from a finding's evidence: official → relative(s) → (the
registered holder, when the identity link is not certain) → company, each edge labelled with
the kin term or the role, each node with the row it was read in. The pages draw it as inline
SVG, the report and the referral letters as a picture (integrity.documents.charts); what is drawn is
the evidence redrawn: nothing is in it that the rows do not say."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from integrity.documents.words import CERTAIN, where

# "户籍/婚姻登记：张波龙 —堂弟→ 张军海", "企业登记：张军海 —负责人（持股30%）→ 某公司"
HOP = re.compile(r"^(?:.*?：)?(.+?) —(.+?)→ (.+)$")


@dataclass
class Node:
    name: str
    kind: str  # 公职人员, 亲属, 登记人员, 单位
    source: str = ""


@dataclass
class Edge:
    label: str
    source: str = ""
    dashed: bool = False


@dataclass
class Path:
    nodes: list[Node] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)

    def add(self, node: Node, edge: Edge | None) -> None:
        if edge is not None:
            self.edges.append(edge)
        self.nodes.append(node)


def path_of(finding: dict[str, Any]) -> Path | None:
    """The chain a person-to-company finding rests on (avoidance, related_supplier,
    undeclared_relation), or None for a finding without one."""
    steps = finding.get("evidence") or []
    kin = [s for s in steps if s.get("kind") == "kin"]
    roles = [s for s in steps if s.get("kind") == "role"]
    identity = next((s for s in steps if s.get("kind") == "identity"), None)
    if not roles:
        return None
    path = Path()
    for step in kin:
        hop = HOP.match(str(step.get("text", "")))
        if hop is None:
            continue
        a, term, b = hop.groups()
        if not path.nodes:
            path.add(Node(a.strip(), "公职人员"), None)
        path.add(Node(b.strip(), "亲属", where(step.get("source"))), Edge(term.strip()))
    role = HOP.match(str(roles[0].get("text", "")))
    if role is None:
        return None
    holder, title, company = (x.strip() for x in role.groups())
    if not path.nodes:  # the official him- or herself holds the role
        path.add(Node(holder if identity is None else _name_of(identity, 0), "公职人员"), None)
    confidence = float((identity or {}).get("data", {}).get("confidence", 1.0))
    if identity is not None and (confidence < CERTAIN or path.nodes[-1].name != holder):
        path.add(
            Node(holder, "登记人员", where(roles[0].get("source"))),
            Edge(
                f"疑似同一人 约{confidence:.0%}" if confidence < CERTAIN else "同一人", dashed=True
            ),
        )
    path.add(Node(company, "单位", where(roles[0].get("source"))), Edge(title))
    return path


def _name_of(identity: dict[str, Any], _: int) -> str:
    match = re.search(r"身份比对：(.+?) 与", str(identity.get("text", "")))
    return match.group(1) if match else ""
