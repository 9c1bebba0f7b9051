"""The briefing layer: regime one-liners and metric definitions in both languages, and the key-finding sentences
(paired by seed when the arms share seeds, Welch otherwise), on small synthetic tables and on the fixture sweep."""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import dashboard
from dashboard.findings import (
    census_errors,
    effect,
    finding_sentence,
    findings_frame,
    key_findings,
    shipped_census_errors,
    validation_caveat,
)
from dashboard.glossary import regime_name, regime_summary, scenario_name, scenario_summary
from dashboard.i18n import metric_definition
from policies.catalogue import available
from sim.metrics import COMPARE_METRICS

CJK = re.compile(r"[\u4e00-\u9fff]")


def _runs(shift: float, noise: list[float], seeds: list[int], key: str, city: str = "shenzhen",
          metric: str = "hukou_share") -> list[dict[str, Any]]:
    return [{"key": key, "replicate": i, "seed": s, "city": city, "metric": metric, "value": 0.30 + shift + e}
            for i, (s, e) in enumerate(zip(seeds, noise, strict=True))]


def test_every_shipped_regime_has_a_line_in_both_languages() -> None:
    for name in available():
        en, zh = regime_summary(name, "en"), regime_summary(name, "zh")
        assert en and zh, name
        assert CJK.search(zh), (name, zh)
        assert regime_name(name, "en") != name or name == "historical"
    assert regime_summary("historical", "en").startswith("Historical")
    assert regime_summary("not_a_regime", "en") == "" and regime_summary("my.yaml", "zh") == ""
    both = scenario_summary("talent_only+strict_control", "en")
    assert both.startswith("Talent only") and "Strict control" in both
    assert scenario_name("talent_only", "regimes=talent_only", "zh") == "仅限人才"
    assert scenario_name("/tmp/x/mine.yaml", "My scenario", "en") == "My scenario"


def test_every_compared_metric_has_a_definition_in_both_languages() -> None:
    for metric in (*COMPARE_METRICS, "permit_coverage", "points_cutoff"):
        en, zh = metric_definition(metric, "en"), metric_definition(metric, "zh")
        assert en.endswith(".") and zh.endswith("。"), metric
        assert CJK.search(zh) and not CJK.search(en), metric
    assert "zone" in metric_definition("suburban_dispersion_migrants", "en", zone=True)


def test_same_seeds_are_paired_and_shared_noise_cancels() -> None:
    noise = [0.00, 0.04, -0.03, 0.02]
    seeds = [1, 2, 3, 4]
    runs = pd.DataFrame(_runs(0.0, noise, seeds, "base") + _runs(0.01, [e + 0.001 * i for i, e in enumerate(noise)],
                                                                  seeds, "reform"))
    diff, low, high, paired = effect(runs[runs.key == "reform"], runs[runs.key == "base"])
    assert paired
    assert diff == pytest.approx(0.0115)
    assert 0 < low < diff < high < 0.02  # the seeds' shared noise (±4 points) is gone from the band
    unpaired = effect(runs[runs.key == "reform"].drop(columns="seed"), runs[runs.key == "base"].drop(columns="seed"))
    assert not unpaired[3] and unpaired[1] < 0 < unpaired[2]  # the same draws unpaired: noise swamps the effect


def test_independent_seeds_use_welch_and_one_seed_has_no_band() -> None:
    runs = pd.DataFrame(_runs(0.0, [0.0, 0.01, -0.01], [1, 2, 3], "base")
                        + _runs(0.05, [0.0, 0.01, -0.01], [7, 8, 9], "reform"))
    diff, low, high, paired = effect(runs[runs.key == "reform"], runs[runs.key == "base"])
    assert not paired and diff == pytest.approx(0.05) and 0 < low < 0.05 < high
    single = effect(runs[(runs.key == "reform") & (runs.replicate == 0)], runs[runs.key == "base"])
    assert math.isnan(single[1]) and math.isnan(single[2])


def test_sentences_say_size_band_noise_and_caveat_in_both_languages() -> None:
    runs = pd.DataFrame(_runs(0.0, [0.0, 0.01, -0.01], [1, 2, 3], "base")
                        + _runs(0.073, [0.0, 0.01, -0.01], [1, 2, 3], "reform")
                        + _runs(0.0, [0.0, 0.02, -0.02], [1, 2, 3], "base", city="guangzhou")
                        + _runs(0.001, [0.01, -0.02, 0.0], [1, 2, 3], "reform", city="guangzhou"))
    found = key_findings(runs, "reform", "base", 2035.0, cities=["shenzhen", "guangzhou", "chengdu"],
                         metrics=["hukou_share"], census={"shenzhen": -0.026})
    assert [f.city for f in found] == ["shenzhen", "guangzhou"]  # no values for Chengdu: no finding
    sz, gz = found
    assert sz.distinguishable and not gz.distinguishable
    en = finding_sentence(sz, "Open registration", "the historical rules", "en")
    assert en.startswith("Under Open registration, Shenzhen's hukou share of residents in 2035 is 7.3 points "
                         "higher than under the historical rules (95% band +7.3 to +7.3, 3 seeds paired).")
    assert "is distinguishable from seed noise" in en and "2.6% below" in en
    assert "not distinguishable" in finding_sentence(gz, "A", "B", "en")
    assert "no held-out 2020 census check for Guangzhou" in finding_sentence(gz, "A", "B", "en")
    zh = finding_sentence(sz, "放开落户", "历史政策", "zh")
    assert zh.startswith("在“放开落户”下，深圳2035年的常住人口户籍比例比“历史政策”高7.3个百分点")
    assert "可与种子噪声区分" in zh
    assert "无法与种子噪声区分" in finding_sentence(gz, "甲", "乙", "zh")
    assert "低于普查 2.6%" in zh
    table = findings_frame(found, {"reform": "R", "base": "B"}, "en")
    assert table["Difference"].tolist() == [7.3, -0.23]  # per seed: +1.1, −3.9, +2.1 points
    assert table["Unit of the difference"].unique().tolist() == ["pp"]


def test_counts_are_grouped_with_their_unit() -> None:
    runs = pd.DataFrame(_runs(0, [0, 1, 2], [1, 2, 3], "b", metric="settlements_total")
                        + _runs(12000, [0, 1, 2], [1, 2, 3], "r", metric="settlements_total"))
    runs["value"] = runs["value"] - 0.30 + 50000
    (f,) = key_findings(runs, "r", "b", 2030.0, cities=["chengdu"] * 0 + ["shenzhen"], metrics=["settlements_total"])
    text = finding_sentence(f, "R", "B", "en", caveat=False)
    assert "settlements: all channels in 2030 is 12,000 persons per year higher" in text
    assert "(per year)" not in text and "Validation" not in text


def test_validation_caveat_comes_from_the_shipped_report() -> None:
    from dashboard.data import SHIPPED_REPORT, SHIPPED_REPORT_ID, ValidationReport

    table = ValidationReport(SHIPPED_REPORT_ID, SHIPPED_REPORT, shipped=True).table()
    errors = shipped_census_errors()
    assert set(errors) == {"shenzhen", "guangzhou", "chengdu"}
    row = table[(table.target_id == "shenzhen_residents_2020c")].iloc[0]
    assert errors["shenzhen"] == pytest.approx(row.relative_error)
    assert census_errors(table.iloc[:0]) == {}
    assert validation_caveat("chengdu", errors["chengdu"], "zh").startswith("验证：模型对成都")


def test_compare_page_opens_on_the_regimes_and_findings(pages: dict[str, Any]) -> None:
    from dashboard.data import registry

    experiment = registry().get("dash_fixture")
    keys = dict(zip(experiment.scenarios()["regimes"], experiment.scenarios()["key"], strict=True))
    block = pages["compare"].briefing("dash_fixture", keys["historical"], keys["talent_only"], "guangzhou", "en")
    text = str(block)
    assert "Talent only — from 2016" in text and "Historical: each city" in text
    assert "Under Talent only, Guangzhou's hukou share of residents in 2013 is" in text
    # the caveat is the shipped validation report's own number (read here, not copied: it moves when regenerated)
    shipped = pd.read_parquet(Path(dashboard.__file__).parent / "validation_report" / "validation_table.parquet")
    miss = shipped.set_index("target_id").loc["guangzhou_residents_2020c", "relative_error"]
    assert "seed noise" in text and f"Guangzhou's residents at the 2020 census {100 * abs(miss):.1f}% above" in text
    zh = str(pages["compare"].briefing("dash_fixture", keys["historical"], keys["talent_only"], "guangzhou", "zh"))
    assert "在“仅限人才”下，广州2013年的常住人口户籍比例" in zh and "主要发现" in zh
    options = pages["compare"].layout(exp="dash_fixture", lang="zh")
    assert "仅限人才——2016年起" in str(options)


def test_scenarios_sharing_their_regimes_keep_their_labels() -> None:
    from dashboard.findings import scenario_names

    class Sweep:
        def scenarios(self) -> pd.DataFrame:
            return pd.DataFrame({"key": ["a", "b", "c"], "regimes": ["historical", "historical", "talent_only"],
                                 "label": ["regimes=historical, quota=2500", "regimes=historical, quota=5000",
                                           "regimes=talent_only"]})

    names = scenario_names(Sweep(), "en")  # type: ignore[arg-type]
    assert names == {"a": "the historical rules (historical, quota=2500)",
                     "b": "the historical rules (historical, quota=5000)", "c": "Talent only"}


def test_an_effect_over_parameter_draws_keeps_its_width_as_draws_grow() -> None:
    """Paired on (draw, seed): over seeds the band is the mean's, t · sd / √n (it narrows with more runs); over
    posterior draws it is where the effect lies, a prediction interval t · sd · √(1 + 1/n), as in the sweep's
    summaries (experiments.store._spread)."""
    import numpy as np
    from scipy import stats

    from dashboard.findings import effect

    rng = np.random.default_rng(3)
    for n in (5, 80):
        base = rng.normal(100, 5, n)
        effects = rng.normal(2, 1, n)
        reform = pd.DataFrame({"value": base + effects, "seed": np.arange(n)})
        baseline = pd.DataFrame({"value": base, "seed": np.arange(n)})
        t_sd = stats.t.ppf(0.975, n - 1) * np.std(effects, ddof=1)
        diff, low, high, paired = effect(reform, baseline, draws=False)
        assert paired and high - low == pytest.approx(2 * t_sd / np.sqrt(n))
        diff, low, high, paired = effect(reform, baseline, draws=True)
        assert paired and high - low == pytest.approx(2 * t_sd * np.sqrt(1 + 1 / n))
        assert diff == pytest.approx(effects.mean())
