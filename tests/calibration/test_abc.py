"""ABC-SMC calibration end to end on a tiny case (issue 13): the model at 20,000 persons per agent over 2010–2011,
one parameter (the Sichuan–Chongqing pool, which Chengdu's residents identify), synthetic targets made by the model
at a known value, with a 30% error: wide against the seed noise of so coarse a model, so that few runs are
rejected. Checks the machinery, not the statistics (docs/validation.md has the coverage check): every model run
goes through sweep batches, the posterior file is written and loads, the installed estimate is its mean, and a
calibration interrupted after its batches were run resumes to the same posterior, bit for bit, running only what
was lost, whatever the worker count.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from experiments.calibration.targets import moments_of_runs
from experiments.spec import spec_from_dict
from experiments.sweep import run_sweep
from hukou_cli.main import main
from policies.yamlio import dump_yaml

PARAM = "inflow_persons_per_year.sichuan_chongqing"
SCALE, END = 20000, 2011


def _targets(folder: Path) -> Path:
    """Residents and registered population of the three cities at the end of 2011, observed on a run at 1.4 m."""
    rows = [{"target_id": f"{c}_registered_2010c", "city": c, "year": 2010.83, "measure": "registered",
             "target_kind": "initial"} for c in ("shenzhen", "guangzhou", "chengdu")]
    rows += [{"target_id": f"{c}_{m}_{END}", "city": c, "year": float(END), "measure": m,
              "target_kind": "calibration"} for c in ("shenzhen", "guangzhou", "chengdu")
             for m in ("residents", "registered")]
    targets = pd.DataFrame(rows).assign(observed=1.0, sigma_rel=0.3, comparison="equal", districts="",
                                        note="synthetic", source="the model at 1.4 m", confidence="high")
    doc = {"name": "truth", "constants": {"behaviour": {PARAM: 1_400_000}}, "outcomes": ["residents"],
           "scale": SCALE, "start": 2010, "end": END, "root_seed": 7}
    assert run_sweep(spec_from_dict(doc), folder / "truth", workers=1, summarise=False).ok
    moments = moments_of_runs(folder / "truth", targets)
    targets["observed"] = [float(moments[t].iloc[0]) for t in targets["target_id"]]
    path = folder / "targets.csv"
    targets.to_csv(path, index=False)
    return path


def _spec(folder: Path, targets: Path) -> Path:
    path = folder / "abc.yaml"
    path.write_text(dump_yaml({
        "name": "tiny-abc", "parameters": {PARAM: {"low": 600_000, "high": 2_600_000, "integer": True}},
        "targets_file": str(targets), "model_discrepancy": 0.02, "scale": SCALE, "end": END, "root_seed": 11,
        "abc": {"population": 4, "generations": 2, "max_batch": 8}}), "utf-8")
    return path


def _calibrate(spec: Path, out: Path, workers: int) -> None:
    assert main(["calibrate", "--method", "abc", "--spec", str(spec), "--out", str(out), "--no-install",
                 "--quiet", "--workers", str(workers)]) == 0


def test_abc_calibration_writes_a_posterior_and_resumes_identically(tmp_path: Path) -> None:
    from experiments.posterior import load_posterior
    from policies.yamlio import load_yaml

    spec = _spec(tmp_path, _targets(tmp_path))
    out = tmp_path / "cal"
    _calibrate(spec, out, workers=2)
    posterior = load_posterior(out / "posterior.json")
    assert posterior.parameters == (PARAM,) and len(posterior.samples) == 4 and not posterior.is_point
    p = posterior.provenance
    assert p["method"].startswith("ABC-SMC") and p["targets"] and p["waves"] and p["code_version"]
    assert p["runs"] == sum(len(load_posterior(f).samples) for f in (out / "batches").glob("*.json"))
    assert p["final_temperature"] == 1.0 and p["exact"]
    assert (out / "abc.db").is_file() and (out / "report.md").is_file()
    # prior against posterior and what the targets identify, per parameter
    summary = pd.read_csv(out / "posterior_summary.csv")
    assert summary.loc[0, "prior_sd"] == pytest.approx((2_600_000 - 600_000) / np.sqrt(12))
    assert summary.loc[0, "identification"] in {"pinned down", "partly", "not identified"}
    assert "sd / prior sd" in (out / "report.md").read_text("utf-8")
    # every evaluation is a run of a sweep batch: one sweep folder per batch, all of its runs published
    batches = sorted(d for d in (out / "batches").iterdir() if d.is_dir())
    assert len(batches) >= 2 and all((d / "manifest.json").is_file() for d in batches)
    # the installed estimate is the posterior mean (integer parameter: rounded)
    values = np.array([s[PARAM] for s in posterior.samples], float)
    mean = float(np.sum(posterior.weights * values))
    entry = load_yaml(out / "calibrated.yaml")["parameters"][PARAM]
    assert entry["value"] == round(mean) and entry["interval_90"][0] <= mean <= entry["interval_90"][1]
    # the truth (1.4 m) lies inside the posterior's range: the machinery points the right way
    assert values.min() <= 1_400_000 * 1.25 and values.max() >= 1_400_000 * 0.75

    # a crash after the first batches: pyabc's database, the results and the last batch are lost
    first = sorted((batches[0] / "runs").glob("*/identity.json"))
    stamps = [f.stat().st_mtime_ns for f in first]
    for name in ("abc.db", "posterior.json", "calibrated.yaml"):
        (out / name).unlink()
    shutil.rmtree(batches[-1])
    _calibrate(spec, out, workers=1)
    again = load_posterior(out / "posterior.json")
    assert again.samples == posterior.samples and np.array_equal(again.weights, posterior.weights)
    assert again.provenance["runs"] == p["runs"]
    assert [f.stat().st_mtime_ns for f in first] == stamps  # earlier batches were read back, not run again


def test_abc_refuses_an_smm_folder_and_an_unknown_method(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    (tmp_path / "cal").mkdir()
    (tmp_path / "cal" / "calibration_spec.json").write_text("{}", "utf-8")
    assert main(["calibrate", "--method", "abc", "--out", str(tmp_path / "cal"), "--no-install", "--quiet"]) == 2
    assert "SMM calibration" in capsys.readouterr().err
    assert main(["calibrate", "--method", "mcmc", "--no-install", "--quiet"]) == 2
    assert "unknown method 'mcmc'" in capsys.readouterr().err


def test_identification_and_posterior_correlations() -> None:
    """The posterior sd against the prior's names what the data pin down; a weighted correlation finds a ridge."""
    from experiments.calibration.abc import _strong_pairs, identification, weighted_correlations

    assert [identification(r) for r in (0.1, 0.5, 0.9)] == ["pinned down", "partly", "not identified"]
    rng = np.random.default_rng(1)
    a = rng.normal(size=500)
    frame = pd.DataFrame({"pool": a, "cost": a + 0.1 * rng.normal(size=500), "free": rng.normal(size=500)})
    weights = np.full(500, 1 / 500)
    corr = weighted_correlations(frame, weights)
    assert corr.loc["pool", "cost"] > 0.95 and abs(corr.loc["pool", "free"]) < 0.15
    assert [(x, y) for x, y, _ in _strong_pairs(corr)] == [("pool", "cost")]
    # the weights count: weight only on particles where free follows pool makes them correlate
    follows = np.abs(frame["free"] - frame["pool"]) < 0.3
    tilted = np.where(follows, 1.0, 0.0) / follows.sum()
    assert weighted_correlations(frame, tilted).loc["pool", "free"] > 0.9


def test_finish_writes_a_tempered_posterior_from_the_last_complete_generation(tmp_path: Path,
                                                                             capsys: pytest.CaptureFixture) -> None:
    """A calibration stopped before its last generation keeps what it learnt: --finish runs nothing and writes
    the posterior of the last generation in abc.db, marked tempered (exact false), with the runs counted from
    the batches' ledgers."""
    from experiments.posterior import load_posterior

    spec = _spec(tmp_path, _targets(tmp_path))
    out = tmp_path / "cal"
    _calibrate(spec, out, workers=1)
    full = load_posterior(out / "posterior.json")
    (out / "posterior.json").unlink()
    runs_before = sorted(p.stat().st_mtime_ns for p in (out / "batches").glob("*/ledger.sqlite"))
    code = main(["calibrate", "--method", "abc", "--finish", "--spec", str(spec), "--out", str(out), "--no-install",
                 "--quiet"])
    assert code == 0, capsys.readouterr().err
    again = load_posterior(out / "posterior.json")
    # the database holds the finished calibration: the same final population, weights and run count
    assert again.samples == full.samples and np.allclose(again.weights, full.weights)
    assert again.provenance["runs"] == full.provenance["runs"]
    assert sorted(p.stat().st_mtime_ns for p in (out / "batches").glob("*/ledger.sqlite")) == runs_before
    # nothing to finish: a one-line error, exit 2
    capsys.readouterr()  # pyabc's log of the calibration above
    code = main(["calibrate", "--method", "abc", "--finish", "--spec", str(spec), "--out", str(tmp_path / "none"),
                 "--no-install", "--quiet"])
    err = capsys.readouterr().err
    assert code == 2 and "abc.db" in err and len(err.strip().splitlines()) == 1
