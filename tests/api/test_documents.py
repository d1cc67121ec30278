"""The documents from the service: the audit report of a stored screening (PDF and HTML, the
auditor's; masked but for admin) and the referral letter of a referred finding."""

from __future__ import annotations

import io

from docx import Document

from tests.api.conftest import COMMISSION_STREET, Api
from tests.documents import need_pdf_tools


def test_the_report_of_a_screening(screened: Api) -> None:
    need_pdf_tools()
    sid = screened.get("/screenings").json()[0]["id"]
    pdf = screened.get(f"/screenings/{sid}/report", role="auditor")
    assert pdf.status_code == 200, pdf.text
    assert pdf.headers["content-type"] == "application/pdf" and pdf.content[:5] == b"%PDF-"
    assert "filename*=UTF-8''%E6%8A%A5%E5%91%8A.pdf" in pdf.headers["content-disposition"]
    html = screened.get(f"/screenings/{sid}/report", role="auditor", params={"format": "html"})
    assert html.status_code == 200 and "廉洁风险筛查报告" in html.text and "<svg" in html.text
    for role in ("commission", "reviewer"):
        assert screened.get(f"/screenings/{sid}/report", role=role).status_code == 403
    assert screened.get("/screenings/sc-nope/report", role="auditor").status_code == 404
    bad = screened.get(f"/screenings/{sid}/report", role="auditor", params={"format": "doc"})
    assert bad.status_code == 422


def test_the_referral_letter_of_a_referred_finding(screened: Api) -> None:
    items = screened.get(
        "/findings", role="commission", params={"rule": "avoidance", "limit": 1}
    ).json()["items"]
    fid = items[0]["finding_id"]
    before = screened.get(f"/findings/{fid}/referral.docx", role="commission")
    assert before.status_code == 409  # not referred yet
    moved = screened.post(
        f"/findings/{fid}/status",
        role="commission",
        json={"status": "referred", "reason": "移送区纪委监委"},
    )
    assert moved.status_code == 200, moved.text
    letter = screened.get(
        f"/findings/{fid}/referral.docx", role="commission", params={"addressee": "龙岗区纪委监委"}
    )
    assert letter.status_code == 200
    doc = Document(io.BytesIO(letter.content))
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "问题线索移送函" in text and "龙岗区纪委监委：" in text and COMMISSION_STREET in text
    assert doc.tables and doc.tables[0].rows[0].cells[1].text == "证据"
    # another street's commission does not see it at all
    assert (
        screened.get(f"/findings/{fid}/referral.docx", role="other_commission").status_code == 404
    )
    assert screened.get(f"/findings/{fid}/referral.docx", role="reviewer").status_code == 403
