"""The scenario builder sized to an effect: seeds from the power rule and a measured noise table, a finish time,
the main sweep's baseline runs reused on the same seeds, and each effect badged against seed noise."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from dashboard.data import registry
from dashboard.power import (
    NOISE_TABLE,
    POWER_METRICS,
    baseline_match,
    finish_seconds,
    noise_table,
    propose,
    seeds_needed,
    sigma_at,
)
from policies.cities import CITIES

TABLE = {"sd": {"1000": {"guangzhou": {"hukou_share": 0.002}}, "10000": {"guangzhou": {"hukou_share": 0.006}}},
         "migrants_2010_persons": 10_000_000, "seconds_per_migrant_year": 1e-6, "seconds_per_run_fixed": 4.0}


def test_seeds_follow_the_two_sample_power_rule() -> None:
    # n = 2·((1.95996 + 0.84162)·σ/δ)²: σ = δ gives 15.70, so 16 per arm; a large effect still needs two for a band
    assert seeds_needed(1.0, 1.0) == 16
    assert seeds_needed(0.5, 0.5 * math.sqrt(2)) == 8  # (2.8016)² = 7.85
    assert seeds_needed(0.01, 5.0) == 2
    with pytest.raises(ValueError, match="positive"):
        seeds_needed(1.0, 0.0)


def test_sigma_is_measured_interpolated_on_log_scale_or_the_nearest() -> None:
    assert sigma_at(TABLE, 1000, "guangzhou", "hukou_share") == (0.002, "measured")
    sigma, how = sigma_at(TABLE, math.sqrt(1000 * 10000), "guangzhou", "hukou_share")
    assert how == "interpolated" and sigma == pytest.approx(0.004)
    assert sigma_at(TABLE, 100, "guangzhou", "hukou_share") == (0.002, "nearest measured scale 1000")
    assert math.isnan(sigma_at(TABLE, 1000, "chengdu", "hukou_share")[0])


def test_proposal_in_points_and_its_finish_time() -> None:
    p = propose(0.5, "hukou_share", "guangzhou", 1000, 16, chosen_seeds=3, table=TABLE)
    assert p.sigma == pytest.approx(0.2)  # 0.002 of a share is 0.2 points
    assert p.seeds == seeds_needed(0.2, 0.5) == 3 and p.enough
    # 2 arms × 3 seeds × (10,000 migrants × 16 years × 1 µs + 4 s)
    assert p.seconds == pytest.approx(2 * 3 * (10_000 * 16 * 1e-6 + 4.0))
    assert finish_seconds(TABLE, 1000, 16, 3) == p.seconds
    assert not propose(0.1, "hukou_share", "guangzhou", 1000, 16, chosen_seeds=3, table=TABLE).enough


def test_the_shipped_noise_table_says_how_it_was_measured_and_covers_the_builder() -> None:
    doc = json.loads(NOISE_TABLE.read_text("utf-8"))
    assert doc["command"].startswith("python -m dashboard.power") and doc["code_version"]
    assert doc["seconds_per_migrant_year"] >= 0 and doc["seconds_per_run_fixed"] > 0
    assert len(doc["sd"]) >= 3
    for by_city in doc["sd"].values():
        for city in CITIES:
            for metric in POWER_METRICS:
                assert by_city[city][metric] >= 0
    assert noise_table()["sd"] == doc["sd"]


def test_baseline_match_names_each_difference(app: Any) -> None:
    manifest = registry().get("dash_fixture").manifest  # historical and talent_only, 20,000, to 2013, 2 seeds
    assert baseline_match(manifest, "historical", 20000, 2013, 2) == []
    assert baseline_match(manifest, "historical", 2000, 2020, 3) == [
        ("why_scale", "2000", "20000"), ("why_end", 2020, 2013), ("why_seeds", 3, 2)]
    assert baseline_match(manifest, "chengdu", 20000, 2013, 2)[0][0] == "why_settings"


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_form_proposes_seeds_and_says_whether_the_baseline_is_reused(pages: dict[str, Any], lang: str) -> None:
    page = pages["scenarios"]
    lines = [str(d.children) for d in page.on_power("historical", "guangzhou", 20000, 2013, 2, 0.5, "hukou_share",
                                                   lang)]
    assert any("dash_fixture" in line for line in lines)
    if lang == "en":
        assert lines[0].startswith("To detect 0.5 percentage points in Guangzhou, run ")
        assert "sweep's summaries" in lines[0]  # same scale as the main sweep: its own seed noise
        assert "same scale, last year and seeds as the main sweep dash_fixture" in lines[-1]
    else:
        assert lines[0].startswith("要在广州检测到0.5个百分点") and "取自主实验的汇总" in lines[0]
        assert "比例、最后年份和种子相同" in lines[-1]
    other = [str(d.children) for d in page.on_power("historical", "guangzhou", 5000, 2020, 2, 0.5, "hukou_share",
                                                   lang)]
    assert ("measured at this scale" if lang == "en" else "在此比例下实测") in other[0]
    assert ("does not match (scale 5000 against 20000; last year 2020 against 2013)" if lang == "en"
            else "比例5000对20000") in other[-1]
    bad = page.on_power("historical", "guangzhou", 20000, 2013, 2, -1, "hukou_share", lang)
    assert ("Smallest effect that matters: must be a number above 0" if lang == "en"
            else "需要检测的最小效应: 应为大于0的数") in str(bad)


def test_a_matching_scenario_runs_the_main_sweep_baseline_seeds_and_badges_its_effects(
        pages: dict[str, Any], tmp_path: Path) -> None:
    values = {"base": "historical", "city": "chengdu", "quota_factor": 3.0, "min_score_shift": 0, "indicator": None,
              "indicator_factor": 1, "district_bonus_factor": 1, "talent_age_shift": 0, "name": "sized",
              "end": 2013, "replications": 2, "scale": 20000}
    result = pages["scenarios"].run_scenario(lambda _: None, values, "en")
    href = result.children[1].href
    ident = href.split("exp=")[1].split("&")[0]
    mine, main = registry().get(ident), registry().get("dash_fixture")
    base_key = mine.scenarios().set_index("regimes")["key"]["historical"]
    assert base_key == main.scenarios().set_index("regimes")["key"]["historical"]
    seeds = mine.run_seeds()
    assert sorted(seeds[seeds["key"] == base_key]["seed"]) == sorted(seeds[seeds["key"] != base_key]["seed"])
    main_seeds = main.run_seeds()
    assert sorted(seeds[seeds["key"] == base_key]["seed"]) == sorted(main_seeds[main_seeds["key"] == base_key]["seed"])
    # the same seeds and settings give the same baseline runs, bit for bit
    a = mine.run_values(2013, ["hukou_share", "settlements_total"])
    b = main.run_values(2013, ["hukou_share", "settlements_total"])
    cols = ["replicate", "city", "metric"]
    a = a[a["key"] == base_key].sort_values(cols)["value"].to_numpy()
    b = b[b["key"] == base_key].sort_values(cols)["value"].to_numpy()
    assert len(a) and np.array_equal(a, b)
    # and they were copied, not run again: each baseline run's files are the main sweep's, manifest included
    assert "copied from the main sweep dash_fixture" in str(result)
    from experiments.store import extract_run, query

    mine_runs = set(query(mine.folder, "SELECT run_id FROM runs")["run_id"])
    main_runs = set(query(main.folder, "SELECT run_id FROM runs")["run_id"])
    shared = sorted(mine_runs & main_runs)
    assert len(shared) == 2 and all(r.startswith(f"s{int(base_key, 16):015x}-r") for r in shared)
    for run in shared:   # written back from each sweep's dataset: the baseline run's files are the main sweep's
        extract_run(mine.folder, run, tmp_path / "mine" / run)
        extract_run(main.folder, run, tmp_path / "main" / run)
        for name in ("manifest.json", "city_year.parquet"):
            assert (tmp_path / "mine" / run / name).read_bytes() == (tmp_path / "main" / run / name).read_bytes()
    assert len(mine_runs - main_runs) == 2  # the scenario's own two runs were simulated
    # on common seeds a city the levers do not touch runs the same draws in both arms: no effect there, not noise
    from dashboard.findings import experiment_findings

    reform = mine.scenarios().set_index("regimes")["key"].drop("historical").iloc[0]
    found = experiment_findings(mine, reform, base_key, 2013, ["guangzhou", "shenzhen"])
    assert found and all(f.paired and f.diff == 0 and not f.distinguishable for f in found)
    from experiments.store import band_of

    assert band_of(mine.folder)[1] and not band_of(main.folder)[1]  # the difference tables pair on the seed too
    badges = {"en": ("distinguishable from noise", "within noise"), "zh": ("可与噪声区分", "在噪声范围内")}
    for lang, words in badges.items():
        reform = mine.scenarios().set_index("regimes")["key"].drop("historical").iloc[0]
        block = str(pages["compare"].briefing(ident, base_key, reform, "chengdu", lang))
        assert "noise-badge" in block and any(w in block for w in words)
        assert ("seeds paired" if lang == "en" else "对相同种子逐一配对") in block
