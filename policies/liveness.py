"""The registry of the texts' mechanisms and their status (``policies/liveness.yaml``), read strictly.

One entry per row of the policy-fidelity audit: document, article, mechanism, status, and for a LIVE row the
perturbation that shows it alive (overrides of the perturbed arm, the outcome it should move and the sign). It is the
one source of docs/policies.md's status section (``experiments/liveness_docs.py``) and of ``hukou liveness``
(``experiments/liveness.py``), so the status a reader sees and the experiment that backs it cannot drift apart.
The override keys and values are checked here against the mechanism registry (``policies.regime.parse_overrides``);
the outcome columns are checked by ``experiments.liveness`` against the model's output tables.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from policies.errors import InputError
from policies.regime import parse_overrides
from policies.yamlio import line_of, load_yaml, validation_error

__all__ = ["REGISTRY", "STATUSES", "Document", "Outcome", "Perturbation", "Mechanism", "Registry", "load_registry"]

REGISTRY = Path(__file__).with_name("liveness.yaml")
STATUSES = ("LIVE", "CALC-ONLY", "DOC-ONLY", "MISSING", "WRONG")
Status = Literal["LIVE", "CALC-ONLY", "DOC-ONLY", "MISSING", "WRONG"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Document(_Strict):
    """One of the texts, and the regime that implements it."""

    title: str
    regime: str


class Outcome(_Strict):
    """What a perturbation should move: a column of one city, averaged over a window of years.

    ``city_year``: the city's metric. ``district_year``: the column over ``districts`` (or a ``zone``: ``core`` or
    ``suburban``, every zone but the core), summed, averaged, or as a share of the city's total (``how``).
    ``settlers``: the yearly settlements through the channel ``column`` (a channel mechanism, e.g.
    ``points_channel``) of the migrants who carry the record ``having`` (a bit of ``sim.population.RECORD_BITS``,
    ``rural``: a rural origin, or ``ui_lag``: unemployment insurance begun after medical insurance), optionally
    living in a ``zone``. A rule that acts on a record held by 1% of
    migrants moves the city's totals by less than their seed noise, but it moves exactly these settlements: the
    outcome the rule acts on, counted from the run's final state (settlers who left the city before the run's end
    are not counted, in either arm).
    """

    column: str
    city: Literal["shenzhen", "guangzhou", "chengdu"]
    years: tuple[int, int]
    table: Literal["city_year", "district_year", "settlers"] = "city_year"
    districts: tuple[int, ...] = ()
    zone: Literal["core", "suburban"] | None = None
    how: Literal["sum", "mean", "share"] = "sum"
    having: str | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Outcome:
        if self.years[1] < self.years[0]:
            raise ValueError(f"years {list(self.years)}: the last year is before the first")
        if self.table != "district_year" and (self.districts or self.how != "sum"):
            raise ValueError("districts and how apply to district_year outcomes only")
        if self.table == "city_year" and self.zone:
            raise ValueError("zone applies to district_year and settlers outcomes only")
        if self.table == "district_year" and bool(self.districts) == bool(self.zone):
            raise ValueError("a district_year outcome names either districts or a zone")
        if self.table != "settlers" and self.having is not None:
            raise ValueError("having applies to settlers outcomes only")
        return self

    def label(self) -> str:
        """Short text for tables: ``school_access, shenzhen 2017–2020`` or ``migrants (core), guangzhou …``."""
        if self.table == "settlers":
            who = (f" with {self.having}" if self.having else "") + (f" (zone {self.zone})" if self.zone else "")
            return f"settlers through {self.column}{who}, {self.city} {self.years[0]}–{self.years[1]}"
        where = f"zone {self.zone}" if self.zone else (f"{len(self.districts)} districts" if self.districts else "")
        what = self.column if not where else f"{self.column} ({'share of city, ' if self.how == 'share' else ''}"\
            f"{'mean over ' if self.how == 'mean' else ''}{where})"
        return f"{what}, {self.city} {self.years[0]}–{self.years[1]}"


class Perturbation(_Strict):
    """The perturbed arm's overrides, overrides of both arms (``context``), the outcome and the expected sign."""

    set: dict[str, Any] = Field(min_length=1)
    context: dict[str, Any] = Field(default_factory=dict)
    outcome: Outcome
    expect: Literal["+", "-"]
    # Persons per agent for this row's runs where finer than the command's: a channel of a few thousand persons a
    # year is two or three agents at 2,000 persons an agent, too few for any effect on it to rise above seed noise.
    scale: float | None = Field(default=None, gt=0)
    # Seeds for this row where more than the command's: an effect of a handful of persons (a tie-break that
    # reorders one or two agents at the cut) needs more seeds than scale to be told from noise, since a finer
    # scale multiplies the cost of every run while a seed adds one run per arm.
    seeds: int | None = Field(default=None, ge=2, le=50)

    def describe(self) -> str:
        """The overrides as ``key = value`` text (``off`` for null), and the row's own scale and seeds where it
        has them."""
        text = "; ".join(f"{k} = {'off' if v is None else json.dumps(v, ensure_ascii=False)}"
                         for k, v in self.set.items())
        own = [f"at {self.scale:g} persons an agent"] if self.scale else []
        own += [f"{self.seeds} seeds"] if self.seeds else []
        return text + (f" ({', '.join(own)})" if own else "")


class Mechanism(_Strict):
    """One audit row."""

    row: int = Field(ge=1)
    document: str
    article: str
    mechanism: str
    status: Status
    qualifier: str = ""
    reason: str = ""
    note: str = ""     # how the row is modelled since the audit, and what it still leaves out
    perturb: Perturbation | None = None

    @model_validator(mode="after")
    def _status_fields(self) -> Mechanism:
        if self.status == "LIVE" and self.perturb is None:
            raise ValueError("a LIVE row needs perturb: (the experiment that shows it alive)")
        if self.status != "LIVE" and self.perturb is not None:
            raise ValueError(f"a {self.status} row has no perturb: (only LIVE rows are perturbed)")
        if self.status == "DOC-ONLY" and not self.reason:
            raise ValueError("a DOC-ONLY row needs reason: (why it is not modelled)")
        return self


class Registry(_Strict):
    """The documents and the rows, in row order."""

    documents: dict[str, Document]
    rows: tuple[Mechanism, ...]

    @model_validator(mode="after")
    def _rows(self) -> Registry:
        numbers = [r.row for r in self.rows]
        if numbers != sorted(set(numbers)):
            raise ValueError(f"rows must be numbered in order without repeats (got {numbers})")
        for r in self.rows:
            if r.document not in self.documents:
                raise ValueError(f"row {r.row}: unknown document {r.document!r} (known: {', '.join(self.documents)})")
        return self

    def live(self) -> tuple[Mechanism, ...]:
        """The LIVE rows (those ``hukou liveness`` checks)."""
        return tuple(r for r in self.rows if r.status == "LIVE")

    def counts(self) -> dict[str, int]:
        """Rows per status, in ``STATUSES`` order."""
        return {s: sum(r.status == s for r in self.rows) for s in STATUSES}


def load_registry(path: str | Path = REGISTRY) -> Registry:
    """Read and check the registry; a bad entry raises ``InputError`` naming file, line and field."""
    return _load(str(path))


@cache
def _load(file: str) -> Registry:
    doc = load_yaml(file)
    try:
        registry = Registry(**doc) if isinstance(doc, dict) else None
    except ValidationError as exc:
        raise validation_error(exc, file=file, doc=doc) from None
    if registry is None:
        raise InputError("the liveness registry is a mapping (documents, rows)", file=file, line=1)
    for i, row in enumerate(registry.rows):
        if row.perturb is None:
            continue
        for part in ("set", "context"):
            raw = {k: {"value": v, "assumption": "liveness perturbation"} for k, v in
                   getattr(row.perturb, part).items()}
            field = f"rows.{i}.perturb.{part}"
            try:
                parse_overrides(raw, file=file, path=field)
            except InputError as exc:
                raise InputError(exc.message, file=file, line=line_of(doc, field), field=exc.field) from None
    return registry
