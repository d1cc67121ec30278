"""A registry held elsewhere: the suppliers' people (person-role records) of a whole city or
province, too many for this process, held and searched by another engine (Spark:
:class:`integrity.spark.registry.SparkRegistry`).

The dataset then holds only the registry's rows of the organisations its own tables name
(the supplier table, the ledger's winners, the quotes' bidders) and of the names its keys
need; everything else stays where the registry is held. A screening asks the registry for
what the default engine would have counted or met in the rows it does not hold:

- :meth:`Registry.names`: how many people the other organisations' holders are, by given
  name (a name's commonness counts every person, wherever held);
- :meth:`Registry.roster`: for a roster-wide screening (every organisation of the registry),
  how many distinct valid ID numbers the other organisations' holders in the roles carry
  (the prior's pairs), and whether any carries a birth date or a phone (what a match could
  add: :func:`integrity.identity.blocking.headroom`);
- :meth:`Registry.meeting`: the rows of the organisations whose holders share a blocking key
  with an official's kin, found where the registry is held; the default engine then scores
  them, so both engines judge alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import pandas as pd

from integrity.identity.family import COUNTY
from integrity.identity.mentions import NameCounts


@dataclass(frozen=True)
class RosterCounts:
    """What the registry's other organisations' holders in some roles add to a roster."""

    ids: int  # distinct valid ID numbers, none of those already counted
    birth: bool  # any holder with a birth date
    birth_no_id: bool  # any with a birth date and no valid ID number
    phone: bool  # any with a phone


class Registry(Protocol):
    """The registry's rows the dataset does not hold (see the module's docstring)."""

    name: str

    def names(self, known: pd.DataFrame) -> NameCounts:
        """The holder persons (``person``, ``name_norm``) of the organisations the dataset
        does not hold, other than the ``known`` ones (a person is a key, or ``org|name`` for
        a holder without an ID number: tables.holder_persons)."""
        ...

    def roster(self, roles: tuple[str, ...], known_ids: pd.Index) -> RosterCounts: ...

    def meeting(self, keys: pd.DataFrame, roles: tuple[str, ...], skip: pd.Index) -> pd.DataFrame:
        """The keyed supplier_people rows (as the dataset's) of the organisations, other than
        those in ``skip`` and those the dataset holds, with a holder in ``roles`` sharing a
        blocking key with ``keys`` (``level``: key, name, pinyin or edit; ``b``: the value)."""
        ...


def as_other(right: pd.DataFrame, more: RosterCounts | None) -> pd.DataFrame:
    """The rows ``right`` as the other side of a viability test sees them
    (:func:`integrity.identity.blocking.headroom` asks only whether some row has a birth date,
    one without an ID number, a phone), with a row standing for each kind the registry's
    other holders have and ``right`` lacks. A company's county, and a number a check's
    request gave, are kept where ``right`` has them (identity.family.family_headroom)."""
    cols = ["birth", "id_valid", "phone", *(c for c in (COUNTY, "fam_blind") if c in right)]
    other = right[cols].reset_index(drop=True)
    if more is None:
        return other
    born = pd.Timestamp("1970-01-01")
    extra = []
    if more.birth:
        extra.append({"birth": born, "id_valid": True, "phone": None})
    if more.birth_no_id:
        extra.append({"birth": born, "id_valid": False, "phone": None})
    if more.phone:
        extra.append({"birth": pd.NaT, "id_valid": True, "phone": "0"})
    if extra:
        other = pd.concat([other, pd.DataFrame(extra)], ignore_index=True)
    # a missing ID number's validity is no ID number (as the loader gives it)
    other["id_valid"] = other["id_valid"].eq(True)
    return other
