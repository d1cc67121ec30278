"""acceptance: no one who chose the project took part in accepting it."""

from __future__ import annotations

from collections.abc import Iterator

from integrity.evidence import policy_steps, project_step, text
from integrity.findings import EvidenceStep, Finding, SourceRef, finding_id
from integrity.names import person_name
from integrity.policy import RuleSettings
from integrity.rules import ScanContext, rule


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
)
def acceptance(ctx: ScanContext, settings: AcceptanceSettings) -> Iterator[Finding]:
    """已验收的项目中，没有任何一名点选该项目的居民或组织代表参与验收（谁点选项目、谁参与验收）。

    点选人和验收人都取自经办与评审记录，按人员编号或规范化后的姓名比对。没有点选记录或没有
    验收记录的项目不作判断，只在运行记录中列为数据缺口。
    """
    projects = ctx.dataset.table("projects").set_index("project_id", drop=False)
    part = ctx.dataset.table("participants")
    picked = part[part["role"] == settings.nominator_role]
    accepted = part[part["role"] == settings.acceptance_role]
    no_nominator: list[str] = []
    for pid, check in accepted.groupby("project_id", sort=True):
        chose = picked[picked["project_id"] == pid]
        if chose.empty:
            no_nominator.append(str(pid))
            continue
        chose_ids = set().union(*(_who(r) for r in chose.to_dict("records")))
        checked_ids = set().union(*(_who(r) for r in check.to_dict("records")))
        if chose_ids & checked_ids or pid not in projects.index:
            continue
        row = {str(k): v for k, v in projects.loc[pid].to_dict().items()}
        row |= {
            "project_name": row.get("name"),
            "project_category": row.get("category"),
            "project_file": row["_file"],
            "project_row": row["_row"],
        }
        names = "、".join(str(r.get("name") or r.get("staff_id")) for r in chose.to_dict("records"))
        checkers = "、".join(
            str(r.get("name") or r.get("staff_id")) for r in check.to_dict("records")
        )
        steps = [project_step(row)]
        for r, what in [
            *((r, "点选") for r in chose.to_dict("records")),
            *((r, "验收") for r in check.to_dict("records")),
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
            staff_ids=sorted({str(s) for s in check["staff_id"].dropna()}),
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
