"""What pyproject.toml declares (issue 12, review D10 and E1): floors that the code needs, met by what is installed,
and a missing extra named in one line before anything is written."""

from __future__ import annotations

import importlib.util
import tomllib
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

from experiments import run_sweep
from hukou_cli.main import main
from policies.errors import InputError

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"


def _requirements() -> dict[str, Requirement]:
    project = tomllib.loads(PYPROJECT.read_text("utf-8"))["project"]
    listed = project["dependencies"] + project["optional-dependencies"]["dashboard"] \
        + project["optional-dependencies"]["distributed"]
    return {Requirement(r).name.lower(): Requirement(r) for r in listed}


def _floor(req: Requirement) -> Version:
    return min(Version(s.version) for s in req.specifier if s.operator in (">=", "=="))


def test_security_and_feature_floors_are_declared() -> None:
    reqs = _requirements()
    assert _floor(reqs["dash"]) >= Version("4.4.1")     # signed background-callback job handles
    assert _floor(reqs["duckdb"]) >= Version("2.0")     # the sandbox settings dashboard/data.py sets


def test_what_is_installed_meets_every_declared_requirement() -> None:
    """Every requirement of the package and its dashboard extra (the dev install has both) is installed at a
    version it admits; of the distributed extra, dev installs dask but not dask-jobqueue (SLURM only)."""
    for name, req in _requirements().items():
        if name == "dask-jobqueue" and importlib.util.find_spec("dask_jobqueue") is None:
            continue
        installed = metadata.version(name)
        assert req.specifier.contains(installed, prereleases=True), f"{name} {installed} does not meet {req}"


def _without(monkeypatch: pytest.MonkeyPatch, *modules: str) -> None:
    real = importlib.util.find_spec

    def find_spec(name: str, *args: Any) -> Any:
        return None if name in modules else real(name, *args)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)


def test_dashboard_without_its_extra_says_what_to_install(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                          capsys: pytest.CaptureFixture) -> None:
    _without(monkeypatch, "dash")
    assert main(["dashboard", "--results", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert "pip install 'hukou-sim[dashboard]'" in err and "dash" in err and err.count("\n") == 0


def test_dask_scheduler_without_its_extra_fails_before_the_folder_exists(monkeypatch: pytest.MonkeyPatch,
                                                                         tmp_path: Path) -> None:
    _without(monkeypatch, "distributed")
    spec = tmp_path / "spec.yaml"
    spec.write_text("name: tiny\nlevers: {regimes: [historical]}\nscale: 40000\nend: 2010\n", "utf-8")
    with pytest.raises(InputError, match=r"pip install 'hukou-sim\[distributed\]'"):
        run_sweep(spec, tmp_path / "sweep", scheduler="local")
    assert not (tmp_path / "sweep").exists()
