"""The results store's benchmark (``hukou bench-store``): a synthetic sweep of many runs through the real sweep
engine, then the DuckDB queries an analyst or a calibration makes, the number of files and their size.

Why synthetic: ten thousand model runs take hours; what is measured here is what comes after the model (the
engine's per-run overhead, gathering runs into the dataset, the canonical layout, queries), so each run writes
the tables of one real template run (2010 to ``end``, every district and census day) with its own noise, in the
run folder format of ``sim.run``. The template is made once by the real model at 20,000 persons per agent.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.config import RunConfig

__all__ = ["run_store_bench", "synthetic_run", "TEMPLATE_ENV"]

TEMPLATE_ENV = "HUKOU_BENCH_STORE_TEMPLATE"  # the template run folder, for the spawned workers
_MAX_REPLICATIONS = 1000  # a spec's limit


def synthetic_run(config: RunConfig, out: Path) -> None:
    """A run model (``run_sweep(model=...)``) writing the template run's tables with every number column scaled
    by a factor drawn from the run's seed, plus its config and a manifest, as ``sim.run`` does."""
    from policies.yamlio import dump_yaml

    rng = np.random.default_rng(config.seed)
    out.mkdir(parents=True)
    for table in ("district_year", "city_year"):
        frame = _template(table).copy()
        numbers = [c for c in frame.columns if frame[c].dtype == "float64" and c != "year"]
        frame[numbers] = frame[numbers].to_numpy() * rng.normal(1.0, 0.01, size=(len(frame), len(numbers)))
        frame.to_parquet(out / f"{table}.parquet", index=False)
    (out / "config.yaml").write_text(dump_yaml(config.model_dump(mode="json")), "utf-8")
    (out / "manifest.json").write_text(json.dumps({"seed": config.seed, "config_hash": config.config_hash(),
                                                   "synthetic": "hukou bench-store"}), "utf-8")


_TEMPLATES: dict[tuple[str, str], pd.DataFrame] = {}


def _template(table: str) -> pd.DataFrame:
    """The template run's table, read once per worker process."""
    key = (os.environ[TEMPLATE_ENV], table)
    if key not in _TEMPLATES:
        _TEMPLATES[key] = pd.read_parquet(Path(key[0]) / f"{table}.parquet")
    return _TEMPLATES[key]


def _spec(runs: int, end: int) -> dict[str, Any]:
    scenarios = max(1, math.ceil(runs / _MAX_REPLICATIONS))
    spec: dict[str, Any] = {"name": "bench_store", "levers": {"regimes": ["historical"]},
                            "replications": math.ceil(runs / scenarios), "scale": 20000, "start": 2010, "end": end,
                            "root_seed": 13, "outcomes": ["hukou_share"]}
    if scenarios > 1:
        spec["uncertainties"] = {"beta_rent": {"low": 1.0, "high": 1.4, "levels": scenarios}}
    return spec


def _files(folder: Path) -> tuple[int, int]:
    count = size = 0
    for root, _dirs, names in os.walk(folder):
        for name in names:
            count += 1
            size += (Path(root) / name).stat().st_size
    return count, size


def _timed(action: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    value = action()
    return time.perf_counter() - started, value


def run_store_bench(*, runs: int, out: Path | None = None, workers: int = 2, end: int = 2035,
                    echo: Callable[[str], None] = lambda _: None) -> dict[str, Any]:
    """Build the synthetic sweep of ``runs`` runs in ``out`` (or a temporary folder, removed afterwards) and time
    it; returns the measurements by name (seconds, counts, bytes). An ``out`` that already holds a sweep is only
    queried (the queries again, in a fresh process, without building it again)."""
    from experiments.dataset import layout
    from experiments.plan import plan_runs
    from experiments.runner import simulate
    from experiments.sampling import build_design
    from experiments.spec import spec_from_dict
    from experiments.store import connect, query, write_summaries
    from experiments.sweep import run_sweep

    scratch = Path(tempfile.mkdtemp(prefix="hukou-bench-store-"))
    folder = Path(out) if out is not None else scratch / "sweep"
    try:
        result: dict[str, Any] = {}
        if not (folder / "manifest.json").is_file():
            spec = spec_from_dict(_spec(runs, end))
            first = plan_runs(spec, build_design(spec))[0]
            simulate(first.config, scratch / "template")  # the real model, once
            os.environ[TEMPLATE_ENV] = str(scratch / "template")
            seconds, summary = _timed(lambda: run_sweep(spec, folder, workers=workers, model=synthetic_run,
                                                        summarise=False))
            done = summary.counts["done"]
            result.update(runs=done, workers=workers, sweep_s=seconds, runs_per_s=done / seconds)
            echo(f"sweep: {done} runs in {seconds:.1f} s")
            result["summaries_s"], _ = _timed(lambda: write_summaries(folder))
            echo(f"summaries: {result['summaries_s']:.1f} s")
        else:
            result["runs"] = len(layout(folder).ids)
        files, size = _files(folder)
        data_files, data_size = _files(folder / "data")
        parts = layout(folder).parts
        result.update(files=files, data_files=data_files, parts=len(parts), data_mb=data_size / 1e6,
                      folder_mb=size / 1e6)
        one = min(layout(folder).ids)
        result["connect_and_verify_s"], con = _timed(lambda: connect(folder))
        con.close()
        result["connect_again_s"], con = _timed(lambda: connect(folder))  # files hashed already by this process
        con.close()
        result["query_summary_city_s"], _ = _timed(lambda: query(
            folder, "SELECT scenario, year, city, avg(hukou_share) AS hukou_share, count(*) AS n FROM city_year "
                    "GROUP BY ALL ORDER BY ALL"))
        con = connect(folder, checked=True)
        try:
            timings = {
                "summary_city_s": "SELECT scenario, year, city, avg(hukou_share), stddev(hukou_share) FROM city_year "
                                  "GROUP BY ALL",
                "summary_district_s": "SELECT scenario, year, district, avg(migrants), avg(residents) FROM "
                                      "district_year GROUP BY ALL",
                "summary_zone_s": "SELECT scenario, year, city, zone, sum(migrants) / count(DISTINCT run_id) FROM "
                                  "district_year GROUP BY ALL",
                "one_run_s": f"SELECT * FROM district_year WHERE run_id = '{one}'",
            }
            for name, sql in timings.items():
                started = time.perf_counter()
                frame = con.sql(sql).df()
                result[f"query_{name}"] = time.perf_counter() - started
                echo(f"{name}: {len(frame)} rows")
        finally:
            con.close()
        return result
    finally:
        os.environ.pop(TEMPLATE_ENV, None)
        shutil.rmtree(scratch, ignore_errors=True)
