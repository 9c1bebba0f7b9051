"""Strict YAML (issue 12, review item Y): the YAML 1.2 core schema, no tags, exact round trips, clear errors."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from experiments import load_spec, run_sweep
from experiments.spec import spec_from_dict
from experiments.sweep import load_sweep_spec
from policies.errors import InputError
from policies.yamlio import dump_yaml, load_yaml, load_yaml_text


@pytest.mark.parametrize(("text", "value"), [
    ("1:30", "1:30"),          # YAML 1.1: 90 (sexagesimal)
    ("010", 10),               # YAML 1.1: 8 (octal)
    ("0o10", 8),
    ("0x1F", 31),
    ("1e-3", 0.001),           # YAML 1.1: the string "1e-3"
    ("'1e-3'", "1e-3"),
    ("1_000", "1_000"),        # YAML 1.1: 1000
    ("off", "off"),            # YAML 1.1: false
    ("True", True),
    ("2018-13-01", "2018-13-01"),  # YAML 1.1: a traceback (month must be in 1..12)
    ("2018-01-01", "2018-01-01"),  # dates are text: the fields that hold them parse them
    ("~", None),
    ("", None),
    (".5", 0.5),
    ("-.inf", float("-inf")),
])
def test_scalars_are_read_in_the_yaml_1_2_core_schema(text: str, value: Any) -> None:
    got = load_yaml_text(f"a: {text}\n")["a"]
    assert got == value and type(got) is type(value)


@pytest.mark.parametrize(("text", "line", "message"), [
    ("a: 1\nb: !!int x\n", 2, "tags are not accepted"),
    ("a: !!python/object:os.system ls\n", 1, "tags are not accepted"),
    ("a:\n  b: " + "9" * 40 + "\n", 2, "integer too long"),
    ("a: 1\n? [x, y]\n: 2\n", 2, "a key must be text or a whole number"),
    ("a: 1\n1.5: 2\n", 2, "a key must be text or a whole number"),
    ("a: 1\nb: 2\na: 3\n", 3, "duplicate key 'a' (first on line 1)"),
])
def test_forms_we_refuse_name_file_and_line(tmp_path: Path, text: str, line: int, message: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text, "utf-8")
    with pytest.raises(InputError) as caught:
        load_yaml(path)
    assert caught.value.line == line and message in caught.value.message
    assert str(path) in str(caught.value)


def test_what_we_write_reads_back_exactly() -> None:
    tricky = ["1e-3", "010", "1:30", "on", "yes", "null", "", "~", "0x1F", ".inf", "true", "1_000", "<<", "-5",
              "2018-01-01", "深圳"]
    doc = {"strings": tricky, "numbers": [1e-3, 10, -5, 0.5], "flag": False, "none": None, "by_adcode": {440117: 1}}
    assert load_yaml_text(dump_yaml(doc)) == doc
    assert load_yaml_text(dump_yaml({"day": dt.date(2018, 1, 1)})) == {"day": "2018-01-01"}


def test_a_sweep_made_from_a_spec_object_resumes_with_the_same_spec(tmp_path: Path) -> None:
    """The review's case: a spec whose text looks like a number ("1e-3") was written unquoted, read back as 0.001,
    and the sweep could not be resumed ("spec changed")."""
    spec = spec_from_dict({"name": "tiny", "description": "1e-3", "levers": {"regimes": ["historical"]},
                           "replications": 1, "scale": 40000, "start": 2010, "end": 2010,
                           "outcomes": ["hukou_share"]}, "test")
    out = tmp_path / "sweep"
    assert run_sweep(spec, out, workers=1, summarise=False).ok
    assert load_sweep_spec(out).spec_hash() == spec.spec_hash()
    assert load_spec(out / "spec.yaml").description == "1e-3"
    assert run_sweep(load_sweep_spec(out), out, workers=1, summarise=False).ok


def test_an_alias_bomb_is_refused_at_once_and_ordinary_aliases_still_work(tmp_path: Path) -> None:
    """Review V6: 538 bytes of nested aliases took 32 s and 580 MB before being refused."""
    rows = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for prev, name in zip("abcdef", "bcdefg", strict=True):
        rows.append(f"{name}: &{name} [" + ", ".join([f"*{prev}"] * 9) + "]")
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text("\n".join(rows) + "\n", "utf-8")
    with pytest.raises(InputError, match=r"bomb\.yaml: more than 1,000,000 values once its aliases"):
        load_yaml(bomb)  # refused from the composed nodes, before anything is expanded
    assert load_yaml_text("x: &x {p: 1}\ny: *x\n") == {"x": {"p": 1}, "y": {"p": 1}}


def test_a_sweep_run_s_config_loads_again_with_its_63_bit_seed(tmp_path: Path) -> None:
    """A sweep's run seeds are 63-bit (19 digits, experiments/seeds.py); its config.yaml must load again so that
    `hukou run --config` reproduces the run. One digit more is refused."""
    from experiments.seeds import run_seed
    from sim.config import load_config

    seed = max(run_seed(7, scenario, 0) for scenario in range(50))
    assert len(str(seed)) == 19
    path = tmp_path / "config.yaml"
    path.write_text(f"seed: {seed}\nend: 2011\nscale: 20000\n", "utf-8")
    assert load_config(path).seed == seed
    assert load_yaml_text(f"a: {seed}\n")["a"] == seed
    with pytest.raises(InputError, match="integer too long"):
        load_yaml_text(f"a: {seed}0\n")
