"""The relation path of a finding as inline SVG for the pages (the chain itself is read from
the evidence by integrity.documents.paths)."""

from __future__ import annotations

from html import escape

from integrity.documents.paths import Path, path_of

__all__ = ["path_of", "svg"]

NODE_W, NODE_H, GAP, PAD, TOP = 168, 64, 120, 12, 34


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
