"""The posterior artifact (experiments/posterior.py) and its consumers: parameter draws in sweeps and `hukou run`,
paired differences and bands labelled with what they include (experiments/store.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pytest
import yaml

from experiments.plan import draw_plan, plan_runs
from experiments.posterior import load_posterior, posterior_from_calibrated, posterior_from_dict
from experiments.sampling import build_design
from experiments.seeds import common_seed
from experiments.spec import load_spec
from experiments.store import _difference, _summary, canonical_hash, query
from experiments.sweep import run_sweep
from hukou_cli.main import main
from policies.errors import InputError


def posterior_doc(**changes: Any) -> dict[str, Any]:
    """A synthetic posterior: three parameter sets of two behavioural parameters, unequal weights."""
    doc: dict[str, Any] = {
        "format": "hukou-posterior", "version": 1, "parameters": ["beta_wage", "reconsider_rate"],
        "samples": [{"weight": 0.5, "values": {"beta_wage": 1.0, "reconsider_rate": 0.1}},
                    {"weight": 0.3, "values": {"beta_wage": 1.5, "reconsider_rate": 0.2}},
                    {"weight": 0.2, "values": {"beta_wage": 2.5, "reconsider_rate": 0.3}}],
        "provenance": {"method": "synthetic (test)", "targets": [], "waves": [], "runs": 0, "seeds": {},
                       "code_version": "test", "date": "2026-12-02"},
    }
    doc.update(changes)
    return doc


def write_posterior_file(path: Path, doc: dict[str, Any] | None = None) -> Path:
    path.write_text(json.dumps(doc or posterior_doc()), "utf-8")
    return path


def write_draw_spec(path: Path, posterior: str, **changes: Any) -> Path:
    """Reform and baseline, 2 parameter draws × 2 seeds, 20,000 persons per agent, 2010–2012."""
    spec: dict[str, Any] = {
        "name": "posterior_tiny", "levers": {"regimes": ["historical", "talent_only"]},
        "parameter_draws": {"file": posterior, "draws": 2, "seed": 1}, "replications": 2,
        "scale": 20000, "start": 2010, "end": 2012, "root_seed": 7,
        "outcomes": ["hukou_share", "settlements_total"],
    }
    spec.update(changes)
    path.write_text(yaml.safe_dump(spec, sort_keys=False), "utf-8")
    return path


def test_draws_are_reproducible_and_follow_the_weights(tmp_path: Path) -> None:
    posterior = load_posterior(write_posterior_file(tmp_path / "posterior.json"))
    assert posterior.weights.tolist() == pytest.approx([0.5, 0.3, 0.2])
    assert np.array_equal(posterior.draw(50, seed=3), posterior.draw(50, seed=3))
    assert not np.array_equal(posterior.draw(50, seed=3), posterior.draw(50, seed=4))
    shares = np.bincount(posterior.draw(20000, seed=0), minlength=3) / 20000
    assert shares == pytest.approx([0.5, 0.3, 0.2], abs=0.015)
    assert posterior.draw_values(2, seed=1) == [posterior.samples[1], posterior.samples[2]]
    assert not posterior.is_point


@pytest.mark.parametrize(("change", "field"), [
    ({"format": "something"}, "format"),
    ({"version": 2}, "version"),
    ({"parameters": []}, "parameters"),
    ({"parameters": ["no_such_parameter"], "samples": [{"weight": 1, "values": {"no_such_parameter": 1}}]},
     "parameters"),
    ({"parameters": ["beta_wage", "beta_wage"]}, "parameters"),
    ({"samples": []}, "samples"),
    ({"samples": [{"weight": -1, "values": {"beta_wage": 1.0, "reconsider_rate": 0.1}}]}, "samples.0.weight"),
    ({"samples": [{"weight": 1, "values": {"beta_wage": 1.0}}]}, "samples.0.values"),
    ({"samples": [{"weight": 1, "values": {"beta_wage": "x", "reconsider_rate": 0.1}}]},
     "samples.0.values.beta_wage"),
    ({"samples": [{"weight": 1, "values": {"beta_wage": 1.0, "reconsider_rate": 7.0}}]}, "samples.0.values"),
    ({"samples": [{"weight": 0, "values": {"beta_wage": 1.0, "reconsider_rate": 0.1}}]}, "samples"),
    ({"provenance": {"method": "x"}}, "provenance.targets"),
    ({"extra": 1}, "extra"),
])
def test_bad_posterior_files_give_one_line_errors(tmp_path: Path, capsys: pytest.CaptureFixture,
                                                  change: dict[str, Any], field: str) -> None:
    bad = write_posterior_file(tmp_path / "bad.json", posterior_doc(**change))
    with pytest.raises(InputError) as caught:
        load_posterior(bad)
    assert caught.value.one_line().split(": ")[1] == field
    assert main(["run", "--posterior", str(bad), "--out", str(tmp_path / "out"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(bad) in err and field in err
    assert not (tmp_path / "out").exists()


def test_not_json_and_missing_file_are_one_line(tmp_path: Path) -> None:
    (tmp_path / "broken.json").write_text('{"format": ', "utf-8")
    with pytest.raises(InputError, match="not valid JSON"):
        load_posterior(tmp_path / "broken.json")
    with pytest.raises(InputError, match="no such posterior file"):
        load_posterior(tmp_path / "absent.json")


def test_spec_refuses_a_missing_posterior_and_a_parameter_both_drawn_and_ranged(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such posterior file") as caught:
        load_spec(write_draw_spec(tmp_path / "a.yaml", "absent.json"))
    assert "parameter_draws.file" in caught.value.one_line()
    write_posterior_file(tmp_path / "posterior.json")
    spec = write_draw_spec(tmp_path / "b.yaml", "posterior.json",
                           uncertainties={"beta_wage": {"low": 1.0, "high": 2.0}})
    with pytest.raises(InputError, match="drawn from the posterior") as caught:
        load_spec(spec)
    assert "uncertainties.beta_wage" in caught.value.one_line()


def test_plan_shares_draws_and_seeds_between_scenarios(tmp_path: Path) -> None:
    write_posterior_file(tmp_path / "posterior.json")
    spec = load_spec(write_draw_spec(tmp_path / "spec.yaml", "posterior.json"))
    assert spec.parameter_draws is not None and Path(spec.parameter_draws.file).is_absolute()
    draws = draw_plan(spec)
    assert draws is not None and draws.samples == (1, 2)  # default_rng(1) over weights (0.5, 0.3, 0.2)
    tasks = plan_runs(spec, build_design(spec), draws)
    assert len(tasks) == 2 * 2 * 2
    by_replicate: dict[int, list[Any]] = {}
    for task in tasks:
        by_replicate.setdefault(task.replicate, []).append(task)
    for replicate, pair in by_replicate.items():
        d, r = draws.of(replicate)
        assert {t.config.seed for t in pair} == {common_seed(spec.root_seed, d, r)}
        for task in pair:
            assert task.config.behaviour.beta_wage == draws.values[d]["beta_wage"]
            assert task.config.behaviour.reconsider_rate == draws.values[d]["reconsider_rate"]
    assert len({tasks[i].config.seed for i in range(4)}) == 4  # every (draw, seed) its own stream


def test_resample_false_runs_every_sample_once_in_file_order(tmp_path: Path) -> None:
    """The explicit list of parameter sets ABC-SMC's batches run (experiments/calibration/abc.py)."""
    write_posterior_file(tmp_path / "posterior.json")
    draws = {"file": "posterior.json", "draws": 2, "resample": False}
    with pytest.raises(InputError, match="draws must be the file's 3 samples") as caught:
        load_spec(write_draw_spec(tmp_path / "a.yaml", "posterior.json", parameter_draws=draws))
    assert "parameter_draws.draws" in caught.value.one_line()
    spec = load_spec(write_draw_spec(tmp_path / "b.yaml", "posterior.json",
                                     parameter_draws={**draws, "draws": 3}))
    plan = draw_plan(spec)
    assert plan is not None and plan.samples == (0, 1, 2)
    assert [v["beta_wage"] for v in plan.values] == [1.0, 1.5, 2.5]


def test_a_posterior_sweep_runs_reproducibly_with_paired_labelled_bands(tmp_path: Path) -> None:
    write_posterior_file(tmp_path / "posterior.json")
    spec = write_draw_spec(tmp_path / "spec.yaml", "posterior.json")
    first = run_sweep(spec, tmp_path / "one", workers=2)
    assert first.ok and first.counts["done"] == 8
    again = run_sweep(spec, tmp_path / "two", workers=1)
    assert again.ok
    assert canonical_hash(tmp_path / "one") == canonical_hash(tmp_path / "two")
    manifest = json.loads((tmp_path / "one" / "manifest.json").read_text())
    assert manifest["band"] == "parameters and seeds"
    assert manifest["parameter_draws"]["distinct"] == 2
    draws = query(tmp_path / "one", "SELECT * FROM draws ORDER BY replicate")
    assert draws["draw"].tolist() == [0, 0, 1, 1] and draws["sample"].tolist() == [1, 1, 2, 2]
    summary = query(tmp_path / "one", "SELECT DISTINCT band, n FROM summary_city_year WHERE metric = 'hukou_share'")
    assert summary.to_dict("records") == [{"band": "parameters and seeds", "n": 4}]
    diff = query(tmp_path / "one", "SELECT * FROM summary_difference_city_year")
    assert set(diff["band"]) == {"parameters and seeds, paired on (draw, seed)"} and diff["paired"].all()
    assert (diff.loc[diff["metric"] == "hukou_share", "n"] == 4).all() and len(set(diff["scenario"])) == 1
    runs = query(tmp_path / "one", "SELECT replicate, count(DISTINCT seed) AS seeds FROM runs GROUP BY ALL")
    assert (runs["seeds"] == 1).all()  # reform and baseline run on the same seed for each replicate
    # the paired mean difference is the difference of the means
    means = query(tmp_path / "one", "SELECT scenario, mean FROM summary_city_year WHERE year = 2012 AND "
                  "city = 'shenzhen' AND metric = 'hukou_share'").set_index("scenario")["mean"]
    row = diff[(diff["year"] == 2012) & (diff["city"] == "shenzhen") & (diff["metric"] == "hukou_share")].iloc[0]
    assert row["mean"] == pytest.approx(means[row["scenario"]] - means[row["baseline"]], abs=1e-12)
    # resume finds nothing to do
    assert run_sweep(spec, tmp_path / "one", workers=1).counts["done"] == 8


def test_a_sweep_without_draws_says_seed_noise_only_and_is_unpaired(tmp_path: Path) -> None:
    spec = write_draw_spec(tmp_path / "spec.yaml", "unused", parameter_draws=None, end=2010)
    assert run_sweep(spec, tmp_path / "plain", workers=2).ok
    assert set(query(tmp_path / "plain", "SELECT band FROM summary_city_year")["band"]) == {"seed noise only"}
    diff = query(tmp_path / "plain", "SELECT band, paired FROM summary_difference_city_year")
    assert set(diff["band"]) == {"seed noise only, independent runs"} and not diff["paired"].any()


def test_paired_band_is_narrower_than_the_difference_of_independent_bands() -> None:
    """Synthetic runs: the outcome depends strongly on the parameter draw and the seed, the reform adds 0.01 plus
    a little noise of its own. The paired band of the effect is narrow; the bands of the two scenarios, each wide
    with parameter and seed spread, give a difference band many times wider."""
    rng = np.random.default_rng(0)
    rows = []
    shared = rng.normal(0.5, 0.05, size=40)  # what draw and seed do to both scenarios
    for scenario, shift in ((1, 0.0), (2, 0.01)):
        for replicate, common in enumerate(shared):
            rows.append({"scenario": scenario, "year": 2030, "city": "shenzhen", "replicate": replicate,
                         "hukou_share": common + shift + rng.normal(0, 0.002)})
    con = duckdb.connect()
    con.register("city_year", pd.DataFrame(rows))
    keys = ("year", "city")
    from scipy import stats

    t_of_n = {40: float(stats.t.ppf(0.975, 39))}
    bands = _summary(con, "city_year", ("hukou_share",), keys, {"hukou_share"}, t_of_n, "parameters and seeds")
    base, reform = bands.iloc[0], bands.iloc[1]
    independent_width = (reform["ci_high"] - base["ci_low"]) - (reform["ci_low"] - base["ci_high"])
    paired = _difference(con, "city_year", ("hukou_share",), keys, {"hukou_share"}, 1, "parameters and seeds",
                         True, 0.95).iloc[0]
    unpaired = _difference(con, "city_year", ("hukou_share",), keys, {"hukou_share"}, 1, "parameters and seeds",
                           False, 0.95).iloc[0]
    paired_width = paired["ci_high"] - paired["ci_low"]
    assert paired["ci_low"] < 0.01 < paired["ci_high"]
    assert paired["ci_low"] > 0  # the effect is resolved only when paired
    assert unpaired["ci_low"] < 0 < unpaired["ci_high"]
    assert paired_width < independent_width / 10
    # over posterior draws the band is a prediction interval for the effect of one more draw (store._spread)
    assert paired_width == pytest.approx(2 * t_of_n[40] * paired["sd"] * np.sqrt(1 + 1 / 40))


def test_calibrate_writes_the_installed_point_estimate_as_a_one_point_posterior(tmp_path: Path) -> None:
    from experiments.calibration.smm import CALIBRATED_FILE

    out = tmp_path / "posterior.json"
    assert main(["calibrate", "--installed-posterior", str(out), "--quiet"]) == 0
    posterior = load_posterior(out)
    assert posterior.is_point and posterior.provenance["method"] == "point estimate"
    assert "no parameter uncertainty" in posterior.provenance["note"]
    installed = yaml.safe_load(CALIBRATED_FILE.read_text("utf-8"))
    assert posterior.samples[0] == {k: v["value"] for k, v in installed["parameters"].items()}
    assert posterior.provenance["runs"] == installed["provenance"]["runs"]
    samples, weights, provenance = posterior_from_calibrated(CALIBRATED_FILE)
    assert posterior_from_dict({"format": "hukou-posterior", "version": 1, "parameters": list(samples[0]),
                                "samples": [{"weight": 1, "values": samples[0]}], "provenance": provenance},
                               "x").is_point


def test_hukou_run_with_a_posterior_writes_a_sweep_of_draws(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    posterior = write_posterior_file(tmp_path / "posterior.json")
    out = tmp_path / "run"
    assert main(["run", "--posterior", str(posterior), "--draws", "2", "--scale", "20000", "--end", "2010",
                 "--seed", "1", "--out", str(out), "--workers", "2", "--quiet"]) == 0
    assert "2 of 2 runs done" in capsys.readouterr().out
    draws = query(out, "SELECT draw, sample FROM draws ORDER BY draw")
    assert draws["sample"].tolist() == load_posterior(posterior).draw(2, seed=1).tolist()
    assert query(out, "SELECT count(DISTINCT seed) AS n FROM runs")["n"].iloc[0] == 2
    assert main(["run", "--draws", "2", "--out", str(tmp_path / "x")]) == 2
