"""The calendar of a run: steps of a month or a quarter, each mapped to dates, starting on the 2010 census day.

Step boundaries are the 2010 census day (2010-11-01), then the first day of every month (``step_months=1``) or
calendar quarter (``step_months=3``), plus the 2020 census day (2020-11-01) so both census days are states the
model records. A step therefore lasts one, two or three months; phases scale yearly rates by its length.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cached_property

__all__ = ["Clock", "CENSUS_DAYS"]

CENSUS_DAYS = (dt.date(2010, 11, 1), dt.date(2020, 11, 1))


def _months_between(a: dt.date, b: dt.date) -> int:
    return (b.year - a.year) * 12 + (b.month - a.month)


@dataclass(frozen=True)
class Clock:
    """Boundaries of the steps from the 2010 census day to the end of ``end_year``."""

    end_year: int
    step_months: int = 3

    @cached_property
    def boundaries(self) -> tuple[dt.date, ...]:
        """Dates between steps: step ``i`` runs from ``boundaries[i]`` to ``boundaries[i+1]``."""
        out = [CENSUS_DAYS[0]]
        date = dt.date(2011, 1, 1)
        while date <= dt.date(self.end_year + 1, 1, 1):
            if out[-1] < CENSUS_DAYS[1] < date:
                out.append(CENSUS_DAYS[1])
            out.append(date)
            month = date.month - 1 + self.step_months
            date = dt.date(date.year + month // 12, month % 12 + 1, 1)
        return tuple(out)

    @property
    def n_steps(self) -> int:
        """Number of steps of the run."""
        return len(self.boundaries) - 1

    def start(self, step: int) -> dt.date:
        """The first day of step ``step``."""
        return self.boundaries[step]

    def end(self, step: int) -> dt.date:
        """The first day after step ``step`` (the date of the state the step leaves)."""
        return self.boundaries[step + 1]

    def months(self, step: int) -> int:
        """Length of step ``step`` in months."""
        return _months_between(self.boundaries[step], self.boundaries[step + 1])

    def month_index(self, date: dt.date) -> int:
        """Months since January 1950 (the model's integer month count, used for birth months)."""
        return (date.year - 1950) * 12 + date.month - 1

    def contains_month(self, step: int, month: int) -> bool:
        """Whether calendar month ``month`` (1–12) falls in step ``step``."""
        start = self.boundaries[step]
        for k in range(self.months(step)):
            if (start.month - 1 + k) % 12 + 1 == month:
                return True
        return False

    def ends_year(self, step: int) -> bool:
        """Whether step ``step`` ends on a 1 January (its end state is a year-end state)."""
        end = self.boundaries[step + 1]
        return end.month == 1 and end.day == 1

    def ends_on_census_day(self, step: int) -> bool:
        """Whether step ``step`` ends on a census day."""
        return self.boundaries[step + 1] in CENSUS_DAYS
