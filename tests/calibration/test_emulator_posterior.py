"""The posterior on history matching's emulators (experiments/calibration/emulator_posterior.py, issue 13): on the
analytic simulator of test_history_matching.py, whose exact posterior a grid gives, emcee on the emulators finds
that posterior's mean and spread and covers the truth; the same seed gives the same draws; the command writes the
posterior files after a tiny real history matching.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from experiments.calibration.emulator_posterior import log_likelihood, sample_unit
from experiments.calibration.history_matching import HistoryResult, Observations, history_match
from experiments.calibration.spec import History
from hukou_cli.main import main
from tests.calibration.test_history_matching import SD, TRUTH, _model, _observations, _simulate


def _matched(obs: Observations) -> HistoryResult:
    settings = History(waves=2, runs_per_wave=30, candidates=3000)
    return history_match(_simulate, ["x0", "x1"], np.array([[0.0, 1.0], [0.0, 1.0]]), obs, settings, root_seed=5)


def _exact_moments(obs: Observations) -> tuple[np.ndarray, np.ndarray]:
    """Posterior mean and sd of the analytic model on a fine grid (uniform prior on the unit square; the seed
    noise of the simulator, sd 0.01, is part of each target's variance, as the emulators' white noise holds it)."""
    g = np.linspace(0.0, 1.0, 401)
    x = np.array(np.meshgrid(g, g, indexing="ij")).reshape(2, -1).T
    mean = _model(x)
    lp = log_likelihood(mean, np.full_like(mean, 0.01), obs.z, obs.var, obs.at_least)
    w = np.exp(lp - lp.max())
    w /= w.sum()
    m = w @ x
    return m, np.sqrt(w @ (x - m) ** 2)


@pytest.mark.parametrize("seed", [1, 2])
def test_emulator_posterior_finds_the_exact_posterior_and_covers_the_truth(seed: int) -> None:
    obs = _observations(seed)
    result = _matched(obs)
    # a shorter chain than the command's (3,000 steps): 1,500 steps, the first 500 discarded, about 400 effective
    # samples. With 600 steps the ensemble, started at the most likely candidates, had not spread yet: its sd was
    # 0.65–0.98 of the exact one; with 1,500 it was 0.95–1.08 and the means within 0.13 sd (both seeds)
    chain = sample_unit(result, cutoff=3.0, rule="second", seed=7, steps=1500, burn=500, draws=400)
    exact_mean, exact_sd = _exact_moments(obs)
    mean, sd = chain.unit.mean(axis=0), chain.unit.std(axis=0)
    assert np.all(np.abs(mean - exact_mean) < 0.3 * exact_sd), (mean, exact_mean, exact_sd)
    assert np.all((sd > 0.8 * exact_sd) & (sd < 1.25 * exact_sd)), (sd, exact_sd)
    low, high = np.quantile(chain.unit, [0.05, 0.95], axis=0)
    assert np.all((low <= TRUTH[0]) & (TRUTH[0] <= high))
    assert chain.diagnostics["acceptance_fraction"] > 0.2
    assert SD ** 2 == pytest.approx(obs.var[0])


def test_the_same_seed_gives_the_same_draws() -> None:
    result = _matched(_observations(1))
    a = sample_unit(result, cutoff=3.0, rule="second", seed=3, steps=200, burn=50, draws=50)
    b = sample_unit(result, cutoff=3.0, rule="second", seed=3, steps=200, burn=50, draws=50)
    c = sample_unit(result, cutoff=3.0, rule="second", seed=4, steps=200, burn=50, draws=50)
    assert np.array_equal(a.unit, b.unit) and not np.array_equal(a.unit, c.unit)


def test_the_command_writes_the_emulator_posterior(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "hm"
    code = main(["calibrate", "--method", "history", "--scale", "20000", "--end", "2011", "--waves", "1",
                 "--runs-per-wave", "6", "--parameter", "reconsider_rate", "--parameter",
                 "inflow_persons_per_year.central", "--workers", "1", "--quiet", "--out", str(out),
                 "--emulator-posterior", "--no-install"])
    assert code == 0, capsys.readouterr()
    folder = out / "posterior"
    doc = json.loads((folder / "posterior.json").read_text("utf-8"))
    assert doc["provenance"]["exact"] is True and doc["provenance"]["final_temperature"] == 1.0
    assert sorted(doc["parameters"]) == ["inflow_persons_per_year.central", "reconsider_rate"]
    assert len(doc["samples"]) == 400
    assert all(isinstance(s["values"]["inflow_persons_per_year.central"], int) for s in doc["samples"])
    for name in ("posterior_summary.csv", "posterior_correlations.csv", "predictive.csv", "report.md",
                 "calibrated.yaml"):
        assert (folder / name).is_file()
    assert "emulator posterior" in capsys.readouterr().out


def test_emulator_posterior_is_refused_with_another_method(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["calibrate", "--method", "abc", "--emulator-posterior"]) == 2
    assert "--emulator-posterior works with --method history" in capsys.readouterr().err
