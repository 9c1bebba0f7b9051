"""One run from a config to a run folder (docs/contracts.md §5): ``district_year.parquet``, ``city_year.parquet``,
``manifest.json`` and ``config.yaml``, published atomically (written under a temporary name, then renamed), so a
failed or interrupted run leaves no half-written folder and never touches an existing one."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import platform
import shutil
import subprocess
from collections.abc import Callable
from importlib import metadata
from pathlib import Path

import pandas as pd

from policies.errors import InputError
from policies.regime import Regime
from policies.yamlio import dump_yaml
from sim.config import RunConfig
from sim.model import HukouModel

__all__ = ["run_simulation", "code_version", "check_out_dir", "write_run_folder", "RUN_FILES"]

RUN_FILES = ("district_year.parquet", "city_year.parquet", "manifest.json", "config.yaml")
_PACKAGES = ("mesa", "numpy", "pandas", "pyarrow", "pydantic")


def code_version() -> str:
    """The package version plus a hash of the model and policy sources (and the git commit when available)."""
    root = Path(__file__).resolve().parent.parent
    digest = hashlib.sha256()
    for package in ("sim", "policies"):
        for path in sorted((root / package).rglob("*")):
            if path.suffix in {".py", ".yaml", ".csv"} and "__pycache__" not in path.parts:
                digest.update(path.relative_to(root).as_posix().encode())
                digest.update(path.read_bytes())
    try:
        version = metadata.version("hukou-sim")
    except metadata.PackageNotFoundError:
        version = "0+unknown"
    return f"{version}+src.{digest.hexdigest()[:12]}"


def _git(*args: str) -> subprocess.CompletedProcess[str] | None:
    try:
        return subprocess.run(["git", *args], cwd=Path(__file__).parent, capture_output=True, text=True, timeout=5,
                              check=False)
    except (OSError, subprocess.SubprocessError):
        return None


def _git_commit() -> str | None:
    out = _git("rev-parse", "HEAD")
    return (out.stdout.strip() or None) if out is not None and out.returncode == 0 else None


def _git_dirty() -> bool | None:
    """Whether the model's or the policies' sources differ from the commit (then the commit alone does not
    reproduce the run; ``code_version``, a hash of those sources, still does). None outside a git checkout."""
    root = Path(__file__).resolve().parent.parent
    out = _git("status", "--porcelain", "--untracked-files=no", "--", str(root / "sim"), str(root / "policies"))
    return bool(out.stdout.strip()) if out is not None and out.returncode == 0 else None


def check_out_dir(out: Path) -> None:
    """Refuse to write over an existing run folder (what was written before is never lost)."""
    if out.exists():
        raise InputError("already exists; choose another --out (existing results are never overwritten)",
                         file=out)
    parent = out.parent if str(out.parent) else Path(".")
    if parent.exists() and not os.access(parent, os.W_OK):
        raise InputError("folder is not writable", file=parent)


def _regime_versions(regimes: dict[str, Regime]) -> dict[str, dict]:
    return {city: {"name": r.name, "base": r.base,
                   "versions": [{"label": v.label, "start": v.start.isoformat(), "end": v.end.isoformat(),
                                 "mechanisms": dict(v.mechanisms)} for v in r.versions]}
            for city, r in regimes.items()}


def write_run_folder(model: HukouModel, out: Path, *, started: dt.datetime) -> Path:
    """Write the run's files into ``out`` atomically and return ``out``."""
    out = Path(out)
    check_out_dir(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.parent / f".{out.name}.partial-{os.getpid()}"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir()
    try:
        model.district_year().to_parquet(tmp / "district_year.parquet", index=False)
        model.city_year().to_parquet(tmp / "city_year.parquet", index=False)
        config = model.config.model_dump(mode="json")
        (tmp / "config.yaml").write_text(dump_yaml(config), "utf-8")
        manifest = {
            "seed": model.config.seed, "config_hash": model.config.config_hash(), "scale": model.scale,
            "start": model.config.start, "end": model.config.end, "regimes": _regime_versions(model.regimes),
            "code_version": code_version(), "git_commit": _git_commit(), "git_dirty": _git_dirty(),
            "packages": {p: metadata.version(p) for p in _PACKAGES},
            "python": platform.python_version(), "machine": platform.platform(),
            "channels": model.channel_names, "started": started.isoformat(timespec="seconds"),
            "finished": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        }
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False), "utf-8")
        os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out


def run_simulation(config: RunConfig, out: Path | None = None,
                   progress: Callable[[int, int], None] | None = None, threads: int = 1) -> HukouModel:
    """Build the model for ``config``, run it to the end and, when ``out`` is given, write the run folder.
    ``threads`` changes how fast, never what (``sim.parallel``)."""
    if out is not None:
        check_out_dir(Path(out))
    started = dt.datetime.now(dt.UTC)
    model = HukouModel(config, threads=threads).run(progress)
    if out is not None:
        write_run_folder(model, Path(out), started=started)
    return model


def _ratio(a: float, b: float) -> float:
    return float(a / b) if b > 0 else float("nan")


def summary(model: HukouModel) -> pd.DataFrame:
    """Headline numbers per city: first and last recorded year."""
    city = model.city_year()
    city = city[~city["census_day"]] if (~city["census_day"]).any() else city
    first, last = city["year"].min(), city["year"].max()
    rows = []
    for name, f in city.groupby("city", sort=False):
        a, z = f[f["year"] == first].iloc[0], f[f["year"] == last].iloc[0]
        rows.append({"city": name, "year": int(last), "residents": z["residents"], "migrants": z["migrants"],
                     "hukou_share": z["hukou_share"], "suburban_dispersion": z["suburban_dispersion_migrants"],
                     "settled_in_run": f["settlements_total"].sum(),
                     "talent_share_of_settlers": _ratio((f["talent_share_settlers"] * f["settlements_total"]).sum(),
                                                        f["settlements_total"].sum()),
                     "residents_first_year": a["residents"]})
    return pd.DataFrame(rows)
