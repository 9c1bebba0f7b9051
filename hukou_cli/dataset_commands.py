"""``hukou compact``, ``extract`` and ``bench-store``: a sweep's dataset from the shell (experiments/dataset.py).

``compact`` migrates a sweep made before the dataset (one folder per run) or rewrites its layout; ``extract``
writes one run's folder back so that ``hukou run --config`` reproduces it alone; ``bench-store`` measures the
store on a synthetic sweep of many runs (docs/performance.md).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from policies.errors import InputError

__all__ = ["compact", "extract", "bench_store"]

out_console = Console(soft_wrap=True)
EXIT_LOCKED = 4


def compact(
    folder: Annotated[Path, typer.Argument(help="Sweep folder.")],
    runs_per_file: Annotated[int | None, typer.Option(min=1, help="Runs per file of the dataset (default: the "
                                                                  "sweep's own, else 256).")] = None,
) -> int:
    """Gather a sweep's run folders into its dataset (one dataset per table, a few files each); how a sweep made
    before the dataset is migrated. Runs nothing and changes no result. Example: hukou compact sweeps/compare"""
    from experiments.ledger import SweepLocked
    from experiments.sweep import compact_sweep

    try:
        info = compact_sweep(folder, runs_per_file=runs_per_file)
    except SweepLocked as exc:
        Console(stderr=True).print(f"hukou: error: {exc}", highlight=False, markup=False)
        return EXIT_LOCKED
    out_console.print(f"sweep {folder}: {info['runs']} runs in {info['parts']} parts, {info['files']} files "
                      f"under {folder / 'data'}", highlight=False)
    return 0


def extract(
    folder: Annotated[Path, typer.Argument(help="Sweep folder.")],
    run_id: Annotated[str, typer.Argument(help="Run id (s<scenario>-r<replicate>; see `hukou query DIR "
                                               "\"SELECT run_id FROM runs\"`).")],
    out: Annotated[Path, typer.Option(help="Run folder to create (must not exist).")],
) -> None:
    """Write one run's folder back from the sweep's dataset (its tables, config.yaml, manifest.json,
    identity.json): the same bytes the run wrote, checked against the hashes in its identity.json. Then
    `hukou run --config OUT/config.yaml --out B` reproduces it alone."""
    from experiments.integrity import digest_file, identity_files
    from experiments.sweep import MANIFEST

    if not (Path(folder) / MANIFEST).is_file():
        raise InputError("not a sweep folder (no manifest.json)", file=folder)
    if out.exists():
        raise InputError("exists; choose a new folder", file=out, field="--out")
    from experiments.store import extract_run

    try:
        names = extract_run(folder, run_id, out)
    except KeyError:
        raise InputError(f"no done run {run_id} in this sweep", file=folder, field="run_id") from None
    recorded = identity_files(out) or {}
    differ = [n for n, digest in recorded.items() if (out / n).is_file() and digest_file(out / n) != digest]
    if differ:
        raise InputError(f"{', '.join(differ)} differ from the hashes the run recorded (hukou verify {folder})",
                         file=out)
    checked = sum(1 for n in recorded if (out / n).is_file())
    out_console.print(f"run {run_id}: {', '.join(names)} in {out} ({checked} files identical to what the run "
                      "wrote)", highlight=False)


def bench_store(
    runs: Annotated[int, typer.Option(min=1, help="Runs of the synthetic sweep.")] = 10_000,
    out: Annotated[Path | None, typer.Option(help="Sweep folder to create (default: a temporary folder, "
                                                  "removed afterwards).")] = None,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 2,
    end: Annotated[int, typer.Option(min=2011, max=2035, help="Last year of the template run.")] = 2035,
) -> None:
    """Time the results store on a synthetic sweep: RUNS runs through the real sweep engine (a template run's
    tables with per-run noise instead of the model), then typical DuckDB queries, the file count and the size.
    The last line is `runs=<int> files=<int> ... query_one_run_s=<float>`."""
    from experiments.store_bench import run_store_bench

    result = run_store_bench(runs=runs, out=out, workers=workers, end=end, echo=out_console.print)
    out_console.print(" ".join(f"{k}={v:.3f}" if isinstance(v, float) else f"{k}={v}" for k, v in result.items()),
                      highlight=False)
