"""Specs: strict validation with file, line and dotted path; YAML 1.1 traps; the shipped specs; the CLI's exit 2."""

from __future__ import annotations

from pathlib import Path

import pytest

from experiments.spec import load_spec
from hukou_cli.main import main
from policies.errors import InputError
from sim.metrics import CITY_KEYS, CITY_METRICS

SPECS = Path(__file__).resolve().parents[2] / "experiments" / "specs"
BASE = """name: bad
levers:
  regimes: [historical]
  overrides:
    points_channel.guangzhou_2018.quota: {low: 1000, high: 20000, integer: true}
uncertainties:
  beta_rent: {low: 0.8, high: 1.6}
scale: 40000
end: 2011
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "spec.yaml"
    path.write_text(text, "utf-8")
    return path


@pytest.mark.parametrize(("text", "line", "field", "words"), [
    (BASE + "replicatons: 3\n", 10, "replicatons", "unknown key"),
    (BASE.replace("scale: 40000", "scale: lots"), 8, "scale", "number"),
    (BASE.replace("low: 1000", "low: -5"), 5, "levers.overrides.points_channel.guangzhou_2018.quota.low",
     "negative"),
    (BASE + "constants:\n  behaviour:\n    reconsider_rate: 1.5\n", 12, "constants.behaviour.reconsider_rate",
     "less than or equal to 1"),
    (BASE.replace("beta_rent: {low: 0.8, high: 1.6}", "reconsider_rate: {low: 0.1, high: 1.2}"), 7,
     "uncertainties.reconsider_rate.high", "less than or equal to 1"),
    (BASE.replace("regimes: [historical]", "regimes: []"), 3, "levers.regimes", "empty"),
    (BASE.replace("regimes: [historical]", "regimes: [nowhere]"), 3, "levers.regimes.0", "unknown regime"),
    (BASE + "sampler: {method: sobol, n: 100}\n", 10, "sampler", "power of two"),
    (BASE + "outcomes: [happiness]\n", 10, "outcomes", "unknown outcome"),
    (BASE.replace("beta_rent", "beta_luck"), 7, "uncertainties.beta_luck", "unknown behavioural parameter"),
    (BASE.replace("guangzhou_2018.quota", "guangzhou_2018.quot"), 5,
     "levers.overrides.points_channel.guangzhou_2018.quot.low", "unknown parameter"),
    (BASE.replace("scale: 40000\n", "scale: 40000\nscale: 100\n"), 9, None, "duplicate"),
    (BASE + "constants:\n  history: NO\n", 11, "constants.history", "boolean"),
    # issue 12 (review V5): these passed `hukou validate` and then ran to absurd results or failed every run
    (BASE + "constants:\n  behaviour:\n    beta_rent: .nan\n", 12, "constants.behaviour.beta_rent", "finite"),
    (BASE + "constants:\n  behaviour:\n    beta_rent: nan\n", 12, "constants.behaviour.beta_rent", "finite"),
    (BASE.replace("scale: 40000", "scale: .inf"), 8, "scale", "finite"),
    (BASE.replace("scale: 40000", "scale: 1e-300"), 8, "scale", "greater than or equal to 1"),
    (BASE + "constants:\n  overrides:\n    points_channel.guangzhou_2018.quota: .nan\n", 12,
     "constants.overrides.points_channel.guangzhou_2018.quota", "NaN"),
])
def test_bad_spec_is_one_line_with_file_line_and_path(tmp_path: Path, capsys: pytest.CaptureFixture, text: str,
                                                      line: int, field: str | None, words: str) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(InputError) as info:
        load_spec(path)
    assert info.value.line == line, info.value.one_line()
    if field:
        assert info.value.field == field
    assert words in info.value.message
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and err.startswith(f"hukou: error: {path}:{line}: ") and "Traceback" not in err


def test_yaml_1_2_numbers_and_strings(tmp_path: Path) -> None:
    """``1e-3`` is a number (not the string YAML 1.1 makes of it); ``NO`` stays a string, not false."""
    path = _write(tmp_path, BASE.replace("beta_rent: {low: 0.8, high: 1.6}",
                                         "inflow_growth_per_year: {low: -1e-2, high: 1e-3}")
                  + "description: NO\n")
    spec = load_spec(path)
    assert spec.uncertainties["inflow_growth_per_year"].high == pytest.approx(0.001)
    assert spec.description == "NO"


def test_shipped_specs_validate(capsys: pytest.CaptureFixture) -> None:
    names = {p.stem for p in SPECS.glob("*.yaml")}
    assert {"compare_regimes", "quota_sweep", "district_bonus_sweep", "sensitivity_behaviour"} <= names
    for path in sorted(SPECS.glob("*.yaml")):
        assert main(["validate", str(path)]) == 0, capsys.readouterr().err
    assert "24 runs" in capsys.readouterr().out.replace("\n", "")


def test_regime_and_counterfactual_files_validate_on_their_own(tmp_path: Path,
                                                                capsys: pytest.CaptureFixture) -> None:
    """Review V7: `hukou validate talent_only.yaml` read the counterfactual as a spec ("title: unknown key")."""
    regimes = Path(__file__).resolve().parents[2] / "policies" / "regimes"
    for path in [regimes / "shenzhen.yaml", *sorted((regimes / "counterfactuals").glob("*.yaml"))]:
        assert main(["validate", str(path)]) == 0, capsys.readouterr().err
    assert "ok — regime talent_only for guangzhou" in capsys.readouterr().out.replace("\n", "")
    bad = tmp_path / "bad.yaml"
    bad.write_text((regimes / "counterfactuals" / "talent_only.yaml").read_text("utf-8")
                   .replace("derive_from: historical", "derive_from: historical\noverrides:\n"
                            "  points_channel.guangzhou_2011.quota: {value: -5, assumption: a typo}"), "utf-8")
    assert main(["validate", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "bad.yaml" in err and "quota" in err


def test_compare_regimes_covers_every_counterfactual() -> None:
    from policies.catalogue import available

    spec = load_spec(SPECS / "compare_regimes.yaml")
    assert set(spec.levers.regimes) == set(available()) - {"shenzhen", "guangzhou", "chengdu"}
    draws = spec.parameter_draws.draws if spec.parameter_draws is not None else 1
    assert (spec.scale, spec.start, spec.end) == (100, 2010, 2035) and spec.replications * draws >= 3


def test_outcome_names_are_the_city_year_columns() -> None:
    from sim.config import RunConfig
    from sim.model import HukouModel

    columns = HukouModel(RunConfig(scale=40000, end=2010, history=False)).run().city_year().columns
    keys = {*CITY_KEYS, "regime", "regime_version"}
    assert set(CITY_METRICS) == set(columns) - keys
