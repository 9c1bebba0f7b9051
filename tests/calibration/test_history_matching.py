"""History matching (experiments/calibration/history_matching.py, issue 13): the emulators and the implausibility
cut on a cheap analytic simulator with a known truth, then one tiny wave of the real model through the sweep engine
(20,000 persons per agent, 2010–2011, two parameters, six runs) for the files, their reproducibility whatever the
worker count, ABC's start from the NROY ranges and the command's refusals (exit 2).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from experiments.calibration.history_matching import (
    HistoryResult,
    Observations,
    cut_measure,
    history_match,
    implausibility,
    narrow_to_nroy,
)
from experiments.calibration.spec import History, load_calibration_spec
from hukou_cli.main import main

TRUTH = np.array([[0.3, 0.6]])
FAR = np.array([[0.9, 0.1]])
SD = 0.03


def _model(x: np.ndarray) -> np.ndarray:
    """Three outputs of two inputs on the unit square: two planes and a curve, which only the truth fits at once."""
    return np.column_stack([x[:, 0] + 0.5 * x[:, 1], x[:, 0] - x[:, 1], x[:, 1] ** 2])


def _simulate(label: str, x: np.ndarray) -> np.ndarray:
    """The analytic model with seed noise (sd 0.01), seeded by the wave, as a stochastic simulator's runs are."""
    rng = np.random.default_rng(int(label.removeprefix("wave")))
    return _model(x) + rng.normal(0.0, 0.01, (len(x), 3))


def _observations(seed: int) -> Observations:
    """Observations of the truth with the error the cut assumes (sd 0.03 on each target)."""
    z = _model(TRUTH)[0] + np.random.default_rng(seed).normal(0.0, SD, 3)
    return Observations(ids=["a", "b", "c"], z=z, var=np.full(3, SD ** 2), at_least=np.zeros(3, dtype=bool))


def _match(obs: Observations, rule: str = "second", waves: int = 2) -> HistoryResult:
    settings = History(waves=waves, runs_per_wave=14, candidates=3000, rule=rule)
    return history_match(_simulate, ["x0", "x1"], np.array([[0.0, 1.0], [0.0, 1.0]]), obs, settings, root_seed=5)


@pytest.mark.parametrize(("rule", "waves"), [("second", 2), ("max", 1)])
def test_emulators_rule_out_the_region_far_from_the_truth(rule: str, waves: int) -> None:
    obs = _observations(seed=1)
    result = _match(obs, rule, waves)
    first = result.waves[0]
    # the first wave's emulators know the far corner: implausible there by a wide margin, plausible at the truth
    assert cut_measure(implausibility(first.emulators, FAR, obs), rule)[0] > 6
    assert all(cut_measure(implausibility(w.emulators, TRUTH, obs), rule)[0] <= 3 for w in result.waves)
    # a thin region is left (the truth's neighbourhood): a few percent of the box, never growing over the waves
    fractions = [w.nroy_fraction for w in result.waves]
    assert 0 < fractions[-1] < 0.1 and fractions == sorted(fractions, reverse=True)
    # the emulators predict the held-back runs within their stated uncertainty
    assert first.validation_within_3 is not None and first.validation_within_3 >= 0.8
    # later waves' designs lie inside the region the earlier waves left
    for later in result.waves[1:]:
        assert cut_measure(implausibility(first.emulators, later.design, obs), rule).max() <= 3


@pytest.mark.parametrize("seed", [2, 3])
def test_nroy_region_contains_the_synthetic_truth(seed: int) -> None:
    result = _match(_observations(seed), waves=2)
    for j, name in enumerate(["x0", "x1"]):
        bounds = result.waves[-1].nroy_ranges[name]
        assert bounds is not None
        low, high = bounds
        assert low <= TRUTH[0, j] <= high
        assert high - low < 0.6  # and the range is narrower than the box
    # the plausible candidate sample surrounds the truth (its nearest candidate is close)
    nearest = np.min(np.linalg.norm(result.nroy[["x0", "x1"]].to_numpy() - TRUTH, axis=1))
    assert nearest < 0.05


def _run(out: Path, workers: int) -> list[str]:
    return ["calibrate", "--method", "history", "--scale", "20000", "--end", "2011", "--parameter", "reconsider_rate",
            "--parameter", "inflow_persons_per_year.central", "--waves", "1", "--runs-per-wave", "6", "--quiet",
            "--workers", str(workers), "--out", str(out)]


def test_history_matching_through_the_sweep_engine_is_reproducible(tmp_path: Path) -> None:
    assert main(_run(tmp_path / "a", workers=2)) == 0
    assert main(_run(tmp_path / "b", workers=1)) == 0
    a, b = tmp_path / "a", tmp_path / "b"
    for name in ("history_matching.json", "nroy.csv", "report.md"):
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    doc = json.loads((a / "history_matching.json").read_text("utf-8"))
    assert doc["runs"] == 6 and doc["targets"] == ["shenzhen_registered_2011"] and doc["targets_left_out"]
    assert doc["cutoff"] == 3.0 and doc["code_version"] and doc["seeds"]["root_seed"] == 2026
    assert doc["waves"][0]["parameter_sets"] == 6 and 0 < doc["nroy_fraction"] <= 1
    assert (a / "waves" / "wave01" / "ledger.sqlite").is_file()  # the runs are a sweep's
    # run again on the same folder: resumed from the ledger, same files
    before = (a / "nroy.csv").read_bytes()
    assert main(_run(a, workers=1)) == 0
    assert (a / "nroy.csv").read_bytes() == before
    # ABC can start from it: each history-matched parameter's prior box narrowed to its NROY range
    spec = narrow_to_nroy(load_calibration_spec(), a)
    for name, (low, high) in doc["nroy_ranges"].items():
        assert (spec.parameters[name].low, spec.parameters[name].high) == (low, high)
    assert spec.parameters["beta_wage"] == load_calibration_spec().parameters["beta_wage"]


def test_bad_input_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cases = [
        ["calibrate", "--method", "history", "--parameter", "no_such_parameter", "--out", str(tmp_path / "x")],
        ["calibrate", "--method", "smm", "--waves", "2", "--out", str(tmp_path / "x")],
        ["calibrate", "--method", "abc", "--nroy", str(tmp_path / "missing"), "--out", str(tmp_path / "x")],
        ["calibrate", "--method", "history", "--end", "2009", "--out", str(tmp_path / "x")],
    ]
    for argv in cases:
        assert main(argv) == 2, argv
        err = capsys.readouterr().err.strip()
        assert err.startswith("hukou: error:") and len(err.splitlines()) == 1, err


def test_a_default_history_block_leaves_the_spec_dump_as_before() -> None:
    """SMM and ABC folders compare their spec's dump and hash it for their default name: a spec without a history
    block must dump as it did before history matching existed, and one with a block must keep it."""
    from experiments.calibration.spec import calibration_spec_from_dict

    doc = load_calibration_spec().model_dump(mode="json")
    assert "history" not in doc
    spec = calibration_spec_from_dict({**doc, "history": {"waves": 2}}, "test")
    assert spec.model_dump(mode="json")["history"]["waves"] == 2
