"""Reuse the main sweep's baseline runs in a builder scenario instead of running them again.

Why it is safe: the builder's runs take the main sweep's root seed and the baseline's seeds (``paired_seeds``), so a
baseline run of the scenario has the same resolved configuration, seed included, as one of the main sweep's; with
the same code the project guarantees the same results (same config + seed + code → identical files). So the run
model given to ``experiments.run_sweep`` (its public ``model`` argument) looks the configuration up by
``RunConfig.config_hash()`` among the main sweep's published runs and copies that run's files; anything it does
not find, the scenario's own runs, it simulates. The sweep then records, hashes and summarises the copied runs like
any other, and a copied run keeps its own manifest (when and where it was made).
"""

from __future__ import annotations

import functools
import json
import shutil
from pathlib import Path
from typing import Any

__all__ = ["runs_by_config", "reuse_or_simulate", "reusing_model"]


@functools.cache
def runs_by_config(source: str) -> dict[str, str]:
    """config hash → run id, over the published runs of the sweep folder ``source`` (read once a process): from
    each run's ``identity.json``, which the sweep's dataset keeps in its ``run_files`` table (or a run folder not
    yet gathered)."""
    from experiments.store import query

    out: dict[str, str] = {}
    try:
        rows = query(source, "SELECT run_id, content FROM run_files WHERE name = 'identity.json' ORDER BY run_id")
    except Exception:
        return out
    for run_id, content in zip(rows["run_id"], rows["content"], strict=True):
        try:
            doc = json.loads(bytes(content).decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            continue
        if isinstance(doc, dict) and isinstance(doc.get("config_hash"), str):
            out.setdefault(doc["config_hash"], str(run_id))
    return out


def reuse_or_simulate(config: Any, out: Path, *, source: str) -> None:
    """The run model: copy the run of ``source`` with this configuration into ``out`` (written back from the
    sweep's dataset, ``experiments.store.extract_run``), or simulate it."""
    found = runs_by_config(source).get(config.config_hash())
    if found is None:
        from experiments.runner import simulate

        simulate(config, out)
        return
    from experiments.store import extract_run

    staging = Path(out).parent / f".{Path(out).name}.reused"
    shutil.rmtree(staging, ignore_errors=True)
    extract_run(source, found, staging)
    Path(out).mkdir(parents=True, exist_ok=True)
    for path in sorted(staging.iterdir()):
        if path.name != "identity.json":  # the sweep writes the run's identity in its own folder
            shutil.move(str(path), Path(out) / path.name)
    shutil.rmtree(staging, ignore_errors=True)


def reusing_model(source: Path) -> Any:
    """A picklable run model (for worker processes) that reuses the runs of the sweep folder ``source``."""
    return functools.partial(reuse_or_simulate, source=str(source))
