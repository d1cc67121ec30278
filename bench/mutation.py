"""The mutation score of `make mutation`, per module, and every mutant the tests let live.

mutmut 3 (configured under [tool.mutmut] in pyproject.toml) writes one `<module>.py.meta`
per mutated module under mutants/, with the exit code of the tests run against each mutant.
This script reads those files and prints, for each module: how many mutants were made, how
many the tests killed (a failing test, a timeout or a crash all count as killed), how many
survived, and how many no test reached. The score is killed ÷ mutants checked: a mutant no
test reaches counts against the suite, as one that survives does; a run stopped part way shows
how many of each module's mutants were checked at all.

    python bench/mutation.py            # the table and the survivors' names
    python bench/mutation.py --diff     # ... and each survivor's change (mutmut show)
    python bench/mutation.py --json     # the same figures as JSON
"""

from __future__ import annotations

import argparse
import json
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
MUTANTS = REPO / "mutants"

# mutmut's exit codes (mutmut.stats.status_by_exit_code), folded into what the score needs
KILLED = {1, 3, 36, -24, 24, 152, 255, -11, -9, 37}
SURVIVED = {0}
NO_TESTS = {5, 33}
NOT_CHECKED = {None}


def outcome(code: int | None) -> str:
    if code in KILLED:
        return "killed"
    if code in SURVIVED:
        return "survived"
    if code in NO_TESTS:
        return "no tests"
    if code in NOT_CHECKED:
        return "not checked"
    return "suspicious"


def read(mutants: Path = MUTANTS) -> dict[str, dict[str, str]]:
    """{module path: {mutant name: outcome}} from every .meta file under mutants/."""
    found: dict[str, dict[str, str]] = {}
    for meta in sorted(mutants.rglob("*.py.meta")):
        module = str(meta.relative_to(mutants))[: -len(".meta")]
        codes = json.loads(meta.read_text(encoding="utf-8"))["exit_code_by_key"]
        found[module] = {name: outcome(code) for name, code in codes.items()}
    return found


def table(found: dict[str, dict[str, str]]) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for module, outcomes in found.items():
        n = Counter(outcomes.values())
        total = len(outcomes)
        checked = total - n["not checked"] - n["suspicious"]
        rows.append(
            {
                "module": module,
                "mutants": total,
                "checked": checked,
                "killed": n["killed"],
                "survived": n["survived"],
                "no tests": n["no tests"],
                "not checked": n["not checked"] + n["suspicious"],
                "score": round(n["killed"] / checked, 3) if checked else None,
            }
        )
    return rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--diff", action="store_true", help="print each survivor's change")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = ap.parse_args()
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # `| head` ends the listing quietly
    if not MUTANTS.is_dir():
        print("no mutants/ folder: run `make mutation` first", file=sys.stderr)
        return 1
    found = read()
    rows = table(found)
    survivors = sorted(
        name
        for outcomes in found.values()
        for name, o in outcomes.items()
        if o in ("survived", "no tests")
    )
    total = sum(int(r["mutants"]) for r in rows)  # type: ignore[call-overload]
    killed = sum(int(r["killed"]) for r in rows)  # type: ignore[call-overload]
    checked = sum(int(r["checked"]) for r in rows)  # type: ignore[call-overload]
    if args.json:
        print(
            json.dumps(
                {
                    "modules": rows,
                    "total": total,
                    "checked": checked,
                    "killed": killed,
                    "survivors": survivors,
                }
            )
        )
        return 0
    print(
        f"{'module':<42}{'mutants':>8}{'checked':>8}{'killed':>8}{'survived':>9}"
        f"{'no tests':>9}{'score':>7}"
    )
    for r in rows:
        score = r["score"] if r["score"] is not None else "-"
        print(
            f"{r['module']:<42}{r['mutants']:>8}{r['checked']:>8}{r['killed']:>8}"
            f"{r['survived']:>9}{r['no tests']:>9}{score:>7}"
        )
    print(
        f"{'all':<42}{total:>8}{checked:>8}{killed:>8}{'':>9}{'':>9}"
        f"{killed / max(checked, 1):>7.3f}"
    )
    print(f"\n{len(survivors)} not killed (survived, or no test reached them):")
    for name in survivors:
        print(" ", name)
        if args.diff:
            shown = subprocess.run(
                [sys.executable, "-m", "mutmut", "show", name],
                cwd=REPO,
                capture_output=True,
                text=True,
                check=False,
            )
            print(shown.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
