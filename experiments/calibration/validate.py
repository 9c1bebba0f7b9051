"""``hukou validate``: the historical regimes from the 2010 census day, with the installed defaults (the calibrated
parameters), over several seeds, compared with every observed target — simulated against observed, Flee style.

The output folder::

    OUT/
      sweep/                       the validation sweep (an ordinary sweep folder: resumable, queryable)
      validation_table.parquet     one row per target (and .csv): city, year, measure, target_kind, observed,
                                   simulated_mean, simulated_lo, simulated_hi, error, relative_error, ...
      validation_summary.csv       error measures per target kind and measure
      simulated_series.parquet     the simulated city series (mean and band) behind the plots
      district_shares.parquet      one row per district-share target (and .csv): observed, simulated (mean, band)
                                   and persistence shares (the 2010 census carried forward), errors in pp
      district_share_errors.csv    per city and year: mean absolute error (pp) of the model and of persistence
      city_series.csv              resident series per city and date: revised, first published, 2015 survey,
                                   simulated mean
      series.png, errors.png, district_shares.png   plots
      report.md                    the report; manifest.json  what reproduces it

Validation targets were not used to fit anything (docs/validation.md); calibration targets appear too, marked, so
the reader sees in-sample and out-of-sample fit side by side; ``initial`` rows are the census-day state the model
starts from and check only the set-up.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from experiments.calibration.findings import city_series, gets_right, still_wrong
from experiments.calibration.shares import base_shares, persistence_errors, share_rows
from experiments.calibration.targets import comparison_table, load_targets, log_floor, moments_of_runs
from policies.cities import CITIES

__all__ = ["ValidationReport", "ValidationFailed", "run_validation", "summarise", "TABLE_COLUMNS"]

log = logging.getLogger(__name__)
Progress = Callable[[str, dict[str, int], float], None]
TABLE_COLUMNS = ("city", "year", "measure", "target_kind", "observed", "simulated_mean", "simulated_lo",
                 "simulated_hi", "error", "relative_error")
_KIND_STYLE = {"initial": ("#777777", "s"), "calibration": ("#1f77b4", "o"), "validation": ("#d62728", "D")}


class ValidationFailed(RuntimeError):
    """The validation sweep ended with failed runs."""


@dataclass
class ValidationReport:
    """What a validation run wrote, and its numbers."""

    folder: Path
    table: pd.DataFrame
    summary: pd.DataFrame
    shares: pd.DataFrame = field(default_factory=pd.DataFrame)
    share_errors: pd.DataFrame = field(default_factory=pd.DataFrame)

    def headline(self) -> list[str]:
        """A few lines for the terminal: error measures of the calibration and validation targets, and the
        district shares of the model against persistence per city and year."""
        lines = []
        for row in self.summary[self.summary["measure"] == "all"].itertuples():
            predictive = (f", inside the 50%/90% predictive {row.inside_predictive50:.0%}/"
                          f"{row.inside_predictive90:.0%}" if hasattr(row, "inside_predictive90") else "")
            lines.append(f"{row.target_kind:>11}: {row.n} targets, median |rel. error| {row.median_abs_rel_error:.1%},"
                         f" RMS log error {row.rms_log_error:.3f}, inside the 90% band {row.inside_band:.0%}"
                         f"{predictive}, |z| <= 2: {row.within_2_sigma:.0%}")
        for r in self.share_errors.itertuples():
            plural = "" if r.districts == 1 else "s"
            lines.append(f"district shares {r.city} {int(r.year)}: model {r.model_mae_pp:.2f} pp, 2010 carried "
                         f"forward {r.persistence_mae_pp:.2f} pp ({r.districts} district{plural})")
        return lines


def validation_spec(seeds: int, scale: float, end: int, root_seed: int, posterior: Path | None = None,
                    draws: int = 20) -> dict[str, Any]:
    """The sweep spec of a validation run (historical regimes, default behaviour, ``seeds`` replications); with a
    posterior file, ``draws`` parameter sets drawn from it, each run with ``seeds`` seeds, so the bands carry
    parameter and seed uncertainty."""
    spec: dict[str, Any] = {
        "name": "validation", "description": "historical regimes with the installed (calibrated) defaults",
        "levers": {"regimes": ["historical"]}, "constants": {"step_months": 3},
        "outcomes": ["residents", "hukou_residents", "migrants", "settlements_total"],
        "replications": seeds, "scale": scale, "start": 2010, "end": end, "root_seed": root_seed}
    if posterior is not None:
        spec["description"] = "historical regimes with parameter sets drawn from a posterior"
        spec["parameter_draws"] = {"file": str(Path(posterior).resolve()), "draws": draws}
    return spec


def summarise(table: pd.DataFrame) -> pd.DataFrame:
    """Error measures per target kind, overall and per measure: median and mean absolute relative error, RMS log
    error, mean relative error (bias), share of observations inside the seed band and within two sigma."""
    rows = []
    for kind, frame in table.groupby("target_kind", sort=False):
        for measure, part in [("all", frame), *frame.groupby("measure", sort=False)]:
            ok = part[np.isfinite(part["simulated_mean"])]
            log_err = np.log(np.maximum(ok["simulated_mean"], log_floor(ok["measure"])) / ok["observed"])
            log_err = np.where(ok["comparison"] == "at_least", np.minimum(log_err, 0.0), log_err)  # a bound met
            rows.append({"target_kind": kind, "measure": measure, "n": len(ok),
                         "median_abs_rel_error": float(ok["relative_error"].abs().median()) if len(ok) else np.nan,
                         "mean_abs_rel_error": float(ok["relative_error"].abs().mean()) if len(ok) else np.nan,
                         "mean_rel_error": float(ok["relative_error"].mean()) if len(ok) else np.nan,
                         "rms_log_error": float(np.sqrt(np.mean(log_err ** 2))) if len(ok) else np.nan,
                         "inside_band": float(ok["inside_band"].mean()) if len(ok) else np.nan,
                         **{column: float(ok[column].mean()) if len(ok) else np.nan
                            for column in ("inside_predictive50", "inside_predictive90") if column in ok},
                         "within_2_sigma": float((ok["z"].abs() <= 2).mean()) if len(ok) else np.nan})
    return pd.DataFrame(rows)


def _series(folder: Path, band: float = 0.90) -> pd.DataFrame:
    """The simulated city series across seeds: residents and registered (hukou residents) per recorded date."""
    from experiments.store import query

    frame = query(folder, "SELECT run_id, year, census_day, city, residents, hukou_residents, migrants "
                          "FROM city_year")
    long = frame.melt(id_vars=["run_id", "year", "census_day", "city"],
                      value_vars=["residents", "hukou_residents", "migrants"], var_name="measure")
    lo_q, hi_q = (1 - band) / 2, 1 - (1 - band) / 2
    grouped = long.groupby(["city", "year", "census_day", "measure"])["value"]
    out = pd.DataFrame({"simulated_mean": grouped.mean(), "simulated_lo": grouped.quantile(lo_q),
                        "simulated_hi": grouped.quantile(hi_q), "runs": grouped.size()}).reset_index()
    return out


def _census_districts(folder: Path) -> pd.DataFrame:
    """Every run's district rows of the 2010 census day, with names and zones (the persistence forecast)."""
    from experiments.store import query

    return query(folder, "SELECT run_id, year, census_day, city, district, district_name, district_name_cn, zone, "
                         "residents FROM district_year WHERE census_day AND year < 2011")


def _plot_series(series: pd.DataFrame, table: pd.DataFrame, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 3, figsize=(15, 8.5), sharex=True)
    for j, city in enumerate(CITIES):
        for i, (measure, label, target_measure) in enumerate([("residents", "resident population", "residents"),
                                                               ("hukou_residents", "registered population",
                                                                "registered")]):
            ax = axes[i, j]
            s = series[(series["city"] == city) & (series["measure"] == measure) & ~series["census_day"]]
            s = s.sort_values("year")
            offset = 0.0
            if measure == "hukou_residents":  # the same constant offset as the table (targets.py)
                base = table[(table["city"] == city) & (table["measure"] == "registered")
                             & (table["target_kind"] == "initial")]
                if len(base):
                    b = base.iloc[0]
                    sim = series[(series["city"] == city) & (series["measure"] == measure)
                                 & np.isclose(series["year"], b["year"])]
                    offset = float(b["simulated_mean"] - sim["simulated_mean"].iloc[0]) if len(sim) else 0.0
            ax.fill_between(s["year"], (s["simulated_lo"] + offset) / 1e6, (s["simulated_hi"] + offset) / 1e6,
                            color="#999999", alpha=0.35, label="simulated, 90% of seeds")
            ax.plot(s["year"], (s["simulated_mean"] + offset) / 1e6, color="black", lw=1.5, label="simulated mean")
            c = series[(series["city"] == city) & (series["measure"] == measure) & series["census_day"]]
            ax.errorbar(c["year"], (c["simulated_mean"] + offset) / 1e6,
                        yerr=[(c["simulated_mean"] - c["simulated_lo"]) / 1e6,
                              (c["simulated_hi"] - c["simulated_mean"]) / 1e6],
                        fmt="x", color="black", ms=7, label="simulated, census day")
            obs = table[(table["city"] == city) & (table["measure"] == target_measure)]
            for kind, (colour, marker) in _KIND_STYLE.items():
                o = obs[obs["target_kind"] == kind]
                if len(o):
                    ax.errorbar(o["year"], o["observed"] / 1e6, yerr=o["observed"] * o["sigma_rel"] / 1e6,
                                fmt=marker, color=colour, ms=6, capsize=3, label=f"observed ({kind})")
            ax.set_title(f"{city.capitalize()}: {label}")
            ax.set_ylabel("million persons")
            ax.grid(alpha=0.3)
            if i == 1:
                ax.set_xlabel("year (year-end rows at the year; census days at .83)")
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=6, frameon=False)
    fig.suptitle("Simulated against observed (error bars on observations: measurement sigma of targets.csv)")
    fig.tight_layout(rect=(0, 0.05, 1, 0.97))
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _plot_errors(table: pd.DataFrame, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    t = table[(table["target_kind"] != "initial") & (table["measure"] != "district_share")].reset_index(drop=True)
    fig, ax = plt.subplots(figsize=(10, max(4, 0.26 * len(t))))
    y = np.arange(len(t))[::-1]
    colours = [_KIND_STYLE[k][0] for k in t["target_kind"]]
    lo = (t["simulated_lo"] - t["observed"]) / t["observed"]
    hi = (t["simulated_hi"] - t["observed"]) / t["observed"]
    ax.barh(y, t["relative_error"] * 100, color=colours, alpha=0.8)
    ax.hlines(y, lo * 100, hi * 100, color="black", lw=1)
    ax.errorbar(np.zeros(len(t)), y, xerr=t["sigma_rel"] * 100, fmt="none", ecolor="#888888", capsize=2)
    ax.set_yticks(y, t["target_id"], fontsize=7)
    ax.axvline(0, color="black", lw=0.8)
    ax.set_xlabel("relative error of the simulated mean, % (black: 90% seed band; grey: ±1 measurement sigma)")
    ax.set_title("Relative error per target (blue: calibration, red: validation)")
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _plot_shares(shares: pd.DataFrame, path: Path) -> None:
    """Per city and year: simulated (filled) and persistence (open) shares against the observed share."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    groups = list(shares.groupby(["city", "year"], sort=False))
    if not groups:
        return
    cols = min(3, len(groups))
    rows = -(-len(groups) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(5 * cols, 4.6 * rows), squeeze=False)
    for ax, ((city, year), d) in zip(axes.flat, groups, strict=False):
        top = float(np.nanmax(d[["observed_share", "simulated_share", "persistence_share"]].to_numpy())) * 105
        ax.plot([0, top], [0, top], color="#999999", lw=0.8)
        ax.scatter(d["observed_share"] * 100, d["persistence_share"] * 100, facecolors="none", edgecolors="#ff7f0e",
                   label="2010 census carried forward")
        colour = _KIND_STYLE.get(str(d["target_kind"].iloc[0]), ("#000000", "o"))[0]
        ax.errorbar(d["observed_share"] * 100, d["simulated_share"] * 100,
                    yerr=[(d["simulated_share"] - d["simulated_lo"]).clip(lower=0) * 100,
                          (d["simulated_hi"] - d["simulated_share"]).clip(lower=0) * 100],
                    fmt="o", color=colour, ms=5, label="simulated (90% of seeds)")
        for r in d.itertuples():
            ax.annotate(r.district_name or r.district, (r.observed_share * 100, r.simulated_share * 100), fontsize=6,
                        xytext=(3, 2), textcoords="offset points")
        ax.set_title(f"{city.capitalize()} {int(year)} ({d['target_kind'].iloc[0]})")
        ax.set_xlabel("observed share, %")
        ax.set_ylabel("share, %")
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[len(groups):]:
        ax.set_visible(False)
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=2, frameon=False)
    fig.suptitle("District shares of city residents: simulated and persistence against observed (diagonal = exact)")
    fig.tight_layout(rect=(0, 0.04, 1, 0.96))
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _fmt_obs(value: float, measure: str) -> str:
    return f"{100 * value:.2f}%" if measure == "district_share" else f"{value:,.0f}"


def _share_sections(shares: pd.DataFrame, errors: pd.DataFrame) -> list[str]:
    lines = ["", "## District shares: the model against persistence", "",
             "Share of each district in its city's residents at the year end, simulated (mean over seeds) and "
             "carried forward from the 2010 census day (*persistence*), against the observed share "
             "(data/targets.csv, `district_share`). Errors in percentage points (pp). A spatial model has to beat "
             "persistence, and the bar here is at most half its error (*beats half*).", "",
             "![district shares](district_shares.png)", "",
             "| city | year | kind | districts | model MAE (pp) | persistence MAE (pp) | model / persistence |",
             "|---|---|---|---|---|---|---|"]
    for r in errors.itertuples():
        lines.append(f"| {r.city} | {int(r.year)} | {r.target_kind} | {r.districts} | {r.model_mae_pp:.2f} | "
                     f"{r.persistence_mae_pp:.2f} | {r.ratio:.2f} |")
    lines += ["", "| city | year | district | observed | simulated | 90% band | persistence | model error (pp) | "
              "persistence error (pp) |", "|---|---|---|---|---|---|---|---|---|"]
    for r in shares.itertuples():
        lines.append(f"| {r.city} | {int(r.year)} | {r.district_name or r.district} ({r.district}) | "
                     f"{100 * r.observed_share:.2f}% | {100 * r.simulated_share:.2f}% | "
                     f"{100 * r.simulated_lo:.2f}–{100 * r.simulated_hi:.2f}% | {100 * r.persistence_share:.2f}% | "
                     f"{r.model_error_pp:+.2f} | {r.persistence_error_pp:+.2f} |")
    return lines


def _series_section(series: pd.DataFrame) -> list[str]:
    def m(v: float) -> str:
        return "" if not np.isfinite(v) else f"{v / 1e6:.2f}"

    lines = ["", "## City resident series: original and revised", "",
             "Million residents. *Revised*: the series Guangzhou and Chengdu revised after the 2020 census, census "
             "counts (.83 = census day) and post-census year-end figures (fitted up to 2019 where marked so in the "
             "table above, held out otherwise). *Original*: as first published (Shenzhen never revised its "
             "2011–2019 series, which is inconsistent with both censuses, so it is held out). *Survey*: the 2015 1% "
             "sample survey.", "", "| city | year | revised / census | original | 2015 survey | simulated |",
             "|---|---|---|---|---|---|"]
    for r in series.itertuples():
        year = f"{r.year:.2f}" if r.year % 1 else f"{int(r.year)}"
        lines.append(f"| {r.city} | {year} | {m(r.revised)} | {m(r.original)} | {m(r.survey)} | "
                     f"{m(r.simulated_mean)} |")
    return lines


def _band_sentence(manifest: dict[str, Any]) -> str:
    """What the report's bands include: seed noise at the installed defaults, or parameters drawn from a
    posterior and seeds; and what the predictive intervals add."""
    u = manifest.get("uncertainty") or {"bands": "seeds", "discrepancy": float("nan")}
    if u["bands"] == "seeds":
        band = ("Bands are the central 90% of the seeds at the installed defaults (stochastic uncertainty only, "
                "not parameter uncertainty). ")
    else:
        band = (f"Bands are the central 90% of {u['draws']} parameter sets drawn from the posterior "
                f"`{Path(u['posterior']).name}` ({u['method']}, {u['samples']} weighted samples), "
                f"{manifest['seeds']} seed(s) each: parameter and seed uncertainty. ")
    return band + ("Predictive intervals (50%, 90%) add the calibration's error model to the runs: log-normal, "
                   f"variance σ_i² + {u['discrepancy']:g}² (measurement and model discrepancy); an honest model "
                   "and error model put about 50% and 90% of held-out observations inside them. ")


def _parameters_sentence(manifest: dict[str, Any]) -> str:
    """The installed calibrated values, and which of them the posterior's draws replace."""
    installed = ", ".join(f"`{k}` = {v:g}" for k, v in manifest["calibrated"].items()) or "none (priors only)"
    drawn = (manifest.get("uncertainty") or {}).get("parameters")
    if not drawn:
        return f"Calibrated parameters in effect: {installed}."
    return (f"Drawn from the posterior in each run: {', '.join(f'`{k}`' for k in drawn)}; installed calibrated "
            f"values (in effect for any parameter not drawn): {installed}.")


def _markdown(table: pd.DataFrame, summary: pd.DataFrame, manifest: dict[str, Any],
              shares: pd.DataFrame | None = None, share_errors: pd.DataFrame | None = None) -> str:
    lines = ["# Validation report", "",
             f"Historical regimes from the 2010 census day to {manifest['end']}, {manifest['seeds']} seeds at "
             f"{manifest['scale']:g} persons per agent"
             + (", with the installed defaults " if (manifest.get("uncertainty") or {}).get("posterior") is None
                else f" for each of {manifest['uncertainty']['draws']} parameter sets drawn from a posterior ")
             + f"(code {manifest['code_version']}, {manifest['created']}).", "",
             _parameters_sentence(manifest), "",
             "Target kinds: `calibration` = fitted by `hukou calibrate` (in-sample); `validation` = held out, never "
             "used in fitting; `initial` = the census-day state the model starts from (checks the set-up only). "
             + _band_sentence(manifest) + "z = log error / measurement sigma.", "",
             "![series](series.png)", "", "![errors](errors.png)", "", "## Error measures", "",
             "| kind | measure | n | median abs. rel. error | mean rel. error (bias) | RMS log error | "
             "inside 90% band | inside 50% / 90% predictive | within 2 sigma |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in summary.itertuples():
        predictive = (f"{r.inside_predictive50:.0%} / {r.inside_predictive90:.0%}"
                      if hasattr(r, "inside_predictive90") else "—")
        lines.append(f"| {r.target_kind} | {r.measure} | {r.n} | {r.median_abs_rel_error:.1%} | "
                     f"{r.mean_rel_error:+.1%} | {r.rms_log_error:.3f} | {r.inside_band:.0%} | {predictive} | "
                     f"{r.within_2_sigma:.0%} |")
    shares = pd.DataFrame() if shares is None else shares
    share_errors = pd.DataFrame() if share_errors is None else share_errors
    lines += ["", "## Simulated against observed", "",
              "District shares are in their own section below.", "",
              "| target | kind | observed | simulated mean | 90% band | error | rel. error | z |",
              "|---|---|---|---|---|---|---|---|"]
    for r in table[table["measure"] != "district_share"].itertuples():
        lines.append(f"| {r.target_id} | {r.target_kind} | {r.observed:,.0f} | {r.simulated_mean:,.0f} | "
                     f"{r.simulated_lo:,.0f} – {r.simulated_hi:,.0f} | {r.error:+,.0f} | {r.relative_error:+.1%} | "
                     f"{r.z:+.1f} |")
    if len(share_errors):
        lines += _share_sections(shares, share_errors)
    lines += _series_section(city_series(table))
    worst = table[table["target_kind"] == "validation"].assign(a=lambda f: f["z"].abs()).nlargest(5, "a")
    lines += ["", "## Largest misses among the validation targets", ""]
    for r in worst.itertuples():
        lines.append(f"- `{r.target_id}`: simulated {_fmt_obs(r.simulated_mean, r.measure)} against "
                     f"{_fmt_obs(r.observed, r.measure)} observed ({r.relative_error:+.1%}, z {r.z:+.1f}). {r.note}")
    lines += ["", "## What is still wrong", "",
              "Generated from the tables above (experiments/calibration/findings.py): district shares no better "
              "than persistence, the largest district and zone misses, resident-series misses of 5% or more, "
              "registered series beyond 2 sigma.", ""]
    lines += [f"- {line}" for line in still_wrong(table, shares, share_errors)] or ["- nothing above the thresholds"]
    right = gets_right(share_errors)
    if right:
        lines += ["", "Beats persistence by at least half:", "", *[f"- {line}" for line in right]]
    lines += ["", "Sources of every observed value: the `source` column of validation_table.csv "
              "(experiments/calibration/data/targets.csv)."]
    return "\n".join(lines) + "\n"


def _uncertainty(posterior: Path | None, draws: int) -> dict[str, Any]:
    """What the bands of a validation carry, for its manifest and report, and the model discrepancy δ of the
    predictive intervals: the posterior's (its calibration spec's), else the shipped calibration spec's."""
    from experiments.calibration.spec import load_calibration_spec

    if posterior is None:
        return {"bands": "seeds", "discrepancy": load_calibration_spec().model_discrepancy}
    from experiments.integrity import digest_file
    from experiments.posterior import load_posterior

    loaded = load_posterior(posterior)
    spec = loaded.provenance.get("spec") or {}
    discrepancy = spec.get("model_discrepancy", load_calibration_spec().model_discrepancy)
    return {"bands": "seeds" if loaded.is_point else "parameters and seeds", "discrepancy": float(discrepancy),
            "posterior": str(posterior), "sha256": digest_file(Path(posterior))[0], "draws": draws,
            "method": loaded.provenance.get("method_short") or loaded.provenance.get("method"),
            "samples": len(loaded.samples), "parameters": list(loaded.parameters)}


def run_validation(out: str | Path, *, seeds: int = 5, scale: float = 1000.0, workers: int | None = None,
                   end: int = 2022, root_seed: int = 20101101, targets: pd.DataFrame | None = None,
                   progress: Progress | None = None, posterior: Path | None = None,
                   draws: int = 20) -> ValidationReport:
    """Run the validation sweep into ``out/sweep`` (resumed if present) and write the report next to it.

    With ``posterior`` (a posterior.json of ``hukou calibrate``) the runs draw ``draws`` parameter sets from it,
    ``seeds`` seeds each: the bands then carry parameter and seed uncertainty, and the predictive intervals add the
    calibration's error model (measurement σ and its model discrepancy), so their coverage of the held-out
    targets checks the posterior. Without it the bands are seed noise at the installed defaults."""
    from experiments.spec import spec_from_dict
    from experiments.sweep import run_sweep
    from sim.params import calibrated_parameters
    from sim.run import code_version

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    targets = load_targets() if targets is None else targets
    spec = spec_from_dict(validation_spec(seeds, scale, end, root_seed, posterior, draws), "validation")
    uncertainty = _uncertainty(posterior, draws)
    summary = run_sweep(spec, out / "sweep", workers=workers,
                        progress=None if progress is None else (lambda c, s: progress("validation", c, s)))
    if not summary.ok:
        raise ValidationFailed(f"{len(summary.failed)} validation runs failed; see hukou status {out / 'sweep'}")
    moments = moments_of_runs(out / "sweep", targets)
    table = comparison_table(moments, targets, discrepancy=uncertainty["discrepancy"])
    table = table[[*TABLE_COLUMNS, *[c for c in table.columns if c not in TABLE_COLUMNS]]]
    errors = summarise(table)
    series = _series(out / "sweep")
    shares = share_rows(table, targets, base_shares(_census_districts(out / "sweep")))
    share_errors = persistence_errors(shares)
    table.to_parquet(out / "validation_table.parquet", index=False)
    table.to_csv(out / "validation_table.csv", index=False)
    errors.to_csv(out / "validation_summary.csv", index=False)
    series.to_parquet(out / "simulated_series.parquet", index=False)
    shares.to_parquet(out / "district_shares.parquet", index=False)
    shares.to_csv(out / "district_shares.csv", index=False)
    share_errors.to_parquet(out / "district_share_errors.parquet", index=False)
    share_errors.to_csv(out / "district_share_errors.csv", index=False)
    city_series(table).to_csv(out / "city_series.csv", index=False)
    _plot_series(series, table, out / "series.png")
    _plot_errors(table, out / "errors.png")
    _plot_shares(shares, out / "district_shares.png")
    manifest = {"seeds": seeds, "scale": scale, "end": end, "root_seed": root_seed, "code_version": code_version(),
                "calibrated": calibrated_parameters(), "uncertainty": uncertainty,
                "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                "sweep": str(out / "sweep"), "table_columns": list(table.columns)}
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False), "utf-8")
    (out / "report.md").write_text(_markdown(table, errors, manifest, shares, share_errors), "utf-8")
    return ValidationReport(out, table, errors, shares, share_errors)
