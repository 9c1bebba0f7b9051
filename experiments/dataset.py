"""The dataset of a sweep: every run's rows in one Parquet dataset per table, a few files each, written atomically.

Why: a run writes its own folder (``city_year.parquet``, ``district_year.parquet``, manifest, config, identity):
a calibration of thousands of runs left tens of thousands of small files, slow to list, copy, hash and query.
So the coordinator gathers published run folders into *parts*: one file per table and part under
``SWEEP/data/<table>/<part>.parquet`` (``city_year``, ``district_year``, and ``run_files``, the runs' other
files — manifest, config, identity — one row each), every row tagged with ``run_id``, ``scenario`` and
``replicate``, sorted by run and key.

- **As batches finish**: every ``BATCH_RUNS`` published runs become a level-0 part; ``FANOUT`` parts of one level
  are merged into one of the next, so a running sweep has at most about ``FANOUT`` parts a level.
- **At the end of every coordinator session**: the parts are rewritten into the canonical layout, the done runs
  sorted by run id in files of ``RUNS_PER_FILE`` runs, named by their index and a hash of their run ids. The
  layout is a function of the set of done runs only, so one worker, several workers, Dask, or a sweep killed
  and resumed give byte-identical files, and a finished sweep whose layout is already canonical is not rewritten.
- **Atomically**: a part is written to hidden temporary files, renamed into place, and then recorded in the ledger
  with its runs and content hashes in one transaction (``Ledger.commit_parts``); only then are its sources (run
  folders, merged parts) removed. A crash before the commit leaves unrecorded files (removed on the next start)
  and the sources whole; after it, sources the ledger no longer names (removed on the next start). The ledger
  says where every done run's rows are, so resume redoes only missing runs and never duplicates rows.

The store (experiments/store.py) reads the recorded parts plus the runs not yet gathered, so queries work during a
sweep and on sweeps made before the dataset (all of whose runs are loose); ``hukou compact DIR`` gathers those.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from experiments.integrity import DATA, IDENTITY, PART_PREFIX, Digest, digest_file
from experiments.ledger import Ledger, PartRecord

__all__ = ["DATA", "RUN_FILES", "BATCH_RUNS", "FANOUT", "RUNS_PER_FILE", "CANONICAL_LEVEL", "DatasetWriter",
           "Layout", "layout", "part_path", "is_part", "tidy"]

log = logging.getLogger(__name__)
RUN_FILES = "run_files"  # the table of each run's files other than tables (manifest, config, identity)
BATCH_RUNS = 32  # published runs gathered into one level-0 part (a crash leaves at most this many loose)
FANOUT = 8  # parts of one level merged into one part of the next, while they hold fewer than RUNS_PER_FILE runs
RUNS_PER_FILE = 256  # runs per file of the canonical layout (a damaged file costs at most this many runs)
CANONICAL_LEVEL = 1000  # the level of canonical parts: never merged by the batch levels
# Rows per Parquet row group: large in the canonical layout, for scans; small in the parts of a running sweep, so
# that the canonical rewrite reads from each part only the row groups whose run ids it needs.
ROW_GROUP_ROWS = 65_536
BATCH_ROW_GROUP_ROWS = 8_192
_RUNS = "runs"


def part_path(folder: Path, table: str, part: str) -> Path:
    """Where one table of one part lives."""
    return Path(folder) / DATA / table / f"{part}.parquet"


def is_part(owner: str) -> bool:
    """Whether an owner of recorded files (integrity) is a dataset part, not a run or the summaries."""
    return owner.startswith(PART_PREFIX)


@dataclass(frozen=True)
class Layout:
    """Where a sweep's done runs' rows are: recorded parts, and loose runs (published folders not yet gathered)."""

    parts: tuple[PartRecord, ...]
    loose: tuple[str, ...]
    ids: dict[str, tuple[int, int]]  # run id -> (scenario, replicate), every done run

    def tables(self) -> list[str]:
        """Tables present in the parts or the loose runs' folders (parts' first, then the usual order)."""
        names = {t for p in self.parts for t in p.tables}
        return sorted(names, key=lambda t: (t not in ("city_year", "district_year"), t))


def layout(folder: Path) -> Layout:
    """Read from the ledger (read-only) where every done run's rows are."""
    folder = Path(folder)
    ledger = Ledger(folder / "ledger.sqlite", readonly=True)
    try:
        return _layout(folder, ledger)
    finally:
        ledger.close()


def _layout(folder: Path, ledger: Ledger) -> Layout:
    parts = tuple(ledger.parts())
    where = ledger.run_parts()
    ids = {r.run_id: (r.scenario, r.replicate) for r in ledger.rows() if r.state == "done"}
    loose = tuple(r for r, part in where.items() if part is None and (folder / _RUNS / r / IDENTITY).is_file())
    return Layout(parts, loose, ids)


def tidy(folder: Path, ledger: Ledger) -> None:
    """After a crash: remove part files the ledger does not record (written before their commit, or merged into
    another part after it) and temporary files, and the folders of runs whose rows a recorded part holds."""
    folder = Path(folder)
    recorded = {p.name for p in ledger.parts()}
    data = folder / DATA
    if data.is_dir():
        for table in data.iterdir():
            if not table.is_dir():
                continue
            for path in table.iterdir():
                if path.name.startswith(".") or (path.suffix == ".parquet" and path.stem not in recorded):
                    path.unlink(missing_ok=True)
    for run_id, part in ledger.run_parts().items():
        if part is not None and (folder / _RUNS / run_id).exists():
            _remove_run_folder(folder, run_id)


def _remove_run_folder(folder: Path, run_id: str) -> None:
    """Out of sight in one rename (a hidden name the store never reads), then removed."""
    source = folder / _RUNS / run_id
    aside = folder / _RUNS / f".gathered-{run_id}"
    shutil.rmtree(aside, ignore_errors=True)
    try:
        os.replace(source, aside)
    except FileNotFoundError:
        return
    shutil.rmtree(aside, ignore_errors=True)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _sorted(table: pa.Table) -> pa.Table:
    """Rows sorted by run id, each run's rows in the order the run wrote them (a stable sort; every run's rows
    arrive together from one source), so a run extracted from the dataset is its own table again."""
    return table.take(pc.sort_indices(table, sort_keys=[("run_id", "ascending")]))


def _tag(table: pa.Table, run_id: str, scenario: int, replicate: int) -> pa.Table:
    n = table.num_rows
    head = pa.table({"run_id": pa.array([run_id] * n, pa.string()), "scenario": pa.array([scenario] * n, pa.int64()),
                     "replicate": pa.array([replicate] * n, pa.int64())})
    for name in table.column_names:
        head = head.append_column(table.schema.field(name), table.column(name))
    return head


def _loose_tables(folder: Path, run_id: str, scenario: int, replicate: int) -> dict[str, pa.Table]:
    """One published run folder as tagged tables: each ``*.parquet`` is a table, the other files rows of
    ``run_files`` (name, content)."""
    run = folder / _RUNS / run_id
    out: dict[str, pa.Table] = {}
    names, contents = [], []
    for path in sorted(run.iterdir()):
        if path.suffix == ".parquet":
            out[path.stem] = _tag(pq.read_table(path).replace_schema_metadata(None), run_id, scenario, replicate)
        elif path.is_file():
            names.append(path.name)
            contents.append(path.read_bytes())
    out[RUN_FILES] = _tag(pa.table({"name": pa.array(names, pa.string()), "content": pa.array(contents, pa.binary())}),
                          run_id, scenario, replicate)
    return out


def _part_rows(path: Path, runs: list[str]) -> pa.Table:
    """The rows of ``runs`` (sorted) in one part file, reading only the row groups whose run ids may hold them."""
    file = pq.ParquetFile(path)
    index = file.schema_arrow.get_field_index("run_id")
    low, high = runs[0], runs[-1]
    groups = []
    for i in range(file.num_row_groups):
        stats = file.metadata.row_group(i).column(index).statistics
        if stats is None or not stats.has_min_max or not (stats.max < low or stats.min > high):
            groups.append(i)
    table = file.read_row_groups(groups, use_threads=False).replace_schema_metadata(None)
    return table.filter(pc.is_in(table["run_id"], value_set=pa.array(runs, pa.string())))


def _write(folder: Path, name: str, level: int, runs: list[str], sources: Mapping[str, str | None],
           ids: dict[str, tuple[int, int]], tables_of: dict[str, tuple[str, ...]]) -> tuple[PartRecord,
                                                                                          dict[str, Digest]]:
    """Write part ``name`` holding ``runs`` (sorted) from their sources (a part name, or None: the run's folder):
    each table to a hidden temporary file, flushed, then renamed into place. Returns its record and file hashes."""
    from_parts: dict[str, list[str]] = {}
    loose: list[str] = []
    for run in runs:
        part = sources[run]
        (loose.append(run) if part is None else from_parts.setdefault(part, []).append(run))
    pieces: dict[str, list[pa.Table]] = {}
    for part, members in sorted(from_parts.items()):
        for table in tables_of[part]:
            pieces.setdefault(table, []).append(_part_rows(part_path(folder, table, part), members))
    for run in loose:
        for table, rows in _loose_tables(folder, run, *ids[run]).items():
            pieces.setdefault(table, []).append(rows)
    files: dict[str, Digest] = {}
    for table, parts in sorted(pieces.items()):
        combined = _sorted(pa.concat_tables(parts, promote_options="permissive"))
        target = part_path(folder, table, name)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.tmp-{os.getpid()}")
        rows = ROW_GROUP_ROWS if level == CANONICAL_LEVEL else BATCH_ROW_GROUP_ROWS
        pq.write_table(combined, tmp, row_group_size=rows, compression="zstd")
        _fsync(tmp)
        os.replace(tmp, target)
        files[f"{table}/{target.name}"] = digest_file(target)
    for table in pieces:
        _fsync(part_path(folder, table, name).parent)
    return PartRecord(name, level, tuple(sorted(pieces)), tuple(runs)), files


def _canonical_name(index: int, runs: list[str]) -> str:
    return f"{PART_PREFIX}c{index:04d}-{hashlib.sha256(chr(10).join(runs).encode()).hexdigest()[:12]}"


class DatasetWriter:
    """The coordinator's side of the dataset: gathers published runs into parts as they finish, merges parts,
    and writes the canonical layout at the end of a session. Every ledger write is fenced by the sweep lock."""

    def __init__(self, folder: Path, ledger: Ledger, *, fence: Callable[[], None] = lambda: None,
                 batch_runs: int = BATCH_RUNS, fanout: int = FANOUT, runs_per_file: int = RUNS_PER_FILE) -> None:
        self.folder = Path(folder)
        self.ledger = ledger
        self.fence = fence
        self.batch_runs = max(1, batch_runs)
        self.fanout = max(2, fanout)
        self.runs_per_file = max(1, runs_per_file)
        current = _layout(self.folder, ledger)
        self.ids = dict(current.ids)
        self.loose = list(current.loose)

    def added(self, run_id: str, scenario: int, replicate: int) -> None:
        """A run was recorded done (its folder published): gathered with the next full batch."""
        self.ids[run_id] = (scenario, replicate)
        self.loose.append(run_id)
        if len(self.loose) >= self.batch_runs:
            self.flush()

    def _parts(self) -> list[PartRecord]:
        return self.ledger.parts()

    def _commit(self, new: list[tuple[PartRecord, dict[str, Digest]]], dropped: Iterable[PartRecord],
                loose: Iterable[str] = ()) -> None:
        """Record the new parts (one transaction), then remove what they replaced."""
        dropped = [p for p in dropped if p.name not in {n.name for n, _ in new}]
        self.fence()
        self.ledger.commit_parts(new, [p.name for p in dropped])
        self.fence()
        for part in dropped:
            for table in part.tables:
                part_path(self.folder, table, part.name).unlink(missing_ok=True)
        for run_id in loose:
            _remove_run_folder(self.folder, run_id)

    def flush(self) -> None:
        """Gather the loose runs into a level-0 part, then merge ``fanout`` parts of a level into one of the next
        while the parts hold fewer than ``runs_per_file`` runs each (bigger merges would cost memory and time for
        nothing: the canonical layout rewrites them at the end). So a running sweep has at most ``fanout - 1``
        parts a level below that size, and one part per ``fanout`` of the level that reaches it."""
        if self.loose:
            runs = sorted(set(self.loose))
            parts = self._parts()
            number = 1 + max((int(p.name[len(PART_PREFIX) + 1:]) for p in parts
                              if p.name.startswith(f"{PART_PREFIX}b")), default=0)
            record = _write(self.folder, f"{PART_PREFIX}b{number:06d}", 0, runs, dict.fromkeys(runs), self.ids, {})
            self._commit([record], (), runs)
            self.loose = []
        level = 0
        while True:
            parts = self._parts()
            levels = sorted({p.level for p in parts if p.level >= level and p.level != CANONICAL_LEVEL})
            if not levels:
                break
            level = levels[0]
            same = [p for p in parts if p.level == level][: self.fanout]
            if len(same) == self.fanout and all(len(p.runs) < self.runs_per_file for p in same):
                self._merge(same, level + 1, parts)
            else:
                level += 1

    def _merge(self, parts: list[PartRecord], level: int, everything: list[PartRecord]) -> None:
        runs = sorted(r for p in parts for r in p.runs)
        number = 1 + max((int(p.name[len(PART_PREFIX) + 1:]) for p in everything
                          if p.name.startswith(f"{PART_PREFIX}b")), default=0)
        sources = {r: p.name for p in parts for r in p.runs}
        record = _write(self.folder, f"{PART_PREFIX}b{number:06d}", level, runs, sources, self.ids,
                        {p.name: p.tables for p in parts})
        self._commit([record], parts)

    def finalise(self) -> None:
        """Gather what is loose, then rewrite the parts into the canonical layout (``RUNS_PER_FILE`` runs a file,
        in run id order), unless it is canonical already."""
        if self.loose:
            self.flush()
        parts = self._parts()
        sources = {r: p.name for p in parts for r in p.runs}
        order = sorted(sources)
        chunks = [order[i:i + self.runs_per_file] for i in range(0, len(order), self.runs_per_file)]
        targets = [(_canonical_name(i, chunk), chunk) for i, chunk in enumerate(chunks)]
        have = {p.name for p in parts}
        if {name for name, _ in targets} == have:
            return
        tables_of = {p.name: p.tables for p in parts}
        new = [_write(self.folder, name, CANONICAL_LEVEL, chunk, sources, self.ids, tables_of)
               for name, chunk in targets if name not in have]
        self._commit(new, [p for p in parts if p.name not in {name for name, _ in targets}])
        log.info("dataset: %d runs in %d parts", len(order), len(targets))
