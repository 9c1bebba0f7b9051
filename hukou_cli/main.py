"""``hukou``: run the model, benchmark it, score a person's points, list regimes.

Bad input (an unknown option, a year range the data do not cover, a malformed file) prints one line naming the
file, line and field, and exits with code 2 — never a traceback.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich import box
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from hukou_cli.clickcompat import click_errors
from policies.errors import InputError

app = typer.Typer(
    name="hukou",
    help="Simulate migrants settling in Shenzhen, Guangzhou and Chengdu under their hukou policies.",
    add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
)
console = Console(stderr=True)
out_console = Console()
Threads = Annotated[int | None, typer.Option(min=1, help="Threads that share each step's work (default: every "
                                                          "CPU). Results are the same for any number.")]


# RunConfig's defaults as the help shows them. Written here, not read from sim.config, because importing the model
# package costs every `hukou` command 1.5 s at start; tests/sim/test_cli.py checks that they agree with RunConfig.
RUN_DEFAULTS = {"regimes": "historical", "start": "2010", "end": "2035", "scale": "100", "seed": "0",
                "history": "on"}


def _default(field: str) -> str:
    """The help's default of a run option: RunConfig's, which a --config file may change."""
    return f"{RUN_DEFAULTS[field]}, or the --config file's"


@app.command()
def run(
    regimes: Annotated[list[str] | None, typer.Option(
        "--regimes", "-r", help="Regime names (see `hukou regimes`) or counterfactual YAML files; repeat the "
        "option for several. `historical` = the three cities' own timelines.",
        show_default=_default("regimes"))] = None,
    start: Annotated[int | None, typer.Option(help="First year reported (the model starts on the 2010 census "
                                                    "day, 2010-11-01).", show_default=_default("start"))] = None,
    end: Annotated[int | None, typer.Option(help="Last year simulated (through December).",
                                            show_default=_default("end"))] = None,
    scale: Annotated[float | None, typer.Option(help="Persons per agent (1 = every migrant is an agent).",
                                                show_default=_default("scale"))] = None,
    seed: Annotated[int | None, typer.Option(help="Random seed; same config + seed + code = same results.",
                                             show_default=_default("seed"))] = None,
    out: Annotated[Path | None, typer.Option(help="Run folder to create (must not exist). Default: "
                                                  "runs/<date>-<config hash>.")] = None,
    config: Annotated[Path | None, typer.Option(help="YAML file of settings and behavioural parameters "
                                                     "(command-line options win).")] = None,
    history: Annotated[bool | None, typer.Option("--history/--no-history", help="Keep each migrant's status "
                                                  "changes (for model.migrant(i)); 8 bytes a change, past years "
                                                  "on a temporary file.", show_default=_default("history"))] = None,
    quiet: Annotated[bool, typer.Option(help="No progress bar.")] = False,
    threads: Threads = None,
    posterior: Annotated[Path | None, typer.Option(help="Posterior file (posterior.json, `hukou calibrate`): run "
                                                        "--draws parameter sets drawn from it, each with its own "
                                                        "seed, as a small sweep in the --out folder.")] = None,
    draws: Annotated[int | None, typer.Option(min=1, max=10000, help="Parameter draws from --posterior "
                                              "(default 10).")] = None,
    workers: Annotated[int | None, typer.Option("--workers", "-w", min=1, help="With --posterior: worker "
                                                "processes (default: all CPUs).")] = None,
) -> int:
    """Run the model from the 2010 census day and write a run folder (district_year.parquet, city_year.parquet,
    manifest.json, config.yaml). Example: hukou run --regimes historical --end 2035 --scale 100.

    With --posterior FILE --draws N the folder is a sweep of N runs (hukou query/status/verify read it), one per
    parameter set drawn from the posterior, whose summaries carry bands of parameters and seeds."""
    from sim.config import load_config
    from sim.run import run_simulation, summary

    cfg = load_config(config, start=start, end=end, scale=scale, seed=seed, history=history,
                      regimes=tuple(regimes) if regimes else None)
    import policies

    policies.resolve(cfg.regimes)  # unknown names fail here, before any work
    if draws is not None and posterior is None:
        raise InputError("--draws needs --posterior FILE (a posterior.json written by hukou calibrate)")
    if out is None:
        stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        out = Path("runs") / f"{stamp}-{cfg.config_hash()[:8]}"
    if posterior is not None:
        return _run_posterior(cfg, posterior, draws or 10, out, workers, quiet)
    with Progress(TextColumn("[bold]simulating[/]"), BarColumn(), MofNCompleteColumn(), TextColumn("steps"),
                  TimeRemainingColumn(), console=console, disable=quiet, transient=True) as bar:
        task = bar.add_task("run", total=None)
        model = run_simulation(cfg, out, threads=threads or os.cpu_count() or 1,
                               progress=lambda done, total: bar.update(task, completed=done, total=total))
    table = Table(title=f"hukou-sim: {', '.join(cfg.regimes)}, scale {cfg.scale:g}, seed {cfg.seed}",
                  box=box.SIMPLE_HEAD)
    for column in ("city", "year", "residents", "migrants", "hukou", "suburban", "settled", "talent"):
        table.add_column(column, justify="right", no_wrap=True, min_width=len(column))
    for row in summary(model).itertuples():
        table.add_row(row.city, str(row.year), f"{row.residents / 1e6:.2f} m", f"{row.migrants / 1e6:.2f} m",
                      f"{row.hukou_share:.0%}", f"{row.suburban_dispersion:.0%}", f"{row.settled_in_run / 1e6:.2f} m",
                      "—" if math.isnan(row.talent_share_of_settlers) else f"{row.talent_share_of_settlers:.0%}")
    out_console.print(table)
    out_console.print("hukou: hukou share of residents; suburban: migrants outside core districts\n"
                      "settled: hukou obtained in the run (persons); talent: bachelor's or more among settlers "
                      "(— when no one settled)", highlight=False)
    out_console.print(f"run folder: {out}")
    return 0


def _run_posterior(cfg: Any, posterior: Path, draws: int, out: Path, workers: int | None, quiet: bool) -> int:
    """``hukou run --posterior``: a sweep of one scenario × ``draws`` parameter draws (experiments.posterior)."""
    from experiments.posterior import run_spec
    from experiments.sweep import run_sweep

    spec = run_spec(cfg, posterior, draws)
    if out.exists() and not (out / "manifest.json").is_file():
        raise InputError("exists; choose another --out", file=out)
    result = run_sweep(spec, out, workers=workers)
    manifest = json.loads((out / "manifest.json").read_text("utf-8"))
    out_console.print(f"{result.counts.get('done', 0)} of {sum(result.counts.values())} runs done "
                      f"({draws} parameter draws, {manifest['parameter_draws']['distinct']} distinct; bands: "
                      f"{manifest['band']}); posterior method: {manifest['parameter_draws']['method']}",
                      highlight=False, soft_wrap=True)
    out_console.print(f"run folder (a sweep): {out}; e.g. hukou query {out} \"SELECT * FROM summary_city_year\"",
                      highlight=False, soft_wrap=True)
    return 0 if result.ok else 3


@app.command()
def bench(
    agents: Annotated[int, typer.Option(min=1000, help="Migrant agents on the census day.")] = 1_000_000,
    years: Annotated[int, typer.Option(min=1, max=40, help="Years to simulate from the census day.")] = 5,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    threads: Threads = None,
) -> None:
    """Time the full model (every phase) and measure its peak memory per agent (a second, traced pass of the
    same run). The last line is `migrant_years_per_s=<float> peak_bytes_per_agent=<float>`."""
    from sim.bench import run_bench

    threads = threads or os.cpu_count() or 1
    result = run_bench(agents=agents, years=years, seed=seed, threads=threads)
    out_console.print(f"agents={result.agents} peak_agents={result.peak_agents} years={result.years} "
                      f"seconds={result.seconds:.2f} steps={result.steps} step_months={result.step_months} "
                      f"threads={threads}")
    out_console.print(f"migrant_years_per_s={result.migrant_years_per_s:.1f} "
                      f"peak_bytes_per_agent={result.peak_bytes_per_agent:.1f}", highlight=False)


def _register_commands() -> None:
    """The commands of the other packages, each kept in its own module that imports its package lazily:
    points and regimes (policies), sweeps and their results (experiments), calibration, the dashboard."""
    from hukou_cli import (
        calibration_commands,
        dashboard_commands,
        dataset_commands,
        experiment_commands,
        liveness_commands,
        policy_commands,
    )

    for command in (policy_commands.points, policy_commands.regimes,
                    experiment_commands.sweep, experiment_commands.resume, experiment_commands.status,
                    experiment_commands.query, experiment_commands.verify, experiment_commands.sensitivity,
                    experiment_commands.validate,
                    experiment_commands.schema, liveness_commands.liveness,
                    calibration_commands.calibrate, calibration_commands.calibrate_coverage,
                    dashboard_commands.dashboard, dashboard_commands.report, dataset_commands.compact,
                    dataset_commands.extract):
        app.command()(command)
    app.command("bench-store")(dataset_commands.bench_store)


_register_commands()


def main(argv: list[str] | None = None) -> int:
    """Entry point: runs the command and turns user errors into one line and exit code 2."""
    command = typer.main.get_command(app)
    try:
        result = command.main(args=argv, prog_name="hukou", standalone_mode=False)
    except InputError as exc:
        console.print(f"hukou: error: {exc.one_line()}", highlight=False, markup=False, soft_wrap=True)
        return 2
    except click_errors.NoArgsIsHelpError:
        return 0  # the help was shown
    except click_errors.UsageError as exc:
        console.print(f"hukou: error: {exc.format_message()}", highlight=False, markup=False, soft_wrap=True)
        return 2
    except click_errors.ClickException as exc:
        console.print(f"hukou: error: {exc.format_message()}", highlight=False, markup=False, soft_wrap=True)
        return exc.exit_code
    except typer.Exit as exc:
        return int(getattr(exc, "exit_code", 0) or 0)
    except (typer.Abort, KeyboardInterrupt):
        console.print("hukou: aborted", highlight=False)
        return 130
    except OSError as exc:  # a folder the user named cannot be written: their environment, not a bug
        from experiments.runner import is_write_fault

        if not is_write_fault(exc):
            raise
        where = InputError(f"cannot write here ({exc.strerror or exc}); choose a writable folder or free space",
                           file=exc.filename) if exc.filename else InputError(f"cannot write ({exc})")
        console.print(f"hukou: error: {where.one_line()}", highlight=False, markup=False, soft_wrap=True)
        return 2
    return result if isinstance(result, int) else 0


def entry() -> None:
    """Console-script entry point."""
    sys.exit(main())
