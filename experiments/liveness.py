"""The liveness check: every LIVE mechanism of ``policies/liveness.yaml``, perturbed, must move its outcome.

For each LIVE row and each seed, two runs differ only in the row's overrides (``perturb.set``; ``perturb.context``
is in both): same seed, so common random numbers, and the per-seed difference of the outcome removes most of the
seed noise that separate seeds would add. The effect is the mean difference over seeds and the noise its standard
error; a row **moves as expected** when the effect has the expected sign and exceeds ``K_SE`` standard errors,
**wrong direction** when it exceeds them with the other sign, and is **below noise** otherwise (identical outputs
included). Runs end in the outcome window's last year (the model always starts on the 2010 census day), and runs
with the same config (the baselines of rows with the same horizon and context) are run once. Runs are serial and
in-process: the same rows, scale and seeds give the same table (``sim.parallel`` threads change speed only).
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from policies.errors import InputError
from policies.liveness import Mechanism, Outcome, Registry
from policies.mechanisms import MECHANISMS
from sim.config import RunConfig
from sim.geography import CITIES, CORE_ZONE, ZONES
from sim.metrics import CITY_METRICS
from sim.population import RECORD_BITS

if TYPE_CHECKING:
    from sim.model import HukouModel

__all__ = ["K_SE", "VERDICTS", "Measured", "verdict", "outcome_value", "arm_configs", "check_rows", "run_liveness",
           "row_seeds", "write_table", "read_table", "number", "settlers", "SETTLER_RECORDS", "CHANNELS"]

log = logging.getLogger(__name__)
# Standard errors the mean per-seed difference must exceed. With 2 seeds (1 degree of freedom) this is a loose test
# (|d1 + d2| > 2 |d1 − d2|: both seeds agree in sign and differ by less than their mean); more seeds tighten it.
K_SE = 2.0
VERDICTS = ("moves as expected", "below noise", "wrong direction")
_DISTRICT_COLUMNS = ("residents", "hukou_residents", "migrants", "permit_holders", "settled_stock", "settled_talent",
                     "settled_points", "settled_other", "migrants_bachelor_plus", "arrivals", "returns",
                     "migrant_children", "migrant_children_in_school", "rent_index", "housing_stock",
                     "wage_index_low", "wage_index_mid", "wage_index_high", "school_places")
# What a ``settlers`` outcome may name: the channel mechanisms (``column``) and the records (``having``).
CHANNELS = tuple(name for name, module in MECHANISMS.items() if getattr(module, "ROLE", None) == "channel")
SETTLER_RECORDS = (*RECORD_BITS, "rural", "ui_lag")


@dataclass(frozen=True)
class Measured:
    """One row's result: the baseline level, the effect (mean perturbed − baseline), its noise and the verdict."""

    row: int
    mechanism: str
    article: str
    outcome: str
    expect: str
    perturbation: str
    baseline: float
    effect: float
    noise: float
    diffs: tuple[float, ...]
    verdict: str

    @property
    def relative(self) -> float:
        """The effect as a share of the baseline level (NaN when the baseline is zero)."""
        return self.effect / self.baseline if self.baseline else float("nan")


def number(x: float, sign: bool = False) -> str:
    """Persons as whole numbers with thousands separators, shares and indices with three significant digits."""
    if abs(x) >= 1000:
        return f"{x:+,.0f}" if sign else f"{x:,.0f}"
    return f"{x:+.3g}" if sign else f"{x:.2g}"


def verdict(diffs: Sequence[float], expect: str, k: float = K_SE) -> tuple[float, float, str]:
    """Mean difference, its standard error, and the verdict (``VERDICTS``) for per-seed differences.

    Needs at least two seeds: with one the noise is unknown and no row could be said to move beyond it.
    """
    d = np.asarray(diffs, dtype=float)
    if d.size < 2:
        raise ValueError("the noise of an effect needs at least two seeds")
    if np.isnan(d).any():
        return float("nan"), float("nan"), "below noise"
    mean, se = float(d.mean()), float(d.std(ddof=1) / math.sqrt(d.size))
    if mean == 0 or abs(mean) <= k * se:
        return mean, se, "below noise"
    return mean, se, "moves as expected" if (mean > 0) == (expect == "+") else "wrong direction"


def check_rows(registry: Registry, rows: Iterable[int] | None = None) -> list[Mechanism]:
    """The LIVE rows to check (all, or the numbers given); refuses unknown, non-LIVE rows and unknown columns."""
    live = {r.row: r for r in registry.live()}
    if rows is None:
        chosen = list(live.values())
    else:
        chosen = []
        for n in rows:
            if n not in live:
                status = next((r.status for r in registry.rows if r.row == n), None)
                why = f"row {n} is {status}, not LIVE" if status else f"no row {n} in the registry"
                raise InputError(f"{why}: only LIVE rows are perturbed", field="--rows")
            chosen.append(live[n])
    for r in chosen:
        assert r.perturb is not None
        o = r.perturb.outcome
        known = {"city_year": CITY_METRICS, "district_year": _DISTRICT_COLUMNS, "settlers": CHANNELS}[o.table]
        if o.column not in known:
            raise InputError(f"row {r.row}: unknown {o.table} column {o.column!r} (known: {', '.join(known)})",
                             field=f"rows.{r.row}.perturb.outcome.column")
        if o.having is not None and o.having not in SETTLER_RECORDS:
            raise InputError(f"row {r.row}: unknown record {o.having!r} (known: {', '.join(SETTLER_RECORDS)})",
                             field=f"rows.{r.row}.perturb.outcome.having")
    return chosen


def arm_configs(row: Mechanism, seed: int, scale: float) -> tuple[RunConfig, RunConfig]:
    """The baseline and perturbed configs of one row and seed: same seed, horizon and context overrides, at the
    command's scale or the row's own where finer (``perturb.scale``)."""
    assert row.perturb is not None
    p = row.perturb
    scale = min(scale, p.scale) if p.scale else scale
    base = RunConfig(end=p.outcome.years[1], scale=scale, seed=seed, history=False, overrides=dict(p.context))
    return base, base.model_copy(update={"overrides": {**p.context, **p.set}})


def settlers(model: HukouModel) -> pd.DataFrame:
    """The migrants of a finished run who obtained hukou and are still in a city: the city they live in, the
    channel, the calendar year of the step they settled in, whether their district is the core, the persons an
    agent stands for, and one column per record (``SETTLER_RECORDS``). What a ``settlers`` outcome counts."""
    pop, geo = model.population, model.geography
    rows = np.flatnonzero((pop["settled"] >= 0) & (pop["district"] >= 0))
    year_of_step = np.array([d.year for d in model.clock.boundaries], dtype=np.int32)
    records, district = pop["records"][rows], pop["district"][rows]
    return pd.DataFrame({
        "city": np.asarray(CITIES)[geo.city[district]], "core": np.asarray(ZONES)[geo.zone[district]] == CORE_ZONE,
        "rural": pop["rural"][rows], "ui_lag": pop["ui_lag"][rows] > 0,
        "channel": np.asarray(model.channel_names, dtype=object)[pop["settled"][rows]],
        "year": year_of_step[pop["settle_step"][rows]], "persons": model.scale,
        **{name: (records & bit) > 0 for name, bit in RECORD_BITS.items()},
    })


def outcome_value(city_year: pd.DataFrame, district_year: pd.DataFrame, o: Outcome,
                  settled: pd.DataFrame | None = None) -> float:
    """The outcome of one run: the yearly value of ``o`` averaged over its window (census-day rows left out;
    ``settled`` is ``settlers`` of the run, needed by a ``settlers`` outcome only)."""
    if o.table == "settlers":
        if settled is None:
            raise ValueError("a settlers outcome needs the run's settlers")
        chosen = (settled["city"] == o.city) & (settled["channel"] == o.column) & settled["year"].between(*o.years)
        if o.having:
            chosen &= settled[o.having]
        if o.zone:
            chosen &= settled["core"] == (o.zone == "core")
        return float(settled.loc[chosen, "persons"].sum()) / (o.years[1] - o.years[0] + 1)
    frame = city_year if o.table == "city_year" else district_year
    frame = frame[~frame["census_day"] & (frame["city"] == o.city) & frame["year"].between(*o.years)]
    if o.table == "city_year":
        return float(frame[o.column].mean())
    if o.districts:
        chosen = frame["district"].isin(o.districts)
    else:
        chosen = (frame["zone"] == CORE_ZONE) == (o.zone == "core")
    grouped = frame[chosen].groupby("year")[o.column]
    yearly = grouped.mean() if o.how == "mean" else grouped.sum()
    if o.how == "share":
        total = frame.groupby("year")[o.column].sum()
        yearly = yearly / total.where(total > 0)
    return float(yearly.mean())


def row_seeds(row: Mechanism, seeds: int) -> int:
    """Seeds a row runs: the command's, or the row's own (``perturb.seeds``) where more."""
    assert row.perturb is not None
    return max(seeds, row.perturb.seeds or 0)


def run_liveness(rows: Sequence[Mechanism], *, scale: float, seeds: int, threads: int = 1,
                 progress: Callable[[int, int], None] | None = None) -> list[Measured]:
    """Run both arms of every row for seeds 1..``seeds`` (1..the row's own ``perturb.seeds`` where more) and
    measure each row (identical configs run once)."""
    from sim.run import run_simulation

    if seeds < 2:
        raise InputError("at least two seeds are needed to measure seed noise", field="--seeds")
    plan: dict[str, tuple[RunConfig, list[Outcome]]] = {}
    arms: dict[tuple[int, int], tuple[str, str]] = {}
    for r in rows:
        assert r.perturb is not None
        for seed in range(1, row_seeds(r, seeds) + 1):
            keys = []
            for config in arm_configs(r, seed, scale):
                key = config.config_hash()
                plan.setdefault(key, (config, []))[1].append(r.perturb.outcome)
                keys.append(key)
            arms[(r.row, seed)] = (keys[0], keys[1])
    values: dict[tuple[str, Outcome], float] = {}
    for done, (key, (config, outcomes)) in enumerate(plan.items()):
        model = run_simulation(config, threads=threads)
        city, district = model.city_year(), model.district_year()
        settled = settlers(model) if any(o.table == "settlers" for o in outcomes) else None
        for o in outcomes:
            values[(key, o)] = outcome_value(city, district, o, settled)
        del model
        if progress:
            progress(done + 1, len(plan))
    out = []
    for r in rows:
        assert r.perturb is not None
        o = r.perturb.outcome
        own = range(1, row_seeds(r, seeds) + 1)
        base = [values[(arms[(r.row, s)][0], o)] for s in own]
        diffs = [values[(arms[(r.row, s)][1], o)] - b for s, b in zip(own, base, strict=True)]
        effect, noise, said = verdict(diffs, r.perturb.expect)
        out.append(Measured(r.row, r.mechanism, r.article, o.label(), r.perturb.expect, r.perturb.describe(),
                            float(np.mean(base)), effect, noise, tuple(diffs), said))
    return out


def write_table(measured: Sequence[Measured], out: Path, meta: dict) -> tuple[Path, Path]:
    """Write ``liveness.csv`` (one row per LIVE row, with each seed's difference), ``liveness.md`` and the run's
    settings (``meta``: command, scale, seeds, k, seconds) to ``run.json`` in ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    frame = pd.DataFrame([{**{k: v for k, v in asdict(m).items() if k != "diffs"}, "relative": m.relative,
                           "diffs": " ".join(f"{d:.6g}" for d in m.diffs)} for m in measured])
    csv = out / "liveness.csv"
    frame.to_csv(csv, index=False, float_format="%.6g")
    (out / "run.json").write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n", "utf-8")
    md = out / "liveness.md"
    lines = [f"# Liveness of the LIVE mechanisms ({meta.get('command', '')})", "",
             f"scale {meta['scale']:g}, seeds 1–{meta['seeds']}, beyond noise = |effect| > {meta['k']:g} standard "
             f"errors of the per-seed difference; {meta['seconds']:.0f} s", "",
             "| row | mechanism | article | outcome | expected | perturbation | baseline | effect | noise (se) | "
             "verdict |", "|---|---|---|---|---|---|---|---|---|---|"]
    lines += [f"| {m.row} | {m.mechanism} | {m.article} | {m.outcome} | {m.expect} | {m.perturbation} | "
              f"{number(m.baseline)} | {number(m.effect, sign=True)} | {number(m.noise)} | {m.verdict} |"
              for m in measured]
    md.write_text("\n".join(lines) + "\n", "utf-8")
    return csv, md


def read_table(folder: Path) -> tuple[pd.DataFrame, dict]:
    """A liveness table written by ``write_table`` and its settings; an empty table when there is none."""
    csv, meta = folder / "liveness.csv", folder / "run.json"
    if not csv.is_file() or not meta.is_file():
        return pd.DataFrame(columns=["row", "verdict", "effect", "noise", "baseline"]), {}
    return pd.read_csv(csv), json.loads(meta.read_text("utf-8"))

