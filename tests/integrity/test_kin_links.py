"""Registry and declaration rows whose kin term contradicts the sexes the ID numbers give."""

from __future__ import annotations

import pandas as pd

from graph.expand import expand
from integrity.screening.tables import sex_neutral_codes


def links(rows: list[tuple[str, str, str, str | None, str | None]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["src", "dst", "code", "src_sex", "dst_sex"]).assign(
        link_id=[f"l{i}" for i in range(len(rows))], conf=1.0
    )


def test_a_term_against_the_id_numbers_keeps_the_relation_not_the_sex() -> None:
    frame = links(
        [
            ("A", "B", "w", "女", "女"),  # a woman's 妻子: her spouse
            ("A", "C", "ob", "女", "女"),  # a 哥哥 the ID number says is a woman
            ("A", "D", "f*", None, "女"),  # a 继父 who is a woman: a step-parent
            ("A", "E", "w", "男", "女"),  # as it should be: unchanged
            ("A", "F", "f,ob", "女", "女"),  # a longer path: left as written
            ("A", "G", "ls", None, None),  # no sex known: unchanged
        ]
    )
    assert sex_neutral_codes(frame).tolist() == ["sp", "o", "p*", "w", "f,ob", "ls"]


def test_the_neutral_link_still_reaches_the_relatives_beyond_it() -> None:
    # an official (a woman) whose registry row calls her spouse 妻子, and the spouse's
    # brother: read literally both vanish (a woman's wife is impossible)
    frame = links([("A", "B", "w", "女", "男"), ("B", "C", "ob", "男", "男")])
    officials = pd.DataFrame({"key": ["A"], "sex": ["女"]})
    literal = expand(officials, frame)
    assert literal.empty
    fixed = expand(officials, frame.assign(code=sex_neutral_codes(frame)))
    assert dict(zip(fixed["relative"], fixed["category"], strict=True)) == {
        "B": "配偶",
        "C": "近姻亲",
    }
