"""``hukou sweep``, ``resume``, ``status``, ``query``, ``sensitivity`` and ``validate``: experiments from the shell.

Plain typer functions; the root app registers them. A bad spec raises ``policies.errors.InputError`` (one line,
exit code 2). A sweep that ends with failed runs prints its summary and exits with code 3; a sweep another live
coordinator owns exits with code 4.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from policies.errors import InputError

if TYPE_CHECKING:
    from experiments.integrity import Damage
    from experiments.sweep import SweepSummary

from hukou_cli.clickcompat import click_errors

__all__ = ["sweep", "resume", "status", "query", "verify", "sensitivity", "validate", "schema", "EXIT_FAILED_RUNS",
           "EXIT_LOCKED"]

EXIT_FAILED_RUNS = 3
EXIT_LOCKED = 4
console = Console(stderr=True)
out_console = Console(soft_wrap=True)

Workers = Annotated[int | None, typer.Option(
    "--workers", "-w", min=1, help="Local worker processes (default: all CPUs); with --scheduler local|slurm, "
    "Dask workers or SLURM jobs.")]
Scheduler = Annotated[str | None, typer.Option(
    "--scheduler", help="Run on Dask: `local` (LocalCluster), `slurm` (dask-jobqueue, configured in "
    "~/.config/dask/jobqueue.yaml) or a scheduler address such as tcp://host:8786.")]
Quiet = Annotated[bool, typer.Option(help="No progress bar.")]
MaxDeaths = Annotated[int, typer.Option(min=1, help="Attempts of a run whose worker process dies before it is "
                                                    "recorded failed.")]
WorkerMemory = Annotated[str, typer.Option(
    "--worker-memory", help="Memory cap of each worker process (local workers: address space, RLIMIT_AS; "
    "--scheduler local: the Dask nanny's limit), e.g. 8GB or 6GiB; `auto` (default): the machine's memory divided "
    "among the workers, at least 4 GiB; `none`: no cap. A run that needs more fails alone with a MemoryError.")]


def _memory(text: str) -> int | str | None:
    from experiments.execute_local import parse_memory

    try:
        return parse_memory(text)
    except ValueError as exc:
        raise InputError(str(exc), field="--worker-memory") from None


class _Locked(click_errors.ClickException):
    exit_code = EXIT_LOCKED


def _estimate(counts: dict[str, int], elapsed: float) -> str:
    finished = counts["done"] + counts["failed"]
    remaining = counts["planned"] + counts["running"]
    if not finished or not remaining:
        return "–"
    return str(dt.timedelta(seconds=round(elapsed / finished * remaining)))


def _run(function: Callable[..., SweepSummary], *args: object, quiet: bool, **kwargs: object) -> SweepSummary:
    """Run a sweep function with a progress bar (done, failed, remaining, estimate) and the lock mapped to 4."""
    from experiments.ledger import SweepLocked

    columns = (TextColumn("[bold]sweep[/]"), BarColumn(), TextColumn("{task.fields[line]}"), TimeElapsedColumn())
    with Progress(*columns, console=console, disable=quiet, transient=False) as bar:
        task = bar.add_task("sweep", total=None, line="planning")

        def progress(counts: dict[str, int], elapsed: float) -> None:
            total = sum(counts.values())
            bar.update(task, total=total, completed=counts["done"] + counts["failed"],
                       line=f"done {counts['done']} · failed {counts['failed']} · remaining "
                            f"{counts['planned'] + counts['running']} · eta {_estimate(counts, elapsed)}")

        try:
            return function(*args, progress=progress, **kwargs)
        except SweepLocked as exc:
            raise _Locked(str(exc)) from None


def _finish(summary: SweepSummary) -> int:
    """Print the end-of-sweep summary; the exit code (returned, which ``hukou_cli.main.main`` passes on)."""
    counts = summary.counts
    out_console.print(f"sweep {summary.folder}: {counts['done']} done, {counts['failed']} failed, "
                      f"{counts['planned'] + counts['running']} not run, in {summary.seconds:.1f} s", highlight=False)
    for run_id, error in summary.failed[:20]:
        last = (error.strip().splitlines() or ["?"])[-1]
        out_console.print(f"  failed {run_id}: {escape(last)}", highlight=False)
    if len(summary.failed) > 20:
        out_console.print(f"  … and {len(summary.failed) - 20} more (hukou status {summary.folder})")
    return 0 if summary.ok else EXIT_FAILED_RUNS


def _default_out(spec_path: Path) -> Path:
    from experiments.spec import load_spec

    spec = load_spec(spec_path)
    return Path("sweeps") / f"{spec.name}-{spec.spec_hash()[:8]}"


def sweep(
    spec: Annotated[Path, typer.Argument(help="Experiment spec YAML (see docs/experiments.md).")],
    out: Annotated[Path | None, typer.Option(help="Sweep folder (default: sweeps/<name>-<spec hash>); an "
                                                  "existing folder of the same spec is resumed.")] = None,
    workers: Workers = None,
    scheduler: Scheduler = None,
    max_deaths: MaxDeaths = 3,
    worker_memory: WorkerMemory = "auto",
    quiet: Quiet = False,
) -> int:
    """Run every scenario × replicate of a spec, in local processes or on Dask, into a sweep folder.

    Example: hukou sweep experiments/specs/compare_regimes.yaml --out sweeps/compare --workers 2
    """
    from experiments.sweep import run_sweep

    memory = _memory(worker_memory)
    out = out or _default_out(spec)
    return _finish(_run(run_sweep, spec, out, workers=workers, scheduler=scheduler, max_deaths=max_deaths,
                        worker_memory=memory, quiet=quiet))


def resume(
    folder: Annotated[Path, typer.Argument(help="Sweep folder to finish.")],
    workers: Workers = None,
    scheduler: Scheduler = None,
    max_deaths: MaxDeaths = 3,
    new_sweep: Annotated[Path | None, typer.Option(
        "--new-sweep", help="Start a new sweep of this folder's spec in NEW_DIR (when the code has changed).")] = None,
    retry_failed: Annotated[bool, typer.Option(
        "--retry-failed", help="Run the runs recorded failed again too (after a full disk, a lost cluster or a "
                               "worker killed by another run).")] = False,
    worker_memory: WorkerMemory = "auto",
    quiet: Quiet = False,
) -> int:
    """Finish an interrupted sweep: runs already done are kept, interrupted ones run again, none twice.

    Example: hukou resume sweeps/compare --retry-failed
    """
    from experiments.sweep import load_sweep_spec, resume_sweep, run_sweep

    memory = _memory(worker_memory)
    if new_sweep is not None:
        spec = load_sweep_spec(folder)
        return _finish(_run(run_sweep, spec, new_sweep, workers=workers, scheduler=scheduler,
                            max_deaths=max_deaths, worker_memory=memory, quiet=quiet))
    return _finish(_run(resume_sweep, folder, workers=workers, scheduler=scheduler, max_deaths=max_deaths,
                        retry_failed=retry_failed, worker_memory=memory, quiet=quiet))


def status(
    folder: Annotated[Path, typer.Argument(help="Sweep folder.")],
    json_output: Annotated[bool, typer.Option("--json", help="Print the status as JSON.")] = False,
) -> None:
    """Show a sweep's runs by state, its failed runs with their errors, and who holds its lock."""
    from experiments.sweep import sweep_status

    info = sweep_status(folder)
    if json_output:
        typer.echo(json.dumps(info, indent=2, default=str))
        return
    counts = info["counts"]
    table = Table(title=escape(f"sweep {info['name']} ({info['folder']})"), title_justify="left")
    for column in ("planned", "running", "done", "failed", "total"):
        table.add_column(column, justify="right")
    table.add_row(*(str(counts[c]) for c in ("planned", "running", "done", "failed")), str(info["total"]))
    out_console.print(table)
    lock = info["coordinator"]
    if lock is None:
        out_console.print("coordinator: none (hukou resume to finish)" if counts["planned"] + counts["running"]
                          else "coordinator: none; the sweep is complete", highlight=False)
    else:
        state = f"stale ({lock['stale']})" if lock["stale"] else "alive"
        out_console.print(f"coordinator: pid {lock['pid']} on {lock['host']}, {state}", highlight=False)
    for run_id, attempts, deaths, error in info["failed"]:
        last = (error.strip().splitlines() or ["?"])[-1]
        out_console.print(f"failed {run_id} (attempts {attempts}, worker deaths {deaths}): {escape(last)}",
                          highlight=False)


def query(
    folder: Annotated[Path, typer.Argument(help="Sweep folder.")],
    sql: Annotated[str, typer.Argument(help="SQL over the views runs, scenarios, city_year, district_year, "
                                            "run_files, summary_city_year, summary_district_year, "
                                            "summary_difference_city_year, summary_difference_district_year "
                                            "(their band column: what the interval includes, from the manifest).")],
    csv: Annotated[bool, typer.Option("--csv", help="Print CSV instead of a table.")] = False,
    limit: Annotated[int, typer.Option(help="Rows shown in the table (CSV prints all).")] = 50,
) -> None:
    """Query every run of a sweep with DuckDB. Example: hukou query SWEEP "SELECT * FROM summary_city_year"."""
    import duckdb

    from experiments.store import query as run_query
    from experiments.sweep import MANIFEST

    if not (Path(folder) / MANIFEST).is_file():
        raise InputError("not a sweep folder (no manifest.json)", file=folder)
    damaged: list[Damage] = []
    try:
        frame = run_query(folder, sql, damaged)
    except duckdb.Error as exc:
        raise InputError(str(exc).splitlines()[0], field="sql") from None
    finally:
        _warn_damaged(folder, damaged)
    if csv:
        typer.echo(frame.to_csv(index=False), nl=False)
        return
    table = Table(caption=f"{len(frame)} rows" + (f", first {limit} shown" if len(frame) > limit else ""))
    for column in frame.columns:
        table.add_column(str(column), justify="right" if frame[column].dtype.kind in "iuf" else "left")
    for row in frame.head(limit).itertuples(index=False):
        table.add_row(*(f"{v:.6g}" if isinstance(v, float) else escape(str(v)) for v in row))
    Console(width=200).print(table)


def _warn_damaged(folder: Path, damaged: list[Damage]) -> None:
    for damage in damaged:
        console.print(f"hukou: warning: {damage} (left out; hukou resume {folder} runs it again)", highlight=False,
                      markup=False, soft_wrap=True)


def verify(
    folder: Annotated[Path, typer.Argument(help="Sweep folder.")],
    json_output: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> int:
    """Check every finished run's files and the summaries against the content hashes recorded when they were
    written. Exit 0 when all match, 3 when a file is missing or changed (hukou resume DIR runs those runs again
    and rebuilds the summaries)."""
    from experiments.integrity import describe
    from experiments.sweep import verify_sweep

    report = verify_sweep(folder)
    if json_output:
        typer.echo(json.dumps(report, indent=2))
    else:
        unhashed = report["runs_checked"] - report["runs_with_hashes"]
        out_console.print(f"sweep {folder}: {report['runs_checked']} finished runs checked, "
                          f"{len(report['damaged'])} damaged" + (
                              f" ({unhashed} made before hashes were recorded: checked for presence and "
                              "readability only)" if unhashed else ""), highlight=False)
        for damage in report["damaged"]:
            what = describe(damage["owner"])
            out_console.print(f"  damaged {what}: {escape(damage['problem'])}", highlight=False)
        if report["damaged"]:
            out_console.print(f"  hukou resume {folder} runs the damaged runs again and rebuilds the summaries",
                              highlight=False)
    return EXIT_FAILED_RUNS if report["damaged"] else 0


def sensitivity(
    spec: Annotated[Path, typer.Argument(help="Spec with sampler sobol or morris.")],
    out: Annotated[Path | None, typer.Option(help="Sweep folder (default: sweeps/<name>-<spec hash>); "
                                                  "finished runs are reused.")] = None,
    outcome: Annotated[list[str] | None, typer.Option(help="Outcome metric (repeatable; default: the spec's "
                                                           "outcomes).")] = None,
    year: Annotated[int | None, typer.Option(help="Year of the outcomes (default: the spec's "
                                                  "sensitivity_year or end).")] = None,
    workers: Workers = None,
    scheduler: Scheduler = None,
    quiet: Quiet = False,
) -> int:
    """Run a Sobol or Morris sweep (or reuse it) and print its sensitivity indices with confidence intervals;
    writes sensitivity.csv and sensitivity.png into the sweep folder."""
    from experiments.sensitivity import analyze, plot_indices
    from experiments.spec import load_spec
    from experiments.sweep import run_sweep
    from sim.metrics import CITY_METRICS

    parsed = load_spec(spec)
    if parsed.sampler.method not in ("sobol", "morris"):
        raise InputError(f"sensitivity needs sampler sobol or morris, not {parsed.sampler.method}", file=spec,
                         field="sampler.method")
    for name in outcome or []:
        if name not in CITY_METRICS:
            raise InputError(f"unknown outcome {name!r}", field="--outcome")
    out = out or _default_out(spec)
    summary = _run(run_sweep, spec, out, workers=workers, scheduler=scheduler, quiet=quiet)
    table, warnings = analyze(out, outcome, year)
    table.to_csv(out / "sensitivity.csv", index=False)
    shown = Table(title=f"sensitivity indices ({parsed.sampler.method}, 95% confidence)", title_justify="left")
    for column in table.columns:
        shown.add_column(str(column), justify="right" if table[column].dtype.kind in "iuf" else "left")
    for row in table.itertuples(index=False):
        shown.add_row(*(f"{v:.3f}" if isinstance(v, float) else escape(str(v)) for v in row))
    Console(width=200).print(shown)
    if len(table):
        out_console.print(f"plot: {plot_indices(table, out / 'sensitivity.png')}")
    for warning in warnings:
        console.print(f"hukou: warning: {warning}", highlight=False, markup=False)
    return _finish(summary)


def validate(
    spec: Annotated[Path | None, typer.Argument(help="Experiment spec YAML to check. Without it: run the "
                                                     "validation against the census and city statistics.")] = None,
    out: Annotated[Path | None, typer.Option(help="Validation: report folder (default: validation/scale<S>-"
                                                  "seeds<N>); an existing one is resumed and its report rewritten.")]
    = None,
    seeds: Annotated[int, typer.Option(min=1, help="Validation: seeds (replications).")] = 5,
    scale: Annotated[float, typer.Option(min=1, help="Validation: persons per agent.")] = 1000.0,
    end: Annotated[int, typer.Option(min=2020, max=2035, help="Validation: last year simulated.")] = 2022,
    workers: Workers = None,
    quiet: Quiet = False,
    posterior: Annotated[Path | None, typer.Option(help="Validation: draw the behavioural parameters from this "
                                                        "posterior file (posterior.json of hukou calibrate), so "
                                                        "the bands carry parameter and seed uncertainty.")] = None,
    draws: Annotated[int, typer.Option(min=1, max=10000, help="Validation with --posterior: parameter sets "
                                                             "drawn (each run with --seeds seeds).")] = 20,
) -> int:
    """Check a spec, or a regime or counterfactual file, without running it (keys, types, ranges, regime names,
    override parameters and values); without a
    spec, run the historical regimes with the calibrated defaults and write the simulated-against-observed report
    (docs/validation.md). Examples: hukou validate SPEC.yaml; hukou validate --out validation/run --seeds 5;
    hukou validate --posterior posterior.json --draws 20 --seeds 1 (bands of parameters and seeds)"""
    if spec is None:
        from hukou_cli.calibration_commands import run_validation_command

        return run_validation_command(out, seeds, scale, workers, end, quiet, posterior, draws)
    from experiments.plan import plan_runs
    from experiments.sampling import build_design
    from experiments.spec import load_spec
    from policies.catalogue import is_regime_file, load_regime_file

    if is_regime_file(spec):  # a regime or counterfactual file: checked as `hukou run --regimes FILE` loads it
        regimes = load_regime_file(spec)
        for city, regime in regimes.items():
            labels = "; ".join(v.label for v in regime.versions)
            out_console.print(f"{spec}: ok — regime {regime.name} for {city}: {labels}", highlight=False)
        return 0
    parsed = load_spec(spec)
    design = build_design(parsed)
    runs = len(plan_runs(parsed, design))
    drawing = parsed.parameter_draws
    drawn = f"{drawing.draws} parameter draws ({Path(drawing.file).name}) × " if drawing is not None else ""
    out_console.print(f"{spec}: ok — {parsed.name}: {len(design.scenarios)} scenarios × {drawn}"
                      f"{parsed.replications} replications = {runs} runs ({parsed.sampler.method}), "
                      f"{parsed.start}–{parsed.end}, scale {parsed.scale:g}", highlight=False)
    return 0


def schema(
    kind: Annotated[str, typer.Argument(help="spec, config, policy (a regime or counterfactual file) or profile.")],
    out: Annotated[Path | None, typer.Option(help="Write the schema to this file instead of printing it.")] = None,
) -> None:
    """Print the JSON Schema of a spec, run config, regime file or points profile, for editors to check files as
    they are typed (the same files are shipped in docs/schemas/). Example: hukou schema spec --out spec.schema.json
    """
    from experiments.schemas import KINDS, schema_text

    if kind not in KINDS:
        raise InputError(f"unknown schema {kind!r} (known: {', '.join(KINDS)})", field="kind")
    text = schema_text(kind)
    if out is None:
        typer.echo(text, nl=False)
        return
    try:
        out.write_text(text, "utf-8")
    except OSError as exc:
        raise InputError(f"cannot write the schema ({exc.strerror or exc})", file=out) from None
    out_console.print(f"{kind} schema: {out}", highlight=False)


logging.getLogger("experiments").addHandler(logging.NullHandler())
