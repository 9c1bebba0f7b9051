"""Run settings sized to detect an effect: how many seeds a builder scenario needs, and how long they take.

Why: a scenario run with too few seeds shows seed noise as effects (issue 14). The user states the smallest effect
they care about, δ, in the metric's unit (points for shares); the per-seed standard deviation σ of that metric at
the chosen scale is read from a measured table; the seeds per arm follow from the usual power rule.

The rule. The builder runs its scenario on the baseline's seeds (``paired_seeds``), so the effect is a mean of
per-seed differences; their sd is at most σ·√2 (the two arms' noise is then independent; common seeds only make it
smaller), so the two-sample rule n = 2·((z₁₋α/₂ + z₁₋β)·σ/δ)² per arm is a safe bound for the paired design and is
what we use (α = 0.05 two-sided, power 1 − β = 0.8). Not fewer than 2 (a band needs two).

σ comes from, in order: the summaries (``sd``, ``n``) of a sweep at the same scale (``sigma_from_summary``: the
largest sd across its scenarios in the end year, the cautious choice), else the table shipped here,
``noise_table.json``, measured by ``python -m dashboard.power --out dashboard/noise_table.json`` (its command and
code version are in the file). Between measured scales σ is interpolated on log scale; beyond them it is the
nearest measured one, and the page says so.

The finish time is seeds × 2 arms × migrant-years of one run × measured seconds per migrant-year (the same file),
where the migrant-years of a run are the 2010 migrants at that scale times the years run.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

__all__ = ["NOISE_TABLE", "noise_table", "sigma_at", "seeds_needed", "finish_seconds", "Proposal", "propose",
           "sigma_from_summary", "POWER_METRICS"]

NOISE_TABLE = Path(__file__).with_name("noise_table.json")
POWER_METRICS = ("hukou_share", "suburban_dispersion_migrants", "talent_share_settlers", "settlements_total")
_Z = {0.05: 1.959963984540054, 0.8: 0.8416212335729143}  # z of 1 − α/2 for α = 0.05; z of power 0.8


@cache
def noise_table(path: Path = NOISE_TABLE) -> dict[str, Any]:
    """The shipped measurement: {"sd": {scale: {city: {metric: sd}}}, "seconds_per_migrant_year", ...}."""
    return dict(json.loads(path.read_text("utf-8")))


def sigma_at(table: dict[str, Any], scale: float, city: str, metric: str) -> tuple[float, str]:
    """σ of ``metric`` in ``city`` at ``scale`` persons per agent, and how it was had ("measured",
    "interpolated", "nearest measured scale N"). NaN when the table lacks the metric."""
    points = sorted((float(s), by_city.get(city, {}).get(metric)) for s, by_city in table["sd"].items())
    points = [(s, v) for s, v in points if v is not None and not math.isnan(v)]
    if not points:
        return math.nan, "not measured"
    for s, v in points:
        if math.isclose(s, scale):
            return float(v), "measured"
    if scale < points[0][0] or scale > points[-1][0]:
        s, v = points[0] if scale < points[0][0] else points[-1]
        return float(v), f"nearest measured scale {s:g}"
    for (s0, v0), (s1, v1) in zip(points, points[1:], strict=False):
        if s0 <= scale <= s1:
            w = (math.log(scale) - math.log(s0)) / (math.log(s1) - math.log(s0))
            return float(v0 + w * (v1 - v0)), "interpolated"
    return math.nan, "not measured"  # unreachable: scale lies between two measured points


def seeds_needed(sigma: float, delta: float, alpha: float = 0.05, power: float = 0.8) -> int:
    """Seeds per arm to detect ``delta`` with noise ``sigma``: ⌈2·((z₁₋α/₂ + z₁₋β)·σ/δ)²⌉, at least 2."""
    if not delta > 0:
        raise ValueError("smallest effect: must be a positive number")
    if math.isnan(sigma):
        return 2
    z = _Z[alpha] + _Z[power]
    return max(2, math.ceil(2 * (z * sigma / delta) ** 2))


def finish_seconds(table: dict[str, Any], scale: float, years: int, seeds: int, arms: int = 2) -> float:
    """Estimated wall seconds of ``arms`` × ``seeds`` runs of ``years`` years at ``scale`` on one worker."""
    migrants = float(table["migrants_2010_persons"]) / scale
    per_run = migrants * years * float(table["seconds_per_migrant_year"]) + float(table["seconds_per_run_fixed"])
    return arms * seeds * per_run


@dataclass(frozen=True)
class Proposal:
    """What the builder proposes for one metric and city: seeds per arm, σ used and where it came from, the
    estimated finish time, and whether the form's seeds are enough."""

    metric: str
    city: str
    delta: float
    sigma: float
    source: str
    seeds: int
    seconds: float
    enough: bool


def _unit(metric: str, value: float) -> float:
    """σ in the unit the user states effects in: percentage points for shares (the table stores fractions)."""
    from sim.metrics import SHARE_METRICS

    return value * 100 if metric in SHARE_METRICS else value


def propose(delta: float, metric: str, city: str, scale: float, years: int, chosen_seeds: int,
            table: dict[str, Any] | None = None, sigma: tuple[float, str] | None = None) -> Proposal:
    """The seeds needed for ``delta`` (metric's unit, points for shares) and the finish time of running them.
    ``sigma``: (σ in the table's unit, source) from a sweep's summaries, used instead of the shipped table."""
    table = table if table is not None else noise_table()
    raw, source = sigma if sigma is not None else sigma_at(table, scale, city, metric)
    s = _unit(metric, raw)
    n = seeds_needed(s, delta)
    return Proposal(metric, city, delta, s, source, n, finish_seconds(table, scale, years, n), chosen_seeds >= n)


def sigma_from_summary(summary: Any, city: str, metric: str, year: float) -> tuple[float, str] | None:
    """σ from a sweep's ``summary_city_year`` frame (columns city, year, metric, n, sd): the largest sd among its
    scenarios in ``year`` with two or more seeds, or None when it has none."""
    rows = summary[(summary["city"] == city) & (summary["metric"] == metric) & (summary["year"] == year)
                   & (summary["n"] >= 2)]
    if rows.empty or rows["sd"].isna().all():
        return None
    return float(rows["sd"].max()), f"sweep summaries (n = {int(rows['n'].min())})"


def _measure(scales: list[float], seeds: int, end: int, root: Path, workers: int) -> dict[str, Any]:
    """Run the historical rules at each scale with ``seeds`` seeds and read σ from the summaries; time the runs."""
    import time

    from experiments import query, run_sweep
    from experiments.spec import spec_from_dict

    sd: dict[str, dict[str, dict[str, float]]] = {}
    timing: list[tuple[float, float, float]] = []
    for scale in scales:
        spec = spec_from_dict({"name": f"noise_{int(scale)}", "levers": {"regimes": ["historical"]},
                               "outcomes": list(POWER_METRICS), "replications": seeds, "scale": scale,
                               "start": 2010, "end": end, "root_seed": 2010})
        folder = root / f"noise_{int(scale)}"
        t0 = time.perf_counter()
        summary = run_sweep(spec, folder, workers=workers)
        seconds = time.perf_counter() - t0
        if not summary.ok:
            raise RuntimeError(f"noise sweep at scale {scale} failed: {summary.failed[:1]}")
        frame = query(folder, f"SELECT city, metric, sd FROM summary_city_year WHERE year = {end} "
                      f"AND metric IN ({', '.join(repr(m) for m in POWER_METRICS)})")
        sd[f"{scale:g}"] = {c: {m: float(v) for m, v in zip(g["metric"], g["sd"], strict=True)}
                            for c, g in frame.groupby("city")}
        migrants = query(folder, "SELECT avg(m) AS m FROM (SELECT run_id, sum(migrants) AS m FROM city_year "
                                 "WHERE year = (SELECT min(year) FROM city_year) GROUP BY run_id)")["m"].iloc[0]
        timing.append((scale, float(migrants), seconds / seeds * workers))
    return {"sd": sd, "timing": timing}


def main(argv: list[str] | None = None) -> int:
    """``python -m dashboard.power --out FILE``: measure the noise table shipped with the dashboard."""
    import argparse
    import datetime as dt
    import sys
    import tempfile

    from sim.run import code_version

    parser = argparse.ArgumentParser(prog="python -m dashboard.power", description=main.__doc__)
    parser.add_argument("--out", type=Path, default=NOISE_TABLE)
    parser.add_argument("--scales", default="100,2000,5000,20000", help="persons per agent, comma-separated")
    parser.add_argument("--seeds", type=int, default=6)
    parser.add_argument("--end", type=int, default=2025)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args(argv)
    scales = [float(s) for s in args.scales.split(",")]
    with tempfile.TemporaryDirectory(prefix="hukou-noise-") as tmp:
        found = _measure(scales, args.seeds, args.end, Path(tmp), args.workers)
    # seconds per run = fixed + migrant-years × rate. On a shared machine a least-squares fit came out negative
    # (-0.72 µs per migrant-year): at 2,000 persons per agent and coarser a run is nearly all fixed cost (reading
    # inputs, building the cities), so the fixed cost is the fastest of those runs and the rate is what the finest
    # scale took beyond it.
    years = args.end - 2010 + 1
    timing = sorted(found["timing"])
    fine_scale, fine_migrants, fine_seconds = timing[0]
    fixed = min([t for s, _, t in timing if s >= 2000] or [0.0])
    rate = max(0.0, fine_seconds - fixed) / (fine_migrants / fine_scale * years)
    persons = sum(m for _, m, _ in timing) / len(timing)
    doc = {"command": "python -m dashboard.power " + " ".join(sys.argv[1:] if argv is None else argv),
           "code_version": code_version(), "measured": dt.date.today().isoformat(), "regime": "historical",
           "end": args.end, "seeds": args.seeds, "statistic": "sample sd across seeds of the end year's value",
           "sd": found["sd"], "migrants_2010_persons": round(persons),
           "seconds_per_migrant_year": float(rate), "seconds_per_run_fixed": max(0.0, float(fixed)),
           "timing": [{"scale": s, "migrants_2010": m, "seconds_per_run": round(t, 3)}
                      for s, m, t in found["timing"]]}
    args.out.write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n", "utf-8")
    print(f"wrote {args.out}: σ at scales {', '.join(found['sd'])}; "
          f"{rate * 1e6:.2f} µs per migrant-year + {fixed:.2f} s per run")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())


def baseline_match(manifest: dict[str, Any], base: str, scale: float, end: int, seeds: int) -> list[tuple[str, Any,
                                                                                                          Any]]:
    """Why a sweep's baseline runs of ``base`` are not those a builder scenario would run: (reason key, builder's
    value, sweep's value) for each difference; empty when they match (same scale, start, end year and seeds, and
    nothing else in the sweep's spec that changes a run's configuration). The builder's runs take the sweep's root
    seed and the baseline's seeds (``paired_seeds``), so matching runs are the same runs, bit for bit."""
    spec = manifest.get("spec", {})
    levers = spec.get("levers", {})
    out: list[tuple[str, Any, Any]] = []
    if base not in levers.get("regimes", []):
        return [("why_settings", base, "–")]
    if not math.isclose(float(spec.get("scale", math.nan)), float(scale)):
        out.append(("why_scale", f"{scale:g}", f"{float(spec.get('scale', math.nan)):g}"))
    if spec.get("end") != end:
        out.append(("why_end", end, spec.get("end")))
    if int(spec.get("replications", 0)) < seeds:
        out.append(("why_seeds", seeds, spec.get("replications")))
    if (spec.get("start") != 2010 or levers.get("overrides") or spec.get("uncertainties")
            or spec.get("parameter_draws") or spec.get("constants", {}).get("behaviour")
            or spec.get("constants", {}).get("overrides") or spec.get("constants", {}).get("step_months", 3) != 3):
        out.append(("why_settings", "", ""))
    return out


def fmt_duration(seconds: float, lang: str) -> str:
    """A finish time as a reader says it: seconds under two minutes, minutes under two hours, else hours."""
    zh = lang == "zh"
    if seconds < 120:
        return f"{seconds:.0f}秒" if zh else f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f}分钟" if zh else f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f}小时" if zh else f"{seconds / 3600:.1f} h"


def main_sweep(experiments: list[Any], base: str) -> Any | None:
    """The main sweep a builder scenario is measured against: the first results sweep (not a builder scenario)
    that ran ``base``, or None."""
    for experiment in experiments:
        if not experiment.custom and base in experiment.manifest.get("spec", {}).get("levers", {}).get("regimes", []):
            return experiment
    return None


def _delta_text(metric: str, delta: float, lang: str) -> str:
    """The stated effect with its unit (points for shares, persons per year for counts)."""
    from dashboard.i18n import fmt_number, t
    from sim.metrics import SHARE_METRICS

    if metric in SHARE_METRICS:
        return f"{delta:g}{'' if lang == 'zh' else ' '}{t('power_unit_points', lang)}"
    return f"{fmt_number(delta, lang, 0)}{'' if lang == 'zh' else ' '}{t('power_unit_persons', lang)}"


def _source_text(source: str, lang: str) -> str:
    from dashboard.i18n import t

    if source.startswith("nearest measured scale"):
        return t("power_source_nearest", lang).format(scale=source.rsplit(" ", 1)[-1])
    if source.startswith("sweep summaries"):
        return t("power_source_sweep", lang) + source.removeprefix("sweep summaries")
    return t("power_source_interpolated" if source == "interpolated" else "power_source_measured", lang)


def advice(registry: Any, base: Any, city: Any, scale: Any, end: Any, seeds: Any, delta: Any, metric: Any,
           lang: str) -> list[tuple[str, str]]:
    """The builder's sizing lines, each (text, CSS class): the proposal, whether the chosen seeds are enough, the
    rule used, and whether the main sweep's baseline runs match. ``ValueError`` names a field that is wrong."""
    from dashboard.i18n import city_label, t
    from dashboard.levers import LIMITS, cities_of

    if metric not in POWER_METRICS:
        raise ValueError(f"{t('power_metric', lang)}: {' | '.join(POWER_METRICS)}")
    numbers = {}
    for name, value in (("scale", scale), ("end", end), ("replications", seeds)):
        low, high = LIMITS[name]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
            raise ValueError(f"{t(name if name != 'end' else 'end_year', lang)}: "
                             f"{t('allowed_range', lang).format(low=low, high=high)}")
        numbers[name] = float(value)
    if isinstance(delta, bool) or not isinstance(delta, (int, float)) or not delta > 0:
        raise ValueError(f"{t('power_effect', lang)}: {t('power_positive', lang)}")
    cities = cities_of(str(base)) if isinstance(base, str) else []
    city = city if city in cities else (cities[0] if cities else None)
    if city is None:
        raise ValueError(t("base_regime", lang))
    scale_, end_, chosen = numbers["scale"], int(numbers["end"]), int(numbers["replications"])
    experiments = [registry.get(i) for i in registry.ids()]
    sweep = main_sweep(experiments, str(base))
    mismatch = baseline_match(sweep.manifest, str(base), scale_, end_, chosen) if sweep is not None else None
    sigma = None
    if sweep is not None and not [m for m in mismatch or [] if m[0] in ("why_scale", "why_settings")]:
        sigma = sigma_from_summary(sweep.summary_city(), city, metric, float(end_))  # same scale: its own noise
    p = propose(float(delta), metric, city, scale_, end_ - 2010 + 1, chosen, sigma=sigma)
    lines = [(t("power_proposal", lang).format(
        delta=_delta_text(metric, float(delta), lang), city=city_label(city, lang), seeds=p.seeds,
        sigma=_delta_text(metric, round(p.sigma, 3 if metric != "settlements_total" else 0), lang),
        source=_source_text(p.source, lang), time=fmt_duration(p.seconds, lang), scale=f"{scale_:g}", end=end_),
        "")]
    if p.seeds > LIMITS["replications"][1]:
        lines.append((t("power_too_many", lang).format(high=int(LIMITS["replications"][1])), "text-danger"))
    elif p.enough:
        lines.append((t("power_enough", lang).format(chosen=chosen), "text-success"))
    else:
        lines.append((t("power_short", lang).format(chosen=chosen), "text-warning"))
    lines.append((t("power_rule", lang), "text-muted"))
    if sweep is None:
        lines.append((t("reuse_none", lang).format(base=base), "text-muted"))
    elif not mismatch:
        lines.append((t("reuse_match", lang).format(exp=sweep.id), "text-muted"))
    else:
        why = "; ".join(t(key, lang).format(a=a, b=b) for key, a, b in mismatch)
        lines.append((t("reuse_mismatch", lang).format(exp=sweep.id, why=why), "text-muted"))
    return lines
