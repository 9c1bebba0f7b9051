"""Migrants as columns: one numpy array per attribute, compact dtypes, no Python object per migrant.

Every phase acts on all migrants at once through these arrays (``pop["district"]`` is a view of the live rows).
Rows of migrants who left are dropped once a year (``compact``); a migrant keeps its ``uid`` for life, and
``EventLog`` keeps each status change so ``view(uid)`` can show one migrant's history.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from types import MappingProxyType
from typing import IO, Any, Never, Protocol, overload

import numpy as np

from policies.schema import WINDOW_YEARS, Persons
from sim.parallel import ordered_map

__all__ = ["COLUMNS", "Columns", "MigrantPopulation", "MigrantBatch", "EventLog", "EVENTS", "MigrantView", "OUTSIDE",
           "RECORD_BITS", "build_persons"]

OUTSIDE = -1  # district of a migrant who has left (until the row is compacted away)

# The bits of the ``records`` column, drawn on arrival (sim/attributes.py, shares in behaviour.yaml
# person_records): what the points tables' social-service, patent and credit items, the criminal-record exclusion
# and the unemployment-insurance tie-break read, so the rules score the model's migrants as the calculator's person.
RECORD_BITS = {"criminal": 1, "bad_credit": 2, "blood_donor": 4, "volunteer": 8, "invention_patent": 16,
               "utility_patent": 32, "mortgaged_owner": 64, "no_unemployment_insurance": 128}
DONATIONS_PER_YEAR = 1.0         # assumption: a donor gives once a year (the usual whole-blood interval allows more)
VOLUNTEER_HOURS_PER_YEAR = 50.0  # assumption: registered service hours of a volunteer in a year

# name -> dtype: 39 bytes a migrant (ROW_BYTES).
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
    "school_level": np.dtype(np.uint8),     # school priority reached at the last allocation in the current city
                                            # (sim/phases/services.py: 0 unranked, 1..MAX_TIER, BARRED)
    "records": np.dtype(np.uint8),          # bit flags (RECORD_BITS): criminal record, bad credit, blood donor, ...
    "ui_lag": np.dtype(np.uint8),           # months unemployment insurance began after medical insurance (0: with it)
}
ROW_BYTES = sum(d.itemsize for d in COLUMNS.values())
EVENTS = ("arrive", "move", "permit", "settle", "return", "retire", "lose_permit")
_EVENT_CODE = {name: i for i, name in enumerate(EVENTS)}


class Columns(Protocol):
    """Migrant columns by name: the population (``MigrantPopulation``) or a batch's ``dict`` of arrays."""

    def __getitem__(self, name: str, /) -> np.ndarray: ...


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

    def compact(self, threads: int = 1) -> int:
        """Drop the rows of migrants who have left; returns how many were dropped. Order is kept. Columns are
        independent, so ``threads`` threads compact them side by side."""
        keep = np.flatnonzero(self["district"] != OUTSIDE)  # indices: a boolean mask indexes ten times slower
        kept = len(keep)
        dropped = self.n - kept
        if dropped:
            def compact_column(arr: np.ndarray) -> None:
                arr[:kept] = arr[: self.n][keep]

            for _ in ordered_map(compact_column, list(self._data.values()), threads):
                pass
            self.n = kept
        return dropped

    def row_of(self, uid: int) -> int | None:
        """The row of migrant ``uid`` (uids are increasing along rows), or None once gone."""
        uids = self["uid"]
        pos = int(np.searchsorted(uids, uid))
        return pos if pos < self.n and uids[pos] == uid else None


class EventLog:
    """Each migrant's status changes (uid, step, event, value) as compact records: the current year's in memory,
    earlier years in a temporary file.

    Why a file: at full scale the history is a quarter of a billion changes (two gigabytes) that only
    ``model.migrant(uid)`` reads. Once a year the year's records are appended to an anonymous temporary file
    (the operating system's page cache holds it, not the process) and read back through a memory map on demand.
    """

    _DTYPE = np.dtype([("uid", np.int32), ("step", np.int16), ("event", np.int8), ("value", np.int8)])

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled
        self._chunks: list[np.ndarray] = []   # this year's records
        self._file: IO[bytes] | None = None   # earlier years' records, one after another
        self._on_file = 0                     # records in the file

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
        """Move the records added since the last call (once a year) to the file."""
        if not self._chunks:
            return
        if self._file is None:
            self._file = tempfile.TemporaryFile(prefix="hukou-events-")
        self._file.seek(0, os.SEEK_END)
        for chunk in self._chunks:
            self._file.write(chunk.tobytes())
            self._on_file += len(chunk)
        self._file.flush()
        self._chunks = []

    @property
    def nbytes(self) -> int:
        """Bytes of records held in memory (the current year's)."""
        return sum(c.nbytes for c in self._chunks)

    def _all_chunks(self) -> list[np.ndarray]:
        stored = [] if self._on_file == 0 or self._file is None else [
            np.memmap(self._file, dtype=self._DTYPE, mode="r", shape=(self._on_file,))]
        return stored + self._chunks

    def of(self, uid: int) -> list[tuple[int, str, int]]:
        """The (step, event, value) history of one migrant, in order."""
        rows = []
        for chunk in self._all_chunks():
            hits = chunk[chunk["uid"] == uid]
            rows += [(int(h["step"]), EVENTS[int(h["event"])], int(h["value"])) for h in hits]
        return sorted(rows, key=lambda r: r[0])


@dataclass(frozen=True)
class MigrantView:
    """A read-only look at one migrant: current attributes and the history of status changes."""

    uid: int
    attributes: Mapping[str, Any]
    history: tuple[dict[str, Any], ...]


class _Column:
    """A read-only ``Persons`` column of a ``MigrantBatch``, gathered on first read (``MigrantBatch._get``)."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name
        self.__doc__ = f"Persons.{name}"

    @overload
    def __get__(self, batch: None, owner: type | None = None) -> _Column: ...
    @overload
    def __get__(self, batch: MigrantBatch, owner: type | None = None) -> np.ndarray: ...
    def __get__(self, batch: MigrantBatch | None, owner: type | None = None) -> np.ndarray | _Column:
        return self if batch is None else batch._get(self.name)

    def __set__(self, batch: MigrantBatch, value: Never) -> None:
        raise AttributeError(f"MigrantBatch.{self.name} is read-only")


class MigrantBatch:
    """The ``Persons`` columns (what policy rules read) of the migrants at ``rows``, computed on first use.

    A rule reads a handful of columns (the permit rule three); building all of them for millions of migrants
    every step would cost more than the rule. Each column is gathered from the population the first time a rule
    reads it and kept for the batch's life. It answers the same attribute names as ``policies.schema.Persons``,
    plus ``len`` and ``take``.

    The insurances are paid together by an employer, so pension, medical, work-injury and maternity insurance read
    the migrant's months; unemployment insurance reads them less the migrant's ``ui_lag`` (begun later), or none
    (the record ``no_unemployment_insurance``). Social-service, patent, criminal and credit records are the bits of
    ``records`` (drawn with behaviour.yaml's person_records shares).
    """

    # The Persons columns (how each is computed: ``_SOURCES`` below).
    age = _Column()
    sex = _Column()
    education = _Column()
    full_time_degree = _Column()
    professional_title = _Column()
    skill_level = _Column()
    shortage_occupation = _Column()
    si_pension = _Column()
    si_medical = _Column()
    si_unemployment = _Column()
    si_work_injury = _Column()
    si_maternity = _Column()
    residence_permit_months = _Column()
    months_in_city = _Column()
    housing_type = _Column()
    mortgaged = _Column()
    home_district = _Column()
    work_district = _Column()
    employed = _Column()
    stable_home = _Column()
    tax_paid_3y = _Column()
    patents_invention = _Column()
    patents_utility = _Column()
    blood_donations = _Column()
    volunteer_hours = _Column()
    criminal = _Column()
    bad_credit = _Column()

    def __init__(self, columns: Columns, rows: np.ndarray, *, date: dt.date, month_index: int, adcode: np.ndarray,
                 income_tax_3y: Callable[[Columns, np.ndarray], np.ndarray],
                 known: dict[str, np.ndarray] | None = None, base: MigrantBatch | None = None,
                 index: np.ndarray | None = None) -> None:
        self._columns, self._rows = columns, rows
        self.date, self._month_index, self._adcode, self._tax = date, month_index, adcode, income_tax_3y
        self._known: dict[str, np.ndarray] = dict(known or {})
        # Derived batches read the columns they do not hold from ``base``, which computes each once: a projection
        # (``index`` None: the same people) and a subset (the people at ``index`` of ``base``).
        self._base, self._index = base, index

    def __len__(self) -> int:
        return len(self._rows)

    def _get(self, name: str) -> np.ndarray:
        if name in self._known:
            return self._known[name]
        if self._base is None or (self._index is None and name in _ALIASES):
            value = _SOURCES[name](self)
        elif self._index is None:
            value = self._base._get(name)           # a projection: the base's own array, not a copy
        else:
            value = self._base._get(name)[self._index]
        self._known[name] = value
        return value

    def col(self, name: str) -> np.ndarray:
        """A migrant-state column at this batch's rows."""
        return self._columns[name][self._rows]

    def _derived(self, rows: np.ndarray, known: dict[str, np.ndarray], index: np.ndarray | None) -> MigrantBatch:
        return MigrantBatch(self._columns, rows, date=self.date, month_index=self._month_index,
                            adcode=self._adcode, income_tax_3y=self._tax, known=known, base=self, index=index)

    def take(self, index: np.ndarray) -> MigrantBatch:
        """The sub-batch at ``index`` (integer index or boolean mask). Its columns are this batch's, indexed: a
        column is gathered from the population once, for the whole batch, however many subsets read it."""
        return self._derived(self._rows[index], {}, index)

    def with_columns(self, **columns: np.ndarray) -> MigrantBatch:
        """The same people with some columns replaced (for projections). The other columns are shared with this
        batch, so projecting the same people for three cities gathers (and taxes) them once."""
        return self._derived(self._rows, columns, None)


def _home(batch: MigrantBatch) -> np.ndarray:
    district = batch.col("district")
    return np.where(district >= 0, batch._adcode[np.maximum(district, 0)], 0).astype(np.int32)


def _flag(batch: MigrantBatch, name: str) -> np.ndarray:
    """Whether each migrant of the batch has the record ``name`` (a bit of the ``records`` column)."""
    return (batch.col("records") & RECORD_BITS[name]) > 0


def _every_year(batch: MigrantBatch, name: str, per_year: float) -> np.ndarray:
    """``(n, WINDOW_YEARS)``: ``per_year`` in every year of the window for migrants with the record, else 0. A
    read-only view of one column (every year the same), so a batch costs 4 bytes a migrant, not 20; the points
    rules score only the few rows with a record (``policies.points.rules._per_unit_window``)."""
    return np.broadcast_to((_flag(batch, name) * np.float32(per_year))[:, None], (len(batch), WINDOW_YEARS))


# Columns that read another Persons column, not the population: a projection that replaces the one they read
# must compute them again rather than take its base's.
_ALIASES = frozenset({"si_medical", "si_unemployment", "si_work_injury", "si_maternity", "work_district"})
_SOURCES: dict[str, Callable[[MigrantBatch], np.ndarray]] = {
    "age": lambda b: ((b._month_index - b.col("birth_month").astype(np.int32)) // 12).astype(np.int32),
    "sex": lambda b: b.col("sex").astype(np.int8),
    "education": lambda b: b.col("education").astype(np.int8),
    "full_time_degree": lambda b: b.col("full_time_degree"),
    "professional_title": lambda b: b.col("title").astype(np.int8),
    "skill_level": lambda b: b.col("skill").astype(np.int8),
    "shortage_occupation": lambda b: b.col("shortage"),
    "si_pension": lambda b: b.col("si_months").astype(np.int32),
    "si_medical": lambda b: b.si_pension,
    "si_unemployment": lambda b: np.where(_flag(b, "no_unemployment_insurance"), 0,
                                          np.maximum(b.si_pension - b.col("ui_lag"), 0)).astype(np.int32),
    "si_work_injury": lambda b: b.si_pension,
    "si_maternity": lambda b: b.si_pension,
    "residence_permit_months": lambda b: b.col("permit_months").astype(np.int32),
    "months_in_city": lambda b: b.col("months_in_city").astype(np.int32),
    "housing_type": lambda b: b.col("housing").astype(np.int8),
    "mortgaged": lambda b: _flag(b, "mortgaged_owner"),
    "home_district": _home,
    "work_district": lambda b: b.home_district,
    "employed": lambda b: b.col("employed"),
    "stable_home": lambda b: b.col("stable_home"),
    "tax_paid_3y": lambda b: b._tax(b._columns, b._rows),
    "patents_invention": lambda b: _flag(b, "invention_patent").astype(np.float32),
    "patents_utility": lambda b: _flag(b, "utility_patent").astype(np.float32),
    "blood_donations": lambda b: _every_year(b, "blood_donor", DONATIONS_PER_YEAR),
    "volunteer_hours": lambda b: _every_year(b, "volunteer", VOLUNTEER_HOURS_PER_YEAR),
    "criminal": lambda b: _flag(b, "criminal"),
    "bad_credit": lambda b: _flag(b, "bad_credit"),
}
assert set(_SOURCES) == {f.name for f in fields(Persons)} - {"date"}, "MigrantBatch must cover every Persons column"
assert set(_SOURCES) == {n for n, v in vars(MigrantBatch).items() if isinstance(v, _Column)}, "one _Column each"


def build_persons(columns: Columns, rows: np.ndarray, *, date: dt.date, month_index: int, adcode: np.ndarray,
                  income_tax_3y: Callable[[Columns, np.ndarray], np.ndarray]) -> MigrantBatch:
    """The batch the policy rules read for the migrants at ``rows`` of ``columns`` (the population, or the
    columns of would-be arrivals) on ``date``."""
    return MigrantBatch(columns, rows, date=date, month_index=month_index, adcode=adcode,
                        income_tax_3y=income_tax_3y)


def view_of(pop: MigrantPopulation, log: EventLog, uid: int, steps: list[dt.date]) -> MigrantView | None:
    """A ``MigrantView`` of migrant ``uid`` (None if unknown); ``steps`` maps a step to its start date."""
    row = pop.row_of(uid)
    history = tuple({"step": s, "date": steps[s].isoformat() if 0 <= s < len(steps) else None,
                     "event": e, "value": v} for s, e, v in log.of(uid))
    if row is None and not history:
        return None
    attributes = {} if row is None else {name: pop[name][row].item() for name in COLUMNS}
    return MigrantView(uid, MappingProxyType(attributes), history)
