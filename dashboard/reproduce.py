""""Reproduce in Python": the code behind a view, shown in a folded box on every page.

Two snippets per view, both runnable as shown (a test executes the one of a view and compares its configs and rows
with the experiment's):

- **the model**: the ``HukouModel(RunConfig(...))`` calls of the runs behind the view, one per seed, written from
  each scenario's resolved ``config.yaml`` (settings that differ from ``RunConfig``'s defaults, behavioural
  parameters that differ from ``sim.params.default_behaviour()``), so the same code version gives the same rows;
- **the rows**: the DuckDB query, through ``experiments.store.connect``, of the rows the page shows (and, on
  Compare, the interval the page computes from them: paired run by run, or Welch's).

Why from the runs (their ``config.yaml`` in the sweep's dataset) and not from the spec: a spec names levers and
uncertainties, the runs hold what they resolved to, and the reader wants the call that made *these* numbers. Without
parameter draws every replicate of a scenario has the same config but its seed (``experiments.plan``), so one
``config.yaml`` per scenario is read; with draws, runs are grouped by their config.

Paths in the snippets are the experiment's folder on this machine, read from the registry, never from a request.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterable, Sequence
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from dashboard.data import Experiment

__all__ = ["model_snippet", "run_block", "installed_code", "query_snippet", "run_configs", "overview_query",
           "compare_query", "map_query", "points_snippet", "validation_snippet", "validation_run_snippet",
           "scenario_key", "scenario_snippet"]

_WIDTH = 112
_DEFAULTS_CACHE: dict[str, Any] = {}


def scenario_key(key: str) -> int:
    """A scenario's integer key (the ``scenario`` column of the store's tables) from its hex identifier."""
    return int(key, 16)


def _run_folder(key: str, replicate: int) -> str:
    return f"s{scenario_key(key):015x}-r{replicate:04d}"  # experiments.seeds.run_id


def _defaults() -> tuple[dict[str, Any], dict[str, Any]]:
    """``RunConfig``'s defaults and the default behaviour, as JSON values (read once per process)."""
    if not _DEFAULTS_CACHE:
        from sim.config import RunConfig

        defaults = RunConfig().model_dump(mode="json")
        _DEFAULTS_CACHE["behaviour"] = defaults.pop("behaviour")
        _DEFAULTS_CACHE["run"] = defaults
    return _DEFAULTS_CACHE["run"], _DEFAULTS_CACHE["behaviour"]


def _load_config(experiment: Experiment, run: str) -> dict[str, Any]:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return dict(yaml.load(experiment.run_file(run, "config.yaml").decode("utf-8"), Loader=loader) or {})


def run_configs(experiment: Experiment, key: str) -> list[tuple[dict[str, Any], list[int]]]:
    """The configs (without their seed) of a scenario's published runs, each with the seeds that ran it, in
    replicate order; kept per experiment and scenario."""
    def load() -> list[tuple[dict[str, Any], list[int]]]:
        published = set(experiment.published_runs())
        seeds = experiment.run_seeds()
        rows = seeds[seeds["key"] == key].sort_values("replicate")
        runs = [(int(r.replicate), int(r.seed)) for r in rows.itertuples(index=False)
                if _run_folder(key, int(r.replicate)) in published]
        if not runs:
            return []
        same = experiment.manifest.get("parameter_draws") is None  # experiments.plan: replicates differ by seed only
        groups: list[tuple[dict[str, Any], list[int]]] = []
        for replicate, seed in runs if not same else runs[:1]:
            config = _load_config(experiment, _run_folder(key, replicate))
            config.pop("seed", None)
            for known, seeds_of in groups:
                if known == config:
                    seeds_of.append(seed)
                    break
            else:
                groups.append((config, [seed]))
        if same:
            groups[0][1].extend(seed for _, seed in runs[1:])
        return groups
    return list(experiment._cached(f"reproduce:configs:{key}", load))


def _changes(value: Any, default: Any, path: tuple[str | int, ...] = ()) -> list[tuple[tuple[str | int, ...], Any]]:
    """(path, value) of every leaf where ``value`` differs from ``default`` (a changed list is replaced whole)."""
    if isinstance(value, dict) and isinstance(default, dict):
        out = []
        for name in value:
            if name not in default:
                out.append(((*path, name), value[name]))
            else:
                out.extend(_changes(value[name], default[name], (*path, name)))
        return out
    return [] if value == default else [(path, value)]


def _literal(value: Any) -> str:
    if isinstance(value, list):
        return "(" + ", ".join(_literal(v) for v in value) + ("," if len(value) == 1 else "") + ")"
    return repr(value)


def _config_call(config: dict[str, Any], behaviour: str | None) -> str:
    """``RunConfig(...)`` with the settings that differ from the defaults (seed from the loop)."""
    run_defaults, _ = _defaults()
    args = [f"{name}={_literal(value)}" for name, value in config.items()
            if name not in ("behaviour", "seed", "overrides") and value != run_defaults.get(name)]
    args.insert(0, "seed=seed")
    if config.get("overrides"):
        args.append(f"overrides={config['overrides']!r}")
    if behaviour:
        args.append(f"behaviour={behaviour}")
    return "RunConfig(" + ", ".join(args) + ")"


def _seeds_text(seeds: Sequence[int], indent: str) -> str:
    body = ", ".join(str(s) for s in seeds) + ("," if len(seeds) == 1 else "")
    lines = textwrap.wrap(body, _WIDTH - len(indent) - 4)
    if len(lines) == 1:
        return f"({lines[0]})"
    return "(\n" + "\n".join(f"{indent}    {line}" for line in lines) + f"\n{indent})"


def model_snippet(experiment: Experiment, keys: Iterable[str], labels: dict[str, str]) -> str:
    """Python that runs the model for every run of the scenarios ``keys`` (one ``HukouModel(RunConfig(...))`` per
    seed) and keeps each run's city and district tables, keyed by scenario label and seed."""
    info = experiment.info()
    lines = [f"# The runs behind this view: experiment {experiment.id} (manifest {experiment.manifest_hash}), "
             f"code version {info['code_version']}.",
             "# One run per seed; the page's means and bands are across these runs. Each takes seconds to minutes,",
             "# depending on scale (persons per agent) and years.",
             "from sim.config import RunConfig", "from sim.model import HukouModel"]
    blocks: list[str] = []
    uses_behaviour = False
    for key in keys:
        label = labels.get(key, key)
        for config, seeds in run_configs(experiment, key):
            block, changed = run_block(label, config, seeds)
            blocks.append(block)
            uses_behaviour = uses_behaviour or changed
    if info["code_version"] != installed_code():
        lines.insert(3, f"# This dashboard runs code version {installed_code()}: with other code the runs may differ "
                        "(check out the experiment's version first).")
    if uses_behaviour:
        lines.append("from sim.params import default_behaviour")
    lines += ["", "city_year, district_year = {}, {}"]
    return "\n".join(lines) + "\n" + "\n\n".join(blocks) + "\n"


@cache
def installed_code() -> str:
    """The code version of this process's model (``sim.run.code_version``: a hash of the sources, read once)."""
    from sim.run import code_version

    return code_version()


def run_block(label: str, config: dict[str, Any], seeds: Sequence[int]) -> tuple[str, bool]:
    """The loop that runs one config (a run's ``config.yaml`` without its seed) for each seed, keeping each run's
    tables under (label, seed); and whether it needs ``default_behaviour`` (behavioural parameters changed)."""
    _, behaviour_default = _defaults()
    changes = _changes(config.get("behaviour", {}), behaviour_default)
    block = [f"# {label}: {len(seeds)} run(s)"]
    name = None
    if changes:
        name = "behaviour"
        block.append("behaviour = default_behaviour().model_dump(mode=\"json\")")
        block += [f"behaviour{''.join(f'[{p!r}]' for p in path)} = {value!r}" for path, value in changes]
    block.append(f"for seed in {_seeds_text(seeds, '')}:")
    block.append(f"    model = HukouModel({_config_call(config, name)}).run()")
    block.append(f"    city_year[{label!r}, seed] = model.city_year()")
    block.append(f"    district_year[{label!r}, seed] = model.district_year()")
    return "\n".join(block), bool(changes)


def _sql_list(values: Iterable[Any]) -> str:
    return ", ".join(str(v) if isinstance(v, int) else "'" + str(v).replace("'", "''") + "'" for v in values)


def query_snippet(experiment: Experiment, comment: str, sql: str, after: str = "") -> str:
    """Python that reads rows of the experiment with DuckDB through ``experiments.store.connect`` (its views:
    runs, scenarios, city_year, district_year and the summaries; docs/experiments.md)."""
    folder = str(experiment.folder.resolve())
    return (f"# {comment}\nfrom experiments.store import connect\n\ncon = connect({folder!r})\n"
            f"rows = con.sql(\"\"\"\n{textwrap.indent(sql.strip(), '    ')}\n\"\"\").df()\n" + after)


def _scenario_list(keys: Iterable[str]) -> str:
    return _sql_list(scenario_key(k) for k in keys)


def overview_query(experiment: Experiment, keys: Sequence[str], metric: str, metrics: Sequence[str], year: float,
                   city: str) -> str:
    """The overview's table (summary rows of the headline metrics) and the seeds drawn as dots on its chart."""
    where_city = "" if city == "all" else f" AND c.city = {_sql_list([city])}"
    table = (f"SELECT s.label, c.city, c.metric, c.mean, c.ci_low, c.ci_high, c.n, c.band\n"
             f"FROM summary_city_year c JOIN scenarios s USING (scenario)\n"
             f"WHERE c.year = {year!r} AND c.scenario IN ({_scenario_list(keys)})\n"
             f"  AND c.metric IN ({_sql_list(metrics)}){where_city}\n"
             f"ORDER BY s.label, c.city, c.metric")
    dots_city = "" if city == "all" else f" AND city = {_sql_list([city])}"
    dots = (f"\n# the chart's dots: each run's {metric}\n"
            f"seeds = con.sql(\"\"\"\n    SELECT scenario, replicate, city, {metric} FROM city_year\n"
            f"    WHERE year = {year!r} AND scenario IN ({_scenario_list(keys)}){dots_city}\n"
            f"    ORDER BY scenario, replicate, city\n\"\"\").df()\n")
    return query_snippet(experiment, "The table's rows: mean and 95% interval across seeds (summary_city_year).",
                         table, dots)


def compare_query(experiment: Experiment, reform: str, baseline: str, city: str, zones: bool,
                  metrics: Sequence[str], zone_sql: dict[str, str]) -> str:
    """Each run's values behind the comparison, and reform minus baseline with the interval that the page draws
    and tabulates: run by run when the sweep's scenarios share their draws and seeds (``Band.paired``:
    ``dashboard.paired.paired_difference``), else Welch's (``dashboard.figures.difference_from_stats``)."""
    pair = _scenario_list([reform, baseline])
    if zones:
        columns = ",\n       ".join(f"{zone_sql[m]} AS {m}" for m in metrics)
        sql = (f"SELECT scenario, replicate, year, zone,\n       {columns}\n"
               f"FROM (SELECT run_id AS run, * FROM district_year WHERE city = {_sql_list([city])}\n"
               f"      AND scenario IN ({pair}))\n"
               f"GROUP BY scenario, replicate, run, year, city, zone ORDER BY scenario, replicate, year, zone")
        ids = '["scenario", "replicate", "year", "zone"]'
    else:
        sql = (f"SELECT scenario, replicate, year, {', '.join(metrics)}\nFROM city_year\n"
               f"WHERE city = {_sql_list([city])} AND scenario IN ({pair})\nORDER BY scenario, replicate, year")
        ids = '["scenario", "replicate", "year"]'
    melt = (f"values = rows.melt(id_vars={ids}, var_name=\"metric\", value_name=\"value\")\n"
            "values = values.rename(columns={\"scenario\": \"key\"})\n")
    band = experiment.band
    if band.paired:
        shared = "parameter draw and seed" if band.draws else "seed"
        spread = "t·sd·√(1+1/n): a prediction interval over the posterior's draws" if band.parameters \
            else "t·sd/√n: the interval of the mean over seeds"
        after = ("\n# reform minus baseline per year (and zone), run by run: each reform run less the baseline run on "
                 f"the same\n# {shared} (same replicate number); 95% band {spread}, as the page computes it\n"
                 "# (against the design's first scenario: the sweep's summary_difference_city_year, the same numbers)\n"
                 "from dashboard.paired import paired_difference, paired_runs\n\n" + melt
                 + f"differences = paired_difference(paired_runs(values), {scenario_key(reform)}, "
                 f"{scenario_key(baseline)}, parameters={band.parameters})\n")
    else:
        after = ("\n# reform minus baseline per year (and zone) with its 95% Welch interval, as the page computes it "
                 "(the\n# scenarios ran seeds of their own: no runs to pair)\n"
                 "from dashboard.data import run_stats\nfrom dashboard.figures import difference_from_stats\n\n"
                 + melt + f"differences = difference_from_stats(run_stats(values), {scenario_key(reform)}, "
                 f"{scenario_key(baseline)})\n")
    return query_snippet(experiment, "Each run's values of the compared metrics (one row per run and year).", sql,
                         after)


def map_query(experiment: Experiment, keys: Sequence[str], metric: str, year: float, city: str) -> str:
    """The district rows the map colours (mean across seeds; a change map subtracts the baseline's)."""
    sql = (f"SELECT s.label, d.district, d.mean, d.ci_low, d.ci_high, d.n\n"
           f"FROM summary_district_year d JOIN scenarios s USING (scenario)\n"
           f"WHERE d.year = {year!r} AND d.city = {_sql_list([city])} AND d.metric = {_sql_list([metric])}\n"
           f"  AND d.scenario IN ({_scenario_list(keys)})\nORDER BY s.label, d.district")
    return query_snippet(experiment, "The districts' values: mean and 95% interval across seeds "
                                     "(summary_district_year).", sql)


def points_snippet(profile: dict[str, Any], regime: str, city: str, day: str) -> str:
    """Python that scores the form's profile as the calculator does (``policies.calculator.calculate``)."""
    from pprint import pformat

    text = pformat(profile, width=_WIDTH - 30, sort_dicts=False)
    return ("import datetime as dt\n\nfrom policies.calculator import calculate\n"
            "from policies.catalogue import resolve\nfrom policies.schema import Profile\n\n"
            f"profile = Profile.model_validate({text})\n"
            f"result = calculate(profile, resolve([{regime!r}])[{city!r}], dt.date.fromisoformat({day!r}))\n"
            "print(result.total, result.threshold)\n"
            "for row in result.breakdown:\n    print(row.indicator, row.points, row.ref)\n"
            "for route in result.channels:\n    print(route.channel, route.eligible, route.reason)\n")


def validation_run_snippet(info: dict[str, Any]) -> str:
    """Python that makes a validation report like this one (``experiments.calibration.validate.run_validation``:
    what ``hukou validate`` runs), from the report's manifest."""
    args = "".join(f", {name}={info[name]!r}" for name in ("seeds", "scale", "end", "root_seed")
                   if isinstance(info.get(name), (int, float)) and not isinstance(info.get(name), bool))
    return (f"# code version {info.get('code_version', '?')}; the historical regimes over several seeds, compared "
            "with every observed target\nfrom experiments.calibration.validate import run_validation\n\n"
            f"report = run_validation('validation/again'{args})\nprint(*report.headline(), sep='\\n')\n")


def validation_snippet(folder: Path, city: str, kind: str) -> str:
    """Python that reads the validation table's rows the page shows (DuckDB on the report's Parquet file)."""
    where = [f"city = {_sql_list([city])}"] if city != "all" else []
    where += [f"target_kind = {_sql_list([kind])}"] if kind != "all" else []
    path = str((folder / "validation_table.parquet").resolve())
    sql = (f"SELECT * FROM read_parquet({path!r})" + (" WHERE " + " AND ".join(where) if where else "")
           + " ORDER BY city, year, measure")
    return f"import duckdb\n\nrows = duckdb.sql(\"\"\"\n    {sql}\n\"\"\").df()\n"


def scenario_snippet(levers: Any, folder: Path | None, root_seed: int | None = None) -> str:
    """Python that writes and runs the builder's scenario as the page does (``dashboard.levers.write_scenario``,
    then ``experiments.sweep.run_sweep``): its levers as set on the form (those left at their defaults omitted)."""
    from dataclasses import fields

    args = ", ".join(f"{f.name}={getattr(levers, f.name)!r}" for f in fields(levers)
                     if getattr(levers, f.name) != f.default)
    where = str(folder) if folder is not None else "scenarios"
    # the main sweep's root seed when its baseline runs match (dashboard.pages.scenarios._root_seed)
    seed = f", root_seed={int(root_seed)}" if root_seed is not None else ""
    return ("from pathlib import Path\n\nfrom dashboard.levers import Levers, write_scenario\n"
            "from experiments.spec import spec_from_dict\nfrom experiments.sweep import run_sweep\n\n"
            f"levers = Levers({args}).check()\n"
            f"ident, out, spec = write_scenario(levers, Path({where!r}){seed})  # the changed regime and the "
            "sweep's spec\n"
            "summary = run_sweep(spec_from_dict(spec), out, workers=1)  # both arms, the same seeds\n"
            "print(ident, summary.ok)\n")
