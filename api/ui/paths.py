"""The picture of who is related to whom, drawn from a finding's evidence as inline SVG:
official → relative(s) → (the registered holder, when the identity link is not certain) →
company, each edge labelled with the kin term or the role, each node with the row it was read
in. The picture is the evidence redrawn: nothing is in it that the rows do not say."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html import escape
from typing import Any

from api.ui.words import where

# "户籍/婚姻登记：张波龙 —堂弟→ 张军海", "企业登记：张军海 —负责人（持股30%）→ 某公司"
HOP = re.compile(r"^(?:.*?：)?(.+?) —(.+?)→ (.+)$")
NODE_W, NODE_H, GAP, PAD, TOP = 168, 64, 120, 12, 34


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
    if identity is not None and (confidence < 0.99 or path.nodes[-1].name != holder):
        path.add(
            Node(holder, "登记人员", where(roles[0].get("source"))),
            Edge(f"疑似同一人 约{confidence:.0%}" if confidence < 0.99 else "同一人", dashed=True),
        )
    path.add(Node(company, "单位", where(roles[0].get("source"))), Edge(title))
    return path


def _name_of(identity: dict[str, Any], _: int) -> str:
    match = re.search(r"身份比对：(.+?) 与", str(identity.get("text", "")))
    return match.group(1) if match else ""


def svg(path: Path, title: str = "关系路径") -> str:
    """The chain as an SVG, left to right, sized to its nodes."""
    width = PAD * 2 + len(path.nodes) * NODE_W + (len(path.nodes) - 1) * GAP
    height = TOP + NODE_H + 40
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="path" role="img" '
        f'aria-label="{escape(title)}" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}">',
        f"<title>{escape(title)}</title>",
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" '
        'fill="#555"/></marker></defs>',
    ]
    for i, node in enumerate(path.nodes):
        x = PAD + i * (NODE_W + GAP)
        cls = {"公职人员": "official", "亲属": "relative", "登记人员": "holder", "单位": "org"}
        parts.append(
            f'<g class="node {cls.get(node.kind, "")}"><rect x="{x}" y="{TOP}" width="{NODE_W}" '
            f'height="{NODE_H}" rx="8"/>'
            f'<text x="{x + NODE_W / 2}" y="{TOP + 24}" class="name">{escape(_cut(node.name, 11))}'
            f"</text>"
            f'<text x="{x + NODE_W / 2}" y="{TOP + 44}" class="kind">{escape(node.kind)}</text>'
            f'<text x="{x + NODE_W / 2}" y="{TOP + NODE_H + 18}" class="row">'
            f"{escape(_cut(node.source, 24))}</text></g>"
        )
        if i == 0:
            continue
        edge = path.edges[i - 1]
        x1 = PAD + (i - 1) * (NODE_W + GAP) + NODE_W
        x2 = x - 2
        y = TOP + NODE_H / 2
        dash = ' stroke-dasharray="6 4"' if edge.dashed else ""
        parts.append(
            f'<g class="edge{" identity" if edge.dashed else ""}"><line x1="{x1}" y1="{y}" '
            f'x2="{x2}" y2="{y}" marker-end="url(#arrow)"{dash}/>'
            f'<text x="{(x1 + x2) / 2}" y="{y - 10}">{escape(_cut(edge.label, 12))}</text></g>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _cut(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"
