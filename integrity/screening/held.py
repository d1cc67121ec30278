"""A roster-wide screening's role holders where the registry is held elsewhere: the holders
the dataset holds, and those of the registry's other organisations that meet an official's
kin, found where the registry is held (:class:`~integrity.screening.registry.Registry`) and
then built, counted and scored by the default engine's own code.

Which of the registry's holders can meet a relative is decided as the default engine decides
it (:meth:`integrity.screening.kin.Screening._meeting`): the same person key, or a name
level (the normalised name, its pinyin, a one-deletion form) at which the relative's name
could reach the floor at all. The prior that decides the levels counts the registry's ID
numbers too, and a registry holder who is a relative by ID number is met by key before it,
so the prior is the default engine's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from integrity.identity.blocking import deletions, lowered_need, viable_levels
from integrity.identity.mentions import NameShares, pinyin_of
from integrity.screening.registry import Registry, RosterCounts, as_other
from integrity.screening.tables import build_holders

KEY_LEVEL = "key"


@dataclass
class HeldRight:
    """The right side of a roster-wide match: the holder rows, what the registry's other
    holders add to its counts, and the name commonness of every name in it."""

    right: pd.DataFrame
    more: RosterCounts
    frequencies: pd.Series


def block_keys(people: pd.DataFrame, levels: dict[str, pd.Series] | None) -> pd.DataFrame:
    """The blocking keys (``level``, ``b``) of prepared people: their keys, and at each name
    level where ``levels`` says their name could reach the floor, the name's form there."""
    parts = [pd.DataFrame({"level": KEY_LEVEL, "b": people.index.astype(str)})]
    if levels is not None:
        names = people["name_norm"]
        parts.append(pd.DataFrame({"level": "name", "b": names[levels["name"]].to_numpy()}))
        parts.append(
            pd.DataFrame({"level": "pinyin", "b": pinyin_of(names[levels["pinyin"]]).to_numpy()})
        )
        edits = names[levels["edit"]].map(deletions).explode().dropna()
        parts.append(pd.DataFrame({"level": "edit", "b": edits.to_numpy()}))
    keys = pd.concat(parts, ignore_index=True).dropna()
    return keys.astype({"b": str}).drop_duplicates().reset_index(drop=True)


def registry_right(
    registry: Registry,
    right: pd.DataFrame,
    *,
    people: pd.DataFrame,
    context: pd.DataFrame,
    roles: tuple[str, ...],
    commonness: pd.Series,
    shares: NameShares,
    prior_of: Callable[[pd.DataFrame, int], float],
    floor: float,
    stated_in: str,
    born_by: float | None = None,
) -> HeldRight:
    """``right`` (the dataset's holders in ``roles``, prefixed as kin_in_roles has them) with
    the registry's holders who meet ``people`` (the officials' relatives, prepared).
    ``context``: the one row of context columns every holder is met in;
    ``prior_of(right, more_ids)``: the prior the match uses, counted on a right side;
    ``born_by``: the adult offices' floor (identity.ages), as the dataset's holders have it."""
    fetched: list[pd.DataFrame] = [right]
    seen = pd.Index(right["org_key"].unique())
    # a relative by ID number (or by any key) first: the prior counts those matches
    by_key = _holders(
        registry.meeting(block_keys(people, None), roles, seen), roles, context, born_by
    )
    fetched.append(by_key)
    now = _joined(fetched)
    if len(by_key):
        seen = seen.union(pd.Index(by_key["org_key"].unique()))
    more = registry.roster(roles, _ids(now))
    prior = prior_of(now, more.ids)
    # the family's places could lift a relative's link (identity.family): a lower need
    lift = people["fam_lift"].fillna(0.0) if "fam_lift" in people else pd.Series(0.0, people.index)
    need = lowered_need(prior, floor, stated_in, lift.to_numpy())
    levels = viable_levels(people, commonness, need, as_other(now, more))
    by_name = _holders(
        registry.meeting(block_keys(people, levels), roles, seen), roles, context, born_by
    )
    # the registry's numbers now held here are no longer counted there
    added = len(_ids(by_name).difference(_ids(now)))
    more = RosterCounts(more.ids - added, more.birth, more.birth_no_id, more.phone)
    # in the order met: a notice groups one official and one holder, whose roles come from
    # one organisation's rows (in their order, as build_holders gives them), and the
    # findings are sorted, so the order of the organisations changes nothing
    both = _joined([now, by_name])
    names = both["name_norm"].dropna().unique()
    unseen = [n for n in names if n not in commonness.index]
    frequencies = commonness
    if unseen:
        extra = pd.Series([shares.u(n) for n in unseen], index=unseen, dtype=float)
        frequencies = pd.concat([commonness, extra])
    return HeldRight(both, more, frequencies)


def _holders(
    rows: pd.DataFrame, roles: tuple[str, ...], context: pd.DataFrame, born_by: float | None
) -> pd.DataFrame:
    """The registry rows' holders in ``roles``, built by the default engine's builder, with
    the context columns and the source columns prefixed as kin_in_roles has them."""
    if rows.empty:
        return pd.DataFrame()
    h = build_holders({"supplier_people": rows}, born_by)
    h = h[h["role"].isin(roles)]
    h = h.rename(columns={"file": "h_file", "row": "h_row", "table": "h_table"})
    for col in context.columns:
        h[col] = context[col].iloc[0]
    return h.reset_index(drop=True)


def _joined(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """The frames one after another, the empty ones left out so that the columns keep the
    types the rows give them."""
    kept = [f for f in frames if len(f)]
    return pd.concat(kept, ignore_index=True) if kept else frames[0]


def _ids(right: pd.DataFrame) -> pd.Index:
    if right.empty:
        return pd.Index([])
    valid = right["id_valid"].astype(bool)
    ids: pd.Index = pd.Index(right.loc[valid, "id_number"].astype(str).unique())
    return ids
