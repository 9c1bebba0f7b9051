"""Sensitivity: Morris indices with confidence intervals, a plot, and a warning for a small sample."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from conftest import write_spec

from hukou_cli.main import main


def test_morris_indices_table_plot_and_small_sample_warning(tmp_path: Path,
                                                            capsys: pytest.CaptureFixture) -> None:
    spec = write_spec(tmp_path / "morris.yaml", levers={"regimes": ["historical"]}, replications=1,
                      sampler={"method": "morris", "n": 4, "levels": 4},
                      uncertainties={"beta_rent": {"low": 0.6, "high": 1.8},
                                     "inflow_growth_per_year": {"low": -0.3, "high": 0.3}},
                      outcomes=["migrants", "arrivals"])
    out = tmp_path / "sweep"
    assert main(["sensitivity", str(spec), "--out", str(out), "--workers", "2", "--quiet"]) == 0
    captured = capsys.readouterr()
    assert "trajectories" in captured.err and "not stable" in captured.err  # the small-sample warning
    table = pd.read_csv(out / "sensitivity.csv")
    assert {"outcome", "city", "factor", "mu_star", "mu_star_conf", "sigma"} <= set(table.columns)
    assert set(table["factor"]) == {"behaviour.beta_rent", "behaviour.inflow_growth_per_year"}
    assert (table["mu_star_conf"] >= 0).all() and (out / "sensitivity.png").stat().st_size > 1000


def test_sensitivity_refuses_a_factorial_spec(tiny_spec: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["sensitivity", str(tiny_spec)]) == 2
    assert "sobol or morris" in capsys.readouterr().err
