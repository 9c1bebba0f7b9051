"""JSON Schemas of specs, run configs, regime files and points profiles (issue 12, item 9): ``hukou schema KIND``
prints what docs/schemas/ ships, the shipped examples pass their schema, and typos do not."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from experiments.schemas import KINDS, SCHEMA_DIR, CounterfactualFile, TimelineFile, TimelineVersion, schema_text

ROOT = Path(__file__).resolve().parents[2]


def _validator(kind: str) -> Any:
    import jsonschema

    schema = json.loads((ROOT / SCHEMA_DIR / f"{kind}.schema.json").read_text("utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def _doc(path: Path) -> Any:
    from policies.yamlio import load_yaml

    return json.loads(json.dumps(load_yaml(path)))  # plain JSON values, as an editor's YAML plugin sees them


@pytest.mark.parametrize("kind", KINDS)
def test_shipped_schema_files_are_what_the_command_prints(kind: str, tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    from hukou_cli.main import main

    shipped = (ROOT / SCHEMA_DIR / f"{kind}.schema.json").read_text("utf-8")
    assert shipped == schema_text(kind), f"regenerate: hukou schema {kind} --out {SCHEMA_DIR}/{kind}.schema.json"
    assert main(["schema", kind]) == 0
    assert capsys.readouterr().out == shipped
    assert main(["schema", kind, "--out", str(tmp_path / "s.json")]) == 0
    assert (tmp_path / "s.json").read_text("utf-8") == shipped


def test_an_unknown_schema_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    from hukou_cli.main import main

    assert main(["schema", "specs"]) == 2
    assert "unknown schema 'specs'" in capsys.readouterr().err


def test_every_shipped_spec_and_regime_file_passes_its_schema() -> None:
    specs = sorted((ROOT / "experiments" / "specs").glob("*.yaml")) + [ROOT / "dashboard" / "load_spec.yaml"]
    regimes = sorted((ROOT / "policies" / "regimes").rglob("*.yaml"))
    assert len(specs) >= 5 and len(regimes) >= 9
    for kind, files in (("spec", specs), ("policy", regimes)):
        validator = _validator(kind)
        for path in files:
            errors = [e.message for e in validator.iter_errors(_doc(path))]
            assert not errors, (path, errors[:3])
    config = {"end": 2020, "scale": 500, "seed": 3, "regimes": ["historical"], "behaviour": {"beta_rent": 1.2},
              "overrides": {"points_channel.guangzhou_2018.quota": 8000}}
    assert not list(_validator("config").iter_errors(config))
    assert not list(_validator("profile").iter_errors({"age": 30, "education": "bachelor",
                                                       "housing": {"type": "owned"}}))


@pytest.mark.parametrize(("kind", "doc"), [
    ("spec", {"name": "x", "replicatons": 3}),
    ("spec", {"name": "x", "levers": {"overrides": {"points_channel.guangzhou_2018.qouta": {"low": 1, "high": 2}}}}),
    ("spec", {"name": "x", "sampler": {"method": "grid"}}),
    ("config", {"behaviour": {"beta_rnt": 1.0}}),
    ("config", {"scale": 0}),
    ("policy", {"derive_from": "historical", "swap": {"points_channel": "no_such_variant"}}),
    ("policy", {"derive_from": "historical", "overrides": {"points_channel.guangzhou_2018.quota": {"value": 1}}}),
    ("policy", {"name": "x", "city": "beijing", "versions": [{"mechanisms": {}}]}),
    ("policy", {"name": "x", "versions": [{"lable": "typo"}]}),
    ("profile", {"age": 30, "education": "phd"}),
])
def test_typos_and_wrong_values_fail_the_schema(kind: str, doc: dict[str, Any]) -> None:
    assert list(_validator(kind).iter_errors(doc))


def test_regime_file_models_have_the_loaders_keys() -> None:
    from policies import catalogue

    def keys(model: Any) -> set[str]:
        return {field.alias or name for name, field in model.model_fields.items()}

    assert keys(TimelineFile) == catalogue._HISTORICAL_KEYS
    assert keys(TimelineVersion) == catalogue._VERSION_KEYS
    assert keys(CounterfactualFile) == catalogue._COUNTERFACTUAL_KEYS
