"""A referral letter (问题线索移送函) for one referred finding, as a Word document (python-docx):
the addressee, the finding in a sentence, the clause it rests on, the relation path as a
picture, the evidence row by row with its source, and how sure each identity link is, in
words. It opens in Word, WPS and LibreOffice; text in 仿宋 / 黑体 as official letters are set.
"""

from __future__ import annotations

import datetime as dt
import io
import re

from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Cm, Pt

from integrity.documents import charts
from integrity.documents.paths import path_of
from integrity.documents.words import (
    SEVERITIES,
    confidence_words,
    plain_step,
    relation_path,
    rule_title,
    where,
)
from integrity.findings import Finding

BODY_FONT, HEAD_FONT = "仿宋", "黑体"
COLUMN_WIDTHS = (Cm(1.4), Cm(10.4), Cm(4.0))


# characters XML 1.0 does not allow (a control character in a ledger cell or a request)
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def xml_text(text: str) -> str:
    return _NOT_XML.sub("", text)


def _font(run: object, name: str, size: float, bold: bool = False) -> None:
    run.font.name = name  # type: ignore[attr-defined]
    run.font.size = Pt(size)  # type: ignore[attr-defined]
    run.font.bold = bold  # type: ignore[attr-defined]
    run._element.rPr.rFonts.set(qn("w:eastAsia"), name)  # type: ignore[attr-defined]


def _para(doc: object, text: str, *, size: float = 14, bold: bool = False, head: bool = False,
          center: bool = False, indent: bool = True) -> None:  # fmt: skip
    p = doc.add_paragraph()  # type: ignore[attr-defined]
    if center:
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    elif indent:
        p.paragraph_format.first_line_indent = Pt(size * 2)
    p.paragraph_format.line_spacing = 1.4
    _font(p.add_run(xml_text(text)), HEAD_FONT if head else BODY_FONT, size, bold)


def referral_docx(
    finding: Finding,
    *,
    addressee: str = "区纪委监委",
    sender: str = "",
    today: dt.date | None = None,
) -> bytes:
    """The letter as .docx bytes."""
    day = today or dt.date.today()
    doc = Document()
    section = doc.sections[0]
    section.page_height, section.page_width = Cm(29.7), Cm(21.0)
    section.top_margin = section.bottom_margin = Cm(3.0)
    section.left_margin = section.right_margin = Cm(2.6)
    _para(doc, "问题线索移送函", size=22, head=True, center=True)
    _para(doc, f"编号：{finding.finding_id}", size=12, center=True)
    _para(doc, f"{addressee}：", indent=False)
    where_ = "".join(x for x in (finding.street, finding.community) if x) or "（未注明街道）"
    _para(
        doc,
        f"在对{where_}民生微实事项目的廉洁风险筛查中，发现以下问题线索（{rule_title(finding.rule)}，"
        f"严重程度：{SEVERITIES.get(finding.severity, finding.severity)}），现移送你单位核查处置。",
    )
    numbers = iter("一二三四五六七八")

    def heading(title: str) -> None:
        _para(doc, f"{next(numbers)}、{title}", head=True, indent=False)

    heading("问题线索")
    _para(doc, finding.explanation)
    heading("依据")
    _para(doc, finding.citation)
    for step in finding.evidence:
        if step.kind == "policy":
            _para(doc, step.text, size=12)
    path = path_of(finding.to_dict())
    chain = relation_path(finding)
    if path is not None or chain:
        heading("关系路径")
        if chain:
            _para(doc, chain)
        if path is not None:
            with charts.DRAWING:
                png = charts.to_png(charts.path_picture(path))
            doc.add_picture(io.BytesIO(png), width=Cm(15.5))
    heading("证据（逐条注明来源）")
    _evidence_table(doc, finding)
    if any(step.kind == "identity" for step in finding.evidence):
        heading("身份关联的把握")
        _para(doc, f"{confidence_words(float(finding.confidence))}。")
    _para(
        doc,
        "以上为筛查提示的问题线索，并非认定结论；涉及人员身份、亲属关系与任职情况，请核实后"
        "依规处置，并将结果反馈移送单位。",
    )
    _para(doc, f"移送单位：{sender or '＿＿＿＿＿＿（盖章）'}", indent=False)
    _para(doc, f"{day.year}年{day.month}月{day.day}日", indent=False)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def _evidence_table(doc: object, finding: Finding) -> None:
    """The evidence (the clauses aside), a row per step with its source."""
    rows = [s for s in finding.evidence if s.kind != "policy"]
    table = doc.add_table(rows=1, cols=3)  # type: ignore[attr-defined]
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for cell, text in zip(table.rows[0].cells, ("序号", "证据", "来源"), strict=True):
        _font(cell.paragraphs[0].add_run(text), HEAD_FONT, 11)
    for n, step in enumerate(rows, 1):
        cells = table.add_row().cells
        values = (str(n), plain_step(step), where(step.to_dict()["source"]))
        for cell, text in zip(cells, values, strict=True):
            _font(cell.paragraphs[0].add_run(xml_text(text)), BODY_FONT, 10.5)
    table.autofit = False
    for column, width in zip(table.columns, COLUMN_WIDTHS, strict=True):
        column.width = width
        for cell in column.cells:
            cell.width = width
