"""The Compare page's band of a reform's effect (issue 13, item 3): when the two scenarios share their parameter
draws and seeds, the difference is taken run by run and its band is the sweep store's (experiments/store.py
``_difference``): the same numbers as ``hukou query``'s ``summary_difference_city_year`` and the key findings, and
narrower than Welch's band of the same runs; when they do not (a sweep without draws or ``paired_seeds``), Welch's
interval, and the note, the table and the reproduced code say which."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from dashboard.data import Experiment, Registry
from dashboard.figures import difference_frame, difference_from_stats
from dashboard.paired import paired_difference, paired_runs

# conftest.paired_root: historical against open registration, paired on (draw, seed) over a two-point posterior
# (parameters and seeds) and on seeds alone (``paired_seeds``: seed noise only)
SWEEPS = ("paired_draws", "paired_seeds")
YEAR = 2016.0  # open registration's first year


def _synthetic(n: int = 8) -> pd.DataFrame:
    """Two arms whose runs share a large draw-and-seed effect (±0.05) and differ by 0.01 plus a little noise."""
    rng = np.random.default_rng(3)
    shared = rng.normal(0, 0.05, n)
    rows = []
    for key, effect in (("reform", 0.01), ("base", 0.0)):
        for replicate in range(n):
            value = 0.5 + effect + shared[replicate] + rng.normal(0, 0.001)
            rows.append({"key": key, "replicate": replicate, "year": 2035.0, "zone": "", "metric": "hukou_share",
                         "value": value})
    return pd.DataFrame(rows)


def test_paired_band_is_the_t_interval_of_run_by_run_differences() -> None:
    values = _synthetic()
    wide = values.pivot(index="replicate", columns="key", values="value")
    d = (wide["reform"] - wide["base"]).to_numpy()
    t_sd = stats.t.ppf(0.975, len(d) - 1) * d.std(ddof=1)
    runs = paired_runs(values)
    for parameters, spread in ((False, 1 / np.sqrt(len(d))), (True, np.sqrt(1 + 1 / len(d)))):
        row = paired_difference(runs, "reform", "base", parameters=parameters).iloc[0]
        assert row["paired"] and row["n_reform"] == row["n_baseline"] == len(d)
        assert row["diff"] == pytest.approx(d.mean()) == pytest.approx(row["reform"] - row["baseline"])
        assert row["high"] - row["low"] == pytest.approx(2 * t_sd * spread)
    welch = difference_frame(values, "reform", "base").iloc[0]
    paired = paired_difference(runs, "reform", "base", parameters=True).iloc[0]
    assert not welch["paired"] and welch["low"] < 0 < welch["high"]  # the shared effect swamps Welch's band
    assert 0 < paired["low"] and paired["high"] - paired["low"] < (welch["high"] - welch["low"]) / 5
    missing = values[~((values["key"] == "base") & (values["replicate"] == 0))]  # a failed baseline run: 7 pairs
    assert paired_difference(paired_runs(missing), "reform", "base").iloc[0]["n_reform"] == len(d) - 1
    assert paired_difference(runs, "reform", "nobody").empty


@pytest.fixture
def paired_pages(paired_root: Path, pages: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """The pages (the app is built over the shared fixture) reading the paired sweeps of ``paired_root``."""
    monkeypatch.setattr("dashboard.data._REGISTRY", Registry(paired_root))
    return pages


def _pair(experiment: Experiment) -> tuple[str, str]:
    frame = experiment.scenarios()
    by_regime = dict(zip(frame["regimes"], frame["key"], strict=True))
    return str(by_regime["historical"]), str(by_regime["open_registration"])


@pytest.mark.parametrize("name", SWEEPS)
def test_paired_compare_band_equals_hukou_query_and_the_findings(paired_pages: dict[str, Any], paired_root: Path,
                                                                 name: str, capsys: pytest.CaptureFixture) -> None:
    import io

    from dashboard.findings import FINDING_METRICS, experiment_findings
    from hukou_cli.main import main

    compare, experiment = paired_pages["compare"], Experiment(name, paired_root / name)
    base, reform = _pair(experiment)  # historical is the design's first scenario: the store's baseline
    capsys.readouterr()
    assert main(["query", str(paired_root / name), "SELECT * FROM summary_difference_city_year", "--csv"]) == 0
    store = pd.read_csv(io.StringIO(capsys.readouterr().out))  # what `hukou query` prints, every digit
    assert store["paired"].all() and (store["scenario"] == int(reform, 16)).all()
    runs = {"paired_draws": 4, "paired_seeds": 3}[name]
    checked = effects = 0
    for city in ("shenzhen", "guangzhou", "chengdu"):
        page = compare.differences(name, base, reform, city, "city")
        assert len(page) and page["paired"].all()
        merged = page.merge(store[store["city"] == city], on=["year", "metric"])
        assert len(merged) == len(page)  # every compare metric has its summary row
        for column, theirs in (("diff", "mean"), ("low", "ci_low"), ("high", "ci_high")):
            assert np.allclose(merged[column], merged[theirs], rtol=1e-12, atol=1e-15, equal_nan=True), column
        # a metric a run leaves undefined (no settler yet: no time to hukou) drops that pair, in both alike
        assert (merged["n_reform"] == merged["n"]).all() and (merged["n"] <= runs).all()
        assert (merged["n"] == runs).mean() > 0.9
        checked += int(merged["low"].notna().sum())
        effects += int((merged["high"] - merged["low"] > 0).sum())
        # the key findings above the chart: the same effect and band
        shown = page[page["year"] == YEAR].set_index("metric")
        for finding in experiment_findings(experiment, reform, base, YEAR, [city], FINDING_METRICS):
            assert finding.paired
            row = shown.loc[finding.metric]
            assert (finding.diff, finding.low, finding.high) == pytest.approx((row["diff"], row["low"], row["high"]),
                                                                              rel=1e-12, abs=1e-15)
    assert checked > 0 and effects > 10  # real effects with bands of some width, not runs identical in both arms


@pytest.mark.parametrize("name", SWEEPS)
def test_paired_band_is_not_the_difference_of_two_wide_bands(paired_pages: dict[str, Any], paired_root: Path,
                                                              name: str) -> None:
    """Before the reform (2016) both arms of a pair are the same run (same draw, seed and rules), so the paired
    band is exactly zero while Welch's, over the runs' spread, is not; in the reform's first year the paired band
    is narrower than the difference of the two scenarios' own bands (their summary_city_year intervals, made with
    the same spread); and over seeds, where both are intervals of a mean, narrower than Welch's in total."""
    from experiments.store import query

    experiment = Experiment(name, paired_root / name)
    base, reform = _pair(experiment)
    bands = query(paired_root / name, f"SELECT scenario, city, metric, ci_high - ci_low AS width "
                                      f"FROM summary_city_year WHERE year = {YEAR}")
    first, totals = [], {"paired": 0.0, "welch": 0.0}
    for city in ("shenzhen", "guangzhou", "chengdu"):
        paired = paired_pages["compare"].differences(name, base, reform, city, "city")
        welch = difference_from_stats(experiment.city_stats("city", city), reform, base)
        merged = paired.merge(welch, on=["year", "zone", "metric"], suffixes=("_paired", "_welch"))
        merged = merged.dropna(subset=["low_paired", "low_welch"]).assign(
            paired=lambda f: f["high_paired"] - f["low_paired"], welch=lambda f: f["high_welch"] - f["low_welch"])
        # the same runs: the same mean difference (where no run leaves the metric undefined, which drops a pair but
        # only a run from Welch's means)
        full = merged["n_reform_paired"] == merged["n_reform_welch"]
        assert full.mean() > 0.9 and np.allclose(merged.loc[full, "diff_paired"], merged.loc[full, "diff_welch"])
        before = merged[merged["year"] < YEAR]
        assert len(before) > 50 and (before["diff_paired"] == 0).all() and (before["paired"] == 0).all()
        assert before["welch"].sum() > 0
        totals["paired"] += merged["paired"].sum()
        totals["welch"] += merged["welch"].sum()
        own = bands[bands["city"] == city].groupby("metric")["width"].sum()  # reform's band + baseline's band
        at = merged[merged["year"] == YEAR]
        first.append(at.assign(both=at["metric"].map(own))[["metric", "paired", "both"]])
    reform_year = pd.concat(first)
    assert len(reform_year) > 20 and reform_year["both"].notna().all()
    assert reform_year["paired"].sum() < reform_year["both"].sum()
    assert (reform_year["paired"] < reform_year["both"]).mean() >= 0.8, reform_year
    if name == "paired_seeds":
        assert totals["paired"] < totals["welch"] / 2, totals


@pytest.mark.parametrize("name", SWEEPS)
def test_paired_view_is_labelled_tabulated_and_reproduced(paired_pages: dict[str, Any], paired_root: Path,
                                                          name: str) -> None:
    compare, experiment = paired_pages["compare"], Experiment(name, paired_root / name)
    base, reform = _pair(experiment)
    figure, data, columns, export, message, notes = compare.update(name, base, reform, "chengdu", "city", "en")
    interval = "a prediction interval over the posterior's draws" if name == "paired_draws" \
        else "the interval of the mean over seeds"
    assert "taken run by run" in notes[0].children and interval in notes[0].children
    assert "Welch" not in notes[0].children
    label = {"paired_draws": "parameters and seeds, paired on parameter draw and seed",
             "paired_seeds": "seed noise only, paired on seed"}[name]
    assert {row["Band includes"] for row in data} == {label}
    _, zh_rows, *_, zh_notes = compare.update(name, base, reform, "chengdu", "city", "zh")
    zh = zh_notes[0].children
    assert "逐次运行配对" in zh and ("参数抽样与种子" if name == "paired_draws" else "相同种子") in zh
    zh_label = {"paired_draws": "参数与随机种子，按参数抽样与种子配对",
                "paired_seeds": "仅随机种子噪声，按种子配对"}[name]
    assert {row["区间包含"] for row in zh_rows} == {zh_label}
    assert not re.findall(r"[A-Za-z][A-Za-z_-]+", zh)  # no English in Chinese mode (test_dashboard_browser)
    _, sql = compare.reproduce(name, base, reform, "chengdu", "city")
    assert "paired_difference" in sql and "difference_from_stats" not in sql
    namespace: dict[str, Any] = {}
    exec(compile(sql, "<reproduce snippet>", "exec"), namespace)  # the page's own code, run as shown
    ours = namespace["differences"]
    page = compare.differences(name, base, reform, "chengdu", "city")
    merged = page.merge(ours, on=["year", "metric"], suffixes=("_page", "_snippet"))
    assert len(merged) == len(page) > 0
    for column in ("diff", "low", "high"):
        assert np.allclose(merged[f"{column}_page"], merged[f"{column}_snippet"], rtol=1e-12, equal_nan=True)


def test_warm_keeps_the_paired_runs_of_a_paired_sweep(paired_root: Path) -> None:
    from dashboard.data import warm

    reg = Registry(paired_root)
    warm(reg)
    for name in SWEEPS:
        cached = set(reg.get(name)._cache)
        assert {f"pairs:{view}:{city}" for view in ("city", "zones")
                for city in ("shenzhen", "guangzhou", "chengdu")} <= cached
        assert not any(k.startswith("stats:") for k in cached)  # no Welch moments to read for a paired sweep


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_unpaired_sweep_falls_back_to_welch_and_says_so(pages: dict[str, Any], lang: str) -> None:
    from dashboard.data import registry

    experiment = registry().get("dash_fixture")  # independent seeds per scenario: nothing to pair
    assert not experiment.band.paired
    frame = experiment.scenarios()
    keys = dict(zip(frame["regimes"], frame["key"], strict=True))
    base, reform = str(keys["historical"]), str(keys["talent_only"])
    diff = pages["compare"].differences("dash_fixture", base, reform, "shenzhen", "city")
    assert len(diff) and not diff["paired"].any()
    welch = difference_from_stats(experiment.city_stats("city", "shenzhen"), reform, base)
    assert np.allclose(diff["low"], welch["low"], equal_nan=True)
    _, data, *_, notes = pages["compare"].update("dash_fixture", base, reform, "shenzhen", "city", lang)
    if lang == "en":
        assert "Welch's 95% interval" in notes[0].children and "no runs to pair" in notes[0].children
        assert {row["Band includes"] for row in data} == {"seed noise only, Welch's across independent runs"}
    else:
        assert "韦尔奇区间" in notes[0].children and "没有可配对的运行" in notes[0].children
        assert {row["区间包含"] for row in data} == {"仅随机种子噪声，独立运行间的韦尔奇区间"}
    _, sql = pages["compare"].reproduce("dash_fixture", base, reform, "shenzhen", "city")
    assert "difference_from_stats" in sql and "paired_difference" not in sql
