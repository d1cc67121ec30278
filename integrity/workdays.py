"""Working days as the programmes count them: China's statutory holidays and make-up working
days (调休) from the ``chinesecalendar`` package, which publishes each year's official
arrangement. For a year it does not know yet, Monday to Friday, and the answer says so."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache

import chinese_calendar


@lru_cache(maxsize=8192)
def is_workday(day: dt.date) -> tuple[bool, bool]:
    """(a working day, by the official calendar): the second is False when the calendar does
    not cover the year and the answer is Monday-to-Friday only."""
    try:
        return bool(chinese_calendar.is_workday(day)), True
    except NotImplementedError:
        return day.weekday() < 5, False


@dataclass(frozen=True)
class Span:
    """A count of working days, and whether every day of it was read from the official
    calendar (False: some year was counted Monday to Friday)."""

    days: int
    official: bool


def add_working_days(start: dt.date, n: int) -> tuple[dt.date, bool]:
    """The n-th working day after ``start`` (the deadline of "within n working days")."""
    day, official, left = start, True, n
    while left > 0:
        day += dt.timedelta(days=1)
        work, known = is_workday(day)
        official &= known
        left -= work
    return day, official


def working_days(first: dt.date, last: dt.date) -> Span:
    """Working days from ``first`` to ``last``, both counted (a publicity period's length)."""
    count, official, day = 0, True, first
    while day <= last:
        work, known = is_workday(day)
        count += work
        official &= known
        day += dt.timedelta(days=1)
    return Span(count, official)


CALENDAR_NOTE = "（该年度的法定节假日安排尚未收录，按周一至周五计算工作日）"
