"""Calibration of name-only identity links in a project's panel (avoidance's context).

    .venv/bin/python bench/calibration.py --seeds 1,2,…,40

For each district the demo's generator draws from a seed: hide the role holders' ID numbers
(and what they give: birth date, sex, the number-based key), match the panels' officials and
relatives to the holders of the awarded suppliers by name as avoidance does (the prior the
rule measured on the real numbers), then compare each scored pair with the hidden numbers.
Prints, per confidence band, the pairs, the mean confidence given and the share that are one
person. The generator's namesake decoys (the official's brother 某建国 and an unrelated 某建国
at the winner) are counted apart: with their numbers hidden they are the same name by design.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "fixtures"))

from generate_demo import generate  # noqa: E402

from integrity.identity.priors import CONTEXT_PRIOR  # noqa: E402
from integrity.load.dataset import load_dataset  # noqa: E402
from integrity.policy import load_profile  # noqa: E402
from integrity.rules import ScanContext  # noqa: E402
from integrity.screening.decisions import decisions  # noqa: E402

ROLES = ("法定代表人", "负责人", "股东", "董事", "监事", "经理")
STEPS = ("筛选", "评议", "审核", "评审", "审定", "采购经办", "验收")


def scored_pairs(dataset: Path) -> pd.DataFrame:
    ctx = ScanContext(dataset=load_dataset(dataset), profile=load_profile("longgang-2023"))
    scr = ctx.screening
    _ = scr.name_commonness  # counted with the real holders
    left = decisions(ctx, STEPS)
    orgs = left[["project_id", "org_key"]]
    h = scr.holders
    right = orgs.drop_duplicates().merge(h[h["role"].isin(ROLES)], on="org_key")
    prior = scr._kin_prior(left, right, ["project_id"], CONTEXT_PRIOR)
    hidden = h.copy()
    had = hidden["id_valid"].to_numpy().copy()
    hidden["true_id"] = hidden["id_number"].where(hidden["id_valid"])
    for col in ("id_number", "birth", "sex", "birth_date", "gender"):
        if col in hidden:
            hidden.loc[had, col] = None
    hidden.loc[had, "id_valid"] = False
    hidden.loc[had, "key"] = (
        "hidden:" + hidden.loc[had, "org_key"].astype(str) + "|" + hidden.loc[had, "name_norm"]
    )
    scr.__dict__["holders"] = hidden
    scr._kin_prior = lambda *a, **k: prior  # type: ignore[method-assign]
    hits = scr.kin_in_roles(left, orgs, on=["project_id"], roles=ROLES, prior=prior, floor=0.01)
    if hits.empty:
        return hits
    hits = hits[hits["h_true_id"].notna()]
    people = scr.people
    rel_id = people["id_number"].where(people["id_valid"].astype(bool)).reindex(hits["relative"])
    hits = hits.assign(rel_id=rel_id.to_numpy())
    hits = hits[hits["rel_id"].notna()]
    hits = hits.assign(same=hits["rel_id"] == hits["h_true_id"])
    return hits[["relative", "h_true_id", "h_name", "category", "match_conf", "same"]]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="1,2,3,4,5,6,7,8,9,10")
    args = parser.parse_args()
    frames = []
    for seed in [int(x) for x in args.seeds.split(",") if x.strip()]:
        with tempfile.TemporaryDirectory() as tmp:
            generate(Path(tmp), seed)
            pairs = scored_pairs(Path(tmp) / "longgang")
        frames.append(pairs.assign(seed=seed))
        print(f"seed {seed}: {len(pairs)} pairs scored", flush=True)
    h = pd.concat(frames, ignore_index=True)
    h = h.drop_duplicates(subset=["seed", "relative", "h_true_id", "match_conf"])
    decoy = h["h_name"].str.endswith("建国") & ~h["same"]
    bands = [0, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 1.01]
    for label, part in (("namesake decoys apart", h[~decoy]), ("designed decoys", h[decoy])):
        table = part.assign(band=pd.cut(part["match_conf"], bands, right=False))
        print(f"\n{label}")
        print(
            table.groupby("band", observed=True)
            .agg(pairs=("same", "size"), given=("match_conf", "mean"), one_person=("same", "mean"))
            .round(2)
            .to_string()
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
