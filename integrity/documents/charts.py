"""The report's pictures, drawn with matplotlib: findings by street, by rule and by month, and
a finding's relation path (official → relative → company). Each as SVG (text kept as text, set
in a Chinese font: the HTML and the PDF show it sharp and searchable) or as PNG (for Word).

The font is Noto Sans CJK from Debian's fonts-noto-cjk (installed by the set-up); without a
CJK font the labels would be empty boxes, so a missing font is an error that says so.
"""

from __future__ import annotations

import io
import re
import threading
from collections import Counter
from collections.abc import Sequence
from functools import lru_cache

import matplotlib
from matplotlib import font_manager
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

from integrity.documents.paths import Path
from integrity.documents.words import SEVERITIES, rule_title
from integrity.findings import Finding

CJK_FONTS = ("Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "WenQuanYi Zen Hei")
SEVERITY_COLOURS = {"high": "#b3261e", "medium": "#d97706", "low": "#6b7280"}
NODE_COLOURS = {"公职人员": "#dbeafe", "亲属": "#fef3c7", "登记人员": "#f3f4f6", "单位": "#dcfce7"}
STEP, BOX = 3.1, 1.8  # inches: a node's place, its box (the rest is the arrow)
NAME_LINE = 10  # characters of a name on one line of its box
AWARD = re.compile(r"签约日期\s*(\d{4})-(\d{2})")


# matplotlib's settings are process-wide: a document draws its pictures holding this
DRAWING = threading.RLock()


class FontMissingError(RuntimeError):
    """No Chinese font: the pictures would show empty boxes."""


@lru_cache(maxsize=1)
def cjk_font() -> str:
    """The first Chinese font matplotlib can find (fontconfig's fonts included)."""
    names = {f.name for f in font_manager.fontManager.ttflist}
    for name in CJK_FONTS:
        if name in names:
            return name
    font_manager.fontManager.__init__()  # type: ignore[misc]  # fonts installed after start
    names = {f.name for f in font_manager.fontManager.ttflist}
    for name in CJK_FONTS:
        if name in names:
            return name
    raise FontMissingError(
        "找不到中文字体（请安装 fonts-noto-cjk）/ no Chinese font: install fonts-noto-cjk"
    )


def _figure(width: float, height: float) -> Figure:
    matplotlib.rcParams.update(
        {
            "font.family": cjk_font(),
            "svg.fonttype": "none",  # text stays text
            "svg.hashsalt": "integrity",  # the same picture gives the same bytes
            "axes.spines.top": False,
            "axes.spines.right": False,
            "font.size": 10,
        }
    )
    return Figure(figsize=(width, height), dpi=100, layout="constrained")


def to_svg(fig: Figure) -> str:
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    text = buffer.getvalue()
    return text[text.index("<svg") :]  # inline: without the XML declaration and doctype


def to_png(fig: Figure, dpi: int = 200) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, metadata={"Software": None})
    return buffer.getvalue()


def _stacked(
    fig: Figure, labels: list[str], counts: dict[str, Counter[str]], title: str, horizontal: bool
) -> Figure:
    ax = fig.add_subplot()
    base = [0] * len(labels)
    for severity in ("high", "medium", "low"):
        values = [counts[label][severity] for label in labels]
        colour = SEVERITY_COLOURS[severity]
        name = f"{SEVERITIES[severity]}风险"
        if horizontal:
            ax.barh(labels, values, left=base, color=colour, label=name)
        else:
            ax.bar(labels, values, bottom=base, color=colour, label=name)
        base = [b + v for b, v in zip(base, values, strict=True)]
    for i, total in enumerate(base):
        if horizontal:
            ax.text(total + 0.3, i, str(total), va="center", fontsize=9)
        else:
            ax.text(i, total + 0.3, str(total), ha="center", fontsize=9)
    if horizontal:
        ax.invert_yaxis()
    ax.set_title(title, loc="left", fontsize=12)
    ax.legend(frameon=False, ncols=3, loc="lower right" if horizontal else "upper right")
    return fig


def by_street(findings: Sequence[Finding]) -> Figure:
    counts: dict[str, Counter[str]] = {}
    for f in findings:
        counts.setdefault(f.street or "（未注明街道）", Counter())[f.severity] += 1
    labels = sorted(counts)
    return _stacked(_figure(7.5, 3.4), labels, counts, "各街道发现数（按严重程度）", False)


def by_rule(findings: Sequence[Finding]) -> Figure:
    counts: dict[str, Counter[str]] = {}
    for f in findings:
        counts.setdefault(rule_title(f.rule), Counter())[f.severity] += 1
    labels = sorted(counts, key=lambda k: -sum(counts[k].values()))
    height = 1.2 + 0.32 * len(labels)
    return _stacked(_figure(7.5, height), labels, counts, "各规则发现数（按严重程度）", True)


def award_month(finding: Finding) -> str | None:
    """The month of the first project's award, as the evidence's project row gives it."""
    for step in finding.evidence:
        if step.kind == "project":
            match = AWARD.search(step.text)
            if match:
                return f"{match.group(1)}-{match.group(2)}"
    return None


def by_month(findings: Sequence[Finding]) -> Figure | None:
    """Findings by the month their (first) project was awarded; None without dates."""
    counts: dict[str, Counter[str]] = {}
    for f in findings:
        month = award_month(f)
        if month is not None:
            counts.setdefault(month, Counter())[f.severity] += 1
    if not counts:
        return None
    labels = sorted(counts)
    return _stacked(_figure(7.5, 3.0), labels, counts, "按签约月份的发现数", False)


def path_picture(path: Path) -> Figure:
    """The chain, left to right: a box per person or company, an arrow per relation or role
    (dashed where two records are only believed to be one person), the source row under each
    box."""
    n = len(path.nodes)
    fig = _figure(max(STEP * n, 5.0), 1.9)
    ax = fig.add_subplot()
    ax.set_xlim(0, max(STEP * n, 5.0))
    ax.set_ylim(0, 1.9)
    ax.axis("off")
    for i, node in enumerate(path.nodes):
        x = 0.2 + STEP * i
        ax.add_patch(
            FancyBboxPatch(
                (x, 0.75),
                BOX,
                0.75,
                boxstyle="round,pad=0.02,rounding_size=0.1",
                facecolor=NODE_COLOURS.get(node.kind, "#ffffff"),
                edgecolor="#374151",
            )
        )
        mid = x + BOX / 2
        name = node.name if len(node.name) <= NAME_LINE else _two_lines(node.name)
        size = 10 if len(node.name) <= NAME_LINE else 8.5
        ax.text(mid, 1.22, name, ha="center", va="center", fontsize=size, weight="bold")
        ax.text(mid, 0.86, node.kind, ha="center", fontsize=8, color="#4b5563")
        if node.source:
            ax.text(mid, 0.5, _cut(node.source, 24), ha="center", fontsize=7, color="#6b7280")
        if i:
            edge = path.edges[i - 1]
            ax.add_patch(
                FancyArrowPatch(
                    (x - (STEP - BOX) + 0.02, 1.12),
                    (x - 0.02, 1.12),
                    arrowstyle="-|>",
                    mutation_scale=12,
                    linestyle="--" if edge.dashed else "-",
                    color="#374151",
                )
            )
            label_x = x - (STEP - BOX) / 2
            ax.text(label_x, 1.3, _cut(edge.label, 12), ha="center", fontsize=8)
    return fig


def _two_lines(text: str) -> str:
    """A long name over two lines (the second cut short where it must be)."""
    return text[:NAME_LINE] + "\n" + _cut(text[NAME_LINE:], NAME_LINE)


def _cut(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"
