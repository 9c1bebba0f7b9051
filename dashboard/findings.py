"""Key-finding sentences: what a reform does against a baseline, per city, in a year, said as a policy office would
read it ("Under open registration, Guangzhou's hukou share in 2035 is 7.3 points higher than under historical (95%
band 7.2 to 7.4) ..."), with whether the effect stands out from the band's noise and the city's validation caveat.

Pure functions over small frames, so they are tested on synthetic tables and shared by the compare page and
``hukou report``.

How the band is made. Each run's value is one draw; the effect is reform minus baseline. When the two arms ran the
same seeds (common random numbers: the scenario builder's runs, and a sweep with ``parameter_draws``, whose
scenarios share parameter draws and seeds), the differences are taken run by run and the band is a t interval of
their mean, which removes the noise both arms share. A ``hukou sweep`` without them gives every scenario seeds of
its own (experiments/seeds.py: independent streams per scenario and replicate), so there is nothing to pair: the
band is then Welch's interval of the difference of the two means. The compare chart's band is made the same way
(``dashboard.paired`` when paired, Welch's otherwise), so a finding and the chart give the same numbers. The
sentence says which. What the band includes comes from the sweep's manifest (``dashboard.bands``): parameter
uncertainty and seed noise when its runs carry several parameter sets drawn from a posterior, else seed noise only;
the sentence names what an effect is told apart from accordingly.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from dashboard.bands import PARAMETERS, SEEDS_ONLY, Band
from dashboard.i18n import city_label, fmt_number, lang_of, metric_label, metric_unit
from sim.metrics import SHARE_METRICS, YEAR_METRICS

if TYPE_CHECKING:
    from dashboard.data import Experiment

__all__ = ["Finding", "FINDING_METRICS", "effect", "key_findings", "finding_sentence", "census_errors",
           "validation_caveat", "findings_frame", "experiment_findings", "shipped_census_errors",
           "scenario_names", "baseline_key", "overview_findings"]

# The outcomes a briefing states first: who holds hukou, where migrants live, how many settle, who settles.
FINDING_METRICS = ("hukou_share", "suburban_dispersion_migrants", "settlements_total", "talent_share_settlers")


@dataclass(frozen=True)
class Finding:
    """One effect: reform minus baseline of a metric in a city and year, with its 95% band across seeds."""

    city: str
    metric: str
    year: float
    reform: str
    baseline: str
    diff: float
    low: float
    high: float
    n_reform: int
    n_baseline: int
    paired: bool
    census_error: float | None = None  # the city's held-out 2020 census error (relative), when a report has it
    band: str = SEEDS_ONLY  # what the band includes (dashboard.bands: PARAMETERS or SEEDS_ONLY), from the manifest

    @property
    def parameters(self) -> bool:
        """Whether the band includes parameter uncertainty (the runs carry parameter sets drawn from a posterior)."""
        return self.band == PARAMETERS

    @property
    def has_band(self) -> bool:
        """Whether there were enough seeds for a band (two in each arm)."""
        return not (math.isnan(self.low) or math.isnan(self.high))

    @property
    def distinguishable(self) -> bool:
        """Whether the band excludes zero: the effect is larger than the band's noise (seeds, and parameters when
        drawn) explains."""
        return self.has_band and (self.low > 0 or self.high < 0)


def effect(reform: pd.DataFrame, baseline: pd.DataFrame, level: float = 0.95,
           draws: bool = False) -> tuple[float, float, float, bool]:
    """(difference, band low, band high, paired) of two arms' per-run values (columns ``value`` and, when known,
    ``seed``).
    Paired by seed when every run of each arm has a partner with the same seed (two or more pairs where both runs
    define the value: a pair with an undefined value is dropped, as the sweep's summaries and the Compare page drop
    it); Welch's interval otherwise. The band is NaN below two runs an arm. With ``draws`` (the runs carry parameter
    sets drawn from a posterior) the paired band is a prediction interval, ``t · sd · √(1 + 1/n)``, where the effect
    lies given the parameters' uncertainty, which more draws do not shrink; otherwise it is the interval of the mean
    over seeds, ``t · sd / √n`` (experiments.store._spread, the same rule as the sweep's summaries). Plain numpy: a
    page asks for several at once, and pandas' per-call overhead was most of the time."""
    r_all, b_all = reform["value"].to_numpy(dtype="float64"), baseline["value"].to_numpy(dtype="float64")
    r_ok, b_ok = ~np.isnan(r_all), ~np.isnan(b_all)
    r, b = r_all[r_ok], b_all[b_ok]
    if not len(r) or not len(b):
        return math.nan, math.nan, math.nan, False
    if "seed" in reform.columns and "seed" in baseline.columns and len(r_all) == len(b_all):
        rs, bs = reform["seed"].to_numpy(), baseline["seed"].to_numpy()
        ro, bo = np.argsort(rs, kind="stable"), np.argsort(bs, kind="stable")
        both = r_ok[ro] & b_ok[bo]
        if len(np.unique(rs)) == len(rs) and np.array_equal(rs[ro], bs[bo]) and both.sum() >= 2:
            d = r_all[ro][both] - b_all[bo][both]
            spread = math.sqrt(1 + 1 / len(d)) if draws else 1 / math.sqrt(len(d))
            mean, se = float(d.mean()), float(d.std(ddof=1) * spread)
            half = _t_quantile(level, len(d) - 1) * se if se > 0 else 0.0
            return mean, mean - half, mean + half, True
    diff = float(r.mean() - b.mean())
    if len(r) < 2 or len(b) < 2:
        return diff, math.nan, math.nan, False
    a, c = float(r.var(ddof=1)) / len(r), float(b.var(ddof=1)) / len(b)
    se = math.sqrt(a + c)
    if se == 0:
        return diff, diff, diff, False
    dof = (a + c) ** 2 / (a**2 / (len(r) - 1) + c**2 / (len(b) - 1))
    half = _t_quantile(level, dof) * se
    return diff, diff - half, diff + half, False


@cache
def _t_quantile(level: float, dof: float) -> float:
    """The two-sided Student-t quantile of ``level`` (kept: a sweep has a handful of seed counts)."""
    from scipy import stats as st

    return float(st.t.ppf(0.5 + level / 2, dof))


def key_findings(runs: pd.DataFrame, reform: str, baseline: str, year: float, *, cities: Iterable[str],
                 metrics: Iterable[str] = FINDING_METRICS, census: Mapping[str, float] | None = None,
                 level: float = 0.95, band: str = SEEDS_ONLY) -> list[Finding]:
    """The findings of ``reform`` against ``baseline`` in ``year``, per city then metric.

    ``runs``: one row per run, city and metric of that year (columns key, replicate, city, metric, value, and
    ``seed`` when known), as ``Experiment.run_values`` gives them. A city or metric without values in both arms is
    left out. ``census``: relative 2020 census error per city (``census_errors``). ``band``: what the sweep's
    bands include (``dashboard.bands``), carried by every finding.
    """
    out = []
    groups = {k: g for k, g in runs.groupby(["key", "city", "metric"], sort=False)}
    for city in cities:
        for metric in metrics:
            r, b = groups.get((reform, city, metric)), groups.get((baseline, city, metric))
            if r is None or b is None:
                continue
            diff, low, high, paired = effect(r, b, level, draws=band == PARAMETERS)
            if math.isnan(diff):
                continue
            out.append(Finding(city, metric, float(year), reform, baseline, diff, low, high,
                               int(r["value"].notna().sum()), int(b["value"].notna().sum()), paired,
                               (census or {}).get(city), band))
    return out


def experiment_findings(experiment: Experiment, reform: str, baseline: str, year: float, cities: Iterable[str],
                        metrics: Iterable[str] = FINDING_METRICS) -> list[Finding]:
    """``key_findings`` of a sweep: its per-run values of the year with each run's seed, the shipped validation
    report's 2020 census errors, and what its bands include (its manifest, ``Experiment.band``)."""
    metrics, cities = tuple(metrics), tuple(cities)
    runs = experiment.run_values(year, metrics)
    runs = runs[runs["key"].isin((reform, baseline)) & runs["city"].isin(cities)]
    seeds = experiment.run_seeds()
    if len(seeds):
        runs = runs.merge(seeds, on=["key", "replicate"], how="left")
    return key_findings(runs, reform, baseline, year, cities=cities, metrics=metrics, census=shipped_census_errors(),
                        band=experiment.band.label)


def baseline_key(experiment: Experiment) -> str | None:
    """The scenario the overview's findings are measured against: the historical rules when the experiment ran
    them, else the design's first scenario (the baseline of the sweep's own difference tables)."""
    frame = experiment.scenarios()
    keys = [str(k) for k in frame["key"]]
    historical = [str(k) for k, r in zip(frame["key"], frame["regimes"], strict=True) if str(r) == "historical"]
    chosen = historical or keys
    return chosen[0] if chosen else None


def overview_findings(experiment: Experiment, keys: Iterable[str], baseline: str, metric: str, year: float,
                      cities: Iterable[str]) -> list[tuple[Finding, int, int]]:
    """Per city, the largest effect on ``metric`` among the regimes ``keys`` against ``baseline`` (the largest
    distinguishable from the band's noise when any is), with how many of the regimes' effects are distinguishable and
    how many were compared: (finding, distinguishable, compared). Cities without values are left out."""
    cities = tuple(cities)
    found: dict[str, list[Finding]] = {c: [] for c in cities}
    for key in keys:
        if key == baseline:
            continue
        for finding in experiment_findings(experiment, key, baseline, year, cities, (metric,)):
            found[finding.city].append(finding)
    out = []
    for city in cities:
        effects = found[city]
        if not effects:
            continue
        clear = [f for f in effects if f.distinguishable]
        top = max(clear or effects, key=lambda f: abs(f.diff))
        out.append((top, len(clear), len(effects)))
    return out


@cache
def shipped_census_errors() -> dict[str, float]:
    """``census_errors`` of the validation report shipped with the package (dashboard/validation_report, a copy of
    docs/validation): the calibrated model's held-out check, whatever sweep is being read."""
    from dashboard.data import SHIPPED_REPORT, SHIPPED_REPORT_ID, ValidationReport

    report = ValidationReport(SHIPPED_REPORT_ID, SHIPPED_REPORT, shipped=True)
    return census_errors(report.table())


def scenario_names(experiment: Experiment, lang: str) -> dict[str, str]:
    """Scenario key → short name for sentences ("Talent only"; its label when not a catalogue regime)."""
    from dashboard.glossary import scenario_name

    frame = experiment.scenarios()
    labels = [str(lab).removeprefix("regimes=") for lab in frame["label"]]
    names = [scenario_name(r, lab, lang) for r, lab in zip(frame["regimes"], labels, strict=True)]
    # scenarios that share their regimes (a sweep of overrides or uncertainties) are told apart by their labels
    shared = {n for n in names if names.count(n) > 1}
    return {str(k): (f"{n} ({lab})" if n in shared and n != lab else n)
            for k, n, lab in zip(frame["key"], names, labels, strict=True)}


def census_errors(table: pd.DataFrame, year: int = 2020) -> dict[str, float]:
    """The held-out census-day resident error of each city in a validation table (simulated/observed − 1)."""
    from dashboard.figures import census_misses

    return {str(r.city): float(r.relative_error) for r in census_misses(table, year).itertuples(index=False)
            if not math.isnan(float(r.relative_error))}


def _in_unit(metric: str, value: float) -> float:
    """A difference in the unit a reader gets: percentage points for shares, else the metric's own unit."""
    return value * 100 if metric in SHARE_METRICS else value


def _amount(metric: str, value: float, lang: str, digits: int) -> str:
    """An unsigned amount in the metric's unit for a sentence."""
    size = abs(_in_unit(metric, value))
    zh = lang_of(lang) == "zh"
    if metric in SHARE_METRICS:
        return f"{size:.{digits}f}个百分点" if zh else f"{size:.{digits}f} points"
    if metric in YEAR_METRICS:
        return f"{size:.{digits}f}年" if zh else f"{size:.{digits}f} years"
    unit = metric_unit(metric, lang, difference=True)
    return f"{fmt_number(size, lang, 0)}{unit}" if zh else f"{fmt_number(size, lang, 0)} {unit}"


def _signed(metric: str, value: float, digits: int, lang: str) -> str:
    """A band end with its sign: points and years to ``digits`` decimals, counts grouped (12,345 / 1.2万)."""
    v = round(_in_unit(metric, value), digits) + 0.0
    if metric in SHARE_METRICS or metric in YEAR_METRICS:
        return f"{v:+.{digits}f}".replace("-", "−")
    return ("+" if v > 0 else "−" if v < 0 else "") + fmt_number(abs(v), lang, 0)


def _digits(finding: Finding) -> int:
    """Decimals that show the band: one for effects of a point or more, two (three) for smaller ones."""
    scale = max(abs(_in_unit(finding.metric, v)) for v in (finding.diff, finding.low, finding.high)
                if not math.isnan(v))
    if finding.metric not in SHARE_METRICS and finding.metric not in YEAR_METRICS:
        return 0
    return 1 if scale >= 1 else 2 if scale >= 0.1 else 3


def _year(year: float) -> str:
    return f"{int(year)}" if year % 1 == 0 else f"{int(year)}-11-01"


def validation_caveat(city: str, error: float | None, lang: str) -> str:
    """The city's validation caveat: how far the model's held-out 2020 census count of residents lies from it."""
    name = city_label(city, lang)
    if error is None or math.isnan(error):
        return (f"验证：没有{name}2020年普查的留出检验。" if lang_of(lang) == "zh"
                else f"Validation: no held-out 2020 census check for {name}.")
    size = f"{abs(error):.1%}"
    if lang_of(lang) == "zh":
        return f"验证：模型对{name}2020年普查常住人口的模拟值{'高于' if error > 0 else '低于'}普查 {size}（留出检验）。"
    return (f"Validation: the model puts {name}'s residents at the 2020 census {size} "
            f"{'above' if error > 0 else 'below'} the count (held-out check).")


def finding_sentence(finding: Finding, reform_label: str, baseline_label: str, lang: str,
                     caveat: bool = True) -> str:
    """The finding as a sentence in ``lang``: size and direction, the band and how it was made, whether it stands
    out from the band's noise (seed noise, or parameter and seed uncertainty: ``Finding.band``), and (``caveat``)
    the city's validation caveat."""
    f, zh = finding, lang_of(lang) == "zh"
    digits = _digits(f)
    # the metric's name without "(per year)": the amount carries the unit ("persons per year")
    metric = metric_label(f.metric, lang).removesuffix(" (per year)").removesuffix("（每年）")
    city, year = city_label(f.city, lang), _year(f.year)
    up = round(_in_unit(f.metric, f.diff), digits) + 0.0
    amount = _amount(f.metric, f.diff, lang, digits)
    if f.has_band:
        low, high = _signed(f.metric, f.low, digits, lang), _signed(f.metric, f.high, digits, lang)
        band = f"{low} {'至' if zh else 'to'} {high}"
    if zh:
        change = "相同" if up == 0 else f"{'高' if up > 0 else '低'}{amount}"
        text = f"在“{reform_label}”下，{city}{year}年的{metric}比“{baseline_label}”{change}"
        noise = "参数与种子的不确定性" if f.parameters else "种子噪声"
        if f.has_band:
            if f.parameters:
                how = (f"{f.n_reform}次运行按参数组与种子逐一配对" if f.paired
                       else f"{f.n_reform}次与{f.n_baseline}次独立运行")
            else:
                how = f"{f.n_reform}对相同种子逐一配对" if f.paired else f"{f.n_reform}个与{f.n_baseline}个独立种子"
            text += f"（95%区间 {band}，{how}）。"
            text += f"该效应可与{noise}区分。" if f.distinguishable else f"该效应无法与{noise}区分。"
        else:
            text += f"（{'运行' if f.parameters else '种子'}不足两个，无法给出区间，也无法判断是否超出{noise}）。"
    else:
        change = "the same as" if up == 0 else f"{amount} {'higher' if up > 0 else 'lower'} than"
        text = f"Under {reform_label}, {city}'s {metric[:1].lower() + metric[1:]} in {year} is {change} under " \
               f"{baseline_label}"
        noise = "parameter and seed uncertainty" if f.parameters else "seed noise"
        if f.has_band:
            if f.parameters:
                how = (f"{f.n_reform} runs paired on parameter set and seed" if f.paired
                       else f"{f.n_reform} and {f.n_baseline} independent runs")
            else:
                how = (f"{f.n_reform} seeds paired" if f.paired
                       else f"{f.n_reform} and {f.n_baseline} independent seeds")
            text += f" (95% band {band}, {how}). "
            text += (f"The effect is distinguishable from {noise}." if f.distinguishable
                     else f"The effect is not distinguishable from {noise}.")
        else:
            text += f" (fewer than two {'runs' if f.parameters else 'seeds'}: no band, so no telling it from {noise})."
    if caveat:
        text += ("" if zh else " ") + validation_caveat(f.city, f.census_error, lang)
    return text


def findings_frame(findings: Iterable[Finding], labels: Mapping[str, str], lang: str) -> pd.DataFrame:
    """The findings as a numeric table (differences in the metric's unit, shares in points) for the report."""
    from dashboard.bands import noise_words
    from dashboard.i18n import metric_number, t

    rows = []
    for f in findings:
        unit = metric_unit(f.metric, lang, difference=True)
        told_from = t("distinguishable", lang).format(noise=noise_words(_band_of(f), lang))
        rows.append({t("city", lang): city_label(f.city, lang), t("metric", lang): metric_label(f.metric, lang),
                     t("year", lang): _year(f.year), t("reform", lang): labels.get(f.reform, f.reform),
                     t("baseline", lang): labels.get(f.baseline, f.baseline), t("unit_difference", lang): unit,
                     t("difference", lang): metric_number(f.metric, f.diff, difference=True),
                     t("ci_low", lang): metric_number(f.metric, f.low, difference=True),
                     t("ci_high", lang): metric_number(f.metric, f.high, difference=True),
                     told_from: t("yes" if f.distinguishable else "no", lang)})
    return pd.DataFrame(rows)


def _band_of(finding: Finding) -> Band:
    """The ``Band`` a finding's label stands for (only its label matters to the words that name the noise)."""
    return Band(finding.band, finding.paired)
