"""``hukou dashboard``: serve the results of a sweep (or a folder of sweeps) on a loopback address, with several
worker processes (gunicorn; docs/dashboard.md, "Serving").

A plain typer function; the root app registers it. Bad input (a folder without results, a non-loopback host, a
number of workers out of range) raises ``policies.errors.InputError`` or a usage error: one line, exit code 2.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from policies.errors import InputError
from policies.extras import require_extra

__all__ = ["dashboard", "report"]


def dashboard(
    results: Annotated[Path, typer.Option(help="A sweep folder (hukou sweep --out DIR) or a folder of sweep "
                                               "folders.")] = Path("sweeps"),
    host: Annotated[str, typer.Option(help="Loopback address to bind (127.0.0.1, localhost or ::1); the "
                                           "HOST environment variable is ignored.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port.")] = 8050,
    scenarios: Annotated[Path | None, typer.Option(help="Where the scenario builder keeps its short sweeps "
                                                        "(default: RESULTS/scenarios, or beside a single sweep "
                                                        "folder).")] = None,
    workers: Annotated[int | None, typer.Option(min=1, max=32, help="Server worker processes, 4 threads each "
                                                                    "(default: one per CPU).")] = None,
    warm: Annotated[bool, typer.Option("--warm/--no-warm", help="Read every experiment's frames before serving, "
                                                               "once for all workers (--no-warm: on first "
                                                               "use, in each worker).")] = True,
) -> None:
    """Serve the dashboard (overview, compare, map, points calculator, scenario builder, validation) with debug
    off, on gunicorn with several worker processes. Example: hukou dashboard --results sweeps/compare_regimes"""
    require_extra("dashboard", what="hukou dashboard")
    from dashboard.app import check_host, check_workers, create_app, default_workers, serve, warm_views
    from dashboard.data import Registry, registry
    from dashboard.data import warm as warm_frames

    check_host(host)
    workers = check_workers(default_workers() if workers is None else workers)
    if results.exists() and not results.is_dir():
        raise InputError("not a folder: --results names a sweep folder or a folder of them", file=results)
    if not Registry(results).ids():  # the calculator and the shipped validation report need no results
        typer.echo(f"hukou dashboard: no finished sweep in {results}: serving the points calculator and the "
                   "validation report; `make run` or `hukou sweep SPEC --out DIR` makes results for the other "
                   "pages", err=True)
    app = create_app(results, scenarios=scenarios)
    if warm:
        started = time.perf_counter()
        took = warm_frames(registry())
        drawn = warm_views(registry())
        typer.echo(f"hukou dashboard: read {len(took)} experiment(s) and drew {drawn} views in "
                   f"{time.perf_counter() - started:.1f} s")
    shown = f"[{host}]" if ":" in host else host
    typer.echo(f"hukou dashboard: serving {results} at http://{shown}:{port}/ with {workers} worker "
               f"process{'es' if workers > 1 else ''} (Ctrl+C to stop)")
    serve(app, host=host, port=port, workers=workers, warm=False)


def report(
    sweep: Annotated[Path, typer.Argument(help="A finished sweep folder (the --out of hukou sweep, or the folder "
                                               "make run writes).")],
    lang: Annotated[str, typer.Option(help="Language of the briefing: en or zh.")] = "en",
    out: Annotated[Path, typer.Option(help="The HTML file to write.")] = Path("briefing.html"),
) -> None:
    """Write a self-contained HTML briefing of a sweep: key findings of each reform against the baseline, figures,
    tables with units, regime descriptions, caveats and the manifest (plotly.js inside: opens offline). Example:
    hukou report sweeps/compare_regimes --lang zh --out briefing_zh.html"""
    require_extra("dashboard", what="hukou report")
    from dashboard.report import write_report

    started = time.perf_counter()
    written = write_report(sweep, lang, out)
    typer.echo(f"hukou report: wrote {written} ({written.stat().st_size / 1e6:.1f} MB) in "
               f"{time.perf_counter() - started:.1f} s")
