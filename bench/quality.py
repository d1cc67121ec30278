"""Score a screening against planted truth: precision and recall per rule.

    .venv/bin/python bench/quality.py [--dataset DIR --truth truth.json]   # default: the demo
    .venv/bin/python bench/quality.py --seeds 11,23,37   # districts the demo's generator
                                                          # draws from other seeds, summed

Runs every rule on the dataset, then compares with the truth file (the generator's planted
cases): a planted positive is found when a finding of its rule names the same projects
(and, for roster rules, the same official); a decoy is hit when such a finding exists.
Programme cases (truth entries with a ``policy``, ``provision`` and ``scope``) are scored under
the profile they name: the demo's ledger read against each of the five programmes.
Findings are counted two ways: assertions (confidence >= 0.5) and all findings including
leads (线索待核). Precision counts every finding of the rule that matches no planted positive
as false, including findings the generator did not plant on purpose (printed, to read).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from integrity.findings import Finding  # noqa: E402
from integrity.rules import REGISTRY  # noqa: E402
from integrity.scan import run_scan  # noqa: E402


def matches(finding: Finding, case: dict[str, object]) -> bool:
    if finding.rule != case["rule"]:
        return False
    if "scope" in case:  # a programme case: its provision over the same street/community/year
        if finding.details.get("provision") != case["provision"]:
            return False
        scope = finding.details.get("scope") or {}
        return all(str(scope.get(k)) == str(v) for k, v in case["scope"].items())  # type: ignore[attr-defined]
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
            hit_assertions = [
                c for c in decoys if any(matches(f, c) and not f.is_lead for f in pool)
            ]
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
                    "decoys_hit_assertions": len(hit_assertions),
                    "decoys_hit_cases": [
                        f"{c['case']}"
                        + "".join(f" ({f.confidence:.2f})" for f in pool if matches(f, c))
                        for c in hit
                    ],
                    "true": len(true),
                    "missed": [c["case"] for c in positives if c not in found],
                    # not found in this pool, but by a finding below it (a lead)
                    "lead_only": [
                        f"{c['case']}"
                        + "".join(f" (lead {f.confidence:.2f})" for f in mine if matches(f, c))
                        for c in positives
                        if c not in found and any(matches(f, c) for f in mine)
                    ],
                    "unplanned": [
                        f"{f.finding_id} {','.join(f.project_ids)} {f.explanation[:60]}"
                        for f in pool
                        if f not in true
                    ],
                }
            )
    return rows


def pct(v: object) -> str:
    return "—" if v is None else f"{float(v):.2f}"  # type: ignore[arg-type]


def print_table(rows: list[dict[str, object]]) -> None:
    print(
        f"{'rule':<34}{'count':<11}{'planted':>8}{'found':>6}{'recall':>7}"
        f"{'findings':>9}{'precision':>10}{'decoys':>7}{'hit':>4}{'hit≥0.5':>8}"
    )
    for r in rows:
        print(
            f"{r['rule']!s:<34}{r['count']:<11}{r['planted']:>8}{r['found']:>6}{pct(r['recall']):>7}"
            f"{r['findings']:>9}{pct(r['precision']):>10}{r['decoys']:>7}{r['decoys_hit']:>4}"
            f"{r['decoys_hit_assertions']:>8}"
        )


def summed(per_seed: list[list[dict[str, object]]]) -> list[dict[str, object]]:
    """The seeds' tables added up (recall and precision over the pooled counts)."""
    total: dict[tuple[object, object], dict[str, object]] = {}
    for rows in per_seed:
        for r in rows:
            t = total.setdefault(
                (r["rule"], r["count"]),
                {
                    "rule": r["rule"],
                    "count": r["count"],
                    "planted": 0,
                    "found": 0,
                    "findings": 0,
                    "true": 0,
                    "decoys": 0,
                    "decoys_hit": 0,
                    "decoys_hit_assertions": 0,
                },
            )
            for k in (
                "planted",
                "found",
                "findings",
                "true",
                "decoys",
                "decoys_hit",
                "decoys_hit_assertions",
            ):
                t[k] = int(t[k]) + int(r[k])  # type: ignore[call-overload]
    out = []
    for t in total.values():
        planted, findings = int(t["planted"]), int(t["findings"])  # type: ignore[call-overload]
        t["recall"] = int(t["found"]) / planted if planted else None  # type: ignore[call-overload]
        t["precision"] = int(t["true"]) / findings if findings else None  # type: ignore[call-overload]
        out.append(t)
    return sorted(out, key=lambda t: (str(t["rule"]), str(t["count"])))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", type=Path, default=ROOT / "fixtures/demo/longgang")
    parser.add_argument("--truth", type=Path, default=ROOT / "fixtures/demo/truth.json")
    parser.add_argument(
        "--seeds",
        help="comma-separated seeds: score districts the demo's generator draws from them "
        "(other people, names and noise; the same kinds of cases), then their sum",
    )
    parser.add_argument(
        "--names",
        choices=["demo", "wide"],
        default="demo",
        help="with --seeds: the generator's name pools (wide: namesakes rarer)",
    )
    parser.add_argument(
        "--policy",
        help="score under this profile only (default: the district's own profile, then each "
        "other profile its programme cases name)",
    )
    parser.add_argument("--json", action="store_true", help="print the table as JSON")
    args = parser.parse_args()
    if args.seeds:
        sys.path.insert(0, str(ROOT / "fixtures"))
        from generate_demo import generate  # noqa: PLC0415

        per_seed = []
        for seed in [int(x) for x in args.seeds.split(",") if x.strip()]:
            with tempfile.TemporaryDirectory() as tmp:
                generate(Path(tmp), seed, args.names)
                truth = json.loads((Path(tmp) / "truth.json").read_text(encoding="utf-8"))
                rows = []
                for policy in [args.policy] if args.policy else policies_of(truth):
                    mine = scored(Path(tmp) / "longgang", Path(tmp) / "truth.json", policy)
                    own = policy == truth["policy"]
                    rows += [
                        r | {"rule": r["rule"] if own else f"{r['rule']}@{policy}"} for r in mine
                    ]
            per_seed.append(rows)
            print(f"seed {seed}")
            print_misses(rows)
        total = summed(per_seed)
        if args.json:
            print(json.dumps(total, ensure_ascii=False, indent=2))
            return 0
        print(f"\nsum over seeds {args.seeds}")
        print_table(total)
        return 0
    truth = json.loads(args.truth.read_text(encoding="utf-8"))
    chosen = [args.policy] if args.policy else policies_of(truth)
    tables = {policy: scored(args.dataset, args.truth, policy) for policy in chosen}
    if args.json:
        print(json.dumps(tables, ensure_ascii=False, indent=2))
        return 0
    print(f"dataset {args.dataset}")
    for policy, rows in tables.items():
        print(f"\npolicy {policy}")
        print_table(rows)
        print_misses(rows)
    return 0


def policies_of(truth: dict[str, Any]) -> list[str]:
    """The district's own profile first, then every other profile a case names."""
    others = sorted({c["policy"] for c in truth["cases"] if "policy" in c} - {truth["policy"]})
    return [truth["policy"], *others]


def scored(dataset: Path, truth_file: Path, policy: str | None = None) -> list[dict[str, object]]:
    """Under the district's own profile: every rule. Under another profile (the same ledger
    read against another programme's provisions): the programme rules, whose cases name it."""
    truth = json.loads(truth_file.read_text(encoding="utf-8"))
    policy = policy or truth["policy"]
    own = policy == truth["policy"]
    cases = [c for c in truth["cases"] if c.get("policy", truth["policy"]) == policy]
    if own:
        result = run_scan(dataset, policy=policy)
        rules = sorted({c["rule"] for c in cases} | {f.rule for f in result.findings})
    else:
        programme = [code for code, r in REGISTRY.items() if r.programme]
        result = run_scan(dataset, policy=policy, rules=programme)
        rules = sorted({c["rule"] for c in cases} | {f.rule for f in result.findings})
    statuses = {p.status for p in result.provisions}
    assert statuses <= {"checked", "not_checked", "not_applicable"}, statuses
    return score(result.findings, cases, rules)


def print_misses(rows: list[dict[str, object]]) -> None:
    for r in rows:
        if r["count"] != "all":
            for m in r["lead_only"]:  # type: ignore[attr-defined]
                print(f"  lead only {r['rule']}: {m}")
            continue
        for m in r["missed"]:  # type: ignore[attr-defined]
            print(f"  missed   {r['rule']}: {m}")
        for u in r["unplanned"]:  # type: ignore[attr-defined]
            print(f"  unplanned {r['rule']}: {u}")
        for d in r["decoys_hit_cases"]:  # type: ignore[attr-defined]
            print(f"  decoy hit {r['rule']}: {d}")


if __name__ == "__main__":
    raise SystemExit(main())
