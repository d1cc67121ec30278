"""acceptance: no one who chose the project took part in accepting it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from integrity.findings import EvidenceStep, Finding, SourceRef, finding_id
from integrity.identity.names import person_name
from integrity.policy import RuleSettings
from integrity.rules.registry import ScanContext, rule
from integrity.screening.evidence import policy_steps, project_step, text


class AcceptanceSettings(RuleSettings):
    nominator_role: str = "点选"
    acceptance_role: str = "验收"


def _who(row: dict[object, object]) -> set[str]:
    """Ways to recognise a participant: staff id, normalised name."""
    out = set()
    if text(row.get("staff_id")):
        out.add(f"staff:{row['staff_id']}")
    if text(row.get("name")):
        out.add(f"name:{person_name(str(row['name']))}")
    return out


@rule(
    "acceptance",
    title="点选人未参与验收",
    settings=AcceptanceSettings,
    needs=("projects", "participants"),
    screening=False,
    checks={"acceptance.nominator_takes_part": ()},
)
def acceptance(ctx: ScanContext, settings: AcceptanceSettings) -> Iterator[Finding]:
    """已验收的项目中，没有任何一名点选该项目的居民或组织代表参与验收（谁点选项目、谁参与验收）。

    点选人和验收人都取自经办与评审记录，按人员编号或规范化后的姓名比对。没有点选记录或没有
    验收记录的项目不作判断，只在运行记录中列为数据缺口。
    """
    projects = {r["project_id"]: r for r in ctx.dataset.table("projects").to_dict("records")}
    part = ctx.dataset.table("participants")
    # plain records grouped once: per-project frames cost milliseconds each at city scale
    picked: dict[object, list[dict[Any, Any]]] = {}
    accepted: dict[object, list[dict[Any, Any]]] = {}
    for r in part[part["role"].isin([settings.nominator_role, settings.acceptance_role])].to_dict(
        "records"
    ):
        bucket = picked if r["role"] == settings.nominator_role else accepted
        bucket.setdefault(r["project_id"], []).append(r)
    no_nominator: list[str] = []
    for pid in sorted(accepted, key=str):
        check = accepted[pid]
        chose = picked.get(pid, [])
        if not chose:
            no_nominator.append(str(pid))
            continue
        chose_ids = set().union(*(_who(r) for r in chose))
        checked_ids = set().union(*(_who(r) for r in check))
        if chose_ids & checked_ids or pid not in projects:
            continue
        row = {str(k): v for k, v in projects[pid].items()}
        row |= {
            "project_name": row.get("name"),
            "project_category": row.get("category"),
            "project_file": row["_file"],
            "project_row": row["_row"],
        }
        names = "、".join(str(r.get("name") or r.get("staff_id")) for r in chose)
        checkers = "、".join(str(r.get("name") or r.get("staff_id")) for r in check)
        steps = [project_step(row)]
        for r, what in [
            *((r, "点选") for r in chose),
            *((r, "验收") for r in check),
        ]:
            steps.append(
                EvidenceStep(
                    kind="participation",
                    text=f"经办与评审记录：{r.get('name') or r.get('staff_id')} {what}",
                    source=SourceRef(str(r["_file"]), int(r["_row"]), "participants"),
                )
            )
        where = "".join(x for x in (text(row.get("street")), text(row.get("community"))) if x)
        yield Finding(
            finding_id=finding_id("acceptance", ctx.profile.name, str(pid)),
            rule="acceptance",
            severity="low",
            confidence=1.0,
            project_ids=[str(pid)],
            staff_ids=sorted({str(r["staff_id"]) for r in check if text(r.get("staff_id"))}),
            suppliers=[],
            citation=settings.citation,
            explanation=(
                f"{where}项目「{row['project_name']}」（{pid}）的点选人{names}均未参与验收，"
                f"验收人员为{checkers}。"
            ),
            evidence=[*steps, *policy_steps(ctx.profile.name, settings.clauses)],
            street=text(row.get("street")),
            community=text(row.get("community")),
            policy=ctx.profile.name,
            details={"nominators": names, "acceptance": checkers},
        )
    if no_nominator:
        ctx.note(
            "acceptance",
            f"{len(no_nominator)}个已验收项目没有点选记录，未作判断："
            + "、".join(no_nominator[:20])
            + ("……" if len(no_nominator) > 20 else ""),
        )
