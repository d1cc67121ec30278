"""Score a screening against planted truth: precision and recall per rule.

    .venv/bin/python bench/quality.py [--dataset DIR --truth truth.json]   # default: the demo

Runs every rule on the dataset, then compares with the truth file (the generator's planted
cases): a planted positive is found when a finding of its rule names the same projects
(and, for roster rules, the same official); a decoy is hit when such a finding exists.
Findings are counted two ways: assertions (confidence >= 0.5) and all findings including
leads (线索待核). Precision counts every finding of the rule that matches no planted positive
as false, including findings the generator did not plant on purpose (printed, to read).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from integrity.findings import Finding  # noqa: E402
from integrity.scan import run_scan  # noqa: E402


def matches(finding: Finding, case: dict[str, object]) -> bool:
    if finding.rule != case["rule"]:
        return False
    projects = set(case["project_ids"])  # type: ignore[arg-type]
    staff = set(case["staff_ids"])  # type: ignore[arg-type]
    if projects and set(finding.project_ids) != projects:
        return False
    if not projects:  # a roster case: the official and the supplier
        suppliers = set(case["suppliers"])  # type: ignore[arg-type]
        if suppliers and not suppliers & set(finding.suppliers):
            return False
    return not staff or bool(staff & set(finding.staff_ids))


def score(
    findings: list[Finding], cases: list[dict[str, object]], rules: list[str]
) -> list[dict[str, object]]:
    rows = []
    for rule in rules:
        mine = [f for f in findings if f.rule == rule]
        positives = [c for c in cases if c["rule"] == rule and c["expect"] == "positive"]
        decoys = [c for c in cases if c["rule"] == rule and c["expect"] == "decoy"]
        for label, pool in (("assertions", [f for f in mine if not f.is_lead]), ("all", mine)):
            found = [c for c in positives if any(matches(f, c) for f in pool)]
            true = [f for f in pool if any(matches(f, c) for c in positives)]
            hit = [c for c in decoys if any(matches(f, c) for f in pool)]
            rows.append(
                {
                    "rule": rule,
                    "count": label,
                    "planted": len(positives),
                    "found": len(found),
                    "recall": len(found) / len(positives) if positives else None,
                    "findings": len(pool),
                    "precision": len(true) / len(pool) if pool else None,
                    "decoys": len(decoys),
                    "decoys_hit": len(hit),
                    "missed": [c["case"] for c in positives if c not in found],
                    "unplanned": [
                        f"{f.finding_id} {','.join(f.project_ids)} {f.explanation[:60]}"
                        for f in pool
                        if f not in true
                    ],
                }
            )
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", type=Path, default=ROOT / "fixtures/demo/longgang")
    parser.add_argument("--truth", type=Path, default=ROOT / "fixtures/demo/truth.json")
    parser.add_argument("--json", action="store_true", help="print the table as JSON")
    args = parser.parse_args()
    truth = json.loads(args.truth.read_text(encoding="utf-8"))
    result = run_scan(args.dataset, policy=truth["policy"])
    rules = sorted({c["rule"] for c in truth["cases"]} | {f.rule for f in result.findings})
    rows = score(result.findings, truth["cases"], rules)
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return 0

    def pct(v: object) -> str:
        return "—" if v is None else f"{float(v):.2f}"  # type: ignore[arg-type]

    print(f"dataset {args.dataset}  policy {truth['policy']}")
    print(
        f"{'rule':<20}{'count':<11}{'planted':>8}{'found':>6}{'recall':>7}"
        f"{'findings':>9}{'precision':>10}{'decoys':>7}{'hit':>4}"
    )
    for r in rows:
        print(
            f"{r['rule']:<20}{r['count']:<11}{r['planted']:>8}{r['found']:>6}{pct(r['recall']):>7}"
            f"{r['findings']:>9}{pct(r['precision']):>10}{r['decoys']:>7}{r['decoys_hit']:>4}"
        )
    for r in rows:
        if r["count"] != "all":
            continue
        for m in r["missed"]:  # type: ignore[attr-defined]
            print(f"  missed   {r['rule']}: {m}")
        for u in r["unplanned"]:  # type: ignore[attr-defined]
            print(f"  unplanned {r['rule']}: {u}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
