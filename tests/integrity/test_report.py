"""The audit report and the referral letter, read as their readers read them: the PDF turned
into text (pdftotext) and into page pictures (pdftoppm), the HTML's charts, the letter opened
with python-docx."""

from __future__ import annotations

import io
import json
import subprocess
from pathlib import Path

import pytest
from docx import Document
from typer.testing import CliRunner

from integrity.cli import app
from integrity.documents.paths import path_of
from integrity.documents.referral import referral_docx
from integrity.findings import finding_from_dict
from tests.conftest import DEMO, FIXTURES
from tests.documents import need_pdf_tools

runner = CliRunner(env={"COLUMNS": "200"})


@pytest.fixture(scope="module")
def scanned(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("report")
    out = folder / "scan"
    assert runner.invoke(app, ["scan", str(DEMO), "--out", str(out), "--quiet"]).exit_code == 0
    drawn = runner.invoke(app, ["sample", str(DEMO), "--seed", "7", "--out", str(folder / "s")])
    assert drawn.exit_code == 0, drawn.output
    return folder


def test_the_report_shows_the_screening_on_a4(scanned: Path) -> None:
    need_pdf_tools()
    out = scanned / "report"
    result = runner.invoke(
        app, ["report", str(scanned / "scan"), "--out", str(out), "--sample", str(scanned / "s")]
    )
    assert result.exit_code == 0, result.output
    html = (out / "报告.html").read_text(encoding="utf-8")
    findings = json.loads((scanned / "scan" / "findings.json").read_text(encoding="utf-8"))
    high = [f for f in findings if f["severity"] == "high"]
    pictured = [f for f in high if path_of(f) is not None]
    assert len(high) == html.count('class="finding"') and len(pictured) >= 4
    assert html.count("<svg") == 3 + len(pictured)  # three charts, a path per high finding
    run = json.loads((scanned / "scan" / "run.json").read_text(encoding="utf-8"))
    text = subprocess.run(
        ["pdftotext", "-layout", str(out / "报告.pdf"), "-"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    for said in (
        "廉洁风险筛查报告",
        run["dataset_sha256"],
        "深龙民规〔2023〕5号",
        "政策条款的检查情况",
        "未检查",
        "专项抽查样本",
        "随机种子",
        "张波龙",  # the demo's conflict, with its path
        "各规则发现数",  # a chart's title, kept as text
    ):
        assert said in text, said
    assert "基础比例" not in text  # the identity arithmetic is said in words
    fonts = subprocess.run(
        ["pdffonts", str(out / "报告.pdf")], check=True, capture_output=True, text=True
    ).stdout
    assert "Noto-Sans-CJK" in fonts and " no " not in fonts.split("\n", 2)[2]  # all embedded
    pages = subprocess.run(
        ["pdftoppm", "-png", "-r", "30", str(out / "报告.pdf"), str(out / "page")], check=True
    )
    assert pages.returncode == 0 and len(list(out.glob("page-*.png"))) >= 8


def test_a_report_of_a_folder_that_is_not_a_scan_says_so(tmp_path: Path) -> None:
    result = runner.invoke(app, ["report", str(tmp_path), "--out", str(tmp_path / "r")])
    assert result.exit_code == 1 and "不是筛查结果目录" in result.output
    assert not (tmp_path / "r").exists()


def test_the_sample_records_where_it_was_drawn_from(scanned: Path) -> None:
    sample = json.loads((scanned / "s" / "sample.json").read_text(encoding="utf-8"))
    run = json.loads((scanned / "scan" / "run.json").read_text(encoding="utf-8"))
    p = sample["provenance"]
    assert p["dataset_sha256"] == run["dataset_sha256"] and len(p["dataset_sha256"]) == 64
    assert p["policy"] == "longgang-2023" and p["version"] and p["drawn_at"]
    assert sample["seed"] == 7 and sample["rate"] == 0.2


def test_a_referral_letter_opens_and_says_what_it_must(scanned: Path) -> None:
    findings = json.loads((scanned / "scan" / "findings.json").read_text(encoding="utf-8"))
    finding = finding_from_dict(
        next(f for f in findings if f["finding_id"].startswith("avoidance-a3baeb"))
    )
    doc = Document(io.BytesIO(referral_docx(finding, addressee="区纪委监委")))
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "问题线索移送函" in text and "区纪委监委：" in text
    assert finding.explanation in text and "深龙民规〔2023〕5号 第二十三条第（五）项" in text
    assert "张波龙 —堂弟→ 张军海 —负责人→" in text
    assert "很可能是同一人（约98%）" in text
    (table,) = doc.tables
    assert [c.text for c in table.rows[0].cells] == ["序号", "证据", "来源"]
    assert any("family_links.csv 第4216行" in r.cells[2].text for r in table.rows)
    assert len(doc.inline_shapes) == 1  # the path picture


def test_a_sample_from_another_dataset_is_refused(scanned: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    drawn = runner.invoke(
        app, ["sample", str(FIXTURES / "cases" / "works_share"), "--seed", "1", "--out", str(other)]
    )
    assert drawn.exit_code == 0, drawn.output
    result = runner.invoke(
        app, ["report", str(scanned / "scan"), "--out", str(tmp_path / "r"), "--sample", str(other)]
    )
    assert result.exit_code == 1 and "抽查样本不是从本次筛查的数据集与政策抽取的" in result.output
    assert not (tmp_path / "r").exists()
