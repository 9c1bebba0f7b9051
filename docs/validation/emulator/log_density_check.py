"""Where the SMM estimate (the default until 2026-12-03) lies in the emulator posterior: the emulated log density
there, at the posterior's mean, over its draws and at its best NROY candidate (docs/validation.md, "The emulator
posterior"). Replays the history matching from its folder (every run is read back; the emulators are refitted,
about 6 minutes on 2 cores).

Usage, from the project root, after the history matching of "The emulator posterior" into /work/hm-real:
    python docs/validation/emulator/log_density_check.py /work/hm-real
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

from experiments.calibration.emulator_posterior import log_posterior
from experiments.calibration.history_matching import calibrate_history, history_spec
from experiments.calibration.spec import load_calibration_spec

HERE = Path(__file__).resolve().parent
# the SMM estimate installed on 2026-12-01 (docs/validation.md, "Results"), in the spec's parameter order
SMM = {"inflow_persons_per_year.guangdong": 1780210, "inflow_persons_per_year.central": 2127193,
       "inflow_persons_per_year.sichuan_chongqing": 2334708, "origin_cost.central.shenzhen": 1.284,
       "reconsider_rate": 0.1938, "beta_wage": 1.182, "beta_prospect": 0.1337, "size_jobs_weight": 0.4038}


def main(folder: Path) -> None:
    spec = history_spec(load_calibration_spec(HERE.parent / "abc" / "calibrate_abc.yaml"), waves=3,
                        runs_per_wave=80)
    result = calibrate_history(spec, folder, workers=2)
    assert result.box is not None
    logp = log_posterior(result, spec.history.cutoff, spec.history.rule)
    low, width = result.box[:, 0], result.box[:, 1] - result.box[:, 0]

    def at(points: np.ndarray) -> np.ndarray:
        return logp((points - low) / width)

    post = json.loads((HERE / "posterior.json").read_text("utf-8"))
    draws = np.array([[s["values"][n] for n in result.names] for s in post["samples"]], dtype=float)
    smm = np.array([[SMM[n] for n in result.names]], dtype=float)
    candidates = at(result.nroy[result.names].to_numpy(float))
    print(f"SMM estimate {at(smm)[0]:.1f}; posterior mean {at(draws.mean(axis=0, keepdims=True))[0]:.1f}; "
          f"draws 5%/50%/95% {np.quantile(at(draws), [0.05, 0.5, 0.95]).round(1).tolist()}; "
          f"best NROY candidate {np.max(candidates[np.isfinite(candidates)]):.1f}")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
