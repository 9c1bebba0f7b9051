"""The wide calibration spec (issue 13, item 1) loads, every parameter names a behavioural value the model has, it
keeps the shipped spec's targets and settings, and every prior box says where it comes from (ref: or assumption:).
A spec that fails any of these would be found only when the next long calibration starts."""

from __future__ import annotations

from pathlib import Path

from experiments.calibration.spec import default_spec_path, load_calibration_spec
from experiments.spec import behaviour_path_value
from sim.params import Behaviour, default_behaviour

WIDE = Path(__file__).resolve().parents[2] / "experiments" / "calibration" / "specs" / "calibrate_wide.yaml"


def test_wide_spec_loads_and_every_parameter_resolves() -> None:
    spec = load_calibration_spec(WIDE)  # the project's own check: paths, bounds against each parameter's type
    base = default_behaviour().model_dump()
    for path, box in spec.parameters.items():
        value = behaviour_path_value(base, path)  # KeyError if the path names nothing
        assert isinstance(value, (int, float)) and not isinstance(value, bool), path
        assert box.low < box.high, path
        assert path.split(".")[0] in Behaviour.model_fields, path
    assert len(spec.parameters) == 20


def test_wide_spec_keeps_the_shipped_targets_settings_and_parameters() -> None:
    wide, shipped = load_calibration_spec(WIDE), load_calibration_spec(default_spec_path())
    assert set(shipped.parameters) <= set(wide.parameters)
    same = ("fit_kind", "targets_file", "model_discrepancy", "end", "scale", "regimes", "abc", "explore", "refine",
            "replications", "confirm_replications", "root_seed", "step_months", "constants")
    for field in same:
        assert getattr(wide, field) == getattr(shipped, field), field


def test_every_prior_box_says_where_it_comes_from() -> None:
    """Each parameter line sits under a comment block holding `ref:` or `assumption:` (a block may serve a run of
    parameter lines, as the five zones of housing_supply_elasticity share theirs)."""
    lines = WIDE.read_text(encoding="utf-8").splitlines()
    start = lines.index("parameters:") + 1
    block: list[str] = []
    after_parameter = False
    checked = 0
    for line in lines[start:]:
        if line and not line.startswith(" "):
            break  # the next top-level key ends the parameters
        text = line.strip()
        if text.startswith("#"):
            if after_parameter:
                block, after_parameter = [], False
            block.append(text)
        elif text:
            name = text.split(":")[0]
            assert any("ref:" in c or "assumption:" in c for c in block), f"{name}: no ref: or assumption:"
            after_parameter = True
            checked += 1
    assert checked == 20
