"""Who took part in which decision, and who among them or their kin holds a role at the
winner: what avoidance judges, and what related_supplier and undeclared_relation read of the
decisions (matched once per screening and shared)."""

from __future__ import annotations

from typing import Any

import pandas as pd

from integrity.findings import EvidenceStep, SourceRef
from integrity.identity.calibration import PANEL
from integrity.screening.context import ScanContext
from integrity.screening.evidence import awarded_projects, text

ROLE_ORDER = {"法定代表人": 0, "负责人": 1, "股东": 2, "董事": 3, "监事": 4, "经理": 5}


def _participation(ctx: ScanContext, roles: tuple[str, ...]) -> pd.DataFrame:
    """The participation rows of the decision steps, each with its official's staff_id (a
    participant given by name only is the one official of that name, if there is one) and
    ``recused`` (a recusal recorded on the row)."""
    t = ctx.screening.keyed
    part = t["participants"]
    part = part[part["role"].isin(roles)]
    if "name" in part:
        staff = t["staff"]
        unique = staff.drop_duplicates("name", keep=False).set_index("name")
        by_name = part["name"].map(unique["staff_id"])
        part = part.assign(staff_id=part["staff_id"].fillna(by_name))
    part = part.dropna(subset=["staff_id"])
    recused = part.get("recused", pd.Series(False, index=part.index)).fillna(False).astype(bool)
    return part.assign(staff_id=part["staff_id"].astype(str), recused=recused)


def decisions(ctx: ScanContext, roles: tuple[str, ...]) -> pd.DataFrame:
    """Who took part in which decision without recusal, with the official's person key and
    the awarded supplier: one row per participation row. A recusal recorded for a step
    covers the same official's unmarked rows of that step on that project (one sitting
    entered twice); a step without one stays a participation, whatever else was recused."""
    t = ctx.screening.keyed
    part = _participation(ctx, roles)
    step = ["project_id", "staff_id", "role"]
    recused = part["recused"].to_numpy()
    covered = part[step].merge(
        part.loc[recused, step].drop_duplicates(), how="left", indicator=True
    )
    part = part[~recused & (covered["_merge"] == "left_only").to_numpy()]
    staff = t["staff"][["staff_id", "person_key", "name", "street"]].rename(
        columns={"name": "staff_name", "street": "staff_street"}
    )
    part = part.merge(staff.assign(staff_id=staff["staff_id"].astype(str)), on="staff_id")
    awarded = awarded_projects(t["projects"])
    return part.rename(columns={"_file": "part_file", "_row": "part_row", "role": "part_role"})[
        ["project_id", "staff_id", "staff_name", "person_key", "part_role", "part_file", "part_row"]
    ].merge(awarded, on="project_id")


def recusals(ctx: ScanContext, roles: tuple[str, ...]) -> dict[tuple[str, str], list[Any]]:
    """The recorded recusals by (project, official): (step, file, row) each."""
    part = _participation(ctx, roles)
    part = part[part["recused"]]
    out: dict[tuple[str, str], list[Any]] = {}
    for r in part[["project_id", "staff_id", "role", "_file", "_row"]].itertuples(index=False):
        out.setdefault((str(r[0]), str(r[1])), []).append((str(r[2]), str(r[3]), int(r[4])))
    return out


def decision_kin(
    ctx: ScanContext, decision_roles: tuple[str, ...], roles: tuple[str, ...], floor: float
) -> pd.DataFrame:
    """Each (participant or relative, role holder of the awarded supplier) pair met in one
    project's decisions and believed to be one person, at ``floor`` or above (kin_in_roles
    with the project as the context). Matched once and shared (a later call asking for a
    lower floor matches again): avoidance reports the pairs, related_supplier's notices take
    the confidence a pair has where the official decided on that supplier's award."""
    if not all(ctx.dataset.has(t) for t in ("staff", "projects", "participants")):
        return pd.DataFrame()  # a roster screening: no decisions to judge a link in
    key = ("decision_kin", decision_roles, roles)
    done = ctx.shared.get(key)
    if done is None or done[0] > floor:
        dec = decisions(ctx, decision_roles)
        hits = (
            pd.DataFrame()
            if dec.empty
            else ctx.screening.kin_in_roles(
                dec,
                dec[["project_id", "org_key"]],
                on=["project_id"],
                roles=roles,
                floor=floor,
                label="avoidance",
                context=PANEL,
            )
        )
        done = ctx.shared[key] = (floor, hits)
    hits = done[1]
    return hits if hits.empty else hits[hits["confidence"] >= floor]


def decisions_taken(
    group: list[dict[str, Any]],
    who: str,
    org: str,
    staff_id: str,
    decision_roles: tuple[str, ...],
) -> tuple[list[str], str, list[EvidenceStep]]:
    """The decisions an official took part in on an organisation's awards, from the
    decision_kin rows among ``group`` (rows with a project and a step): the projects, the
    projects as a phrase (「name」（id）、…) and one evidence step per (project, step)."""
    rank = {r: i for i, r in enumerate(decision_roles)}
    sat: dict[tuple[str, str], dict[str, Any]] = {}
    for r in group:
        if text(r.get("project_id")) and text(r.get("part_role")):
            sat.setdefault((str(r["project_id"]), str(r["part_role"])), r)
    done = "、".join(
        dict.fromkeys(f"「{r['project_name']}」（{pid}）" for (pid, _), r in sat.items())
    )
    steps = [
        EvidenceStep(
            kind="participation",
            text=(
                f"经办与评审记录：{who} 参与{role}，未记录回避（项目{pid}"
                f"「{r['project_name']}」，承接单位 {org}）"
            ),
            source=SourceRef(str(r["part_file"]), int(r["part_row"]), "participants"),
            data={"staff_id": staff_id, "role": role, "project_id": pid},
        )
        for (pid, role), r in sorted(sat.items(), key=lambda x: (x[0][0], rank.get(x[0][1], 99)))
    ]
    return sorted({pid for pid, _ in sat}), done, steps


def role_rank(role: str) -> int:
    return ROLE_ORDER.get(role, 9)
