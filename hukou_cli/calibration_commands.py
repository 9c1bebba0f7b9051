"""``hukou calibrate`` and the validation run behind ``hukou validate`` (no SPEC): issue 6, docs/validation.md.

Plain typer functions; the root app registers ``calibrate``, and ``hukou validate`` (experiment_commands) calls
``run_validation_command`` when it is given no spec. Bad input raises ``policies.errors.InputError`` (one line, exit
code 2); a stage or validation sweep that ends with failed runs exits with code 3, a sweep locked by another
coordinator with code 4.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from hukou_cli.clickcompat import click_errors

__all__ = ["calibrate", "run_validation_command"]

console = Console(stderr=True)
out_console = Console(soft_wrap=True)
EXIT_FAILED_RUNS = 3
EXIT_LOCKED = 4


class _Failed(click_errors.ClickException):
    exit_code = EXIT_FAILED_RUNS


class _Locked(click_errors.ClickException):
    exit_code = EXIT_LOCKED


def _progress_bar(quiet: bool) -> tuple[Progress, Callable[[str, dict[str, int], float], None]]:
    bar = Progress(TextColumn("[bold]{task.fields[stage]}[/]"), BarColumn(), TextColumn("{task.fields[line]}"),
                   TimeElapsedColumn(), console=console, disable=quiet, transient=False)
    tasks: dict[str, TaskID] = {}

    def progress(stage: str, counts: dict[str, int], elapsed: float) -> None:
        if stage not in tasks:
            tasks[stage] = bar.add_task(stage, total=None, stage=stage, line="")
        total = sum(counts.values())
        bar.update(tasks[stage], total=total, completed=counts["done"] + counts["failed"],
                   line=f"done {counts['done']} · failed {counts['failed']} · remaining "
                        f"{counts['planned'] + counts['running']} · {elapsed:.0f} s")

    return bar, progress


def calibrate(
    spec: Annotated[Path | None, typer.Option(help="Calibration spec YAML (default: the shipped "
                                                   "experiments/calibration/specs/calibrate.yaml).")] = None,
    out: Annotated[Path | None, typer.Option(help="Calibration folder (default: sweeps/calibration/<name>-<spec "
                                                  "hash>); an existing folder of the same spec is resumed.")] = None,
    workers: Annotated[int | None, typer.Option("--workers", "-w", min=1, help="Local worker processes "
                                                "(default: all CPUs).")] = None,
    install: Annotated[bool, typer.Option("--install/--no-install", help="Make the estimate the model's default "
                                          "(write sim/data/calibrated.yaml).")] = True,
    quiet: Annotated[bool, typer.Option(help="No progress bars.")] = False,
    installed_posterior: Annotated[Path | None, typer.Option(help="Run nothing: write the installed calibration "
                                                             "(sim/data/calibrated.yaml) as a posterior file here "
                                                             "(one point, weight 1, method \"point estimate\").")]
    = None,
) -> int:
    """Estimate behavioural parameters by simulated method of moments against the calibration targets, write the
    calibrated parameter set with its provenance, a fit report and a posterior file (posterior.json; today one
    point with weight 1, method "point estimate"), and install it as the default.

    Example: hukou calibrate --workers 2
    """
    if installed_posterior is not None:
        from experiments.calibration.smm import CALIBRATED_FILE
        from experiments.posterior import posterior_from_calibrated, write_posterior

        written = write_posterior(installed_posterior, *posterior_from_calibrated(CALIBRATED_FILE))
        out_console.print(f"posterior {installed_posterior}: {len(written.samples)} parameter set(s) of "
                          f"{len(written.parameters)} parameters, method {written.provenance['method']!r}",
                          highlight=False)
        return 0
    from experiments.calibration.smm import CalibrationFailed, install_calibration
    from experiments.calibration.smm import calibrate as run_calibration
    from experiments.calibration.spec import load_calibration_spec
    from experiments.ledger import SweepLocked

    parsed = load_calibration_spec(spec)
    if out is None:
        digest = hashlib.sha256(json.dumps(parsed.model_dump(mode="json"), sort_keys=True).encode()).hexdigest()
        out = Path("sweeps") / "calibration" / f"{parsed.name}-{digest[:8]}"
    bar, progress = _progress_bar(quiet)
    try:
        with bar:
            result = run_calibration(parsed, out, workers=workers, progress=progress)
    except CalibrationFailed as exc:
        raise _Failed(str(exc)) from None
    except SweepLocked as exc:
        raise _Locked(str(exc)) from None
    out_console.print(f"calibration {out}: objective {result.objective:.3f} over "
                      f"{result.provenance['objective_terms']} targets, {result.provenance['runs']} runs",
                      highlight=False)
    for name, value in result.values.items():
        sd = result.sd[name]
        out_console.print(f"  {name} = {value:g}" + ("" if sd is None else f" (sd {sd:.3g})"), highlight=False)
    out_console.print(f"fit report: {out / 'report.md'}; parameters: {out / 'calibrated.yaml'}; posterior (one "
                      f"point): {out / 'posterior.json'}", highlight=False)
    if install:
        target = install_calibration(out)
        out_console.print(f"installed as the model's default: {target}", highlight=False)
    return 0


def run_validation_command(out: Path | None, seeds: int, scale: float, workers: int | None, end: int,
                           quiet: bool) -> int:
    """``hukou validate`` without a spec: the historical regimes from the census day with the installed
    (calibrated) defaults, over several seeds, compared with every observed target."""
    from experiments.calibration.validate import ValidationFailed, run_validation
    from experiments.ledger import SweepLocked

    out = out or Path("validation") / f"scale{scale:g}-seeds{seeds}"
    bar, progress = _progress_bar(quiet)
    try:
        with bar:
            report = run_validation(out, seeds=seeds, scale=scale, workers=workers, end=end, progress=progress)
    except ValidationFailed as exc:
        raise _Failed(str(exc)) from None
    except SweepLocked as exc:
        raise _Locked(str(exc)) from None
    for line in report.headline():
        out_console.print(line, highlight=False)
    out_console.print(f"report: {report.folder / 'report.md'}; table: {report.folder / 'validation_table.parquet'}",
                      highlight=False)
    return 0
