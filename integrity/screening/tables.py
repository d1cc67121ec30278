"""What the data says about people and roles, before any identity is guessed.

:class:`Tables` holds the tables every rule reads, computed lazily once per scan (the
:class:`~integrity.screening.kin.Screening` built on it adds the guesses: identity bridges,
kinship, kin found in roles):

- ``keyed``: the tables with identity keys (integrity.identity.keys);
- ``people``: one row per person key on the kin side (staff, declarations, registries), with
  the attributes the resolver compares (name, ID number, birth date, sex, phone) and the
  birth years the kin rows imply where the date is missing;
- ``kin_links``: every kin link read from a declaration or a registry row, one row per path
  code (a term such as 表哥 stands for several), with its source row;
- ``holders``: every person in a role at an organisation (法定代表人, 负责人, 股东 ...), from
  the supplier table and the supplier_people table, with the source row;
- ``name_commonness``: how common each name is among the distinct people of both sides, and
  ``population``: the prior that two mentions of one name anywhere in the data are one person;
- ``namesake_rate``: how crowded the names are, measured on the people whose ID numbers tell
  them apart (what the calibration map of a name link is chosen by), and ``shared_names``:
  the names two or more of those people carry (an exact match on one is stated by the map of
  all pairs).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Protocol

import numpy as np
import pandas as pd

from graph.kinship import Step, birth_gap, parse_code
from integrity.identity.ages import ADULT_BY, adult_floor, last_year, with_adult_floor
from integrity.identity.calibration import namesake_rate, qualified, shared_names
from integrity.identity.keys import with_identity_keys
from integrity.identity.mentions import NameCounts, filled, name_frequencies, prepare
from integrity.identity.names import person_names
from integrity.identity.priors import population_prior
from integrity.load.dataset import Dataset
from integrity.screening.registry import Registry
from integrity.screening.spans import group_spans

PERSON_COLUMNS = ["key", "name", "id_number", "id_valid", "birth_date", "gender", "phone"]


def _mentions(frame: pd.DataFrame, key: str, cols: dict[str, str], table: str) -> pd.DataFrame:
    """Rows of one table as mentions: key, name, id_number, id_valid, birth_date, gender,
    phone (absent columns as missing values)."""
    out = pd.DataFrame({"key": frame[key]})
    for target, col in cols.items():
        out[target] = frame.get(col, None)
    out["table"] = table
    return out.dropna(subset=["key"])


# what the rules read once and a pre-award check never does (its index keeps its own kin
# rows): the officials' kinship and its copies, the raw mentions, the links as one table
NOT_PICKLED = frozenset({"kinship", "kin_all", "kin_ids", "mentions", "all_links", "family_places"})


class KinEngine(Protocol):
    """What expands the officials' kinship: :func:`graph.expand.expand`'s arguments and
    answer (the same rows whichever engine gives them)."""

    name: str

    def expand(
        self, officials: pd.DataFrame, links: pd.DataFrame, *, max_hops: int, max_same: int
    ) -> pd.DataFrame: ...


@dataclass
class Tables:
    dataset: Dataset
    # the prior each rule's matching used (estimated_prior), by rule: the pre-award check
    # scores its pairs with the same one
    priors: dict[str, float] = field(default_factory=dict)
    # the engine that expands the officials' kinship (None: graph.expand in this process;
    # integrity.spark.engine.SparkEngine: Spark jobs, the same rows)
    kin_engine: KinEngine | None = None
    # the suppliers' people held elsewhere (a registry on Spark): the dataset then holds only
    # the rows of the organisations its own tables name (integrity.screening.registry)
    registry: Registry | None = None

    def __getstate__(self) -> dict[str, Any]:
        """Pickled (the check index kept on disk) without the engine — a Spark session is a
        connection, not data — and without the tables only the batch reads (NOT_PICKLED:
        computed again if ever asked for)."""
        state = {k: v for k, v in self.__dict__.items() if k not in NOT_PICKLED}
        state["kin_engine"] = None
        state["registry"] = None
        return state

    # ------------------------------------------------------------------ tables
    @cached_property
    def keyed(self) -> dict[str, pd.DataFrame]:
        return with_identity_keys(self.dataset)

    @cached_property
    def mentions(self) -> pd.DataFrame:
        """Every kin-side row naming a person, as a mention."""
        t = self.keyed
        parts = [
            _mentions(
                t["staff"],
                "person_key",
                {
                    "name": "name",
                    "id_number": "id_number",
                    "id_valid": "id_number_valid",
                    "birth_date": "birth_date",
                    "gender": "sex",
                    "phone": "phone",
                },
                "staff",
            )
        ]
        if "relatives" in t:
            parts.append(
                _mentions(
                    t["relatives"],
                    "person_key",
                    {
                        "name": "relative_name",
                        "id_number": "relative_id_number",
                        "id_valid": "relative_id_number_valid",
                        "gender": "sex",
                        "phone": "relative_phone",
                    },
                    "relatives",
                )
            )
        if "family_links" in t:
            fl = t["family_links"]
            for side in ("person", "relative"):
                parts.append(
                    _mentions(
                        fl,
                        f"{side}_key",
                        {
                            "name": f"{side}_name",
                            "id_number": f"{side}_id_number",
                            "id_valid": f"{side}_id_number_valid",
                            "gender": f"{side}_sex",
                        },
                        "family_links",
                    )
                )
        m = pd.concat([p for p in parts if not p.empty] or parts[:1], ignore_index=True)
        m["id_valid"] = filled(m["id_valid"], False).astype(bool)
        return m

    @cached_property
    def people(self) -> pd.DataFrame:
        """One row per kin-side person key, first known value of each attribute, prepared
        for the resolver (normalised name, pinyin, birth, sex)."""
        m = self.mentions
        agg = m.groupby("key", sort=False).agg(
            {c: "first" for c in PERSON_COLUMNS if c != "key"} | {"table": "first"}
        )
        agg["id_valid"] = agg["id_valid"].fillna(False).astype(bool)
        people = prepare(agg, with_pinyin=False)
        lo, hi = implied_births(people["birth"], self.kin_links)
        people["born_lo"], people["born_hi"] = lo, hi
        return people

    @cached_property
    def kin_links(self) -> pd.DataFrame:
        """One row per (source row, path code): link_id, src, dst, code, src_sex, dst_sex,
        conf, term, file, row, table."""
        t = self.keyed
        columns = ["link_id", "src", "dst", "code", "src_sex", "dst_sex", "term", "file", "row"]
        parts: list[pd.DataFrame] = []
        staff = t["staff"]
        staff_key = pd.Series(staff["person_key"].to_numpy(), index=staff["staff_id"].astype(str))
        staff_key = staff_key[~staff_key.index.duplicated()]
        staff_sex = pd.Series(staff["sex"].to_numpy(), index=staff["person_key"])
        staff_sex = staff_sex[~staff_sex.index.duplicated()]

        def explode(frame: pd.DataFrame, table: str) -> pd.DataFrame:
            # one row per path code: a term such as 表哥 stands for several paths
            out = frame.explode("codes").dropna(subset=["codes", "src", "dst"])
            i = out.groupby(level=0).cumcount().astype(str)
            return pd.DataFrame(
                {
                    "link_id": table + ":" + out["_row"].astype(str) + ":" + i,
                    "src": out["src"],
                    "dst": out["dst"],
                    "code": out["codes"],
                    "src_sex": out["src_sex"],
                    "dst_sex": out["dst_sex"],
                    "term": out["relation"].astype(str),
                    "file": out["_file"].astype(str),
                    "row": out["_row"].astype(int),
                    "table": table,
                }
            )

        if "relatives" in t:
            rel = t["relatives"]
            src = rel["staff_id"].astype(str).map(staff_key)
            parts.append(
                explode(
                    rel.assign(
                        src=src,
                        dst=rel["person_key"],
                        src_sex=src.map(staff_sex),
                        dst_sex=rel.get("sex"),
                    ),
                    "relatives",
                )
            )
        if "family_links" in t:
            fl = t["family_links"]
            parts.append(
                explode(
                    fl.assign(
                        src=fl["person_key"],
                        dst=fl["relative_key"],
                        src_sex=fl.get("person_sex"),
                        dst_sex=fl.get("relative_sex"),
                    ),
                    "family_links",
                )
            )
        frame = (
            pd.concat(parts, ignore_index=True)
            if parts
            else pd.DataFrame(columns=[*columns, "table"])
        )
        for col in ("src_sex", "dst_sex"):
            frame[col] = frame[col].where(frame[col].isin(["男", "女"]), None)
        frame["code"] = sex_neutral_codes(frame)
        frame["conf"] = 1.0
        frame["reasons"] = None
        return frame

    @cached_property
    def population(self) -> float:
        """The prior that two mentions of one name anywhere in the data are one person
        (:func:`population_prior`): what an identity bridge, or a bare holder taken for a
        registered person, is weighed against."""
        return population_prior(self.mentions)

    @cached_property
    def namesake_rate(self) -> float:
        """How crowded the names are: the chance that two of the kin side's people whom valid
        ID numbers tell apart carry the same normalised name (calibration.namesake_rate). The
        identity calibration's map is chosen by it (:mod:`integrity.identity.calibration`)."""
        return namesake_rate(self._numbered_names)

    @cached_property
    def shared_names(self) -> frozenset[str]:
        """The names two or more of the kin side's people whom valid ID numbers tell apart
        carry (calibration.shared_names): an exact match on one is stated by the map of all
        pairs, however uncrowded the rest of the names."""
        return shared_names(self._numbered_names)

    @cached_property
    def _numbered_names(self) -> pd.Series:
        """One normalised name per kin-side person whom a valid ID number tells apart."""
        people = self.people
        valid = people[people["id_valid"].to_numpy(dtype=bool) & people["name_norm"].notna()]
        return valid.drop_duplicates("id_number")["name_norm"]

    def stated_in(self, context: str) -> str:
        """``context`` qualified with this data's namesake rate (calibration.qualified)."""
        return qualified(context, self.namesake_rate)

    @cached_property
    def _name_by_key(self) -> dict[Any, Any]:
        return dict(zip(self.people.index, self.people["name"], strict=True))

    @cached_property
    def keys_by_name(self) -> tuple[np.ndarray, dict[str, tuple[int, int]]]:
        """The people's keys grouped by normalised name, and each name's (start, stop) in
        them, for lookups that must not scan all people (the pre-award check asks about a
        few names). One array and a table of spans: kept on disk and read back in a blink,
        where a small array per name would not be."""
        people = self.people["name_norm"].dropna()
        order, spans = group_spans(people.astype(str).to_numpy())
        return people.index.to_numpy()[order], spans

    def named(self, names: Any) -> pd.Index:
        """The person keys of the people with any of these normalised names."""
        keys_of, spans = self.keys_by_name
        found = [keys_of[slice(*spans[n])] for n in names if n in spans]
        keys: pd.Index = pd.Index(np.concatenate(found) if found else np.array([], dtype=object))
        return keys

    @cached_property
    def holders(self) -> pd.DataFrame:
        """Every (organisation, person, role) with the person's attributes and source row
        (:func:`build_holders`), each adult office's floor from the ledger's last date."""
        return build_holders(self.keyed, self.adult_born_by)

    @cached_property
    def adult_born_by(self) -> float | None:
        """The latest birth year of an adult at the ledger's last date (identity.ages)."""
        return adult_floor(last_year(self.keyed.get("projects")))

    @cached_property
    def supplier_rows(self) -> dict[Any, list[int]]:
        """Row positions of each organisation in the supplier table."""
        rows: dict[Any, list[int]] = {}
        if "suppliers" in self.keyed:
            for i, org in enumerate(self.keyed["suppliers"]["org_key"]):
                rows.setdefault(org, []).append(i)
        return rows

    @cached_property
    def name_commonness(self) -> pd.Series:
        """How common each normalised name is, over the kin side and the role holders, each
        person counted once (:attr:`named_people`)."""
        return name_frequencies(self.named_people, more=self.registry_names)

    @cached_property
    def registry_names(self) -> NameCounts | None:
        """The people of the registry's organisations this dataset does not hold, by given
        name (None without a registry held elsewhere)."""
        if self.registry is None:
            return None
        return self.registry.names(self.named_people)

    @cached_property
    def named_people(self) -> pd.DataFrame:
        """One row (``person``, ``name_norm``) per distinct person of the kin side and the
        role holders: the population a name's commonness is counted in. A legal
        representative who is also the shareholder and the manager, named in the supplier
        table and the people table, is one person, not four mentions: counted per row, the
        names of the very people the rules screen (those with many roles) would look several
        times commoner than they are, and a match on them weaker. A person is their key (an
        ID number where one is known); a holder without a number is one person per
        organisation and name (:func:`holder_persons`)."""
        h = self.holders
        holder_person = holder_persons(h)
        # a registry row's bare mention (reg:) is counted once per name, as one person: three
        # rows naming 李蓉翠 without a number are not three more 李蓉翠s
        keys = pd.Series(self.people.index.astype(str), index=self.people.index)
        person = keys.where(~keys.str.startswith("reg:"), "bare:" + self.people["name_norm"])
        both = pd.concat(
            [
                pd.DataFrame({"person": person.to_numpy(), "name_norm": self.people["name_norm"]}),
                pd.DataFrame({"person": holder_person, "name_norm": h["name_norm"]}),
            ],
            ignore_index=True,
        )
        return both.drop_duplicates(subset=["person", "name_norm"]).reset_index(drop=True)

    def name_of(self, key: str) -> str:
        name = self._name_by_key.get(key)
        return str(name) if name is not None else key.split(":", 1)[-1]


def holder_persons(h: pd.DataFrame) -> pd.Series:
    """Who each holder row is, as a name's commonness counts people: the key where the ID
    number is valid, else one person per organisation and name."""
    person: pd.Series = h["key"].where(
        h["id_valid"], h["org_key"].astype(str) + "|" + h["name_norm"].astype(str)
    )
    return person


def sex_neutral_codes(links: pd.DataFrame) -> pd.Series:
    """Each link's code, with the sex taken out of a one-step code whose term contradicts
    the sexes the ID numbers give (a registry row calling a woman's spouse 妻子, or a woman
    哥哥): the relation (spouse, parent, child, sibling, with the age) is what the row
    records and what the legal category turns on; read literally, the row would name an
    impossible relative and the link would silently vanish from every path."""
    codes = links["code"].astype(str)
    out = codes.copy()
    for code in codes.unique():
        try:
            path = parse_code(code)
        except (KeyError, ValueError):
            continue
        if len(path) != 1 or path[0].sex is None:
            continue
        step = path[0]
        at = codes == code
        dst = links["dst_sex"][at]
        bad = dst.notna() & (dst != step.sex)
        if step.kind == "spouse":
            src = links["src_sex"][at]
            bad |= src.notna() & (src == step.sex)
        if bad.any():
            neutral = Step(step.kind, None, step.age, step.fictive).fictive_code
            out[bad[bad].index] = neutral
    return out


def implied_births(birth: pd.Series, links: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """The earliest and latest birth year of each person (``birth`` indexed by key) whose
    own birth date is missing, implied by the kin rows that tie him or her to someone whose
    birth date is known: a son declared by a father born in 1973 was born between 1986 and
    2038 (:func:`graph.kinship.birth_gap`). A row whose term stands for several paths allows
    any of them; several rows narrow the range; rows that contradict each other leave it
    open (NaN). Keys with a birth date of their own, or no such row, get NaN."""
    year = birth.dt.year.astype(float)
    nan = pd.Series(np.nan, index=birth.index)
    if links.empty or year.isna().all():
        return nan, nan.copy()
    codes = links["code"].astype(str)
    gaps = {c: birth_gap(c) or (-np.inf, np.inf) for c in codes.unique()}
    glo = codes.map(lambda c: gaps[c][0]).to_numpy(dtype=float)
    ghi = codes.map(lambda c: gaps[c][1]).to_numpy(dtype=float)
    sy = links["src"].map(year).to_numpy(dtype=float)
    dy = links["dst"].map(year).to_numpy(dtype=float)
    row = (links["table"].astype(str) + ":" + links["row"].astype(str)).to_numpy()
    # the relative (dst) from the speaker's year, the speaker (src) from the relative's
    to_dst = np.isnan(dy) & ~np.isnan(sy)
    to_src = np.isnan(sy) & ~np.isnan(dy)
    ranges = pd.concat(
        [
            pd.DataFrame(
                {
                    "key": links["dst"].to_numpy()[to_dst],
                    "row": row[to_dst],
                    "lo": (sy + glo)[to_dst],
                    "hi": (sy + ghi)[to_dst],
                }
            ),
            pd.DataFrame(
                {
                    "key": links["src"].to_numpy()[to_src],
                    "row": row[to_src],
                    "lo": (dy - ghi)[to_src],
                    "hi": (dy - glo)[to_src],
                }
            ),
        ],
        ignore_index=True,
    )
    if ranges.empty:
        return nan, nan.copy()
    # one row's alternatives: any of them; the rows together: all of them
    per_row = ranges.groupby(["key", "row"], sort=False).agg(lo=("lo", "min"), hi=("hi", "max"))
    per_key = per_row.groupby(level=0).agg(lo=("lo", "max"), hi=("hi", "min"))
    per_key = per_key[np.isfinite(per_key["lo"]) & np.isfinite(per_key["hi"])]
    per_key = per_key[per_key["lo"] <= per_key["hi"]]
    return per_key["lo"].reindex(birth.index), per_key["hi"].reindex(birth.index)


def build_holders(keyed: dict[str, pd.DataFrame], born_by: float | None = None) -> pd.DataFrame:
    """Every (organisation, person, role) with the person's attributes and source row, from
    the keyed supplier table and supplier_people table. Each organisation's holders depend on
    its own rows only, so a registry held elsewhere (on Spark) builds them organisation by
    organisation with this very function. ``born_by``: the latest birth year of an adult in
    the data (identity.ages), the floor of an office only an adult holds."""
    t = keyed
    parts: list[pd.DataFrame] = []
    if "suppliers" in t:
        su = t["suppliers"]
        for role, key_col, name_col, id_col in (
            ("法定代表人", "legal_rep_key", "legal_rep_name", "legal_rep_id_number"),
            ("负责人", "responsible_key", "responsible_person", None),
        ):
            if key_col not in su:
                continue
            # the 负责人 is the legal representative when the row names them alike
            # (identity.py gives them one key): the row's ID number is theirs too
            ids = su.get("legal_rep_id_number")
            valid = su.get("legal_rep_id_number_valid", pd.Series(False, index=su.index))
            if id_col is None:
                same = su[key_col] == su["legal_rep_key"]
                ids = ids.where(same) if ids is not None else None
                valid = valid.where(same, False)
            part = pd.DataFrame(
                {
                    "org_key": su["org_key"],
                    "org_name": su["supplier_name"],
                    "key": su[key_col],
                    "name": su[name_col],
                    "id_number": ids,
                    "id_valid": valid,
                    "phone": None,
                    "role": role,
                    "share": None,
                    "file": su["_file"],
                    "row": su["_row"],
                    "table": "suppliers",
                }
            )
            parts.append(part)
    if "supplier_people" in t:
        sp = t["supplier_people"]
        parts.append(
            pd.DataFrame(
                {
                    "org_key": sp["org_key"],
                    "org_name": sp["supplier_name"] if "supplier_name" in sp else sp["org_key"],
                    "key": sp["person_key"],
                    "name": sp["name"],
                    "id_number": sp.get("id_number", None),
                    "id_valid": sp.get("id_number_valid", False),
                    "phone": None,
                    "role": sp["role"].astype(str),
                    "share": sp.get("share_ratio", None),
                    "file": sp["_file"],
                    "row": sp["_row"],
                    "table": "supplier_people",
                }
            )
        )
    # a table with a header and no rows holds no holder
    parts = [p for p in parts if not p.empty]
    if not parts:
        return pd.DataFrame(
            columns=[
                "org_key",
                "org_name",
                "key",
                "name",
                "id_number",
                "id_valid",
                "phone",
                "role",
                "share",
                "file",
                "row",
                "table",
                "name_nfkc",
                "name_norm",
                "birth",
                "sex",
                ADULT_BY,
            ]
        )
    h = pd.concat([p.astype(object) for p in parts], ignore_index=True)
    h = h.dropna(subset=["org_key", "key", "name"])
    h["id_valid"] = filled(h["id_valid"], False).astype(bool)
    # the names' normalised forms, once per distinct name (prepare keeps them)
    names = h["name"].unique()
    written, comparable = person_names([str(v) for v in names])
    h["name_nfkc"] = h["name"].map(dict(zip(names, written, strict=True)))
    h["name_norm"] = h["name"].map(dict(zip(names, comparable, strict=True)))
    # within one organisation, a name is one person: a row without an ID number takes the
    # number another row of the same organisation gives that name (the supplier table
    # names the legal representative bare, the people table with his number), where the
    # rows give exactly one valid number for it
    with_id = h[h["id_valid"]].groupby(["org_key", "name_norm"])["id_number"]
    known = with_id.first().astype(str)[with_id.nunique() == 1]
    if len(known):
        fill = pd.Series(
            h[["org_key", "name_norm"]]
            .merge(known.rename("_fill").reset_index(), how="left")["_fill"]
            .to_numpy(),
            index=h.index,
        )
        take = ~h["id_valid"] & fill.notna()
        h.loc[take, "id_number"] = fill[take]
        h.loc[take, "id_valid"] = True
        h.loc[take, "key"] = "id:" + fill[take].astype(str)
    # one row per (organisation, person, role): the supplier table and the people table
    # often both name the legal representative
    h = h.sort_values(["id_valid"], ascending=False, kind="stable")
    h = h.drop_duplicates(subset=["org_key", "key", "role"]).sort_index()
    out = with_adult_floor(prepare(h.reset_index(drop=True), with_pinyin=False), born_by)
    last = ["name_nfkc", "name_norm", "birth", "sex", ADULT_BY]
    return out[[*(c for c in out.columns if c not in last), *last]]
