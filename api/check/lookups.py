"""Who the request means: its supplier and panel found in the screened data, or the
candidates the reviewer can pick from (a name that matches nothing exactly, or several).

A mixin of :class:`api.check.index.CheckIndex`, which holds the tables read here."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from rapidfuzz import fuzz, process

from integrity.identity.ids import uscc_normalise
from integrity.identity.names import org_name, person_name
from integrity.screening.evidence import text

# how close a name must be to be offered as a candidate when it names nothing exactly
CANDIDATE_SIMILARITY = 60.0
MAX_CANDIDATES = 8


@dataclass
class Candidate:
    """Something the request may have meant: a supplier or an official, with how alike."""

    id: str  # the USCC (or the organisation key), or the staff id
    name: str
    similarity: float  # 0-100
    street: str | None = None


@dataclass
class Resolved:
    """How the request's supplier was found in the screened data."""

    org_key: str | None
    name: str | None
    basis: str  # 统一社会信用代码, 规范化名称, 未找到, 名称不唯一
    notes: list[str] = field(default_factory=list)
    candidates: list[Candidate] = field(default_factory=list)

    @property
    def found(self) -> bool:
        return self.basis in ("统一社会信用代码", "规范化名称")


class Lookups:
    """The request's supplier and panel members, looked up in the index's tables."""

    holder_pos: dict[str, tuple[int, int]]
    org_names: dict[str, str]
    orgs_by_core: dict[str, set[str]]
    org_cores: list[str]
    staff: dict[str, dict[str, Any]]
    staff_by_name: dict[str, list[str]]

    def resolve_supplier(self, name: str | None, uscc: str | None) -> Resolved:
        notes: list[str] = []
        if uscc:
            code, problem = uscc_normalise(uscc)
            if problem is None:
                key = f"uscc:{code}"
                known = key in self.holder_pos or key in self.org_names
                if name:
                    others = self.orgs_by_core.get(org_name(name), set()) - {key}
                    coded = sorted(o for o in others if o.startswith("uscc:"))
                    if coded:
                        notes.append(
                            f"名称「{name}」在数据中属于统一社会信用代码不同的单位"
                            f"（{'、'.join(c[5:] for c in coded)}），请核实是否冒用 / the name "
                            "belongs to a company with another USCC in the data"
                        )
                if known:
                    return Resolved(key, self.org_names.get(key, name), "统一社会信用代码", notes)
                notes.append("该统一社会信用代码不在本次筛查数据中 / USCC not in the screened data")
                return Resolved(key, name, "未找到", notes, self._org_candidates(name))
            notes.append(
                f"统一社会信用代码「{uscc}」校验不通过（{problem}），按名称查找 / "
                f"the USCC fails its check ({problem}); looked up by name"
            )
        if name:
            keys = sorted(self.orgs_by_core.get(org_name(name), set()))
            if len(keys) == 1:
                return Resolved(keys[0], self.org_names.get(keys[0], name), "规范化名称", notes)
            if len(keys) > 1:
                notes.append(
                    f"名称「{name}」对应多个单位（{len(keys)}个，统一社会信用代码不同），"
                    "请提供统一社会信用代码 / the name matches several companies; give the USCC"
                )
                return Resolved(
                    None,
                    name,
                    "名称不唯一",
                    notes,
                    [
                        Candidate(
                            k[5:] if k.startswith("uscc:") else k,
                            self.org_names.get(k, name),
                            100.0,
                        )
                        for k in keys
                    ],
                )
        notes.append("该单位不在本次筛查数据中 / supplier not in the screened data")
        return Resolved(None, name, "未找到", notes, self._org_candidates(name))

    def _org_candidates(self, name: str | None) -> list[Candidate]:
        """Suppliers of the screened data named most like ``name``."""
        if not name or not self.org_cores:
            return []
        out: list[Candidate] = []
        for core, score in _nearest(org_name(name), self.org_cores, CANDIDATE_SIMILARITY):
            for key in sorted(self.orgs_by_core[core]):
                label = key[5:] if key.startswith("uscc:") else key
                out.append(Candidate(label, self.org_names.get(key, core), round(float(score), 1)))
        return out[:MAX_CANDIDATES]

    def panel_member(
        self, staff_id: str | None, name: str | None
    ) -> tuple[str | None, str, list[Candidate]]:
        """(the staff id, a note, candidates) of a panel member given by staff id or name:
        the id is None when the member cannot be told apart (an unknown id, a name no
        official or several officials bear)."""
        if staff_id is not None:
            if staff_id in self.staff:
                return staff_id, "", []
            return None, "工号不在人员表中", self._staff_candidates(name)
        if name is not None:
            ids = self.staff_by_name.get(person_name(name), [])
            if len(ids) == 1:
                return ids[0], "", []
            if ids:
                return (
                    None,
                    f"人员表中同名{len(ids)}人，请给出工号",
                    [self._staff_candidate(sid, 100.0) for sid in ids[:MAX_CANDIDATES]],
                )
            return None, "人员表中无此姓名", self._staff_candidates(name)
        return None, "未给出工号或姓名", []

    def _staff_candidate(self, sid: str, similarity: float) -> Candidate:
        r = self.staff[sid]
        return Candidate(sid, str(r["name"]), similarity, text(r.get("street")))

    def _staff_candidates(self, name: str | None) -> list[Candidate]:
        if not name or not self.staff_by_name:
            return []
        out: list[Candidate] = []
        for known, score in _nearest(
            person_name(name), list(self.staff_by_name), CANDIDATE_SIMILARITY - 10
        ):
            out += [
                self._staff_candidate(sid, round(float(score), 1))
                for sid in self.staff_by_name[known]
            ]
        return out[:MAX_CANDIDATES]

    def _staff_view(self, sid: str) -> dict[str, Any]:
        r = self.staff[sid]
        return {
            "staff_id": sid,
            "name": str(r["name"]),
            "street": text(r.get("street")),
            "community": text(r.get("community")),
            "person_key": str(r["person_key"]),
        }


def _nearest(query: str, choices: Sequence[str], cutoff: float) -> list[tuple[str, float]]:
    """The choices most like ``query`` (fuzz.ratio at ``cutoff`` or above), best first, at
    most MAX_CANDIDATES: the candidates an ``unknown`` answer offers."""
    found = process.extract(
        query, choices, scorer=fuzz.ratio, limit=MAX_CANDIDATES, score_cutoff=cutoff
    )
    return [(str(match), float(score)) for match, score, _ in found]
