"""Migrants as columns: one numpy array per attribute, compact dtypes, no Python object per migrant.

Every phase acts on all migrants at once through these arrays (``pop["district"]`` is a view of the live rows).
Rows of migrants who left are dropped once a year (``compact``); a migrant keeps its ``uid`` for life, and
``EventLog`` keeps each status change so ``view(uid)`` can show one migrant's history.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import numpy as np

from policies.schema import WINDOW_YEARS, Persons

__all__ = ["COLUMNS", "MigrantPopulation", "EventLog", "EVENTS", "MigrantView", "OUTSIDE"]

OUTSIDE = -1  # district of a migrant who has left (until the row is compacted away)

# name -> dtype. About 40 bytes a migrant.
COLUMNS: dict[str, np.dtype] = {
    "uid": np.dtype(np.int32),
    "district": np.dtype(np.int8),          # index into Geography; OUTSIDE once left
    "settled": np.dtype(np.int8),           # -1 not settled, else the settlement-channel code
    "permit": np.dtype(np.bool_),
    "birth_month": np.dtype(np.int16),      # months since 1950-01
    "sex": np.dtype(np.uint8),
    "education": np.dtype(np.uint8),
    "tier": np.dtype(np.uint8),             # skill tier from education (0 low, 1 mid, 2 high), kept for speed
    "full_time_degree": np.dtype(np.bool_),
    "title": np.dtype(np.uint8),
    "skill": np.dtype(np.uint8),
    "shortage": np.dtype(np.bool_),
    "sector": np.dtype(np.uint8),
    "productivity": np.dtype(np.float32),
    "origin": np.dtype(np.uint8),
    "rural": np.dtype(np.bool_),
    "children": np.dtype(np.uint8),         # school-age children living with the migrant
    "months_in_city": np.dtype(np.uint16),
    "si_months": np.dtype(np.uint16),       # months of social insurance in the current city
    "permit_months": np.dtype(np.uint16),   # continuous months holding a permit in the current city
    "housing": np.dtype(np.uint8),          # HOUSING code
    "stable_home": np.dtype(np.bool_),
    "employed": np.dtype(np.bool_),
    "formal": np.dtype(np.bool_),           # the job (when employed) carries social insurance
    "settle_step": np.dtype(np.int16),      # step of obtaining hukou (-1 none)
}
ROW_BYTES = sum(d.itemsize for d in COLUMNS.values())
EVENTS = ("arrive", "move", "permit", "settle", "return", "retire", "lose_permit")
_EVENT_CODE = {name: i for i, name in enumerate(EVENTS)}


class MigrantPopulation:
    """Columnar migrant state with amortised growth (capacity grows by an eighth when full, so spare capacity
    costs little memory)."""

    def __init__(self, capacity: int = 1024) -> None:
        self._capacity = max(int(capacity), 16)
        self._data = {name: np.zeros(self._capacity, dtype=dt_) for name, dt_ in COLUMNS.items()}
        self.n = 0
        self.next_uid = 0

    def __getitem__(self, name: str) -> np.ndarray:
        """The live rows of column ``name`` (a view: writing to it changes the state)."""
        return self._data[name][: self.n]

    def __len__(self) -> int:
        return self.n

    @property
    def nbytes(self) -> int:
        """Bytes held by the columns, including spare capacity."""
        return sum(a.nbytes for a in self._data.values())

    def append(self, columns: Mapping[str, np.ndarray]) -> np.ndarray:
        """Add migrants (every column given, except ``uid`` which is assigned); returns their row indices."""
        k = len(next(iter(columns.values())))
        missing = set(COLUMNS) - set(columns) - {"uid"}
        if missing:
            raise ValueError(f"columns missing: {sorted(missing)}")
        if self.n + k > self._capacity:
            self._grow(self.n + k)
        rows = np.arange(self.n, self.n + k)
        for name, arr in self._data.items():
            if name == "uid":
                arr[self.n: self.n + k] = np.arange(self.next_uid, self.next_uid + k, dtype=np.int32)
            else:
                arr[self.n: self.n + k] = columns[name]
        self.n += k
        self.next_uid += k
        return rows

    def _grow(self, needed: int) -> None:
        capacity = max(needed, int(self._capacity * 1.125))
        for name, arr in self._data.items():
            bigger = np.zeros(capacity, dtype=arr.dtype)
            bigger[: self.n] = arr[: self.n]
            self._data[name] = bigger
        self._capacity = capacity

    def compact(self) -> int:
        """Drop the rows of migrants who have left; returns how many were dropped. Order is kept."""
        keep = self["district"] != OUTSIDE
        kept = int(keep.sum())
        dropped = self.n - kept
        if dropped:
            for name, arr in self._data.items():
                arr[:kept] = arr[: self.n][keep]
            self.n = kept
        return dropped

    def row_of(self, uid: int) -> int | None:
        """The row of migrant ``uid`` (uids are increasing along rows), or None once gone."""
        uids = self["uid"]
        pos = int(np.searchsorted(uids, uid))
        return pos if pos < self.n and uids[pos] == uid else None


class EventLog:
    """Each migrant's status changes (uid, step, event, value) in growing chunks of compact columns."""

    _DTYPE = np.dtype([("uid", np.int32), ("step", np.int16), ("event", np.int8), ("value", np.int8)])

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled
        self._chunks: list[np.ndarray] = []

    def add(self, event: str, uids: np.ndarray, step: int, values: np.ndarray | int = 0) -> None:
        """Record ``event`` for every migrant in ``uids`` (value: a district or channel code)."""
        if not self.enabled or len(uids) == 0:
            return
        chunk = np.empty(len(uids), dtype=self._DTYPE)
        chunk["uid"] = uids
        chunk["step"] = step
        chunk["event"] = _EVENT_CODE[event]
        chunk["value"] = values
        self._chunks.append(chunk)

    def consolidate(self) -> None:
        """Merge chunks (once a year) so the log stays a few large arrays."""
        if len(self._chunks) > 1:
            self._chunks = [np.concatenate(self._chunks)]

    @property
    def nbytes(self) -> int:
        """Bytes held by the log."""
        return sum(c.nbytes for c in self._chunks)

    def of(self, uid: int) -> list[tuple[int, str, int]]:
        """The (step, event, value) history of one migrant, in order."""
        rows = []
        for chunk in self._chunks:
            hits = chunk[chunk["uid"] == uid]
            rows += [(int(h["step"]), EVENTS[int(h["event"])], int(h["value"])) for h in hits]
        return sorted(rows, key=lambda r: r[0])


@dataclass(frozen=True)
class MigrantView:
    """A read-only look at one migrant: current attributes and the history of status changes."""

    uid: int
    attributes: Mapping[str, Any]
    history: tuple[dict[str, Any], ...]


def build_persons(pop: MigrantPopulation, rows: np.ndarray, *, date: dt.date, month_index: int,
                  adcode: np.ndarray, income_tax_3y: np.ndarray) -> Persons:
    """The ``Persons`` batch the policy rules read, for the migrants at ``rows`` on ``date``.

    The five insurances are paid together by an employer (assumption: Chinese employers enrol all five), so every
    insurance gets the migrant's months; social-service records, patents and criminal or credit records are not
    part of the migrant state and are zero (no data on their distribution among migrants).
    """
    n = len(rows)
    si = pop["si_months"][rows].astype(np.int32)
    district = pop["district"][rows]
    home = np.where(district >= 0, adcode[np.maximum(district, 0)], 0).astype(np.int32)
    # Columns the migrant state does not hold are zero: read-only broadcasts that cost no memory.
    zeros_f = np.broadcast_to(np.float32(0), (n,))
    no = np.broadcast_to(False, (n,))
    window = np.broadcast_to(np.float32(0), (n, WINDOW_YEARS))
    return Persons(
        date=date,
        age=((month_index - pop["birth_month"][rows].astype(np.int32)) // 12).astype(np.int32),
        sex=pop["sex"][rows].astype(np.int8),
        education=pop["education"][rows].astype(np.int8),
        full_time_degree=pop["full_time_degree"][rows],
        professional_title=pop["title"][rows].astype(np.int8),
        skill_level=pop["skill"][rows].astype(np.int8),
        shortage_occupation=pop["shortage"][rows],
        si_pension=si, si_medical=si, si_unemployment=si, si_work_injury=si, si_maternity=si,
        residence_permit_months=pop["permit_months"][rows].astype(np.int32),
        months_in_city=pop["months_in_city"][rows].astype(np.int32),
        housing_type=pop["housing"][rows].astype(np.int8),
        mortgaged=no,
        home_district=home,
        work_district=home,
        employed=pop["employed"][rows],
        stable_home=pop["stable_home"][rows],
        tax_paid_3y=income_tax_3y,
        patents_invention=zeros_f,
        patents_utility=zeros_f,
        blood_donations=window,
        volunteer_hours=window,
        criminal=no,
        bad_credit=no,
    )


def view_of(pop: MigrantPopulation, log: EventLog, uid: int, steps: list[dt.date]) -> MigrantView | None:
    """A ``MigrantView`` of migrant ``uid`` (None if unknown); ``steps`` maps a step to its start date."""
    row = pop.row_of(uid)
    history = tuple({"step": s, "date": steps[s].isoformat() if 0 <= s < len(steps) else None,
                     "event": e, "value": v} for s, e, v in log.of(uid))
    if row is None and not history:
        return None
    attributes = {} if row is None else {name: pop[name][row].item() for name in COLUMNS}
    return MigrantView(uid, MappingProxyType(attributes), history)
