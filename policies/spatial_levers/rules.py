"""深府〔2016〕58号 （三）（四）（五）（十二）; 深府〔2005〕125号 （四）（二十）; 穗府〔2018〕14号 三（一）;
成府发〔2017〕23号 三（一）2-3: spatial levers.

Each parameter of a variant is one lever, a mapping whose ``kind`` says which keys it has (``LEVER_KEYS``):

- ``housing``, ``low_skill_jobs``, ``services``, ``commute``: ``districts`` (adcodes), ``annual_change`` (relative a
  year; absolute for ``commute``), ``start_year``, ``end_year``, ``article``.
- ``jobs``: as above plus ``tier`` (``low``, ``mid`` or ``high``): growth of one skill tier's jobs (成都 东进/南拓).
- ``move_low_skill_jobs``: ``from`` and ``to`` (adcodes of one city, disjoint; ``to`` may be empty only when all
  moved jobs leave the city), ``annual_share`` (share of the
  ``from`` districts' low-skill jobs that leave a year), ``out_of_city_share`` (share of the moved jobs that leave
  the city, 0 = all stay), ``weights`` (``jobs``: destinations in proportion to their current low-skill jobs;
  ``equal``), ``start_year``, ``end_year``, ``article``. Jobs are moved, not deleted (穗府〔2018〕14号 三（一）2).
- ``remove_housing``: ``districts``, ``persons`` (housing for this many persons removed, shared in proportion to
  the districts' stock), ``on`` (date), ``article``: one dated clearance (an urban village demolished).
- ``new_area``: ``districts`` (adcodes of one city), ``housing`` (persons the area's planned housing holds),
  ``jobs`` (jobs it adds for its residents), ``job_tiers`` (shares of those jobs in the low, mid and high tiers,
  summing to 1), ``start_year``, ``end_year`` (its build-out: the land enters in equal yearly parts over these
  years, inclusive), ``article``: dated land for a planned new area (前海 in Nanshan). Housing and jobs are absolute
  amounts, not rates: new land adds the same capacity to a built-up core district as to a suburb, which a rate on
  the district's stock (``housing``) cannot say.
- ``metro``: ``city``, ``per_opening`` (change of the commuting index of each district an opening serves),
  ``floor`` (an opening lowers no district below this index), ``start_year``, ``end_year``, ``article``: every
  opening of ``metro_lines.csv`` (this folder; one row per line or segment with its date, districts and source) of
  ``city`` dated within the years becomes a one-off commute lever on its opening date.

The article is the reference of the measure; sizes are assumptions of the parameter entries unless a figure is
cited. A lever whose value is null is switched off (a counterfactual can drop one). A malformed lever raises
``InputError`` naming the parameter and the field.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

from policies.cities import ADCODE_PREFIX
from policies.contract import Parameters
from policies.decision import Lever
from policies.errors import InputError

__all__ = ["ROLE", "PARAMETERS", "KINDS", "LEVER_KEYS", "METRO_TABLE", "levers", "metro_openings", "check_lever"]

ROLE = "spatial"
_RATE = ("annual_change", "start_year", "end_year", "article")
LEVER_KEYS: dict[str, tuple[str, ...]] = {
    "housing": ("kind", "districts", *_RATE),
    "low_skill_jobs": ("kind", "districts", *_RATE),
    "services": ("kind", "districts", *_RATE),
    "commute": ("kind", "districts", *_RATE),
    "jobs": ("kind", "tier", "districts", *_RATE),
    "move_low_skill_jobs": ("kind", "from", "to", "annual_share", "out_of_city_share", "weights", "start_year",
                            "end_year", "article"),
    "remove_housing": ("kind", "districts", "persons", "on", "article"),
    "metro": ("kind", "city", "per_opening", "floor", "start_year", "end_year", "article"),
    "new_area": ("kind", "districts", "housing", "jobs", "job_tiers", "start_year", "end_year", "article"),
}
KINDS = tuple(LEVER_KEYS)
TIERS = ("low", "mid", "high")
WEIGHTS = ("jobs", "equal")
METRO_TABLE = Path(__file__).with_name("metro_lines.csv")
_WHERE = "spatial_levers"


def _fail(name: str, field: str | None, message: str, file: str | Path | None = None) -> InputError:
    where = f"{_WHERE}.{name}" + (f".{field}" if field else "")
    return InputError(message, file=file, field=where)


def _adcodes(name: str, field: str, raw: Any) -> tuple[int, ...]:
    if isinstance(raw, (str, bytes)) or not hasattr(raw, "__iter__"):
        raise _fail(name, field, "a list of district adcodes")
    try:
        codes = tuple(int(d) for d in raw)
    except (TypeError, ValueError):
        raise _fail(name, field, f"district adcodes are integers, got {list(raw)!r}") from None
    if not codes:
        raise _fail(name, field, "names no district")
    return codes


def _number(name: str, field: str, raw: Any, low: float, high: float) -> float:
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise _fail(name, field, f"a number, got {raw!r}") from None
    if not low <= value <= high:
        raise _fail(name, field, f"{value} is outside [{low}, {high}]")
    return value


def _year(name: str, field: str, raw: Any) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int):
        raise _fail(name, field, f"a year, got {raw!r}")
    return raw


def _date(name: str, field: str, raw: Any) -> dt.date:
    if isinstance(raw, dt.date):
        return raw
    try:
        return dt.date.fromisoformat(str(raw))
    except ValueError:
        raise _fail(name, field, f"a date YYYY-MM-DD, got {raw!r}") from None


def _one_city(name: str, field: str, codes: tuple[int, ...]) -> None:
    if len({c // 100 for c in codes}) != 1:
        raise _fail(name, field, f"districts of more than one city: {sorted(codes)}")


def _years(name: str, spec: Mapping[str, Any]) -> tuple[int, int]:
    start, end = _year(name, "start_year", spec["start_year"]), _year(name, "end_year", spec["end_year"])
    if end < start:
        raise _fail(name, "end_year", f"{end} is before start_year {start}")
    return start, end


@cache
def metro_openings(path: Path = METRO_TABLE) -> tuple[tuple[str, str, str, dt.date, tuple[int, ...], str], ...]:
    """The metro table: ``(city, line, segment, opened, districts, source)`` per row, by opening date.

    A date of month precision (``2011-06``) is taken as the first day of the month."""
    rows = []
    with path.open(encoding="utf-8", newline="") as f:
        for line_no, row in enumerate(csv.DictReader(f), start=2):
            def bad(field: str, message: str, line_no: int = line_no) -> InputError:
                return InputError(message, file=path, line=line_no, field=field)
            city = row.get("city", "")
            if city not in ADCODE_PREFIX:
                raise bad("city", f"unknown city {city!r} (known: {', '.join(ADCODE_PREFIX)})")
            text = (row.get("opened") or "").strip()
            try:
                opened = dt.date.fromisoformat(text if len(text) == 10 else f"{text}-01")
            except ValueError:
                raise bad("opened", f"a date YYYY-MM-DD or YYYY-MM, got {text!r}") from None
            try:
                districts = tuple(int(d) for d in (row.get("districts") or "").split())
            except ValueError:
                raise bad("districts", f"adcodes separated by spaces, got {row.get('districts')!r}") from None
            if not districts or any(d // 100 != ADCODE_PREFIX[city] for d in districts):
                raise bad("districts", f"no districts, or districts outside {city}: {row.get('districts')!r}")
            source = (row.get("source") or "").strip()
            if not source:
                raise bad("source", "every opening cites its source")
            rows.append((city, row.get("line", ""), row.get("segment", ""), opened, districts, source))
    return tuple(sorted(rows, key=lambda r: r[3]))


def _metro_levers(name: str, spec: Mapping[str, Any]) -> list[Lever]:
    """Every opening of the city within the lever's years, as a one-off commute lever on its date."""
    city = spec["city"]
    if city not in ADCODE_PREFIX:
        raise _fail(name, "city", f"unknown city {city!r} (known: {', '.join(ADCODE_PREFIX)})")
    change = _number(name, "per_opening", spec["per_opening"], -1.0, 0.0)
    floor = _number(name, "floor", spec["floor"], 0.0, 2.0)
    start, end = _years(name, spec)
    article = str(spec["article"])
    return [Lever(kind="metro_opening", districts=districts, annual_change=change, start_year=opened.year,
                  end_year=opened.year, ref=f"{article}; {line} {segment} opened {opened}: {source}", on=opened,
                  floor=floor)
            for c, line, segment, opened, districts, source in metro_openings()
            if c == city and start <= opened.year <= end]


def _new_area(name: str, spec: Mapping[str, Any]) -> Lever:
    """A planned new area's land: housing and jobs entering in equal yearly parts over its build-out."""
    districts = _adcodes(name, "districts", spec["districts"])
    _one_city(name, "districts", districts)
    housing = _number(name, "housing", spec["housing"], 0.0, 1e8)
    jobs = _number(name, "jobs", spec["jobs"], 0.0, 1e8)
    raw = spec["job_tiers"]
    if isinstance(raw, (str, bytes)) or not hasattr(raw, "__len__") or len(raw) != len(TIERS):
        raise _fail(name, "job_tiers", f"shares of the {', '.join(TIERS)} tiers, got {raw!r}")
    tiers = tuple(_number(name, "job_tiers", t, 0.0, 1.0) for t in raw)
    if abs(sum(tiers) - 1.0) > 1e-6:
        raise _fail(name, "job_tiers", f"shares sum to {sum(tiers):g}, not 1")
    start, end = _years(name, spec)
    return Lever(kind="new_area", districts=districts, annual_change=0.0, start_year=start, end_year=end,
                 ref=str(spec["article"]), persons=housing, jobs=jobs, job_tiers=tiers)


def _lever(name: str, spec: Mapping[str, Any]) -> list[Lever]:
    kind = spec["kind"]
    article = str(spec["article"])
    if kind == "metro":
        return _metro_levers(name, spec)
    if kind == "new_area":
        return [_new_area(name, spec)]
    if kind == "move_low_skill_jobs":
        out_share = _number(name, "out_of_city_share", spec["out_of_city_share"], 0.0, 1.0)
        origin = _adcodes(name, "from", spec["from"])
        dest = _adcodes(name, "to", spec["to"]) if spec["to"] or out_share < 1.0 else ()
        _one_city(name, "to", origin + dest)
        if set(origin) & set(dest):
            raise _fail(name, "to", f"districts both in from and to: {sorted(set(origin) & set(dest))}")
        if spec["weights"] not in WEIGHTS:
            raise _fail(name, "weights", f"unknown weights {spec['weights']!r} (known: {', '.join(WEIGHTS)})")
        start, end = _years(name, spec)
        return [Lever(kind=kind, districts=origin, annual_change=_number(name, "annual_share", spec["annual_share"],
                                                                         0.0, 1.0),
                      start_year=start, end_year=end, ref=article, to_districts=dest,
                      out_of_city_share=out_share,
                      weights=str(spec["weights"]))]
    districts = _adcodes(name, "districts", spec["districts"])
    _one_city(name, "districts", districts)
    if kind == "remove_housing":
        on = _date(name, "on", spec["on"])
        persons = _number(name, "persons", spec["persons"], 0.0, 1e7)
        return [Lever(kind=kind, districts=districts, annual_change=0.0, start_year=on.year, end_year=on.year,
                      ref=article, on=on, persons=persons)]
    start, end = _years(name, spec)
    change = _number(name, "annual_change", spec["annual_change"], -1.0, 1.0)
    if kind == "jobs":
        if spec["tier"] not in TIERS:
            raise _fail(name, "tier", f"unknown tier {spec['tier']!r} (known: {', '.join(TIERS)})")
        return [Lever(kind=kind, districts=districts, annual_change=change, start_year=start, end_year=end,
                      ref=article, tier=TIERS.index(spec["tier"]))]
    return [Lever(kind=kind, districts=districts, annual_change=change, start_year=start, end_year=end, ref=article)]


def levers(params: Mapping[str, Any]) -> list[Lever]:
    """深府〔2016〕58号 （三）-（十二）, 穗府〔2018〕14号 三（一）, 成府发〔2017〕23号 三（一）: the levers.

    In file order; a ``metro`` parameter gives one lever per opening."""
    out: list[Lever] = []
    for name, spec in params.items():
        if spec is None:
            continue
        if not isinstance(spec, Mapping) or spec.get("kind") not in LEVER_KEYS:
            kind = spec.get("kind") if isinstance(spec, Mapping) else None
            raise _fail(str(name), "kind", f"unknown kind {kind!r} (known: {', '.join(KINDS)})")
        keys = LEVER_KEYS[spec["kind"]]
        if set(spec) != set(keys):
            raise _fail(str(name), None, f"a {spec['kind']} lever has exactly the keys {', '.join(keys)}")
        out.extend(_lever(str(name), spec))
    return out


def check_lever(name: str, value: Any) -> None:
    """Refuse a malformed lever (``InputError`` naming its field), as ``levers`` would in the middle of a run."""
    levers({name: value})


PARAMETERS = Parameters(any_name=True, check=check_lever)  # each parameter is one lever, its kind says which
