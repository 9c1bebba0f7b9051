"""``hukou validate`` end to end at a small scale, ``validate SPEC`` still checking specs, and bad calibration
specs refused with one line and exit code 2."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from experiments.calibration.validate import TABLE_COLUMNS
from hukou_cli.main import main


def test_validate_runs_end_to_end(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "validation"
    code = main(["validate", "--out", str(out), "--seeds", "2", "--scale", "20000", "--end", "2021",
                 "--workers", "2", "--quiet"])
    assert code == 0, capsys.readouterr().err
    table = pd.read_parquet(out / "validation_table.parquet")
    assert list(table.columns[:len(TABLE_COLUMNS)]) == list(TABLE_COLUMNS)
    assert set(table["target_kind"]) == {"initial", "calibration", "validation"}
    reached = table[table["year"] <= 2021.0]
    assert reached["simulated_mean"].notna().all()
    assert (reached["simulated_lo"] <= reached["simulated_hi"]).all()
    # the model starts on the 2010 census day: the initial residents match by construction (to agent rounding)
    initial = table[(table["target_kind"] == "initial") & (table["measure"] == "residents")]
    assert (initial["relative_error"].abs() < 0.01).all()
    for name in ("report.md", "series.png", "errors.png", "validation_table.csv", "validation_summary.csv",
                 "simulated_series.parquet", "manifest.json", "district_shares.parquet", "district_shares.csv",
                 "district_share_errors.csv", "district_share_errors.parquet", "city_series.csv",
                 "district_shares.png"):
        assert (out / name).is_file(), name
    # district shares beside persistence for every city-year with data, and the generated sections
    errors = pd.read_parquet(out / "district_share_errors.parquet")
    assert {(c, int(y)) for c, y in zip(errors["city"], errors["year"], strict=True)} >= {
        ("shenzhen", 2012), ("shenzhen", 2016), ("shenzhen", 2019), ("chengdu", 2015), ("guangzhou", 2019)}
    assert (errors["model_mae_pp"] > 0).all() and (errors["persistence_mae_pp"] > 0).all()
    shares = pd.read_parquet(out / "district_shares.parquet")
    assert shares["simulated_share"].between(0, 1).all() and shares["persistence_share"].between(0, 1).all()
    report = (out / "report.md").read_text("utf-8")
    for section in ("## District shares: the model against persistence", "## City resident series: original and "
                    "revised", "## What is still wrong"):
        assert section in report, section
    assert "validation" in capsys.readouterr().out


def test_validate_with_a_spec_still_checks_it(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["validate", "experiments/specs/compare_regimes.yaml"]) == 0
    assert "ok" in capsys.readouterr().out


@pytest.mark.parametrize(("body", "mention"), [
    ("name: x\nparameters:\n  beta_wage: {low: 1, high: 2}\ncolour: red\n", "colour"),
    ("name: x\nparameters:\n  beta_wages: {low: 1, high: 2}\n", "parameters.beta_wages"),
    ("name: x\nparameters:\n  beta_wage: {low: 2, high: 1}\n", "parameters.beta_wage"),
    ("name: x\nparameters:\n  reconsider_rate: {low: 0.1, high: 1.5}\n", "parameters.reconsider_rate.high"),
    ("name: x\nparameters: {}\n", "parameters"),
    ("name: x\nparameters:\n  beta_wage: {low: 1, high: 2}\nexplore: {n: 1}\n", "explore.n"),
])
def test_bad_calibration_spec_is_one_line_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture, body: str,
                                                 mention: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(body, "utf-8")
    code = main(["calibrate", "--spec", str(path), "--out", str(tmp_path / "cal"), "--no-install", "--quiet"])
    err = capsys.readouterr().err.strip()
    assert code == 2, err
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    assert str(path) in err and mention in err, err
    assert not (tmp_path / "cal").exists()


def test_missing_calibration_spec_file(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["calibrate", "--spec", str(tmp_path / "nope.yaml"), "--no-install", "--quiet"]) == 2
    assert "nope.yaml" in capsys.readouterr().err

def _two_point_posterior(path: Path) -> Path:
    """A posterior of two parameter sets (the installed calibration and a higher wage weight), equal weights."""
    from experiments.posterior import write_posterior
    from sim.params import calibrated_parameters

    base = dict(calibrated_parameters())
    other = {**base, "beta_wage": base["beta_wage"] * 1.5}
    write_posterior(path, [base, other], [0.5, 0.5], {
        "method": "test", "method_short": "two points", "targets": [], "waves": [], "runs": 0, "seeds": {},
        "code_version": "test", "date": "2026-12-02", "spec": {"model_discrepancy": 0.05}})
    return path


def test_validate_with_a_posterior_draws_parameters_and_states_it(tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture) -> None:
    posterior = _two_point_posterior(tmp_path / "posterior.json")
    out = tmp_path / "validation"
    code = main(["validate", "--out", str(out), "--posterior", str(posterior), "--draws", "4", "--seeds", "1",
                 "--scale", "40000", "--end", "2020", "--workers", "1", "--quiet"])
    assert code == 0, capsys.readouterr().err
    import json

    manifest = json.loads((out / "manifest.json").read_text("utf-8"))
    assert manifest["uncertainty"]["bands"] == "parameters and seeds"
    assert manifest["uncertainty"]["discrepancy"] == 0.05  # the posterior's own error model, not the default
    draws = pd.read_parquet(out / "sweep" / "draws.parquet")
    assert len(draws) == 4 and draws["beta_wage"].nunique() == 2  # both parameter sets are drawn
    table = pd.read_parquet(out / "validation_table.parquet")
    reached = table[table["year"] <= 2020.0]
    # the predictive interval adds the error model to the runs, so it contains the model's own band
    assert (reached["predictive_lo90"] <= reached["simulated_lo"]).all()
    assert (reached["predictive_hi90"] >= reached["simulated_hi"]).all()
    assert (reached["predictive_lo50"] <= reached["predictive_hi50"]).all()
    summary = pd.read_csv(out / "validation_summary.csv")
    assert summary["inside_predictive90"].between(0, 1).all()
    report = (out / "report.md").read_text("utf-8")
    assert "parameter and seed uncertainty" in report and "Drawn from the posterior in each run" in report
    assert "predictive" in capsys.readouterr().out


def test_validate_with_a_missing_posterior_is_one_line_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    code = main(["validate", "--out", str(tmp_path / "v"), "--posterior", str(tmp_path / "nope.json"), "--quiet"])
    err = capsys.readouterr().err
    assert code == 2 and "nope.json" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "v").exists()  # nothing was started
