"""The results store of a sweep: DuckDB views over its dataset, summaries, and canonical hashes.

Nothing is copied: ``connect(SWEEP)`` opens an in-memory DuckDB whose views read the sweep's dataset
(``data/<table>/<part>.parquet``, experiments/dataset.py) and the run folders not yet gathered into it
(``runs/<run_id>/<table>.parquet``: the runs published since the last batch, and every run of a sweep made before
the dataset), each row tagged with its ``run_id``, ``scenario`` and ``replicate``, plus the ledger (``runs``), the
scenarios, the runs' other files (``run_files``) and the summary tables. Analysts query it with SQL::

    from experiments import connect
    con = connect("sweeps/compare_regimes")
    con.sql("SELECT label, city, avg(hukou_share) FROM city_year JOIN scenarios USING (scenario) "
            "WHERE year = 2035 GROUP BY ALL").df()
"""

from __future__ import annotations

import hashlib
import json
import logging
import sqlite3
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from experiments.dataset import Layout, layout, part_path
from experiments.integrity import SUMMARY, Damage, Digest, check_sweep, digest_file
from sim.metrics import CITY_KEYS, CITY_METRICS, DISTRICT_KEYS, DISTRICT_METRICS

__all__ = ["connect", "query", "write_summaries", "canonical_hash", "band_of", "VIEWS", "table_sql", "extract_run"]

VIEWS = ("runs", "scenarios", "draws", "city_year", "district_year", "summary_city_year", "summary_district_year",
         "summary_difference_city_year", "summary_difference_district_year", "run_files")
SUMMARY_TABLES = ("summary_city_year", "summary_district_year", "summary_difference_city_year",
                  "summary_difference_district_year")
log = logging.getLogger(__name__)
_KEYS = {"city_year": ("run_id", *CITY_KEYS), "district_year": ("run_id", *DISTRICT_KEYS)}


def _ledger_frame(folder: Path) -> pd.DataFrame:
    db = sqlite3.connect(f"file:{folder / 'ledger.sqlite'}?mode=ro", uri=True)
    try:
        return pd.read_sql_query("SELECT run_id, scenario, replicate, seed, state, attempts, worker_deaths, "
                                 "worker, error, seconds FROM runs ORDER BY run_id", db)
    finally:
        db.close()


def _quote(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def _inside(folder: Path, path: Path) -> bool:
    """Whether ``path``, every symlink resolved, lies under ``folder`` (resolved too)."""
    try:
        return path.resolve().is_relative_to(folder.resolve())
    except (OSError, RuntimeError):  # a symlink loop
        return False


def _own_files(folder: Path, files: list[Path]) -> list[Path]:
    """The files that really are the sweep's: a symlink out of the folder is skipped with a warning."""
    kept = [f for f in files if _inside(folder, f)]
    for f in sorted(set(files) - set(kept)):
        log.warning("skipped %s: it points outside the sweep folder %s", f, folder)
    return kept


def connect(folder: str | Path, *, damaged: list[Damage] | None = None, summaries: bool = True,
            checked: bool = False) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection with the views of one sweep (``VIEWS``); only published runs appear.

    Files that changed since they were written (experiments/integrity.py) are left out of the views, so one
    damaged run does not break every query; each is appended to ``damaged`` for the caller to name.
    ``summaries=False`` leaves the summary views out (rebuilding them must not read the old ones). ``checked``:
    the caller has just checked the runs (the coordinator, before it summarises), so they are not hashed again.
    """
    folder = Path(folder)
    con = duckdb.connect()
    runs = _ledger_frame(folder)
    con.register("runs", runs)
    found = [] if checked else check_sweep(folder, runs.loc[runs["state"] == "done", "run_id"].tolist())
    if damaged is not None:
        damaged.extend(found)
    left_out = {d.owner for d in found}
    if (folder / "scenarios.parquet").is_file() and _own_files(folder, [folder / "scenarios.parquet"]):
        con.sql(f"CREATE VIEW scenarios AS SELECT * FROM read_parquet({_quote(folder / 'scenarios.parquet')})")
    if (folder / "draws.parquet").is_file() and _own_files(folder, [folder / "draws.parquet"]):
        con.sql(f"CREATE VIEW draws AS SELECT * FROM read_parquet({_quote(folder / 'draws.parquet')})")
    current = layout(folder)
    for table in dict.fromkeys(("city_year", "district_year", *current.tables())):
        source = table_sql(folder, table, current, left_out)
        if source is not None:
            con.sql(f"CREATE VIEW {table} AS {source}")
    for table in SUMMARY_TABLES:
        if summaries and SUMMARY not in left_out and (folder / f"{table}.parquet").is_file() \
                and _own_files(folder, [folder / f"{table}.parquet"]):
            con.sql(f"CREATE VIEW {table} AS SELECT * FROM read_parquet({_quote(folder / f'{table}.parquet')})")
    return con


def table_sql(folder: Path, table: str, current: Layout, left_out: set[str] | frozenset[str] = frozenset()
              ) -> str | None:
    """A SELECT of one table's rows over every done run (columns ``scenario``, ``replicate``, ``run_id``, then the
    table's), from the dataset's parts and the loose run folders, leaving out ``left_out`` (damaged parts and
    runs); None when no run has the table. Paths are absolute: the dashboard runs it on its locked connection."""
    folder = Path(folder)
    parts = _own_files(folder, [part_path(folder, table, p.name) for p in current.parts
                                if table in p.tables and p.name not in left_out])
    loose = [r for r in current.loose if r not in left_out]
    files = _own_files(folder, [f for f in (folder / "runs" / r / f"{table}.parquet" for r in loose) if f.is_file()])
    selects = []
    if parts:
        selects.append(f"SELECT * FROM read_parquet([{', '.join(_quote(f) for f in parts)}], union_by_name = true)")
    if files:
        values = ", ".join(f"('{f.parent.name}', CAST({current.ids[f.parent.name][0]} AS BIGINT), "
                           f"CAST({current.ids[f.parent.name][1]} AS BIGINT))" for f in files)
        selects.append(f"""SELECT m.run_id, m.scenario, m.replicate, t.* EXCLUDE (filename, run_id)
            FROM (SELECT regexp_extract(filename, '([^/\\\\]+)[/\\\\][^/\\\\]+$', 1) AS run_id, *
                  FROM read_parquet([{', '.join(_quote(f) for f in files)}], filename = true,
                                    union_by_name = true)) t
            JOIN (VALUES {values}) m(run_id, scenario, replicate) ON t.run_id = m.run_id""")
    if not selects:
        return None
    return (f"SELECT scenario, replicate, * EXCLUDE (scenario, replicate) FROM ("
            f"{' UNION ALL BY NAME '.join(selects)})")


def query(folder: str | Path, sql: str, damaged: list[Damage] | None = None) -> pd.DataFrame:
    """Run one SQL query against a sweep's views and return a data frame (damaged files left out, see connect)."""
    con = connect(folder, damaged=damaged)
    try:
        return con.sql(sql).df()
    finally:
        con.close()


# Runs whose rows are summarised at once: the rows of every run at once took 6 GB for 10,000 runs.
SUMMARY_BATCH_RUNS = 256


def scenario_batches(runs: pd.DataFrame, batch_runs: int = SUMMARY_BATCH_RUNS) -> list[str]:
    """SQL conditions that split the scenarios, in key order, into ranges of about ``batch_runs`` done runs (at
    least one scenario each), so that summaries hold a bounded number of rows in memory. The dataset is sorted by
    run id, which starts with the scenario key, so each range reads few row groups."""
    done = runs.loc[runs["state"] == "done"].groupby("scenario").size().sort_index()
    batches, start, size = [], None, 0
    for scenario, n in done.items():
        start = scenario if start is None else start
        size += int(n)
        if size >= batch_runs:
            batches.append(f"scenario BETWEEN {int(start)} AND {int(scenario)}")
            start, size = None, 0
    if start is not None:
        batches.append(f"scenario >= {int(start)}")
    return batches or ["TRUE"]


def _summary(con: duckdb.DuckDBPyConnection, table: str, metrics: tuple[str, ...], keys: tuple[str, ...],
             present: set[str], t_of_n: dict[int, float], band: str = "seed noise only",
             batches: list[str] | None = None) -> pd.DataFrame:
    """``_summary_of`` for each batch of scenarios (``scenario_batches``; every group is one scenario's, so the
    numbers are those of one pass over every row, bit for bit), concatenated in scenario order."""
    parts = [_summary_of(con, table, metrics, keys, present, t_of_n, band, where) for where in batches or ["TRUE"]]
    filled = [p for p in parts if not p.empty]
    return pd.concat(filled, ignore_index=True) if filled else parts[0]


def _summary_of(con: duckdb.DuckDBPyConnection, table: str, metrics: tuple[str, ...], keys: tuple[str, ...],
                present: set[str], t_of_n: dict[int, float], band: str = "seed noise only",
                where: str = "TRUE") -> pd.DataFrame:
    """Per scenario, key and metric: ``n``, ``mean``, ``sd`` and the Student-t interval, summed in a fixed order.

    Floating-point sums depend on the order of their terms, and DuckDB aggregates on several threads in whatever
    order rows arrive: rebuilt summaries differed by up to 5e-16 (49 of 216 means). So DuckDB only sorts (by
    scenario, keys and replicate: a total order, every row is one run's) and the sums are taken here, group by group
    in that order (``numpy.add.reduceat``): the same inputs give the same bits, whatever the threads, the order of
    the files or of the rows inside them. ``sd`` is the two-pass sample standard deviation (sum of squared
    deviations from the group's mean). NaN and missing values are left out, as ``count``/``avg`` did. ``band``
    says what the interval includes (``band_of``), one value for the whole table.
    """
    metrics = tuple(m for m in metrics if m in present)
    cols = ", ".join(f"CAST({m} AS DOUBLE) AS {m}" for m in metrics)
    order = ", ".join(("scenario", *keys, "replicate"))
    frame = con.sql(f"SELECT scenario, {', '.join(keys)}, {cols} FROM {table} WHERE {where} ORDER BY {order}").df()
    columns = ["scenario", *keys, "metric", "n", "mean", "sd", "ci_low", "ci_high", "band"]
    if frame.empty or not metrics:
        return pd.DataFrame(columns=columns)
    new_group = np.zeros(len(frame), dtype=bool)
    new_group[0] = True
    for key in ("scenario", *keys):
        codes = pd.factorize(frame[key])[0]
        new_group[1:] |= codes[1:] != codes[:-1]
    starts = np.flatnonzero(new_group)
    group_of_row = np.cumsum(new_group) - 1
    heads = frame.iloc[starts][["scenario", *keys]].reset_index(drop=True)
    parts = []
    for metric in metrics:
        values = frame[metric].to_numpy(dtype="float64", na_value=np.nan)
        valid = ~np.isnan(values)
        n = np.add.reduceat(valid.astype("int64"), starts)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.add.reduceat(np.where(valid, values, 0.0), starts) / n
            deviation = np.where(valid, values - mean[group_of_row], 0.0)
            sd = np.where(n > 1, np.sqrt(np.add.reduceat(deviation * deviation, starts) / (n - 1)), np.nan)
            half = np.array([t_of_n.get(int(k), np.nan) for k in n]) * sd * _spread(n, band)
        part = heads.assign(metric=metric, n=n, mean=mean, sd=sd, ci_low=mean - half, ci_high=mean + half,
                            band=band)
        parts.append(part[n > 0])
    out = pd.concat(parts, ignore_index=True)
    return out.sort_values(["scenario", *keys, "metric"], kind="mergesort", ignore_index=True)[columns]


def _spread(n: np.ndarray, band: str) -> np.ndarray:
    """The factor of ``t · sd`` that makes an interval's half width, by what the runs vary in.

    Seed noise only: the runs are Monte Carlo replicates of one parameter set, so the interval is that of their
    mean, ``1/√n``: more seeds, a sharper estimate. Parameters and seeds: the runs are draws from the posterior,
    whose spread does not shrink with more draws, so the interval is a prediction interval for one more draw,
    ``√(1 + 1/n)``: where the outcome (or a reform's effect) lies given what the calibration leaves uncertain,
    seed noise included."""
    n = np.asarray(n, dtype="float64")
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.sqrt(1.0 + 1.0 / n) if band.startswith("parameters") else 1.0 / np.sqrt(n)


def band_of(folder: Path) -> tuple[str, bool]:
    """What the bands of a sweep include, from its manifest: ("parameters and seeds" | "seed noise only", whether
    its scenarios share parameter draws and seeds, or seeds (`paired_seeds`), run by run, so differences are
    paired on the replicate)."""
    manifest = folder / "manifest.json"
    doc = json.loads(manifest.read_text("utf-8")) if manifest.is_file() else {}
    paired_seeds = (doc.get("spec") or {}).get("paired_seeds") is True   # every scenario on the baseline's seeds
    return str(doc.get("band") or "seed noise only"), doc.get("parameter_draws") is not None or paired_seeds


def _moments(rows: pd.DataFrame, by: list[str], metric: str) -> pd.DataFrame:
    """Count, mean and sample variance of one metric per group (NaN left out)."""
    return rows.dropna(subset=[metric]).groupby(by, sort=True)[metric].agg(
        n="count", mean="mean", var="var").reset_index()


def _difference(con: duckdb.DuckDBPyConnection, table: str, metrics: tuple[str, ...], keys: tuple[str, ...],
                present: set[str], baseline: int, band: str, paired: bool, level: float,
                batches: list[str] | None = None) -> pd.DataFrame:
    """Per scenario other than the baseline, key and metric: the scenario minus the baseline, with its interval.

    Paired (common parameter draws and seeds): the difference is taken run by run on the same replicate, which is
    the same (draw, seed) in both, and the interval is a Student-t over those differences (of their mean for seeds,
    a prediction interval for parameter draws: ``_spread``), so what the two runs
    share (the parameter set, the seed's draws of persons) cancels and the band is that of the effect, not the
    difference of two wide bands. Unpaired (independent seeds): the difference of the means with a Welch interval.
    Sums are taken over rows sorted by scenario, keys and replicate, so rebuilt tables are bit-identical.
    """

    metrics = tuple(m for m in metrics if m in present)
    columns = ["scenario", "baseline", *keys, "metric", "n", "mean", "sd", "ci_low", "ci_high", "band", "paired"]
    if not metrics:
        return pd.DataFrame(columns=columns)
    cols = ", ".join(f"CAST({m} AS DOUBLE) AS {m}" for m in metrics)

    def rows(where: str) -> pd.DataFrame:
        return con.sql(f"SELECT scenario, {', '.join(keys)}, replicate, {cols} FROM {table} WHERE {where} "
                       f"ORDER BY {', '.join(('scenario', *keys, 'replicate'))}").df()

    base = rows(f"scenario = {int(baseline)}")
    label = band + (", paired on (draw, seed)" if paired else ", independent runs")
    parts = []
    for where in batches or ["TRUE"]:  # a batch of scenarios at a time (``scenario_batches``): bounded memory
        others = rows(f"({where}) AND scenario <> {int(baseline)}")
        if not base.empty and not others.empty:
            parts.extend(_difference_of(others, base, metrics, keys, baseline, label, paired, level, columns))
    if not parts:
        return pd.DataFrame(columns=columns)
    result = pd.concat(parts, ignore_index=True)
    return result.sort_values(["scenario", *keys, "metric"], kind="mergesort", ignore_index=True)


def _difference_of(others: pd.DataFrame, base: pd.DataFrame, metrics: tuple[str, ...], keys: tuple[str, ...],
                   baseline: int, label: str, paired: bool, level: float, columns: list[str]) -> list[pd.DataFrame]:
    """``_difference`` of some scenarios' rows against the baseline's, one frame per metric."""
    from scipy import stats

    parts = []
    for metric in metrics:
        if paired:
            joined = others[["scenario", *keys, "replicate", metric]].merge(
                base[[*keys, "replicate", metric]], on=[*keys, "replicate"], suffixes=("", "_base"))
            joined["d"] = joined[metric] - joined[f"{metric}_base"]
            joined = joined.dropna(subset=["d"])
            grouped = joined.groupby(["scenario", *keys], sort=True)["d"]
            out = grouped.agg(n="count", mean="mean", sd="std").reset_index()
            t = stats.t.ppf(0.5 + level / 2, np.maximum(out["n"] - 1, 1))
            half = np.where(out["n"] > 1, t * out["sd"] * _spread(out["n"].to_numpy(), label), np.nan)
        else:
            a = _moments(others, ["scenario", *keys], metric)
            b = _moments(base, list(keys), metric)
            out = a.merge(b, on=list(keys), suffixes=("", "_base"))
            va, vb = out["var"] / out["n"], out["var_base"] / out["n_base"]
            se = np.sqrt(va + vb)
            with np.errstate(invalid="ignore", divide="ignore"):
                df = (va + vb) ** 2 / (va ** 2 / (out["n"] - 1) + vb ** 2 / (out["n_base"] - 1))
            half = stats.t.ppf(0.5 + level / 2, df) * se
            out["mean"] = out["mean"] - out["mean_base"]
            out["n"] = np.minimum(out["n"], out["n_base"])
            out["sd"] = se
        out = out.assign(baseline=baseline, metric=metric, ci_low=out["mean"] - half, ci_high=out["mean"] + half,
                         band=label, paired=paired)
        parts.append(out[columns])
    return parts


def write_summaries(folder: str | Path, level: float = 0.95, *, checked: bool = False) -> dict[str, Digest]:
    """Write ``summary_city_year.parquet`` and ``summary_district_year.parquet``: per scenario, year, city
    (district) and metric, the number of replicates, mean, standard deviation and a Student-t confidence interval
    (empty for a single replicate), and a ``band`` column saying what it includes ("seed noise only", or
    "parameters and seeds" when the runs carry posterior draws). With more than one scenario, also
    ``summary_difference_<table>.parquet``: each scenario minus the first of the design (the baseline), paired on
    (draw, seed) when the sweep has parameter draws (``_difference``). Also ``runs.parquet``, the ledger as a
    table. Returns the content hashes of the files written, for the ledger. ``checked``: the runs were just
    checked (see ``connect``)."""
    from scipy import stats

    folder = Path(folder)
    con = connect(folder, summaries=False, checked=checked)
    written = ["runs.parquet"]
    try:
        runs = _ledger_frame(folder)
        runs.to_parquet(folder / "runs.parquet", index=False)
        n_max = max(2, int(runs.groupby("scenario").size().max()) if len(runs) else 2)
        t_of_n = {n: float(stats.t.ppf(0.5 + level / 2, n - 1)) for n in range(2, n_max + 1)}
        views = {r[0] for r in con.sql("SELECT view_name FROM duckdb_views() WHERE NOT internal").fetchall()}
        band, paired = band_of(folder)
        baseline = None
        if "scenarios" in views:  # read in file order: the design's order, whose first scenario is the baseline
            keys_in_order = [int(k) for k in pd.read_parquet(folder / "scenarios.parquet")["scenario"]]
            baseline = keys_in_order[0] if len(keys_in_order) > 1 else None
        specs = {"city_year": (CITY_METRICS, CITY_KEYS), "district_year": (DISTRICT_METRICS, DISTRICT_KEYS)}
        for table, (metrics, keys) in specs.items():
            target = folder / f"summary_{table}.parquet"
            if table not in views:
                continue
            present = {r[0] for r in con.sql(f"DESCRIBE {table}").fetchall()}
            tmp = folder / f".summary_{table}.parquet.tmp"
            batches = scenario_batches(runs)
            _summary(con, table, metrics, keys, present, t_of_n, band, batches).to_parquet(tmp, index=False)
            tmp.replace(target)
            written.append(target.name)
            if baseline is None:
                continue
            target = folder / f"summary_difference_{table}.parquet"
            tmp = folder / f".summary_difference_{table}.parquet.tmp"
            _difference(con, table, metrics, keys, present, baseline, band, paired, level, batches).to_parquet(
                tmp, index=False)
            tmp.replace(target)
            written.append(target.name)
    finally:
        con.close()
    return {name: digest_file(folder / name) for name in written}


def canonical_hash(folder: str | Path, tables: tuple[str, ...] = ("city_year", "district_year")) -> str:
    """A hash of the sweep's results as sorted tables (not of the Parquet bytes, which carry write metadata):
    equal hashes mean equal numbers, whatever the executor, worker count or order of completion."""
    con = connect(folder)
    digest = hashlib.sha256()
    try:
        for table in tables:
            frame = con.sql(f"SELECT * FROM {table} ORDER BY {', '.join(_KEYS[table])}").df()
            frame = frame[sorted(frame.columns)]
            digest.update(table.encode())
            digest.update(",".join(frame.columns).encode())
            digest.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    finally:
        con.close()
    return digest.hexdigest()


def run_table(folder: str | Path, table: str, run_id: str) -> pd.DataFrame:
    """One run's table, sorted canonically (for comparing the same run across sweeps)."""
    con = connect(folder)
    try:
        return con.sql(f"SELECT * EXCLUDE (scenario, replicate) FROM {table} WHERE run_id = ? "
                       f"ORDER BY {', '.join(_KEYS[table])}", params=[run_id]).df()
    finally:
        con.close()


def extract_run(folder: str | Path, run_id: str, out: str | Path) -> list[str]:
    """Write one run's folder back from the sweep's dataset: its tables (``<table>.parquet``, without the
    ``run_id``, ``scenario`` and ``replicate`` tags) and its other files (``config.yaml``, ``manifest.json``,
    ``identity.json``), so that ``hukou run --config OUT/config.yaml`` reproduces it alone. A run not yet gathered
    is copied from its folder. Returns the names written; raises ``KeyError`` for a run with no rows."""
    import shutil

    from experiments.dataset import RUN_FILES, _part_rows

    folder, out = Path(folder), Path(out)
    current = layout(folder)
    if run_id in current.loose:
        shutil.copytree(folder / "runs" / run_id, out)
        return sorted(p.name for p in out.iterdir())
    part = next((p for p in current.parts if run_id in p.runs), None)
    if part is None:
        raise KeyError(run_id)
    out.mkdir(parents=True)
    written = []
    for table in part.tables:
        rows = _part_rows(part_path(folder, table, part.name), [run_id])
        rows = rows.drop_columns(["run_id", "scenario", "replicate"])
        if table == RUN_FILES:
            for name, content in zip(rows["name"].to_pylist(), rows["content"].to_pylist(), strict=True):
                (out / name).write_bytes(content)
                written.append(name)
        else:
            rows.to_pandas().to_parquet(out / f"{table}.parquet", index=False)
            written.append(f"{table}.parquet")
    return sorted(written)
