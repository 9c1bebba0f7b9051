"""Data access of the dashboard: the one module that reads results, through DuckDB, read-only, by identifier.

Why one module: every page asks for the same few frames (summaries across seeds, per-seed values, manifests), and
keeping the reading here lets the security rule live in one place. A request names an experiment by its
*identifier* (the sweep folder's name), which is looked up in a registry built at start-up from ``--results``;
a path from a request is never joined, opened or passed to DuckDB. DuckDB itself is locked to the experiment's
folder (``enable_external_access = false`` with ``allowed_directories``), so even a bug in a query cannot read a
file outside the results. Folders found on disk (sweeps, reports, run folders) are served only when their real path,
symlinks resolved, stays under the root they were found in: a symlink in the results that points elsewhere is
skipped, never served.

Frames are cached per experiment (results do not change under a running dashboard: a sweep folder is published
atomically and the dashboard never writes to it), so a page view costs a dictionary look-up after the first one.
``warm`` reads them all at start-up, before the server forks its worker processes (``dashboard.app.serve``): the
workers then share them, and no analyst waits seconds for the first view of a kind in each process. Cached frames
are shared by every request: callers filter or copy them, never change them in place.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import pandas as pd

from sim.metrics import CITY_METRICS, COMPARE_METRICS, ZONE_SQL

if TYPE_CHECKING:
    from dashboard.bands import Band
    from dashboard.paired import PairedRuns
    from experiments.dataset import Layout
    from experiments.integrity import Damage

__all__ = ["DamagedResults", "Experiment", "Registry", "UnknownExperiment", "UnknownReport", "ValidationReport",
           "use_results", "registry", "ID_PATTERN", "reproduce_command", "city_runs", "zone_runs", "REPORT_COLUMNS",
           "SHIPPED_REPORT", "SHIPPED_REPORT_ID", "SHARE_COLUMNS", "SHARE_ERROR_COLUMNS", "inside", "ReadOnlyQuery",
           "run_stats", "warm", "STATS_VIEWS", "ViewMemo", "VIEW_MEMO_SIZE", "HASH_LENGTH", "HASH_PATTERN"]

log = logging.getLogger(__name__)

ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,119}$")
# Digits of an experiment's manifest hash in links (``Experiment.manifest_hash``): 48 bits, no collision among the
# few hundred sweeps a results folder holds.
HASH_LENGTH = 12
HASH_PATTERN = re.compile(r"^[0-9a-f]{12}$")
# The columns of ``hukou validate``'s validation_table.parquet that the Validation page reads.
REPORT_COLUMNS = ("city", "year", "measure", "target_kind", "observed", "simulated_mean", "simulated_lo",
                  "simulated_hi", "error", "relative_error", "target_id", "sigma_rel", "z", "inside_band", "runs",
                  "comparison", "confidence", "note", "source")
# The report shipped with the package (a copy of docs/validation/), shown when the results hold none of their own.
SHIPPED_REPORT = Path(__file__).resolve().parent / "validation_report"
SHIPPED_REPORT_ID = "shipped"
_REPORT_TABLE = "validation_table.parquet"
# District shares of a report (experiments/calibration/shares.py); reports made before them have none.
SHARE_COLUMNS = ("city", "year", "district", "district_name", "district_name_cn", "zone", "target_id", "target_kind",
                 "observed_share", "simulated_share", "simulated_lo", "simulated_hi", "persistence_share",
                 "model_error_pp", "persistence_error_pp")
SHARE_ERROR_COLUMNS = ("city", "year", "target_kind", "districts", "model_mae_pp", "persistence_mae_pp", "ratio",
                       "beats_persistence", "beats_half")
_SHARE_FILES = {"shares": ("district_shares.parquet", SHARE_COLUMNS),
                "share_errors": ("district_share_errors.parquet", SHARE_ERROR_COLUMNS)}


# Views (a callback's outputs for one choice of its validated inputs) kept per experiment or report and process.
VIEW_MEMO_SIZE = 256


class ViewMemo:
    """The outputs of a page's callback by its validated inputs, the most recently used ``size`` of them.

    Results never change under a running dashboard, so a view is a pure function of the experiment (or report) and
    the inputs: an analyst who goes back to a view, or a colleague who opens the same link, gets it without a
    computation. Values are shared between requests: never changed in place. Two threads that miss the same key at
    once both compute it (no lock is held while computing).
    """

    def __init__(self, size: int = VIEW_MEMO_SIZE) -> None:
        self.size = size
        self._items: OrderedDict[tuple[Any, ...], Any] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: tuple[Any, ...], compute: Callable[[], Any]) -> Any:
        """The view of ``key``, computed by ``compute`` when it is not kept."""
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                self.hits += 1
                return self._items[key]
            self.misses += 1
        value = compute()
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return value

    def __len__(self) -> int:
        return len(self._items)


class UnknownExperiment(LookupError):
    """An identifier that names no experiment of this dashboard (shown to the user, never a server error)."""


class DamagedResults(LookupError):
    """A summary file changed since it was written: named on the page with the command that rebuilds it."""


class UnknownReport(LookupError):
    """An identifier that names no validation report of this dashboard (shown to the user)."""


def _quote(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def inside(root: Path, path: Path) -> bool:
    """Whether ``path``, every symlink resolved, is ``root`` or lies under it (``root`` resolved too).

    A symlink in the results folder that points outside it (``evil -> /home/x/other_sweep``) must not be served:
    the DuckDB sandbox follows the resolved folder, so the check has to come before a folder is registered.
    """
    try:
        return path.resolve().is_relative_to(root.resolve())
    except (OSError, RuntimeError):  # a symlink loop, a vanished folder
        return False


class ReadOnlyQuery(duckdb.PermissionException):
    """A query the dashboard's connection refuses: anything but one SELECT (a ``duckdb.Error``, like its sandbox's)."""


def _only_select(con: duckdb.DuckDBPyConnection, query: str) -> None:
    """Refuse anything but a single SELECT (``DESCRIBE SELECT`` and ``UNPIVOT`` parse as one).

    DuckDB 2.0 has no read-only switch that covers files: ``access_mode = READ_ONLY`` cannot open an in-memory
    database, and a read-only file database still runs ``COPY … TO`` (it does not change the database), while
    ``allowed_directories`` allows writing where it allows reading. So writes are refused before execution, by the
    statement's type: ``COPY``, ``EXPORT``, ``ATTACH``, ``CREATE``, ``SET``, ``PRAGMA``, ``CALL``, ``INSTALL`` and
    several statements in one string never reach the engine. A SELECT cannot write a file (``query()`` inside one
    accepts only a SELECT too).
    """
    statements = con.extract_statements(query)
    if len(statements) != 1 or statements[0].type != duckdb.StatementType.SELECT:
        kinds = ", ".join(str(s.type).rsplit(".", 1)[-1] for s in statements) or "none"
        raise ReadOnlyQuery(f"the dashboard runs one SELECT per query, read-only (got: {kinds})")


def _locked_sql(folder: Path, query: str, params: list[Any] | None = None) -> pd.DataFrame:
    """Run a query on a fresh in-memory DuckDB that can read only ``folder`` (``{folder}`` in the query is it) and
    write nothing: one SELECT, no external access but the folder, configuration locked."""
    con = duckdb.connect(":memory:", config={"autoinstall_known_extensions": False,
                                             "autoload_known_extensions": False})
    try:
        root = str(folder.resolve()) + "/"
        con.execute(f"SET allowed_directories = [{_quote(Path(root))}]")
        con.execute("SET enable_external_access = false")
        con.execute("SET enable_progress_bar = false")  # a long first read would draw a bar on the server's stderr
        con.execute("SET lock_configuration = true")
        sql = query.replace("{folder}", str(folder.resolve()).replace("'", "''"))
        _only_select(con, sql)
        return con.execute(sql, params or []).df()
    finally:
        con.close()


@dataclass
class Experiment:
    """One sweep folder, read-only: its manifest, scenarios and summaries, loaded once and kept."""

    id: str
    folder: Path
    custom: bool = False
    _lock: threading.RLock = field(default_factory=threading.RLock, repr=False)  # loads nest (diff → runs)
    _cache: dict[str, Any] = field(default_factory=dict, repr=False)
    views: ViewMemo = field(default_factory=ViewMemo, repr=False)  # the pages' outputs by their inputs

    def sql(self, query: str, params: list[Any] | None = None) -> pd.DataFrame:
        """Run a query on a connection locked to this folder (one per query: thread-safe; ``{folder}`` is it)."""
        return _locked_sql(self.folder, query, params)

    def _cached(self, key: str, load: Any) -> Any:
        with self._lock:
            if key not in self._cache:
                self._cache[key] = load()
            return self._cache[key]

    @cached_property
    def manifest(self) -> dict[str, Any]:
        """The sweep manifest (name, spec, spec hash, code version, seeds, packages)."""
        path = self.folder / "manifest.json"
        if not inside(self.folder, path):
            raise ValueError(f"experiment {self.id}: manifest.json points outside its folder")
        return json.loads(path.read_text("utf-8"))

    @cached_property
    def band(self) -> Band:
        """What this sweep's bands include and whether its scenarios are paired run by run, from its manifest
        (``dashboard.bands.sweep_band``): what every page, finding and briefing says of its bands."""
        from dashboard.bands import sweep_band

        return sweep_band(self.folder, self.manifest)

    @cached_property
    def manifest_hash(self) -> str:
        """The first 12 hex digits of the SHA-256 of ``manifest.json``: what links name the experiment by, so they
        survive a renamed folder. The manifest is written once, when the sweep is created (``hukou resume`` keeps
        it), and holds the spec, its hash, the configs' hash, the code version and the time of creation, so two
        sweeps share it only when one folder is a copy of the other."""
        import hashlib

        path = self.folder / "manifest.json"
        if not inside(self.folder, path):
            raise ValueError(f"experiment {self.id}: manifest.json points outside its folder")
        return hashlib.sha256(path.read_bytes()).hexdigest()[:HASH_LENGTH]

    @property
    def name(self) -> str:
        """The spec name."""
        return str(self.manifest.get("name", self.id))

    @property
    def title(self) -> str:
        """What the pages call the experiment: a builder scenario's name as its user wrote it (the spec's
        description, in any script), else the spec name."""
        description = self.manifest.get("spec", {}).get("description") if self.custom else None
        return str(description)[:80] if description else self.name

    def scenarios(self) -> pd.DataFrame:
        """One row per scenario: ``scenario`` (key), ``label`` (short text), and a ``regimes`` column if varied."""
        def load() -> pd.DataFrame:
            frame = self.sql("SELECT * FROM read_parquet('{folder}/scenarios.parquet')")
            if "regimes" not in frame.columns:
                regimes = self.manifest.get("spec", {}).get("levers", {}).get("regimes", ["historical"])
                frame["regimes"] = _regime_text(regimes[0]) if regimes else "historical"
            frame["regimes"] = frame["regimes"].astype(str)
            # a scenario builder's regime is a file: show its name, not its path
            frame["label"] = frame["label"].astype(str).str.replace(r"regimes=\S*/([^/]+)\.ya?ml$", r"regimes=\1",
                                                                    regex=True)
            if self.custom:  # the builder's changed regime is named as its user named the scenario
                frame.loc[frame["regimes"].str.endswith((".yaml", ".yml")), "label"] = self.title
            frame["scenario"] = frame["scenario"].astype("int64")
            frame["key"] = frame["scenario"].map(lambda k: f"{int(k):x}")
            return frame
        return self._cached("scenarios", load)

    def scenario_keys(self) -> list[str]:
        """The scenario identifiers a URL may name (hex of the scenario key)."""
        return list(self.scenarios()["key"])

    def damage(self) -> list[Damage]:
        """Dataset parts, runs and summaries whose files are missing or changed since they were written
        (experiments/integrity.py), checked once per process: results do not change under a running dashboard.
        Damaged parts and runs are left out of every view; the pages name them."""
        def load() -> list[Damage]:
            from experiments.integrity import check_sweep

            return check_sweep(self.folder, self._listed_runs())
        return self._cached("damage", load)

    def layout(self) -> Layout:
        """Where the done runs' rows are: the dataset's parts and the run folders not yet gathered (read once)."""
        def load() -> Layout:
            from experiments.dataset import Layout, layout

            ledger = self.folder / "ledger.sqlite"
            if not ledger.is_file() or not inside(self.folder, ledger):
                return Layout((), (), {})
            return layout(self.folder)
        return self._cached("layout", load)

    def source(self, table: str) -> str:
        """A SELECT of one table over every published, undamaged run (scenario, replicate, run_id, columns), for
        use as a subquery on this experiment's locked connection; it reads only files inside the folder."""
        from experiments.store import table_sql

        left_out = {d.owner for d in self.damage()}
        sql = table_sql(self.folder.resolve(), table, self.layout(), left_out)
        if sql is None:
            raise LookupError(f"experiment {self.id}: no run has a {table} table")
        return f"({sql})"

    def _check_summaries(self) -> None:
        from experiments.integrity import SUMMARY

        for damage in self.damage():
            if damage.owner == SUMMARY:
                raise DamagedResults(f"{self.id}: {damage.problem}; hukou resume {self.folder} rebuilds it")

    def summary_city(self) -> pd.DataFrame:
        """Mean, sd and 95% CI across replications per scenario, year, city and metric (the sweep's summary)."""
        def load() -> pd.DataFrame:
            self._check_summaries()
            frame = self.sql("SELECT * FROM read_parquet('{folder}/summary_city_year.parquet')")
            return _with_keys(frame)
        return self._cached("summary_city", load)

    def summary_district(self) -> pd.DataFrame:
        """Mean and CI across replications per scenario, year, district and metric."""
        def load() -> pd.DataFrame:
            self._check_summaries()
            frame = self.sql("SELECT * FROM read_parquet('{folder}/summary_district_year.parquet')")
            return _with_keys(frame)
        return self._cached("summary_district", load)

    def summary_city_at(self, year: float) -> pd.DataFrame:
        """``summary_city`` rows of one year (split once: a request filters a few hundred rows, not every year's)."""
        index = self._cached("summary_city:year", lambda: {
            float(y): _plain(part.reset_index(drop=True)) for y, part in self.summary_city().groupby("year",
                                                                                                  sort=False)})
        return index.get(float(year), self.summary_city().iloc[:0])

    def summary_district_at(self, city: str, year: float) -> pd.DataFrame:
        """``summary_district`` rows of one city and year (split once, like ``summary_city_at``)."""
        index = self._cached("summary_district:city_year", lambda: {
            (str(c), float(y)): _plain(part.reset_index(drop=True))
            for (c, y), part in self.summary_district().groupby(["city", "year"], sort=False)})
        return index.get((city, float(year)), self.summary_district().iloc[:0])

    def years(self) -> list[float]:
        """Recorded year labels, year ends first then census days (2010.83, 2020.83)."""
        return list(self._cached("years", lambda: [float(y) for y in
                                                  sorted(self.summary_city()["year"].unique().tolist())]))

    def run_values(self, year: float, metrics: Iterable[str]) -> pd.DataFrame:
        """Each run's value of some city metrics at one year (the seeds behind a summary), long format
        (key, replicate, city, metric, value); shared with other requests, so not to be changed in place.

        Every run's city table is read once (all metrics, all years: a few hundred thousand rows even for a
        thousand runs) and split by year and metric, so choosing another year or metric costs a dictionary look-up,
        not a read (nor a filter of two million rows: 60 ms a request at 580 runs).
        """
        index = self._cached("runs:city", self._index_run_values)
        parts = [index[key] for key in ((float(year), m) for m in metrics if m in CITY_METRICS) if key in index]
        if not parts:
            return pd.DataFrame({c: pd.Series(dtype="float64" if c == "value" else "object")
                                 for c in ("key", "replicate", "city", "metric", "value")})
        return parts[0] if len(parts) == 1 else pd.concat(parts, ignore_index=True)

    def _index_run_values(self) -> dict[tuple[float, str], pd.DataFrame]:
        frame = self._load_run_values()
        return {(float(year), str(metric)): _plain(part.drop(columns="year").reset_index(drop=True))
                for (year, metric), part in frame.groupby(["year", "metric"], sort=False)}

    def _load_run_values(self) -> pd.DataFrame:
        runs = self.published_runs()
        if not runs:
            return pd.DataFrame(columns=["key", "replicate", "city", "year", "metric", "value"])
        source = self.source("city_year")
        present = set(self.sql(f"DESCRIBE SELECT * FROM {source}")["column_name"])
        cols = ", ".join(f"CAST({m} AS DOUBLE) AS {m}" for m in CITY_METRICS if m in present)
        frame = self.sql(f"SELECT {_key_columns()}, city, year, {cols} FROM {source}")
        frame = _hex_keys(frame)
        return frame.melt(id_vars=["key", "replicate", "city", "year"], var_name="metric", value_name="value")

    def scenario_stats(self, view: str) -> pd.DataFrame:
        """Mean, variance and count of every run's compare metrics per scenario key, year, city (and zone for the
        ``zones`` view), one frame per view; any reform–baseline pair is then a join (``run_stats``)."""
        if view not in STATS_VIEWS:
            raise ValueError(f"unknown view {view!r}")
        return self._cached(f"stats:{view}", lambda: run_stats(zone_runs(self) if view == "zones"
                                                               else city_runs(self)))

    def city_stats(self, view: str, city: str) -> pd.DataFrame:
        """``scenario_stats`` of one city (index: key, year, metric, zone), kept per view and city."""
        def load() -> pd.DataFrame:
            stats = self.scenario_stats(view)
            if city not in set(stats.index.get_level_values("city").unique()):
                return stats.iloc[:0].droplevel("city")
            part = stats.xs(city, level="city", drop_level=True)
            # plain Python strings in the index: a request takes and iterates a few thousand rows of it, which
            # Arrow-backed strings (pandas 3's default) make several times slower
            part.index = part.index.set_levels([level.astype(object) if pd.api.types.is_string_dtype(level)
                                                else level for level in part.index.levels])
            return part
        return self._cached(f"stats:{view}:{city}", load)

    def city_pairs(self, view: str, city: str) -> PairedRuns:
        """Every run's compare metrics in one city as an array by row (year, zone, metric), scenario key and
        replicate (``dashboard.paired.paired_runs``), kept per view and city: what a paired reform–baseline
        difference is taken from when the sweep's scenarios share their draws and seeds (``Band.paired``)."""
        if view not in STATS_VIEWS:
            raise ValueError(f"unknown view {view!r}")

        def load() -> PairedRuns:
            from dashboard.paired import paired_runs

            runs = zone_runs(self) if view == "zones" else city_runs(self)
            part = runs[runs["city"] == city].drop(columns="city")
            # plain Python strings: a request builds its frame from these rows (see city_stats)
            return paired_runs(_plain(part.astype({"zone": object, "metric": object})))
        return self._cached(f"pairs:{view}:{city}", load)

    def warm(self) -> None:
        """Read every frame a page can ask for (summaries, per-run values, per-scenario statistics, districts)."""
        self.scenarios()
        self.summary_city()
        for year in self.years():
            self.summary_city_at(year)
            self.summary_district_at("", year)
        self.districts()
        self.seeds()
        self.run_values(0.0, ())
        for view in STATS_VIEWS:  # what the Compare page's differences are taken from: paired runs, else moments
            if self.band.paired:
                runs = zone_runs(self) if view == "zones" else city_runs(self)
                for city in dict.fromkeys(runs["city"]):
                    self.city_pairs(view, str(city))
                continue
            stats = self.scenario_stats(view)
            for city in dict.fromkeys(stats.index.get_level_values("city")):
                self.city_stats(view, str(city))

    def districts(self) -> pd.DataFrame:
        """District attributes (adcode, names, zone, city) as the runs recorded them."""
        def load() -> pd.DataFrame:
            runs = self.published_runs()
            if not runs:
                return pd.DataFrame(columns=["district", "district_name", "district_name_cn", "zone", "city"])
            return self.sql(f"SELECT DISTINCT district, district_name, district_name_cn, zone, city "
                            f"FROM {self.source('district_year')} WHERE run_id = ? ORDER BY city, district",
                            [runs[0]])
        return self._cached("districts", load)

    def run_file(self, run: str, name: str) -> bytes:
        """One of a done run's own files (``config.yaml``, ``manifest.json``, ``identity.json``): from the
        dataset's ``run_files`` table, or from the run's folder while it is not yet gathered."""
        if run in self.layout().loose:
            path = self.folder / "runs" / run / name
            if not inside(self.folder, path):
                raise LookupError(f"experiment {self.id}: {run}/{name} points outside its folder")
            return path.read_bytes()
        frame = self.sql(f"SELECT content FROM {self.source('run_files')} WHERE run_id = ? AND name = ?", [run, name])
        if frame.empty:
            raise LookupError(f"experiment {self.id}: run {run} has no {name}")
        return bytes(frame["content"].iloc[0])

    def published_runs(self) -> list[str]:
        """Done runs whose rows are readable (in an undamaged part of the dataset, or in an undamaged published
        folder not yet gathered), by run id."""
        damaged = {d.owner for d in self.damage()}
        part_of = {r: p.name for p in self.layout().parts for r in p.runs}
        return [r for r in self._listed_runs() if r not in damaged and part_of.get(r) not in damaged]

    def _listed_runs(self) -> list[str]:
        """Done runs that have rows: in a part of the dataset, or in a published run folder not yet gathered
        (renamed into place), by run id; names are checked, not trusted."""
        from experiments.dataset import part_path

        current = self.layout()
        runs = self.folder / "runs"
        loose = [r for r in current.loose if inside(runs, runs / r)]
        parts = [p for p in current.parts if all(inside(self.folder, part_path(self.folder, t, p.name))
                                                 for t in p.tables)]  # a file symlinked elsewhere is not served
        listed = [r for p in parts for r in p.runs] + loose
        return sorted(r for r in listed if re.fullmatch(r"s[0-9a-f]{1,16}-r[0-9]{4}", r))

    def seeds(self) -> list[int]:
        """The seeds of the published runs (from the ledger table written at the end of the sweep)."""
        def load() -> list[int]:
            path = self.folder / "runs.parquet"
            if not path.is_file():
                return []
            return [int(s) for s in self.sql("SELECT seed FROM read_parquet('{folder}/runs.parquet') "
                                             "WHERE state = 'done' ORDER BY run_id")["seed"]]
        return self._cached("seeds", load)

    def run_seeds(self) -> pd.DataFrame:
        """The seed of each finished run by scenario key and replicate (key, replicate, seed), from the ledger
        table: what tells a paired comparison (same seeds in both arms) from one of independent seeds."""
        def load() -> pd.DataFrame:
            if not (self.folder / "runs.parquet").is_file():
                return pd.DataFrame({"key": pd.Series(dtype=object), "replicate": pd.Series(dtype="int64"),
                                     "seed": pd.Series(dtype="int64")})
            frame = self.sql("SELECT scenario, replicate, seed FROM read_parquet('{folder}/runs.parquet') "
                             "WHERE state = 'done'")
            frame["key"] = frame["scenario"].astype("int64").map(lambda k: f"{int(k):x}")
            return _plain(frame[["key", "replicate", "seed"]].astype({"replicate": "int64", "seed": "int64"}))
        return self._cached("run_seeds", load)

    def row_count(self) -> int:
        """District-year rows across every run (what the load test counts)."""
        runs = self.published_runs()
        if not runs:
            return 0
        return int(self.sql(f"SELECT count(*) AS n FROM {self.source('district_year')}")["n"].iloc[0])

    def info(self) -> dict[str, Any]:
        """What each page shows as provenance: code version, spec hash, seeds, scale, years, command."""
        spec = self.manifest.get("spec", {})
        seeds = self.seeds()
        return {"id": self.id, "name": self.name, "code_version": self.manifest.get("code_version", "?"),
                "spec_hash": self.manifest.get("spec_hash", "?"), "root_seed": self.manifest.get("root_seed"),
                "replications": spec.get("replications"), "scale": spec.get("scale"),
                "years": f"{spec.get('start')}–{spec.get('end')}", "runs": self.manifest.get("runs"),
                "seeds": seeds, "created": self.manifest.get("created"), "command": reproduce_command(self)}


def _plain(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with Python strings instead of Arrow-backed ones (pandas 3's default): for the small slices a
    request filters and iterates, where Arrow's per-call overhead (a ``take`` per filter, a boxed value per item)
    cost more than the work."""
    strings = [c for c in frame.columns if pd.api.types.is_string_dtype(frame[c]) and frame[c].dtype != object]
    return frame.astype({c: object for c in strings}) if strings else frame


def _regime_text(value: Any) -> str:
    return "+".join(value) if isinstance(value, list) else str(value)


def _with_keys(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.copy()
    frame["key"] = frame["scenario"].astype("int64").map(lambda k: f"{int(k):x}")
    return frame


@dataclass
class ValidationReport:
    """One ``hukou validate`` report folder, read-only: its simulated-against-observed table and manifest.

    The table is read through DuckDB locked to the folder, like a sweep's files, and kept (reports do not change
    under a running dashboard).
    """

    id: str
    folder: Path
    shipped: bool = False
    _lock: threading.RLock = field(default_factory=threading.RLock, repr=False)
    _cache: dict[str, Any] = field(default_factory=dict, repr=False)
    views: ViewMemo = field(default_factory=ViewMemo, repr=False)  # the validation page's outputs by its inputs

    def table(self) -> pd.DataFrame:
        """One row per target (``REPORT_COLUMNS``): observed, simulated mean and band, errors, kind, source."""
        with self._lock:
            if "table" not in self._cache:
                frame = _locked_sql(self.folder, f"SELECT * FROM read_parquet('{{folder}}/{_REPORT_TABLE}')")
                missing = [c for c in REPORT_COLUMNS if c not in frame.columns]
                if missing:
                    raise ValueError(f"validation report {self.id} lacks columns {', '.join(missing)}")
                frame = frame[list(REPORT_COLUMNS)].copy()
                for col in ("year", "observed", "simulated_mean", "simulated_lo", "simulated_hi", "error",
                            "relative_error", "sigma_rel", "z"):
                    frame[col] = pd.to_numeric(frame[col], errors="coerce").astype("float64")
                for col in ("city", "measure", "target_kind", "target_id", "comparison", "confidence", "note",
                            "source"):
                    frame[col] = frame[col].fillna("").astype(str)
                frame["inside_band"] = frame["inside_band"].fillna(False).astype(bool)
                self._cache["table"] = frame
            return self._cache["table"]

    def summary(self) -> pd.DataFrame:
        """The report's error measures per target kind (``dashboard.figures.validation_summary``), computed once."""
        from dashboard.figures import validation_summary

        with self._lock:
            if "summary" not in self._cache:
                self._cache["summary"] = validation_summary(self.table())
            return self._cache["summary"]

    def _optional(self, key: str) -> pd.DataFrame:
        """A table of the report that older reports lack: empty (with its columns) when the file is missing."""
        name, columns = _SHARE_FILES[key]
        with self._lock:
            if key not in self._cache:
                if not (self.folder / name).is_file():
                    frame = pd.DataFrame({c: pd.Series(dtype="object") for c in columns})
                else:
                    frame = _locked_sql(self.folder, f"SELECT * FROM read_parquet('{{folder}}/{name}')")
                    missing = [c for c in columns if c not in frame.columns]
                    if missing:
                        raise ValueError(f"validation report {self.id}: {name} lacks columns {', '.join(missing)}")
                    frame = frame[list(columns)].copy()
                for col in frame.columns:
                    if col.endswith(("_share", "_lo", "_hi", "_pp")) or col in ("year", "ratio"):
                        frame[col] = pd.to_numeric(frame[col], errors="coerce").astype("float64")
                    elif col.startswith("beats_"):
                        frame[col] = frame[col].fillna(False).astype(bool)
                    elif col != "districts":
                        frame[col] = frame[col].fillna("").astype(str)
                self._cache[key] = frame
            return self._cache[key]

    def shares(self) -> pd.DataFrame:
        """One row per district-share target (``SHARE_COLUMNS``): observed, simulated and persistence shares;
        empty for a report made before district shares existed."""
        return self._optional("shares")

    def share_errors(self) -> pd.DataFrame:
        """Per city and year, the mean absolute error (pp) of the model and of persistence (``SHARE_ERROR_COLUMNS``);
        empty for a report made before district shares existed."""
        return self._optional("share_errors")

    @cached_property
    def manifest(self) -> dict[str, Any]:
        """The report's manifest (seeds, scale, end year, root seed, code version, calibrated values, created)."""
        path = self.folder / "manifest.json"
        return json.loads(path.read_text("utf-8")) if path.is_file() and inside(self.folder, path) else {}

    def info(self) -> dict[str, Any]:
        """What the page shows as provenance, and the command that makes the report again."""
        m = self.manifest
        seeds, scale, end = m.get("seeds"), m.get("scale"), m.get("end")
        out = "DIR" if self.shipped else str(self.folder)
        command = "hukou validate --out " + out + "".join(
            f" --{k} {v:g}" if isinstance(v, float) else f" --{k} {v}"
            for k, v in (("seeds", seeds), ("scale", scale), ("end", end)) if v is not None)
        return {"id": self.id, "shipped": self.shipped, "code_version": m.get("code_version", "?"),
                "seeds": seeds, "root_seed": m.get("root_seed"), "scale": scale,
                "years": f"2010–{end}" if end else "?", "created": m.get("created", "?"),
                "calibrated": dict(m.get("calibrated") or {}), "command": command}


def reproduce_command(experiment: Experiment) -> str:
    """The ``hukou`` command that recreates this experiment's results from its spec (same code version)."""
    if experiment.custom:
        return f"hukou sweep {experiment.folder / 'spec.yaml'} --out sweeps/{experiment.id}"
    return f"hukou sweep {experiment.folder / 'spec.yaml'} --out {experiment.folder}"


class Registry:
    """The experiments a dashboard serves, by identifier: the sweeps under ``--results`` and user scenarios.

    ``results`` is a sweep folder or a folder of sweep folders. ``scenarios`` is where the scenario builder's
    short sweeps live (written through ``experiments``, read here like any other).
    """

    def __init__(self, results: Path, scenarios: Path | None = None) -> None:
        self.results = Path(results).resolve()
        self.scenarios_dir = Path(scenarios).resolve() if scenarios else None
        self._experiments: dict[str, Experiment] = {}
        self._reports: dict[str, ValidationReport] = {}
        self._lock = threading.Lock()
        self.refresh()

    def refresh(self) -> None:
        """Find the sweep folders again (a scenario run adds one)."""
        found: dict[str, Experiment] = {}
        candidates = [self.results] if (self.results / "manifest.json").is_file() else (
            sorted(p for p in self.results.iterdir() if p.is_dir() and inside(self.results, p))
            if self.results.is_dir() else [])
        for folder in candidates:
            if (folder / "manifest.json").is_file() and (folder / "summary_city_year.parquet").is_file() \
                    and ID_PATTERN.match(folder.name):
                found[folder.name] = self._experiments.get(folder.name) or Experiment(folder.name, folder)
        if self.scenarios_dir is not None and self.scenarios_dir.is_dir():
            for folder in sorted(self.scenarios_dir.iterdir()):
                if folder.is_dir() and inside(self.scenarios_dir, folder) \
                        and (folder / "summary_city_year.parquet").is_file() \
                        and ID_PATTERN.match(folder.name) and folder.name not in found:
                    found[folder.name] = self._experiments.get(folder.name) or Experiment(folder.name, folder,
                                                                                         custom=True)
        reports = self._find_reports()
        with self._lock:
            self._experiments = found
            self._reports = reports

    def _find_reports(self) -> dict[str, ValidationReport]:
        """The shipped validation report, then report folders under ``--results``: the folder itself, a folder
        in it, or a folder inside a ``validation*`` folder in it (``hukou validate --out validation/NAME``:
        identifier ``validation.NAME``)."""
        found: dict[str, ValidationReport] = {}
        if (SHIPPED_REPORT / _REPORT_TABLE).is_file():
            found[SHIPPED_REPORT_ID] = self._reports.get(SHIPPED_REPORT_ID) or ValidationReport(
                SHIPPED_REPORT_ID, SHIPPED_REPORT, shipped=True)
        candidates: list[tuple[str, Path]] = [(self.results.name, self.results)]
        if self.results.is_dir():
            for child in sorted(p for p in self.results.iterdir() if p.is_dir() and inside(self.results, p)):
                candidates.append((child.name, child))
                if child.name.lower().startswith("validation") and not (child / _REPORT_TABLE).is_file():
                    candidates += [(f"{child.name}.{g.name}", g) for g in sorted(child.iterdir())
                                   if g.is_dir() and inside(self.results, g)]
        for ident, folder in candidates:
            if (folder / _REPORT_TABLE).is_file() and ID_PATTERN.match(ident) and ident not in found:
                found[ident] = self._reports.get(ident) or ValidationReport(ident, folder)
        return found

    def report_ids(self) -> list[str]:
        """Identifiers of the validation reports, the shipped one first."""
        return list(self._reports)

    def report(self, ident: Any) -> ValidationReport:
        """The validation report of an identifier from a request; anything else raises ``UnknownReport``."""
        if not isinstance(ident, str) or not ID_PATTERN.match(ident):
            raise UnknownReport("not a report identifier")
        report = self._reports.get(ident)
        if report is None:
            self.refresh()
            report = self._reports.get(ident)
        if report is None:
            raise UnknownReport(f"no validation report named {ident}")
        return report

    def resolve_report(self, ident: Any) -> ValidationReport | None:
        """``report`` for layouts: the named report, else the shipped (first) one, else None."""
        try:
            return self.report(ident)
        except UnknownReport:
            return next(iter(self._reports.values()), None)

    def ids(self) -> list[str]:
        """Identifiers of every experiment, results first then scenarios."""
        return list(self._experiments)

    def default_id(self) -> str | None:
        """The experiment a page opens without ``exp=`` in its URL."""
        return next(iter(self._experiments), None)

    def get(self, ident: Any) -> Experiment:
        """The experiment of an identifier from a request; anything else raises ``UnknownExperiment``."""
        if not isinstance(ident, str) or not ID_PATTERN.match(ident):
            raise UnknownExperiment("not an experiment identifier")
        experiment = self._experiments.get(ident)
        if experiment is None:
            self.refresh()
            experiment = self._experiments.get(ident)
        if experiment is None:
            raise UnknownExperiment(f"no experiment named {ident}")
        return experiment

    def hashes(self) -> dict[str, str]:
        """Identifier → manifest hash of every experiment (what the pages write into links beside the name)."""
        out = {}
        for ident, experiment in list(self._experiments.items()):
            try:
                out[ident] = experiment.manifest_hash
            except (OSError, ValueError):  # an unreadable manifest: linked by name only
                continue
        return out

    def by_hash(self, digest: Any) -> Experiment | None:
        """The experiment whose manifest hash a link names (None when none has it, or the value is not a hash);
        the folders are looked up again once, so a sweep renamed or added under a running dashboard is found."""
        if not isinstance(digest, str) or not HASH_PATTERN.match(digest):
            return None
        for attempt in range(2):
            for ident, value in self.hashes().items():
                if value == digest:
                    return self._experiments.get(ident)
            if attempt == 0:
                self.refresh()
        return None

    def resolve(self, ident: Any) -> Experiment | None:
        """``get`` for layouts: the named experiment, else the default one, else None (no results at all)."""
        try:
            return self.get(ident)
        except UnknownExperiment:
            default = self.default_id()
            return self._experiments[default] if default else None


_REGISTRY: Registry | None = None
STATS_VIEWS = ("city", "zones")


def run_stats(values: pd.DataFrame) -> pd.DataFrame:
    """Mean, variance and count of the runs' values per scenario key and every other key column (index)."""
    groups = [c for c in values.columns if c not in ("replicate", "value")]
    v = values.dropna(subset=["value"])
    return v.groupby(groups, dropna=False)["value"].agg(["mean", "var", "count"])


def warm(reg: Registry) -> dict[str, float]:
    """Read the frames of every experiment and validation report of the registry (``Experiment.warm``).

    ``dashboard.app.serve`` calls this before forking its workers. Each query opens and closes its own DuckDB
    connection, so no connection, and none of DuckDB's threads, is left for the fork to copy. Returns the seconds
    each experiment took, by identifier.
    """
    import time

    took: dict[str, float] = {}
    for ident in reg.ids():
        started = time.perf_counter()
        reg.get(ident).warm()
        took[ident] = time.perf_counter() - started
    for ident in reg.report_ids():
        report = reg.report(ident)
        report.table()
        report.summary()
        report.shares()
        report.share_errors()
    return took


def use_results(results: Path, scenarios: Path | None = None) -> Registry:
    """Set the process's registry (the app factory calls this; tests call it to call callbacks directly)."""
    global _REGISTRY
    _REGISTRY = Registry(results, scenarios)
    return _REGISTRY


def registry() -> Registry:
    """The process's registry (set by ``create_app`` or ``use_results``)."""
    if _REGISTRY is None:
        raise RuntimeError("no results registered: call dashboard.app.create_app(results) first")
    return _REGISTRY


def _key_columns() -> str:
    return "regexp_extract(run_id, '(s[0-9a-f]+)-r([0-9]+)', 1) AS skey, CAST(replicate AS INTEGER) AS replicate"


def _hex_keys(frame: pd.DataFrame) -> pd.DataFrame:
    frame["key"] = frame.pop("skey").str[1:].map(lambda h: f"{int(h, 16):x}")
    return frame


def city_runs(experiment: Experiment) -> pd.DataFrame:
    """Every run's compare metrics per year and city (long: key, replicate, year, city, zone='', metric, value)."""
    def load() -> pd.DataFrame:
        if not experiment.published_runs():
            return pd.DataFrame(columns=["key", "replicate", "year", "city", "zone", "metric", "value"])
        cols = ", ".join(f"CAST({m} AS DOUBLE) AS {m}" for m in COMPARE_METRICS)
        frame = experiment.sql(f"SELECT {_key_columns()}, year, city, {cols} FROM {experiment.source('city_year')}")
        frame = _hex_keys(frame)
        frame["zone"] = ""
        return frame.melt(id_vars=["key", "replicate", "year", "city", "zone"], var_name="metric",
                          value_name="value")
    return experiment._cached("city_runs", load)


def zone_runs(experiment: Experiment) -> pd.DataFrame:
    """Every run's compare metrics per year, city and zone, computed from the district table of each run."""
    def load() -> pd.DataFrame:
        if not experiment.published_runs():
            return pd.DataFrame(columns=["key", "replicate", "year", "city", "zone", "metric", "value"])
        cols = ", ".join(f"CAST({expr} AS DOUBLE) AS {m}" for m, expr in ZONE_SQL.items())
        frame = experiment.sql(
            f"SELECT skey, replicate, year, city, zone, {cols} FROM ("
            f"SELECT {_key_columns()}, run_id AS run, * EXCLUDE (run_id, scenario, replicate) "
            f"FROM {experiment.source('district_year')}) "
            f"GROUP BY skey, replicate, run, year, city, zone")
        frame = _hex_keys(frame)
        return frame.melt(id_vars=["key", "replicate", "year", "city", "zone"], var_name="metric",
                          value_name="value")
    return experiment._cached("zone_runs", load)
