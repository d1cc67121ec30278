"""Who may see what: roles, a commission's streets, masking, and the audit log."""

from __future__ import annotations

import json
import re
import stat
import unicodedata
from pathlib import Path
from typing import Any

import pytest

from api.security import mask_text
from api.service import Service
from integrity.masking import could_hold_id, mask
from tests.api.conftest import COMMISSION_STREET, OTHER_STREET, Api, make_settings


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("440303198001011234", "4403**********1234"),
        ("id:43052419900205671X", "id:4305**********671X"),
        ("身份证号 44030319800101123x。", "身份证号 4403**********123x。"),
        ("440303800101123", "4403********123"),  # 15 digits, the old format
        ("91440307R6Q1ACJNPB", "91440307R6Q1ACJNPB"),  # a USCC is not a person's number
        ("电话 13812345678", "电话 13812345678"),
        ("4403031980010112345", "4403031980010112345"),  # 19 digits: not an ID number
    ],
)
def test_mask_text(text: str, masked: str) -> None:
    assert mask_text(text) == masked


NUMBER = "44030319800101123X"
WIDE = NUMBER.translate(str.maketrans("0123456789X", "０１２３４５６７８９Ｘ"))


@pytest.mark.parametrize(
    "value",
    [
        {"text": f"身份证号 {NUMBER}"},
        {"text": f"核实:\n{NUMBER}"},  # after an escape in the JSON text
        {"text": f"又见{WIDE}"},  # full-width digits
        {"q": "%34%34%30%33" + NUMBER[4:]},  # percent-encoded
        {NUMBER: 1},  # a key
        ["440303800101123"],  # the old 15 digits
        [{"deep": [{"er": f"（{NUMBER}）"}]}],
        # the pattern's free positions in Arabic-Indic digits (\d reads them; NFKC keeps them)
        {"x": "".join(chr(0x660 + int(c)) for c in "4403") + "01198001011234"},
    ],
)
@pytest.mark.parametrize("ascii_only", [False, True])
def test_the_quick_test_never_passes_a_value_mask_would_change(
    value: Any, ascii_only: bool
) -> None:
    """The answers' quick path (api.routing.masked): a value whose JSON text the quick test
    passes is one mask() leaves as it is, whichever way the JSON is written (\\u escapes)."""
    text = json.dumps(value, ensure_ascii=ascii_only)
    assert mask(value) != value
    assert could_hold_id(text)


@pytest.mark.parametrize(
    "value",
    [
        {"supplier": "某公司", "quote": 4.6932, "phone": "13812345678"},
        {"uscc": "91440307R6Q1ACJNPB", "amount": 123456789012.5},
        {"masked": "4403**********123X", "text": "龙岗区南湾街道"},
    ],
)
def test_the_quick_test_passes_answers_without_a_number(value: Any) -> None:
    assert mask(value) == value
    assert not could_hold_id(json.dumps(value, ensure_ascii=False))


def test_the_quick_tests_digit_forms_are_every_character_nfkc_makes_a_digit_of() -> None:
    """The characters the quick test looks for (masking._DIGIT_FORMS) are exactly those that
    are no digit (``\\d``) themselves but whose NFKC form holds one, over every code point;
    and no digit's NFKC form is more than one character (the runs of digits keep their
    length). A Python with a newer Unicode that adds such a character fails here."""
    from integrity.masking import _DIGIT_FORMS  # noqa: PLC0415

    digit = re.compile(r"\d")
    forms, longer = [], []
    for cp in range(0x110000):
        c = chr(cp)
        if 0xD800 <= cp <= 0xDFFF or not unicodedata.decomposition(c):
            continue  # no mapping: NFKC leaves it as it is (Hangul aside, never a digit)
        folded = unicodedata.normalize("NFKC", c)
        if digit.match(c):
            if len(folded) != 1 or not digit.match(folded):
                longer.append(c)
        elif digit.search(folded):
            forms.append(c)
    assert longer == []
    assert [c for c in forms if not _DIGIT_FORMS.match(c)] == []
    listed = [chr(cp) for cp in range(0x110000) if _DIGIT_FORMS.match(chr(cp))]
    assert listed == forms
    assert _DIGIT_FORMS.match("①") and not _DIGIT_FORMS.match("０")


@pytest.mark.parametrize(
    "text",
    [
        "1388\U0001d7d28360114790",  # a mathematical bold 4 among ASCII digits (15: old format)
        "460085\uff1190313753",  # a full-width 1 among them
        f"证件 {NUMBER[:6]}\uff11{NUMBER[7:]} 另见 {WIDE}",
    ],
)
def test_a_number_with_a_digit_of_another_script_is_masked_without_an_error(text: str) -> None:
    """\\d reads the other script's digit, so the plain pass masks the number and NFKC's
    spelling shows it again: masked once, no spelling left to read (this raised an
    IndexError, and a log line holding it was printed unmasked by logging's error path)."""
    out = mask_text(text)
    folded = unicodedata.normalize("NFKC", out)
    assert re.search(r"\d{15}", folded) is None
    assert "*" in out


def test_a_text_the_quick_test_passes_is_one_mask_text_leaves() -> None:
    """mask_text's quick exit: texts it passes untouched, and those it must still read."""
    assert mask_text("龙岗区南湾街道 把握约65% 金额 123456789012") == (
        "龙岗区南湾街道 把握约65% 金额 123456789012"
    )
    for hidden in (f"又见{WIDE}", "④④" + NUMBER[2:], "%34%34" + NUMBER[2:]):
        assert mask_text(hidden) != hidden


def test_no_token_bad_token_and_health(screened: Api) -> None:
    c = screened.client
    assert c.get("/health").status_code == 200
    r = c.get("/findings")
    assert r.status_code == 401 and r.headers["content-type"].startswith("application/problem+json")
    assert r.headers["www-authenticate"] == "Bearer"
    assert c.get("/findings", headers={"Authorization": "Bearer itg_nope"}).status_code == 401


@pytest.mark.parametrize(
    ("role", "method", "path", "allowed"),
    [
        ("reviewer", "GET", "/findings", False),
        ("reviewer", "GET", "/datasets", False),
        ("reviewer", "GET", "/graph/neighbourhood?entity=staff:BT0234", False),
        ("reviewer", "GET", "/audit", False),
        ("commission", "GET", "/datasets", False),
        ("commission", "GET", "/audit", False),
        ("commission", "GET", "/tokens", False),
        ("auditor", "GET", "/tokens", False),
        ("auditor", "GET", "/findings", True),
        ("auditor", "GET", "/audit", True),
        ("auditor", "GET", "/datasets", True),
        ("commission", "GET", "/findings", True),
        ("admin", "GET", "/tokens", True),
    ],
)
def test_roles(screened: Api, role: str, method: str, path: str, allowed: bool) -> None:
    r = screened.client.request(method, path, headers=screened.headers(role))
    if allowed:
        assert r.status_code == 200, r.text
    else:
        assert r.status_code == 403 and r.json()["status"] == 403, r.text


def test_commission_sees_only_its_street(screened: Api) -> None:
    every = screened.get("/findings", params={"limit": 500}).json()
    own = [i for i in every["items"] if i["street"] == COMMISSION_STREET]
    theirs = [i for i in every["items"] if i["street"] == OTHER_STREET]
    assert own and theirs
    page = screened.get("/findings", role="commission", params={"limit": 500}).json()
    assert page["total"] == len(own)  # the count leaks nothing about other streets
    assert {i["street"] for i in page["items"]} == {COMMISSION_STREET}
    assert (
        screened.get("/findings", role="commission", params={"street": OTHER_STREET}).status_code
        == 403
    )
    one = screened.get(f"/findings/{theirs[0]['finding_id']}", role="commission")
    assert one.status_code == 403 and theirs[0]["street"] not in one.text
    move = screened.post(
        f"/findings/{theirs[0]['finding_id']}/status",
        role="commission",
        json={"status": "dismissed", "reason": "试图越权"},
    )
    assert move.status_code == 403
    # searching by text stays within the street too: a word every street's findings hold
    found = screened.get("/findings", role="commission", params={"q": "社区", "limit": 500}).json()
    everyone = screened.get("/findings", params={"q": "社区", "limit": 500}).json()
    streets = {i["street"] for i in everyone["items"]}
    assert len(streets) > 1 and found["items"]
    assert {i["street"] for i in found["items"]} == {COMMISSION_STREET}
    # a screening's record tells a commission its own count only, not the run's counts
    sid = page["items"][0]["last_screening_id"]
    seen = screened.get(f"/screenings/{sid}", role="commission").json()
    assert seen["findings"] == len(own) and seen["run"] is None
    export = screened.get("/exports/off-catalogue.xlsx", role="commission")
    assert export.status_code == 200 and OTHER_STREET.encode() not in export.content
    denied = screened.get("/audit", params={"path": "/findings/"}).json()
    assert any(e["outcome"] == 403 and e["actor"] == "坂田街道纪工委" for e in denied)


def _id_keys(finding: dict[str, Any]) -> list[str]:
    return [
        str(step["data"]["from"])[3:]
        for step in finding["evidence"]
        if str(step.get("data", {}).get("from", "")).startswith("id:")
    ]


def test_id_numbers_masked_for_every_role_but_admin(screened: Api) -> None:
    """The same avoidance finding through each role's door: the admin reads the ID number,
    the auditor and the street's commission read it masked in the finding, and a reviewer
    checking the same supplier and panel reads it masked in the check's evidence."""
    items = screened.get(
        "/findings", params={"rule": "avoidance", "street": COMMISSION_STREET, "limit": 500}
    ).json()["items"]
    finding = next(i["finding"] for i in items if _id_keys(i["finding"]))
    number = _id_keys(finding)[0]
    masked = f"{number[:4]}**********{number[-4:]}"
    fid = finding["finding_id"]

    assert number in screened.get(f"/findings/{fid}").text
    for role in ("auditor", "commission"):
        text = screened.get(f"/findings/{fid}", role=role).text
        assert number not in text and masked in text, role

    body = {
        "supplier": {"uscc": finding["suppliers"][0]},
        "panel": [{"staff_id": s} for s in finding["staff_ids"]],
    }
    for role, shows in (("admin", number), ("reviewer", masked)):
        r = screened.post("/check", role=role, json=body)
        assert r.status_code == 200, r.text
        assert any(a["rule"] == "avoidance" for a in r.json()["assessments"]), role
        assert shows in r.text, role
        if role != "admin":
            assert number not in r.text


def test_every_named_query_is_audited(screened: Api) -> None:
    before = screened.get("/audit", params={"limit": 1000}).json()
    last = before[-1]["id"] if before else 0
    screened.post(
        "/check", role="reviewer", json={"supplier": {"name": "深圳市某某物业管理有限公司"}}
    )
    fid = screened.get("/findings", role="auditor", params={"limit": 1}).json()["items"][0][
        "finding_id"
    ]
    screened.get(f"/findings/{fid}", role="auditor")
    screened.get("/graph/neighbourhood", role="auditor", params={"entity": "staff:BT0234"})
    entries = screened.get("/audit", role="auditor", params={"after_id": last}).json()
    by_path = {e["path"]: e for e in entries}
    check = by_path["/check"]
    assert check["actor"] == "评审专家" and check["role"] == "reviewer"
    assert check["subject"]["supplier"] == {"name": "深圳市某某物业管理有限公司"}
    assert by_path[f"/findings/{fid}"]["subject"]["finding_id"] == fid
    assert by_path["/graph/neighbourhood"]["subject"]["entity"] == "staff:BT0234"


def test_tokens_issue_list_revoke(screened: Api) -> None:
    made = screened.post("/tokens", json={"name": "布吉街道纪工委", "role": "commission"})
    assert made.status_code == 422  # a commission needs its streets
    made = screened.post(
        "/tokens", json={"name": "布吉街道纪工委", "role": "commission", "streets": ["布吉街道"]}
    )
    assert made.status_code == 201
    token = made.json()["token"]
    listed = screened.get("/tokens").json()
    assert all(t["token"] is None for t in listed)  # shown once, stored hashed
    assert token not in screened.get("/tokens").text
    headers = {"Authorization": f"Bearer {token}"}
    page = screened.client.get("/findings", headers=headers, params={"limit": 500}).json()
    assert page["total"] > 0 and {i["street"] for i in page["items"]} == {"布吉街道"}
    assert screened.client.get("/findings", headers=headers).status_code == 200  # remembered
    assert (
        screened.client.delete(
            f"/tokens/{made.json()['id']}", headers=screened.headers("admin")
        ).status_code
        == 204
    )
    assert screened.client.get("/findings", headers=headers).status_code == 401  # at once


def test_the_remaining_endpoints(screened: Api) -> None:
    datasets = screened.get("/datasets", role="auditor").json()
    assert len(datasets) == 1
    one = screened.get(f"/datasets/{datasets[0]['id']}", role="auditor").json()
    assert one["sha256"] == datasets[0]["sha256"] and one["files"]
    assert screened.get("/datasets/ds-nope").status_code == 404
    runs = screened.get("/screenings", role="auditor").json()
    assert runs and runs[0]["status"] == "done" and runs[0]["run"] is None  # the list is light
    assert screened.get("/screenings/sc-nope").status_code == 404
    me = screened.get("/me", role="commission").json()
    assert (
        me["role"] == "commission" and me["streets"] == [COMMISSION_STREET] and me["token"] is None
    )
    names = {p["name"] for p in screened.get("/policies", role="reviewer").json()}
    assert {"longgang-2023", "haicang-2018", "nanshan-2020", "luohu-2017", "shenyang-2023"} <= names
    bad = screened.post(
        "/screenings",
        role="auditor",
        json={"dataset_id": datasets[0]["id"], "policy": "nowhere-2020"},
    )
    assert bad.status_code == 422 and "nowhere-2020" in bad.json()["detail"]
    assert screened.get("/findings/avoidance-000000000000").status_code == 404
    assert screened.get("/health").json()["check_index"]["policy"] == "longgang-2023"


def test_first_start_issues_one_admin_token_readable_by_its_owner(tmp_path: Path) -> None:
    """The first start with no admin token issues one into <data dir>/admin-token (0600)
    that authenticates as admin; a later start, an admin existing, issues none."""
    service = Service(make_settings(tmp_path / "var", f"sqlite:///{tmp_path / 'a.db'}"))
    try:
        path = service.bootstrap_admin()
        assert path == tmp_path / "var" / "admin-token"
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        token = path.read_text().strip()
        principal = service.tokens.principal(token)
        assert principal is not None and principal.role == "admin"
        path.unlink()
        assert service.bootstrap_admin() is None and not path.exists()
    finally:
        service.close()


def test_a_reviewer_token_is_not_an_admin(tmp_path: Path) -> None:
    service = Service(make_settings(tmp_path / "var", f"sqlite:///{tmp_path / 'a.db'}"))
    try:
        service.tokens.issue("评审甲", "reviewer")
        assert not service.tokens.any_admin()
        path = service.bootstrap_admin()
        assert path is not None and service.tokens.any_admin()
        _, admin = service.tokens.issue("管理员乙", "admin")
        assert admin.id is not None and service.tokens.revoke(admin.id)
        assert service.tokens.any_admin()  # the first admin is still there
        first = service.tokens.principal(path.read_text().strip())
        assert first is not None and first.token_id is not None
        service.tokens.revoke(first.token_id)
        assert not service.tokens.any_admin()  # a revoked admin is no admin
    finally:
        service.close()
