"""Content hashes of a sweep's files, and the check that finds damaged runs.

Why: a results folder outlives the machine that wrote it (copied, synced, left on a failing disk). Without a
record of what was written, a flipped bit changes a number silently and a truncated file breaks every query. So
the worker hashes each file of a run before publishing it (into ``identity.json``), the coordinator records those
hashes in the ledger (table ``files``) and the hashes of the summaries it writes, and ``check_sweep`` compares
what is on disk with what was recorded: ``hukou verify`` reports it, ``hukou resume`` runs damaged runs again and
rebuilds damaged summaries, and queries and the dashboard leave damaged files out and name them.

SHA-256 from ``hashlib``: fast enough to hash every file on each open (a few hundred megabytes a second), and the
standard that ``sha256sum`` reproduces by hand.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Damage", "Digest", "SUMMARY", "SWEEP_SUMMARIES", "check_sweep", "digest_file", "digest_folder",
           "identity_files", "recorded_files", "describe"]

SUMMARY = "summary"  # the owner recorded for the sweep's summary files (run ids start with "s")
PART_PREFIX = "part-"  # owners that are parts of the dataset (experiments/dataset.py)
DATA = "data"
SWEEP_SUMMARIES = ("summary_city_year.parquet", "summary_district_year.parquet", "summary_difference_city_year.parquet",
                   "summary_difference_district_year.parquet", "runs.parquet")
IDENTITY = "identity.json"
# A file's record: its SHA-256 (hex) and its size in bytes.
Digest = tuple[str, int]


@dataclass(frozen=True)
class Damage:
    """One damaged (or unverifiable) run or summary file: what is wrong, in words that name the file."""

    owner: str  # a run id, or SUMMARY
    problem: str

    def __str__(self) -> str:
        return f"{describe(self.owner)}: {self.problem}"


def describe(owner: str) -> str:
    """How a message names an owner of files: the summaries, a part of the dataset, or a run."""
    if owner == SUMMARY:
        return "summary"
    return f"dataset part {owner}" if owner.startswith(PART_PREFIX) else f"run {owner}"


def _parts_of(ledger_path: Path) -> tuple[dict[str, str], dict[str, tuple[str, ...]]]:
    """From a ledger: the part of each run gathered into the dataset, and each part's tables (both empty for a
    ledger made before the dataset, experiments/dataset.py)."""
    if not ledger_path.is_file():
        return {}, {}
    db = sqlite3.connect(f"file:{ledger_path}?mode=ro", uri=True)
    try:
        if not db.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name='parts'").fetchone():
            return {}, {}
        where = dict(db.execute("SELECT run_id, part FROM runs WHERE part IS NOT NULL").fetchall())
        tables = {name: tuple(t for t in text.split(",") if t)
                  for name, text in db.execute("SELECT part, tables FROM parts")}
        return where, tables
    finally:
        db.close()


def digest_file(path: Path) -> Digest:
    """SHA-256 and size of one file, read in 1 MiB blocks."""
    h = hashlib.sha256()
    size = 0
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            h.update(block)
            size += len(block)
    return h.hexdigest(), size


def digest_folder(folder: Path) -> dict[str, Digest]:
    """The digests of a run folder's files by name (``identity.json``, which will carry them, excepted)."""
    return {p.name: digest_file(p) for p in sorted(Path(folder).iterdir()) if p.is_file() and p.name != IDENTITY}


def identity_files(run_folder: Path) -> dict[str, Digest] | None:
    """The digests the worker wrote into a published run's ``identity.json``, or None if it has none."""
    try:
        files = json.loads((run_folder / IDENTITY).read_text("utf-8")).get("files")
    except (OSError, ValueError, AttributeError):
        return None
    if not isinstance(files, dict):
        return None
    return {str(k): (str(v[0]), int(v[1])) for k, v in files.items()}


def recorded_files(ledger_path: Path) -> dict[str, dict[str, Digest]]:
    """The ``files`` table of a ledger, by owner: {owner: {name: (sha256, bytes)}} (empty for older ledgers)."""
    db = sqlite3.connect(f"file:{ledger_path}?mode=ro", uri=True)
    try:
        if not db.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name='files'").fetchone():
            return {}
        out: dict[str, dict[str, Digest]] = {}
        for owner, name, sha, size in db.execute("SELECT owner, name, sha256, bytes FROM files ORDER BY 1, 2"):
            out.setdefault(owner, {})[name] = (sha, size)
        return out
    finally:
        db.close()


def _compare(folder: Path, recorded: dict[str, Digest]) -> str | None:
    """What differs between the files in ``folder`` and their record, or None when all match."""
    for name, (sha, size) in sorted(recorded.items()):
        path = folder / name
        if not path.is_file():
            return f"{name} is missing"
        actual_size = path.stat().st_size
        if actual_size != size:
            return f"{name} has {actual_size} bytes, {size} were written"
        if _content_hash(path) != sha:
            return f"{name} changed after it was written (content hash differs)"
    return None


# Files hashed by this process, by identity and state: (path, device, inode, size, mtime, ctime) -> SHA-256. A
# process that opens the same sweep again (a calibration querying after every generation, the dashboard) does not
# hash 2 GB again for each query: any write to a file changes its mtime and ctime, so only a file that is unchanged
# since it was hashed is taken from here. `hukou verify` and `hukou resume` run in their own process and hash all.
_HASHED: dict[tuple[str, int, int, int, int, int], str] = {}


def _content_hash(path: Path) -> str:
    info = path.stat()
    key = (str(path.resolve()), info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns)
    if key not in _HASHED:
        _HASHED[key] = digest_file(path)[0]
    return _HASHED[key]


def _unrecorded(folder: Path, names: tuple[str, ...]) -> str | None:
    """For a run without recorded hashes: only whether its tables are there and readable as Parquet."""
    import pyarrow.parquet as pq

    for name in names:
        path = folder / name
        if not path.is_file():
            return f"{name} is missing"
        try:
            pq.read_metadata(path)
        except Exception as exc:  # any reader error means the file cannot be used
            return f"{name} is not readable ({str(exc).splitlines()[0][:120]})"
    return None


def check_sweep(folder: Path, done: list[str], *, tables: tuple[str, ...] = ("city_year.parquet",
                                                                             "district_year.parquet")
                ) -> list[Damage]:
    """Every damaged run or dataset part among ``done`` (run ids the ledger calls done) and every damaged summary
    file.

    A run gathered into the dataset is checked through its part: each of the part's files against the hashes
    recorded with it (one ``Damage`` per part, owner the part's name; all its runs are affected). A run still in its
    own folder is checked against the hashes recorded in the ledger, else those in its ``identity.json``; a run
    with neither (made before hashes were recorded) is checked only for its tables being present and readable.
    """
    folder = Path(folder)
    recorded = recorded_files(folder / "ledger.sqlite") if (folder / "ledger.sqlite").is_file() else {}
    where, part_tables = _parts_of(folder / "ledger.sqlite")
    found: list[Damage] = []
    parts = sorted({where[r] for r in done if r in where})

    def check_part(part: str) -> str | None:
        files = recorded.get(part)
        names = tuple(f"{t}/{part}.parquet" for t in part_tables.get(part, ()))
        return _compare(folder / DATA, files) if files else _unrecorded(folder / DATA, names)

    # hashlib releases the GIL on large blocks: the parts are hashed on every CPU
    with ThreadPoolExecutor(max_workers=max(1, min(len(parts), os.cpu_count() or 1))) as pool:
        problems = list(pool.map(check_part, parts))
    for part, problem in zip(parts, problems, strict=True):
        if problem:
            runs = sum(1 for p in where.values() if p == part)
            found.append(Damage(part, f"{problem}; its {runs} runs are left out"))
    for run_id in done:
        if run_id in where:
            continue
        run_folder = folder / "runs" / run_id
        if not (run_folder / IDENTITY).is_file():
            found.append(Damage(run_id, "its folder is missing"))
            continue
        files = recorded.get(run_id) or identity_files(run_folder)
        problem = _compare(run_folder, files) if files else _unrecorded(run_folder, tables)
        if problem:
            found.append(Damage(run_id, problem))
    summaries = recorded.get(SUMMARY)
    if summaries:
        problem = _compare(folder, summaries)
        if problem:
            found.append(Damage(SUMMARY, problem))
    else:
        present = tuple(n for n in SWEEP_SUMMARIES if (folder / n).is_file())
        problem = _unrecorded(folder, present)
        if problem:
            found.append(Damage(SUMMARY, problem))
    return found
