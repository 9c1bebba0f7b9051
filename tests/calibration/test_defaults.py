"""The installed calibration becomes the model's default, and every parameter still carries its provenance."""

from __future__ import annotations

from experiments.spec import behaviour_path_value
from sim.params import behaviour_provenance, calibrated_parameters, default_behaviour


def test_calibrated_values_are_the_defaults_and_say_so() -> None:
    calibrated = calibrated_parameters()
    defaults = default_behaviour().model_dump()
    priors = default_behaviour(calibrated=False).model_dump()
    provenance = behaviour_provenance()
    for path, value in calibrated.items():
        assert behaviour_path_value(defaults, path) == value
        name = path.split(".")[0]
        assert provenance[name].startswith("ref: calibrated (sim/data/calibrated.yaml"), provenance[name]
        assert "prior:" in provenance[name]
    untouched = {k for k in priors if not any(p.split(".")[0] == k for p in calibrated)}
    assert all(defaults[k] == priors[k] for k in untouched)
    assert all(p.startswith(("ref:", "assumption:")) or p for p in provenance.values())
