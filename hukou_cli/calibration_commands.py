"""``hukou calibrate`` and the validation run behind ``hukou validate`` (no SPEC): issue 6, docs/validation.md.

Plain typer functions; the root app registers ``calibrate``, and ``hukou validate`` (experiment_commands) calls
``run_validation_command`` when it is given no spec. Bad input raises ``policies.errors.InputError`` (one line, exit
code 2); a stage or validation sweep that ends with failed runs exits with code 3, a sweep locked by another
coordinator with code 4.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from hukou_cli.clickcompat import click_errors

__all__ = ["calibrate", "calibrate_coverage", "run_validation_command"]

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
    method: Annotated[str, typer.Option(help="smm: simulated method of moments, a point estimate (the default, "
                                             "a few hundred runs); abc: ABC-SMC with pyabc, a weighted posterior "
                                             "sample (the spec's abc block; thousands of runs); history: history "
                                             "matching with emulators, the region not ruled out yet (the spec's "
                                             "history block).")] = "smm",
    scheduler: Annotated[str | None, typer.Option(help="With --method abc or history: run the batches on Dask "
                                                       "(local, slurm or a scheduler address), as hukou sweep.")]
    = None,
    finish: Annotated[bool, typer.Option(help="With --method abc: run nothing; write the posterior of a "
                                              "calibration stopped early from its last complete generation "
                                              "(tempered: wider than the posterior, exact false).")] = False,
    nroy: Annotated[Path | None, typer.Option(help="With --method abc: narrow each parameter's prior box to the "
                                                   "NROY range of the history matching in this folder.")] = None,
    waves: Annotated[int | None, typer.Option(min=1, max=20, help="With --method history: waves (default: the "
                                              "spec's history block).")] = None,
    runs_per_wave: Annotated[int | None, typer.Option(min=4, help="With --method history: parameter sets run per "
                                                      "wave (default: the spec's history block).")] = None,
    scale: Annotated[float | None, typer.Option(min=1, help="With --method history: persons per agent instead of "
                                                "the spec's.")] = None,
    end: Annotated[int | None, typer.Option(help="With --method history: last simulated year instead of the "
                                            "spec's; fit targets dated later are left out (and listed).")] = None,
    parameter: Annotated[list[str] | None, typer.Option(help="With --method history: history-match only this "
                                                        "parameter of the spec (repeatable; the others stay at "
                                                        "their priors' values). Default: all.")] = None,
    emulator_posterior: Annotated[bool, typer.Option(help="With --method history: then sample the posterior on "
                                                     "the last wave's emulators with emcee (writes posterior/ in "
                                                     "the folder: posterior.json, its summary and report).")]
    = False,
) -> int:
    """Estimate behavioural parameters against the calibration targets, write the calibrated parameter set with
    its provenance, a fit report and a posterior file (posterior.json), and install it as the default.

    --method smm (default): a point estimate; posterior.json is one point with weight 1, method "point estimate".
    --method abc: ABC-SMC; posterior.json is the final population with its weights, calibrated.yaml the posterior
    mean. Run again on the same --out to resume: finished runs are read back from the batches' ledgers.
    --method history: history matching in waves with Gaussian-process emulators; writes history_matching.json,
    nroy.csv (the plausible candidate sample) and report.md; with --emulator-posterior, also the posterior on the
    last wave's emulators (posterior/posterior.json), whose mean it installs unless --no-install. --method abc
    --nroy FOLDER starts ABC-SMC from its NROY ranges.

    Example: hukou calibrate --workers 2
    """
    if method not in ("smm", "abc", "history"):
        from policies.errors import InputError

        raise InputError(f"unknown method {method!r} (smm, abc or history)", field="--method")
    _check_method_options(method, nroy=nroy, waves=waves, runs_per_wave=runs_per_wave, scale=scale, end=end,
                          parameter=parameter, emulator_posterior=emulator_posterior or None)
    if finish and method != "abc":
        from policies.errors import InputError

        raise InputError("--finish works with --method abc", field="--finish")
    if scheduler is not None and method == "smm":
        from policies.errors import InputError

        raise InputError("--scheduler works with --method abc or history (the SMM stages run locally)",
                         field="--scheduler")
    if installed_posterior is not None:
        from experiments.calibration.smm import CALIBRATED_FILE
        from experiments.posterior import posterior_from_calibrated, write_posterior

        written = write_posterior(installed_posterior, *posterior_from_calibrated(CALIBRATED_FILE))
        out_console.print(f"posterior {installed_posterior}: {len(written.samples)} parameter set(s) of "
                          f"{len(written.parameters)} parameters, method {written.provenance['method']!r}",
                          highlight=False)
        return 0
    from experiments.calibration.smm import calibrate as run_calibration
    from experiments.calibration.smm import install_calibration
    from experiments.calibration.spec import load_calibration_spec

    parsed = load_calibration_spec(spec)
    if method == "history":
        from experiments.calibration.history_matching import history_spec

        parsed = history_spec(parsed, scale=scale, end=end, parameters=parameter, waves=waves,
                              runs_per_wave=runs_per_wave)
    if nroy is not None:
        from experiments.calibration.history_matching import narrow_to_nroy

        parsed = narrow_to_nroy(parsed, nroy)
    if out is None:
        digest = hashlib.sha256(json.dumps(parsed.model_dump(mode="json"), sort_keys=True).encode()).hexdigest()
        out = Path("sweeps") / "calibration" / f"{parsed.name}-{digest[:8]}{'' if method == 'smm' else '-' + method}"
    bar, progress = _progress_bar(quiet)
    if method == "history":
        return _calibrate_history(parsed, out, workers, scheduler, bar, progress, drop_late=end is not None,
                                  emulator_posterior=emulator_posterior, install=install)
    if method == "abc":
        return _calibrate_abc(parsed, out, workers, scheduler, install, bar, progress, finish)
    with _calibration_errors(), bar:
        result = run_calibration(parsed, out, workers=workers, progress=progress)
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


def _check_method_options(method: str, **given: Any) -> None:
    """Options that belong to another method are refused, so that none is silently ignored."""
    from policies.errors import InputError

    own = {"nroy": "abc", "waves": "history", "runs_per_wave": "history", "scale": "history", "end": "history",
           "parameter": "history", "emulator_posterior": "history"}
    for name, value in given.items():
        if value is not None and own[name] != method:
            raise InputError(f"--{name.replace('_', '-')} works with --method {own[name]}",
                             field=f"--{name.replace('_', '-')}")


def _calibrate_history(parsed: Any, out: Path, workers: int | None, scheduler: str | None, bar: Progress,
                       progress: Callable[[str, dict[str, int], float], None], drop_late: bool,
                       emulator_posterior: bool = False, install: bool = False) -> int:
    from experiments.calibration.history_matching import RESULT_FILE, calibrate_history, number

    with _calibration_errors(), bar:
        result = calibrate_history(parsed, out, workers=workers, scheduler=scheduler, progress=progress,
                                   drop_late=drop_late)
    p = result.provenance
    out_console.print(f"history matching {out}: {len(p['waves'])} waves, {p['runs']} runs, {len(p['targets'])} "
                      f"fit targets" + (f" ({len(p['targets_left_out'])} after {parsed.end} left out)"
                                        if p["targets_left_out"] else ""), highlight=False)
    for w in p["waves"]:
        val = "–" if w["validation_within_3"] is None else f"{w['validation_within_3']:.0%}"
        out_console.print(f"  wave {w['wave']}: {w['runs']} runs, NROY {w['nroy_fraction']:.3f} of the box, "
                          f"held-back emulator errors within ±3: {val}", highlight=False)
    for name, r in p["nroy_ranges"].items():
        out_console.print(f"  {name}: " + ("ruled out everywhere" if r is None else f"{number(r[0])} – {number(r[1])}"),
                          highlight=False)
    out_console.print(f"report: {out / 'report.md'}; provenance: {out / RESULT_FILE}; plausible sample: "
                      f"{out / 'nroy.csv'}", highlight=False)
    if emulator_posterior:
        from experiments.calibration.emulator_posterior import sample_posterior, write_emulator_posterior

        with _calibration_errors():
            posterior = sample_posterior(result, parsed)
        folder = write_emulator_posterior(posterior, parsed, out)
        s = posterior.provenance["sampler"]
        out_console.print(f"emulator posterior {folder}: {s['draws']} draws, acceptance "
                          f"{s['acceptance_fraction']:.2f}, about {s['effective_samples']:,.0f} effective samples",
                          highlight=False)
        for r in posterior.summary.itertuples():
            out_console.print(f"  {r.parameter}: mean {number(r.mean)}, 90% {number(r.q05)} – {number(r.q95)} "
                              f"({r.identification})", highlight=False)
        if install:
            from experiments.calibration.smm import install_calibration

            target = install_calibration(folder)
            out_console.print(f"installed as the model's default (posterior mean): {target}", highlight=False)
    return 0


@contextmanager
def _calibration_errors() -> Iterator[None]:
    """A calibration that cannot go on, or a folder another process holds, as the command's one-line errors."""
    from experiments.calibration.smm import CalibrationFailed
    from experiments.ledger import SweepLocked

    try:
        yield
    except CalibrationFailed as exc:
        raise _Failed(str(exc)) from None
    except SweepLocked as exc:
        raise _Locked(str(exc)) from None


def _calibrate_abc(parsed: Any, out: Path, workers: int | None, scheduler: str | None, install: bool, bar: Progress,
                   progress: Callable[[str, dict[str, int], float], None], finish: bool = False) -> int:
    from experiments.calibration.abc import calibrate_abc, finish_abc
    from experiments.calibration.smm import install_calibration

    if finish:
        result = finish_abc(parsed, out)
    else:
        with _calibration_errors(), bar:
            result = calibrate_abc(parsed, out, workers=workers, scheduler=scheduler, progress=progress)
    p = result.provenance
    out_console.print(f"calibration {out}: ABC-SMC, {len(p['waves'])} generations, final temperature "
                      f"{p['final_temperature']:g}, {p['runs']} runs", highlight=False)
    for r in result.summary.itertuples():
        out_console.print(f"  {r.parameter} = {result.estimate[r.parameter]:g} (posterior mean; sd {r.sd:.3g}, "
                          f"90% {r.q05:.4g} – {r.q95:.4g})", highlight=False)
    out_console.print(f"report: {out / 'report.md'}; parameters: {out / 'calibrated.yaml'}; posterior "
                      f"({len(result.weights)} weighted sets): {out / 'posterior.json'}", highlight=False)
    if install:
        target = install_calibration(out)
        out_console.print(f"installed as the model's default (posterior mean): {target}", highlight=False)
    return 0


def calibrate_coverage(
    truths: Annotated[int, typer.Option(min=1, help="Synthetic truths drawn from the prior.")] = 10,
    scale: Annotated[float, typer.Option(min=1, help="Persons per agent of every run.")] = 20000,
    end: Annotated[int, typer.Option(help="Last simulated year (targets dated later are left out).")] = 2013,
    population: Annotated[int, typer.Option(min=4, help="ABC particles per generation.")] = 24,
    generations: Annotated[int, typer.Option(min=1, help="ABC generations (the last at temperature 1).")] = 4,
    parameter: Annotated[list[str] | None, typer.Option(help="Calibrate only this parameter of the spec "
                                                            "(repeatable; the others stay at their priors' "
                                                            "values). Default: all.")] = None,
    discrepancy: Annotated[float | None, typer.Option(min=0, max=1, help="Model discrepancy of the check (default: "
                                                      "the spec's); the synthetic data carry the same error.")]
    = None,
    spec: Annotated[Path | None, typer.Option(help="Calibration spec YAML (default: the shipped one).")] = None,
    out: Annotated[Path | None, typer.Option(help="Folder (default: sweeps/coverage/<name>-t<N>-s<S>).")] = None,
    seed: Annotated[int, typer.Option(min=0, help="Seed of the truths, their noise and the calibrations.")] = 0,
    workers: Annotated[int | None, typer.Option("--workers", "-w", min=1, help="Local worker processes.")] = None,
    quiet: Annotated[bool, typer.Option(help="No progress bars.")] = False,
    method: Annotated[str, typer.Option(help="abc: ABC-SMC's posterior (--population, --generations); history: the "
                                             "emulator posterior of a history matching (--waves, "
                                             "--runs-per-wave), the installed default's method.")] = "abc",
    waves: Annotated[int, typer.Option(min=1, max=20, help="With --method history: waves.")] = 2,
    runs_per_wave: Annotated[int, typer.Option(min=4, help="With --method history: runs per wave.")] = 20,
) -> int:
    """Check a calibration's posterior on synthetic truths: draw parameter sets from the prior, make targets by running
    the model at each (with the assumed observation error), calibrate on them, and report how often the
    posterior's central 50% and 90% intervals contain the truth (about 50% and 90% if the posterior is honest).

    Example: hukou calibrate-coverage --truths 8 --scale 20000 --end 2012 --population 12 --generations 2
    --discrepancy 0.1 --parameter reconsider_rate --parameter inflow_persons_per_year.central --workers 2
    """
    from experiments.calibration.coverage import coverage_spec, coverage_summary, finite_sample_coverage, run_coverage
    from experiments.calibration.spec import load_calibration_spec

    if method not in ("abc", "history"):
        from policies.errors import InputError

        raise InputError(f"unknown method {method!r} (abc or history)", field="--method")
    base = load_calibration_spec(spec)
    cspec = coverage_spec(base, scale=scale, end=end, population=population, generations=generations,
                          parameters=parameter, root_seed=seed, discrepancy=discrepancy, waves=waves,
                          runs_per_wave=runs_per_wave)
    out = out or Path("sweeps") / "coverage" / f"{base.name}-{method}-t{truths}-s{scale:g}-e{end}-seed{seed}"
    bar, progress = _progress_bar(quiet)
    with _calibration_errors(), bar:
        table = run_coverage(cspec, out, truths=truths, seed=seed, workers=workers, progress=progress,
                             method=method)
    summary = coverage_summary(table)
    out_console.print(f"coverage {out}: {truths} truths, {int(table.groupby('truth')['runs'].first().sum())} "
                      f"calibration runs, scale {scale:g}, 2010–{end}", highlight=False)
    for r in summary.itertuples():
        out_console.print(f"  {r.parameter}: inside 50% {r.inside_50:.0%}, inside 90% {r.inside_90:.0%} "
                          f"({r.cases} cases; posterior sd / prior sd {r.sd_over_prior_sd:.2f})", highlight=False)
    if method == "abc":
        out_console.print(f"  an exact posterior sampled by {population} equally weighted particles: inside 50% "
                          f"{finite_sample_coverage(population, 0.25, 0.75):.0%}, inside 90% "
                          f"{finite_sample_coverage(population, 0.05, 0.95):.0%}", highlight=False)
    else:
        out_console.print("  an exact posterior (400 draws, a few hundred effective): inside 50% about 50%, inside "
                          "90% about 90%", highlight=False)
    out_console.print(f"table: {out / 'coverage.csv'}", highlight=False)
    return 0


def run_validation_command(out: Path | None, seeds: int, scale: float, workers: int | None, end: int,
                           quiet: bool, posterior: Path | None = None, draws: int = 20) -> int:
    """``hukou validate`` without a spec: the historical regimes from the census day with the installed
    (calibrated) defaults, over several seeds, compared with every observed target; with a posterior file,
    parameter sets drawn from it."""
    from experiments.calibration.validate import ValidationFailed, run_validation
    from experiments.ledger import SweepLocked

    if posterior is not None:
        from experiments.posterior import load_posterior

        load_posterior(posterior)  # a missing or malformed file: its one-line error before anything runs
    out = out or Path("validation") / (f"scale{scale:g}-seeds{seeds}"
                                       + ("" if posterior is None else f"-draws{draws}"))
    bar, progress = _progress_bar(quiet)
    try:
        with bar:
            report = run_validation(out, seeds=seeds, scale=scale, workers=workers, end=end, progress=progress,
                                    posterior=posterior, draws=draws)
    except ValidationFailed as exc:
        raise _Failed(str(exc)) from None
    except SweepLocked as exc:
        raise _Locked(str(exc)) from None
    for line in report.headline():
        out_console.print(line, highlight=False)
    out_console.print(f"report: {report.folder / 'report.md'}; table: {report.folder / 'validation_table.parquet'}",
                      highlight=False)
    return 0
