"""Identity keys for the graph: which rows are the same person or the same organisation.

This is the deterministic core the resolver builds on (issue 3 adds fuzzy and contextual
matching with confidences). Keys, strongest first:

- a person with a valid resident ID number is ``id:<number>`` wherever it appears;
- an official without one is the holder of the valid number carried elsewhere by the same
  name and birth date (when exactly one such number exists), else ``staff:<staff_id>``;
- a declared relative without one is ``decl:<staff_id>:<name>`` (the declaring official
  vouches only for his own relative);
- a person named without one in a registry row is ``reg:<file>#<row>:<name>`` (the row
  vouches only for its own two people);
- anyone else without one (a role holder) is ``name:<normalised name>``;
- an organisation with a valid USCC is ``uscc:<code>``, else ``org:<normalised name>``.

No two different valid ID numbers or USCCs ever share a key, whatever the names; rows that
carry no number are never joined by name alone: the resolver scores them (bridges between
kin-side keys, contexts between relatives and role holders).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from graph.kinship import chain_paths, code_of
from integrity.identity.ids import ric_birth_date
from integrity.identity.mentions import filled, sex_from_ids
from integrity.identity.names import org_names, person_name, person_names
from integrity.load.dataset import Dataset


def _spread(values: pd.Series, fn_many: Any) -> pd.Series:
    """``fn_many`` on the list of distinct non-missing values, its results spread back to
    the rows (None where the value is missing)."""
    codes, distinct = pd.factorize(values)
    results = np.empty(len(distinct) + 1, dtype=object)
    results[:-1] = fn_many(list(distinct))
    results[-1] = None
    return pd.Series(results[codes], index=values.index, dtype=object)


def _name_keys(names: list[Any]) -> list[str | None]:
    """``name:`` keys of many names, with one OpenCC call (names.person_names)."""
    given = [str(n) for n in names]
    _, comparable = person_names(given)
    return ["name:" + c if g.strip() else None for g, c in zip(given, comparable, strict=True)]


def person_keys(frame: pd.DataFrame, id_col: str, name_col: str) -> pd.Series:
    """``id:`` where the ID number is valid, else ``name:`` (None where neither is given)."""
    valid = frame.get(f"{id_col}_valid", pd.Series(False, index=frame.index)).fillna(False)
    by_id = "id:" + frame[id_col].astype("string") if id_col in frame else None
    by_name = (
        _spread(frame[name_col].where(~valid.astype(bool)), _name_keys)
        if name_col in frame
        else pd.Series(None, index=frame.index)
    )
    if by_id is None:
        return by_name.astype(object)
    return by_id.where(valid.astype(bool), by_name).astype(object)


def org_keys(
    frame: pd.DataFrame, uscc_col: str = "uscc", name_col: str = "supplier_name"
) -> pd.Series:
    valid = frame.get(f"{uscc_col}_valid", pd.Series(False, index=frame.index)).fillna(False)
    by_name = (
        _spread(
            frame[name_col].where(~valid.astype(bool)),
            lambda names: ["org:" + c for c in org_names([str(n) for n in names])[1]],
        )
        if name_col in frame
        else pd.Series(None, index=frame.index)
    )
    if uscc_col not in frame:
        return by_name.astype(object)
    return (
        ("uscc:" + frame[uscc_col].astype("string"))
        .where(valid.astype(bool), by_name)
        .astype(object)
    )


def sex_of(frame: pd.DataFrame, id_col: str, gender_col: str | None = None) -> pd.Series:
    """男/女 from the gender column where given, else from a valid ID number."""
    from_id = (
        sex_from_ids(frame[id_col].where(frame[f"{id_col}_valid"].fillna(False).astype(bool)))
        .where(lambda sex: sex.notna(), None)
        .astype(object)
        if id_col in frame
        else pd.Series(None, index=frame.index)
    )
    if gender_col and gender_col in frame:
        return frame[gender_col].where(frame[gender_col].notna(), from_id).astype(object)
    return from_id.astype(object)


def _codes(term: Any) -> list[str]:
    """The path codes a declared term or chain stands for (表哥: three, 岳父: one)."""
    return [code_of(p) for p in chain_paths(str(term))]


def _codes_of(terms: pd.Series) -> pd.Series:
    """_codes once per distinct term (a registry of 300,000 rows uses a few dozen terms)."""
    return terms.map({t: _codes(t) for t in terms.dropna().unique()})


_ID_COLUMNS = {
    "staff": [("name", "id_number")],
    "relatives": [("relative_name", "relative_id_number")],
    "family_links": [("person_name", "person_id_number"), ("relative_name", "relative_id_number")],
    "supplier_people": [("name", "id_number")],
    "suppliers": [("legal_rep_name", "legal_rep_id_number")],
}


def _name_birth_index(ds: Dataset, wanted: set[str]) -> dict[tuple[str, object], str]:
    """(normalised name, birth date) -> ``id:`` key, over every valid ID number in the data
    carried by one of the ``wanted`` names, kept only where the pair names one number (two
    holders: no guess)."""
    seen: dict[tuple[str, object], set[str]] = {}
    for table, pairs in _ID_COLUMNS.items():
        frame = ds.tables.get(table)
        if frame is None:
            continue
        for name_col, id_col in pairs:
            if name_col not in frame or f"{id_col}_valid" not in frame:
                continue
            valid = frame[frame[f"{id_col}_valid"].fillna(False).astype(bool)]
            names = valid[name_col].map(lambda v: person_name(str(v)) if pd.notna(v) else None)
            take = names.isin(wanted)
            for name, number in zip(names[take], valid.loc[take, id_col], strict=True):
                born = ric_birth_date(str(number))
                if born is not None:
                    seen.setdefault((name, born), set()).add(f"id:{number}")
    return {k: next(iter(v)) for k, v in seen.items() if len(v) == 1}


def with_identity_keys(ds: Dataset) -> dict[str, pd.DataFrame]:
    """Copies of the dataset's tables with the key columns graph.build_graph reads."""
    t = {name: frame.copy() for name, frame in ds.tables.items()}
    staff = t["staff"]
    staff["person_key"] = person_keys(staff, "id_number", "name")
    staff["person_key"] = staff["person_key"].where(
        staff.get("id_number_valid", pd.Series(False, index=staff.index))
        .fillna(False)
        .astype(bool),
        "staff:" + staff["staff_id"].astype(str),
    )
    # an official without a usable ID number but with a birth date is the holder of the one
    # valid ID number elsewhere in the dataset with the same name and birth date
    bare = staff["person_key"].astype(str).str.startswith("staff:")
    wanted = (
        set(
            staff.loc[bare & staff["birth_date"].notna(), "name"].map(lambda v: person_name(str(v)))
        )
        if "birth_date" in staff
        else set()
    )
    by_birth = _name_birth_index(ds, wanted) if wanted else {}
    if "birth_date" in staff and by_birth:
        keys = [
            by_birth.get((person_name(str(n)), b.date()), k)
            if str(k).startswith("staff:") and pd.notna(b)
            else k
            for n, b, k in zip(staff["name"], staff["birth_date"], staff["person_key"], strict=True)
        ]
        staff["person_key"] = pd.Series(keys, index=staff.index, dtype=object)
    staff["sex"] = sex_of(staff, "id_number", "gender")
    if "relatives" in t:
        rel = t["relatives"]
        valid = rel.get("relative_id_number_valid", pd.Series(False, index=rel.index))
        decl = (
            "decl:"
            + rel["staff_id"].astype(str)
            + ":"
            + rel["relative_name"].map(lambda v: person_name(str(v)))
        )
        rel["person_key"] = (
            ("id:" + rel["relative_id_number"].astype("string"))
            .where(valid.fillna(False).astype(bool), decl)
            .astype(object)
            if "relative_id_number" in rel
            else decl
        )
        rel["sex"] = sex_of(rel, "relative_id_number") if "relative_id_number" in rel else None
        rel["codes"] = _codes_of(rel["relation"])
    if "family_links" in t:
        fl = t["family_links"]
        # a registry row vouches for the people it names, not for everyone of their name: a
        # side without a valid number is that row's person (the resolver's bridges join it
        # to others where the name and what else is known decide), never a name key shared
        # by every bare 王建 of the registry (two unrelated families joined at confidence 1)
        row = "reg:" + fl["_file"].astype(str) + "#" + fl["_row"].astype(str) + ":"
        for side in ("person", "relative"):
            found = person_keys(fl, f"{side}_id_number", f"{side}_name")
            bare = found.astype(str).str.startswith("name:")
            fl[f"{side}_key"] = found.where(~bare, row + found.astype(str).str[5:])
        fl["person_sex"] = sex_of(fl, "person_id_number") if "person_id_number" in fl else None
        fl["relative_sex"] = (
            sex_of(fl, "relative_id_number") if "relative_id_number" in fl else None
        )
        fl["codes"] = _codes_of(fl["relation"])
    fixed: dict[str, pd.Series] = {}
    if "supplier_people" in t:
        sp = t["supplier_people"]
        fixed["supplier_people"] = key_supplier_people(sp)
    if "suppliers" in t:
        su = t["suppliers"]
        su["org_key"] = org_keys(su)
        su["legal_rep_key"] = person_keys(su, "legal_rep_id_number", "legal_rep_name")
        su["legal_rep_key_sex"] = (
            sex_of(su, "legal_rep_id_number") if "legal_rep_id_number" in su else None
        )
        if "responsible_person" in su:
            same = su["responsible_person"].map(
                lambda v: None if pd.isna(v) else person_name(str(v))
            ) == su["legal_rep_name"].map(lambda v: None if pd.isna(v) else person_name(str(v)))
            su["responsible_key"] = su["legal_rep_key"].where(
                same, _spread(su["responsible_person"], _name_keys)
            )
    if "projects" in t:
        t["projects"]["org_key"] = org_keys(t["projects"])
    if "quotes" in t:
        t["quotes"]["org_key"] = org_keys(t["quotes"])
    _name_to_uscc(t, fixed)
    return t


# a registry's rows keyed where the registry is held (integrity.spark.registry) carry their
# organisation's key here: keyed there against every row of the registry, it is kept as is
ENGINE_ORG_KEY = "_org_key"


def key_supplier_people(sp: pd.DataFrame) -> pd.Series:
    """Key a supplier_people table in place (person, sex, organisation); returns the rows
    whose organisation key was given by the engine that holds the registry (kept as is)."""
    sp["person_key"] = person_keys(sp, "id_number", "name")
    sp["sex"] = sex_of(sp, "id_number") if "id_number" in sp else None
    sp["org_key"] = org_keys(sp)
    given = pd.Series(False, index=sp.index)
    if ENGINE_ORG_KEY in sp:
        given = sp[ENGINE_ORG_KEY].notna()
        sp["org_key"] = sp[ENGINE_ORG_KEY].where(given, sp["org_key"])
        sp.drop(columns=[ENGINE_ORG_KEY], inplace=True)
    return given


def _name_to_uscc(t: dict[str, pd.DataFrame], fixed: dict[str, pd.Series] | None = None) -> None:
    """An organisation written without a valid USCC is the holder of the one valid USCC its
    normalised name carries elsewhere in the dataset (two USCCs for one name: no guess).
    ``fixed``: by table, rows whose key is final already (keyed against a whole registry)."""
    framed = [f for f in t.values() if "org_key" in f and len(f)]
    fixed_rows = {id(t[name]): mask for name, mask in (fixed or {}).items() if name in t}
    if not framed:
        return
    keys = pd.concat([f["org_key"] for f in framed], ignore_index=True).dropna()
    names = pd.concat(
        [f["supplier_name"] if "supplier_name" in f else f["org_key"] * 0 for f in framed],
        ignore_index=True,
    )
    # each (key, name) once: a city's 600,000 rows name about 100,000 organisations
    named = pd.DataFrame({"key": keys, "name": names.reindex(keys.index)}).drop_duplicates()
    pairs = uscc_names(named["key"], named["name"])
    if pairs.empty:
        return
    by_written = _unique_code(pairs, "written")
    by_core = _unique_code(pairs, "core")
    for frame in framed:
        bare = frame["org_key"].astype("string").str.startswith("org:").fillna(False).astype(bool)
        if id(frame) in fixed_rows:
            bare &= ~fixed_rows[id(frame)]
        if not bare.any():
            continue
        written = (
            _spread(frame.loc[bare, "supplier_name"], lambda n: org_names([str(v) for v in n])[0])
            if "supplier_name" in frame
            else pd.Series(None, index=frame.index[bare], dtype=object)
        )
        # filled: without pandas' silent downcasting of an all-missing step (deprecated)
        frame.loc[bare, "org_key"] = filled(
            filled(written.map(by_written), frame.loc[bare, "org_key"].map(by_core)),
            frame.loc[bare, "org_key"],
        )


def uscc_names(keys: pd.Series, names: pd.Series) -> pd.DataFrame:
    """The rows with a USCC key and a name: ``key``, ``name``, and the name ``written`` (as
    written, cleaned) and its ``core`` (``org:`` + the core): an organisation written
    without a USCC takes the one its written name carries, else the one its core carries
    (深圳市阳光社工 and 深圳市龙岗区阳光社工 may be two organisations with one core)."""
    pairs = pd.DataFrame({"key": keys, "name": names}).dropna()
    pairs = pairs[pairs["key"].astype(str).str.startswith("uscc:")]
    if pairs.empty:
        return pairs.assign(written=[], core=[])
    both = _spread(pairs["name"], lambda n: list(zip(*org_names([str(v) for v in n]), strict=True)))
    pairs["written"] = both.str[0]
    pairs["core"] = "org:" + both.str[1]
    return pairs


def _unique_code(pairs: pd.DataFrame, by: str) -> pd.Series:
    """The one USCC key each name carries (names carrying two: left out, no guess)."""
    codes = pairs.drop_duplicates([by, "key"]).groupby(by)["key"]
    return codes.first()[codes.nunique() == 1]
