"""``hukou liveness``: perturb every LIVE mechanism of policies/liveness.yaml and check that its outcome moves.

A plain typer function; the root app registers it. Bad input (an unknown or non-LIVE row, one seed) raises
``policies.errors.InputError`` (one line, exit code 2). A row that does not move is reported, not an error: the table
is the result (exit code 0); ``--strict`` makes any row that does not move as expected exit with code 1.
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from policies.errors import InputError

__all__ = ["liveness"]

console = Console(stderr=True)
out_console = Console(soft_wrap=True)


def _rows(text: str | None) -> list[int] | None:
    if text is None:
        return None
    try:
        return [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise InputError(f"rows are audit row numbers separated by commas (got {text!r})", field="--rows") from None


def liveness(
    scale: Annotated[float, typer.Option(min=1, help="Persons per agent.")] = 2000.0,
    seeds: Annotated[int, typer.Option(min=2, help="Seeds 1..K; both arms of a row use the same seed.")] = 3,
    rows: Annotated[str | None, typer.Option(help="Audit row numbers to check, e.g. 6,22,55 (default: every "
                                                  "LIVE row).")] = None,
    out: Annotated[Path | None, typer.Option(help="Folder for liveness.csv, liveness.md and run.json (default: "
                                                  "liveness/scale<S>-seeds<K>).")] = None,
    docs: Annotated[bool, typer.Option("--docs", help="Write the table to docs/liveness/ and regenerate the status "
                                                      "sections of docs/policies.md (every LIVE row only).")] = False,
    docs_only: Annotated[bool, typer.Option("--docs-only", help="Regenerate docs/policies.md's status sections "
                                                                "from the registry and docs/liveness/ without "
                                                                "running (after a status changes).")] = False,
    strict: Annotated[bool, typer.Option(help="Exit with code 1 when a row does not move as expected.")] = False,
    threads: Annotated[int | None, typer.Option(min=1, help="Threads inside each run (results do not depend on "
                                                            "it).")] = None,
    quiet: Annotated[bool, typer.Option(help="No progress bar.")] = False,
) -> int:
    """Check that every LIVE policy mechanism moves its outcome when perturbed.

    Each LIVE row of policies/liveness.yaml is run with and without its perturbation, with the same seeds in both
    arms, and its outcome must move in the expected direction beyond seed noise (2 standard errors of the per-seed
    difference). Writes a CSV and a markdown table. Example: hukou liveness --scale 2000 --seeds 3 --docs"""
    from experiments.liveness import K_SE, check_rows, number, run_liveness, write_table
    from experiments.liveness_docs import TABLE_DIR, update_docs
    from policies.liveness import load_registry

    registry = load_registry()
    if docs_only:
        out_console.print(f"regenerated: {update_docs(registry)}", highlight=False)
        return 0
    if docs and (rows is not None or out is not None):
        raise InputError("--docs writes the table of every LIVE row to docs/liveness/: drop --rows and --out",
                         field="--docs")
    chosen = check_rows(registry, _rows(rows))
    folder = TABLE_DIR if docs else (out or Path("liveness") / f"scale{scale:g}-seeds{seeds}")
    started = time.perf_counter()
    with Progress(TextColumn("[bold]liveness[/]"), BarColumn(), MofNCompleteColumn(), TextColumn("runs"),
                  TimeElapsedColumn(), console=console, disable=quiet, transient=True) as bar:
        task = bar.add_task("runs", total=None)
        measured = run_liveness(chosen, scale=scale, seeds=seeds, threads=threads or os.cpu_count() or 1,
                                progress=lambda done, total: bar.update(task, completed=done, total=total))
    seconds = time.perf_counter() - started
    command = f"hukou liveness --scale {scale:g} --seeds {seeds}" + (f" --rows {rows}" if rows else "") + \
        (" --docs" if docs else "")
    meta = {"command": command, "scale": scale, "seeds": seeds, "k": K_SE, "seconds": round(seconds, 1),
            "rows": [m.row for m in measured], "date": dt.date.today().isoformat(),
            "machine": f"{os.cpu_count()} CPUs, {platform.machine()}"}
    csv, md = write_table(measured, folder, meta)
    for m in measured:
        out_console.print(f"row {m.row:>2} {m.verdict:<17} {number(m.effect, sign=True)} ± {number(m.noise)}  "
                          f"{m.outcome}",
                          highlight=False)
    moving = sum(m.verdict == "moves as expected" for m in measured)
    out_console.print(f"{moving} of {len(measured)} LIVE rows move as expected ({seconds:.0f} s); {csv}, {md}",
                      highlight=False)
    if docs:
        out_console.print(f"regenerated: {update_docs(registry)}", highlight=False)
    return 1 if strict and moving < len(measured) else 0
