"""``hukou points`` and ``hukou regimes`` (docs/contracts.md §6): the points calculator and the list of regimes.

Plain typer functions; the root app registers them. Bad input raises ``policies.errors.InputError``,
which the root app prints as one line (file:line: field: message) with exit code 2.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from policies import catalogue
from policies.calculator import CalculatorResult, calculate_file
from policies.parameters import FAR_FUTURE, FAR_PAST
from policies.regime import Regime

__all__ = ["points", "regimes", "render_result"]


def render_result(result: CalculatorResult, console: Console) -> None:
    """Print a calculator result as two rich tables: the breakdown by indicator and the channels."""
    title = f"{result.regime} [{result.city}] on {result.date}: {headline(result)}"
    table = Table(title=escape(title), title_justify="left")
    table.add_column("indicator")
    table.add_column("points", justify="right")
    table.add_column("basis")
    table.add_column("ref / assumption", overflow="fold")
    for row in result.breakdown:
        table.add_row(row.indicator, f"{row.points:g}", "assumed" if row.assumed else "cited", escape(row.ref))
    table.add_row("total", f"{result.total:g}", "", result.points_variant or "no points mechanism", style="bold")
    console.print(table)
    channels = Table(title=escape(f"channels ({result.version})"), title_justify="left")
    channels.add_column("channel")
    channels.add_column("kind")
    channels.add_column("eligible")
    channels.add_column("reason")
    for c in result.channels:
        channels.add_row(c.channel, c.kind, "yes" if c.eligible else "no", escape(c.reason))
    if not result.channels:
        channels.add_row("(none)", "", "", "this regime has no settlement channel on this date")
    console.print(channels)
    opened = ", ".join(result.open_channels)
    console.print(f"can settle now through: {escape(opened)}" if opened else "no channel is open on this date",
                  highlight=False)
    if result.assumed:
        shown = ", ".join(f"{k}={v}" for k, v in result.assumed.items())
        console.print(f"assumed (not in the profile; the least favourable value): {escape(shown)}", highlight=False)


_LINE_STATUS = {"no_line": "no points line", "below": "line {line:g}, below the line",
                "reached": "line {line:g}, reaches the line",
                "reached_route_closed": "line {line:g}, reaches the line but the points route is closed: {why}"}


def headline(result: CalculatorResult) -> str:
    """The total, read against the line and the points route (a total over the line with the route closed says
    so), and how many of its indicators are scored on assumptions rather than cited rules."""
    status = _LINE_STATUS[result.line_status].format(line=result.threshold or 0, why=result.points_route_reason)
    text = f"{result.total:g} points ({status})"
    if result.assumed_indicators:
        text += f"; {len(result.assumed_indicators)} of {len(result.breakdown)} indicators scored on assumptions"
    return text


def points(
    regime: Annotated[str, typer.Option("--regime", help="Regime name (see `hukou regimes`) or a regime YAML "
                                                         "file.")],
    date: Annotated[str, typer.Option("--date", help="The day the rules are read on, YYYY-MM-DD.")],
    profile: Annotated[Path, typer.Option("--profile", help="Points profile YAML (docs/contracts.md §6).")],
    json_output: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
    city: Annotated[str | None, typer.Option(
        "--city", help="City, when the regime covers several (default: housing.district).")] = None,
) -> None:
    """Score a person's points under a regime on a date and say through which channel they could settle.

    Example: hukou points --regime guangzhou --date 2015-06-01 --profile me.yaml --json
    """
    result = calculate_file(profile, regime, date, city=city)
    if json_output:
        typer.echo(json.dumps(result.to_json(), ensure_ascii=False, indent=2))
    else:
        render_result(result, Console())


def _versions(regime: Regime, refs: bool) -> str:
    parts = []
    for v in regime.versions:
        start = "…" if v.start == FAR_PAST else v.start.isoformat()
        end = "…" if v.end == FAR_FUTURE else v.end.isoformat()
        parts.append(f"{v.label} ({start} – {end})" + (f": {v.ref}" if refs and v.ref else ""))
    return "\n".join(parts)


def regimes(
    documents: Annotated[bool, typer.Option("--documents", help="Also list each regime's documents and the "
                                                               "articles each version cites.")] = False,
) -> None:
    """List every regime name with its city, title and versions (dates), fitted to the terminal's width."""
    table = Table(title="regimes (pass a name to --regime / --regimes; --documents for the texts)",
                  title_justify="left", show_lines=True)
    table.add_column("regime", no_wrap=True)
    table.add_column("city", no_wrap=True)
    for column in ("title", *(["documents"] if documents else []), "versions"):
        table.add_column(column, overflow="fold", ratio=1)
    for name, by_city in catalogue.available().items():
        if name == "historical":
            names = ", ".join(r.name for r in by_city.values())
            table.add_row(name, "all", f"each city's own historical timeline ({names})", *([""] if documents else []),
                          "")
            continue
        own = {c: r for c, r in by_city.items() if r.name == name} or by_city
        for city, r in own.items():
            texts = [escape("\n".join(r.documents))] if documents else []
            table.add_row(name, city, escape(r.title), *texts, escape(_versions(r, documents)))
    Console().print(table)
