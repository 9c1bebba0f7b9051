"""``hukou calibrate-coverage`` (experiments/calibration/coverage.py, issue 13): the check runs end to end with the
emulator posterior of a history matching (one synthetic truth, one parameter, one wave of six runs at 20,000
persons per agent), refuses an unknown method, and reads its result against the finite-sample expectation.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from experiments.calibration.coverage import finite_sample_coverage
from hukou_cli.main import main


def test_coverage_of_the_emulator_posterior_runs_end_to_end(tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "cov"
    code = main(["calibrate-coverage", "--method", "history", "--truths", "1", "--scale", "20000", "--end", "2011",
                 "--waves", "1", "--runs-per-wave", "6", "--parameter", "reconsider_rate", "--discrepancy", "0.1",
                 "--workers", "1", "--quiet", "--out", str(out)])
    assert code == 0, capsys.readouterr()
    table = pd.read_csv(out / "coverage.csv")
    assert table["parameter"].tolist() == ["reconsider_rate"]
    row = table.iloc[0]
    assert row["final_temperature"] == 1.0 and row["runs"] == 6
    assert 0.02 <= row["q05"] <= row["q25"] <= row["q75"] <= row["q95"] <= 0.35  # inside the prior box
    assert bool(row["inside_90"]) == bool(row["q05"] <= row["value"] <= row["q95"])
    assert "inside 90%" in capsys.readouterr().out


def test_coverage_refuses_an_unknown_method(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["calibrate-coverage", "--method", "mcmc"]) == 2
    assert "unknown method 'mcmc'" in capsys.readouterr().err


def test_finite_sample_coverage_of_eight_particles() -> None:
    # with 8 particles the 90% interval is their range, which holds a ninth draw 7 times in 9
    assert finite_sample_coverage(8, 0.05, 0.95) == pytest.approx(7 / 9, abs=0.01)
