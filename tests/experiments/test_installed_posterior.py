"""The posterior shipped with the package (sim/data/posterior.json) and the default comparison that draws from it:
``parameter_draws.file: installed`` names it wherever the package lies, keeps the spec's hash the same on every
machine, and the sweep folder of ``make run`` changes when the posterior does."""

from __future__ import annotations

import fnmatch
import shutil
import tomllib
from pathlib import Path

import pytest

from experiments import build_design, load_spec
from experiments.plan import draw_plan, plan_runs
from experiments.posterior import load_posterior, write_posterior
from experiments.spec import INSTALLED, installed_posterior
from experiments.sweep import band_label, folder_name
from policies.errors import InputError

ROOT = Path(__file__).resolve().parents[2]
COMPARE = ROOT / "experiments" / "specs" / "compare_regimes.yaml"


def test_installed_names_the_shipped_posterior_and_is_package_data() -> None:
    path = installed_posterior()
    assert path == ROOT / "sim" / "data" / "posterior.json" and path.is_file()
    posterior = load_posterior(path)
    assert posterior.samples and abs(float(posterior.weights.sum()) - 1) < 1e-9
    # shipped in the wheel: a package-data pattern of the sim.data package (or of every package) matches its name
    config = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["tool"]["setuptools"]["package-data"]
    patterns = [*config.get("*", []), *config.get("sim.data", []), *config.get("sim", [])]
    assert any(fnmatch.fnmatch("posterior.json", p) for p in patterns), patterns


def test_the_default_comparison_draws_three_sets_on_shared_seeds(tmp_path: Path) -> None:
    spec = load_spec(COMPARE)
    assert spec.parameter_draws is not None and spec.parameter_draws.file == INSTALLED
    assert spec.parameter_draws.path == installed_posterior()
    assert spec.canonical()["parameter_draws"]["file"] == INSTALLED  # not a path of this machine
    copy = tmp_path / "elsewhere" / "compare_regimes.yaml"
    copy.parent.mkdir()
    shutil.copyfile(COMPARE, copy)
    assert load_spec(copy).spec_hash() == spec.spec_hash()  # the same spec wherever its file or checkout lies
    draws = draw_plan(spec)
    assert draws is not None and len(draws.samples) == 3 and draws.replications == 1
    tasks = plan_runs(spec, build_design(spec), draws)
    assert len(tasks) == 24
    seeds: dict[int, set[int]] = {}
    for task in tasks:
        seeds.setdefault(task.replicate, set()).add(task.config.seed)
    assert len(seeds) == 3 and all(len(s) == 1 for s in seeds.values())  # every regime on the same (draw, seed)
    point = load_posterior(installed_posterior()).is_point
    assert band_label(spec, draws) == ("seed noise only" if point or len(set(draws.samples)) == 1
                                       else "parameters and seeds")


def test_a_missing_shipped_posterior_is_a_one_line_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("experiments.spec.installed_posterior", lambda: tmp_path / "absent.json")
    with pytest.raises(InputError, match="no such posterior file") as caught:
        load_spec(COMPARE)
    assert "parameter_draws.file" in caught.value.one_line() and "compare_regimes.yaml" in caught.value.one_line()


def test_the_sweep_folder_name_follows_the_posterior(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A new shipped posterior changes neither the spec nor the code hash: the folder name carries its hash, so
    ``make run`` starts a new sweep instead of resuming one made with other draws."""
    from sim.params import calibrated_parameters

    base = dict(calibrated_parameters())
    provenance = {"method": "test", "targets": [], "waves": [], "runs": 0, "seeds": {}, "code_version": "test",
                  "date": "2026-12-02"}
    one, two = tmp_path / "one.json", tmp_path / "two.json"
    write_posterior(one, [base], [1.0], provenance)
    write_posterior(two, [base, {**base, "beta_wage": base["beta_wage"] * 1.5}], [0.5, 0.5], provenance)
    names = {}
    for path in (one, two):
        monkeypatch.setattr("experiments.spec.installed_posterior", lambda path=path: path)
        spec = load_spec(COMPARE)
        names[path.name] = folder_name(spec)
        assert spec.spec_hash() == load_spec(COMPARE).spec_hash()
    assert names["one.json"] != names["two.json"]
    assert names["one.json"].rsplit("-", 1)[0] == names["two.json"].rsplit("-", 1)[0]  # name, spec and code alike
