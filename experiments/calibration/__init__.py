"""Calibration and validation against the census and city statistics (issue 6, docs/validation.md).

``calibrate`` estimates behavioural parameters by simulated method of moments through ordinary sweeps; ``validate``
runs the historical regimes with the installed (calibrated) defaults over several seeds and writes the
simulated-against-observed report. Observed targets, with sources, are package data (``data/targets.csv``).
"""

from __future__ import annotations

from experiments.calibration.smm import CalibrationFailed, CalibrationResult, calibrate, install_calibration
from experiments.calibration.spec import CalibrationSpec, calibration_spec_from_dict, load_calibration_spec
from experiments.calibration.targets import comparison_table, load_targets, moments_of_runs, simulated_moments

__all__ = ["CalibrationSpec", "load_calibration_spec", "calibration_spec_from_dict", "CalibrationResult",
           "CalibrationFailed", "calibrate", "install_calibration", "load_targets", "simulated_moments",
           "moments_of_runs", "comparison_table"]
