"""The ledger of a sweep (which runs are planned, running, done or failed) and the lock of its one coordinator.

The ledger is an SQLite file: every state change is a committed transaction, so a coordinator killed at any
instant leaves a consistent ledger behind, and the next coordinator knows exactly what was done. Only the
coordinator writes it; workers report to the coordinator. Two coordinators on one sweep would run runs twice, so
a lock file (pid, host, heartbeat) admits one; a lock whose process is dead (same host) or whose heartbeat is old
is stale and is reclaimed.
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from experiments.integrity import Digest

__all__ = ["Ledger", "LedgerRow", "PartRecord", "SweepLock", "SweepLocked", "SweepLockLost", "STATES"]

STATES = ("planned", "running", "done", "failed")
_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY, scenario INTEGER NOT NULL, replicate INTEGER NOT NULL, seed INTEGER NOT NULL,
    state TEXT NOT NULL DEFAULT 'planned', attempts INTEGER NOT NULL DEFAULT 0,
    worker_deaths INTEGER NOT NULL DEFAULT 0, worker TEXT, error TEXT,
    started REAL, finished REAL, seconds REAL
);
CREATE TABLE IF NOT EXISTS files (
    owner TEXT NOT NULL, name TEXT NOT NULL, sha256 TEXT NOT NULL, bytes INTEGER NOT NULL,
    PRIMARY KEY (owner, name)
);
CREATE TABLE IF NOT EXISTS parts (
    part TEXT PRIMARY KEY, level INTEGER NOT NULL, tables TEXT NOT NULL
);
"""


@dataclass(frozen=True)
class LedgerRow:
    """One run's line in the ledger."""

    run_id: str
    scenario: int
    replicate: int
    seed: int
    state: str
    attempts: int
    worker_deaths: int
    worker: str | None
    error: str | None
    seconds: float | None


@dataclass(frozen=True)
class PartRecord:
    """One part of the sweep's dataset (experiments/dataset.py): its name, merge level, tables and runs."""

    name: str
    level: int
    tables: tuple[str, ...]
    runs: tuple[str, ...]


class Ledger:
    """The runs of a sweep and their states, in ``ledger.sqlite``; written by the coordinator only.

    Column ``runs.part`` names the dataset part that holds a done run's rows (NULL while its rows are still in its
    own published folder, and for every run of a sweep made before the dataset existed); table ``parts`` lists
    the parts. A part and the runs it holds are recorded in one transaction, so the ledger always says exactly
    where each run's rows are: resume neither loses nor duplicates them.
    """

    def __init__(self, path: Path, *, readonly: bool = False) -> None:
        self.path = Path(path)
        uri = f"file:{self.path}?mode=ro" if readonly else f"file:{self.path}"
        self._db = sqlite3.connect(uri, uri=True, timeout=30, isolation_level=None)
        if not readonly:
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.executescript(_SCHEMA)
            if "part" not in self._columns("runs"):  # a ledger made before the dataset: its runs are all loose
                self._db.execute("ALTER TABLE runs ADD COLUMN part TEXT")

    def _columns(self, table: str) -> set[str]:
        return {r[1] for r in self._db.execute(f"PRAGMA table_info({table})")}

    def parts(self) -> list[PartRecord]:
        """The dataset's parts with their runs, by name (none for a ledger made before the dataset)."""
        if "part" not in self._columns("runs") or not self._columns("parts"):
            return []
        runs: dict[str, list[str]] = {}
        for run_id, part in self._db.execute("SELECT run_id, part FROM runs WHERE part IS NOT NULL "
                                             "ORDER BY run_id"):
            runs.setdefault(part, []).append(run_id)
        return [PartRecord(name, level, tuple(t for t in tables.split(",") if t), tuple(runs.get(name, ())))
                for name, level, tables in self._db.execute("SELECT part, level, tables FROM parts ORDER BY part")]

    def run_parts(self) -> dict[str, str | None]:
        """The part of every done run (None while it is loose: rows in its own folder)."""
        has_part = "part" in self._columns("runs")
        sql = f"SELECT run_id, {'part' if has_part else 'NULL'} FROM runs WHERE state='done' ORDER BY run_id"
        return dict(self._db.execute(sql).fetchall())

    def commit_parts(self, new: Sequence[tuple[PartRecord, Mapping[str, Digest]]], dropped: Iterable[str]) -> None:
        """In one transaction: record the ``new`` parts with the content hashes of their files and move their runs
        into them (forgetting the runs' own file records: their folders go next), and forget the ``dropped``
        parts (their runs are all in new ones). A crash before the commit leaves the old record whole."""
        with self._db:
            self._db.execute("BEGIN")
            for part, files in new:
                self._db.execute("INSERT OR REPLACE INTO parts (part, level, tables) VALUES (?,?,?)",
                                 (part.name, part.level, ",".join(part.tables)))
                self._db.executemany("UPDATE runs SET part=? WHERE run_id=?", [(part.name, r) for r in part.runs])
                self._db.executemany("DELETE FROM files WHERE owner=?", [(r,) for r in part.runs])
                self._replace_files(part.name, files)
            for name in dropped:
                self._db.execute("DELETE FROM parts WHERE part=?", (name,))
                self._db.execute("DELETE FROM files WHERE owner=?", (name,))

    def redo_parts(self, problems: Mapping[str, str]) -> list[str]:
        """Damaged parts forgotten and their runs planned again with the reason kept; returns the runs."""
        redone: list[str] = []
        with self._db:
            self._db.execute("BEGIN")
            for name, problem in problems.items():
                runs = [r for (r,) in self._db.execute("SELECT run_id FROM runs WHERE part=?", (name,))]
                self._db.execute("UPDATE runs SET state='planned', part=NULL, error=? WHERE part=?",
                                 (f"damaged dataset part {name}, run again: {problem}", name))
                self._db.execute("DELETE FROM parts WHERE part=?", (name,))
                self._db.execute("DELETE FROM files WHERE owner=?", (name,))
                redone.extend(runs)
        return sorted(redone)

    def close(self) -> None:
        """Close the database."""
        self._db.close()

    def add(self, runs: Iterable[tuple[str, int, int, int]]) -> int:
        """Plan runs ``(run_id, scenario, replicate, seed)`` not yet in the ledger; returns how many were new."""
        before = self.total()
        with self._db:
            self._db.execute("BEGIN")
            self._db.executemany("INSERT OR IGNORE INTO runs (run_id, scenario, replicate, seed) VALUES (?,?,?,?)",
                                 list(runs))
        return self.total() - before

    def _set(self, sql: str, *args: object) -> None:
        self._db.execute(sql, args)

    def running(self, run_id: str, worker: str) -> None:
        """A run was handed to a worker: one more attempt."""
        self._set("UPDATE runs SET state='running', attempts=attempts+1, worker=?, started=? WHERE run_id=?",
                  worker, time.time(), run_id)

    def done(self, run_id: str, seconds: float, worker: str, files: Mapping[str, Digest] | None = None) -> None:
        """A run's folder is published, with the content hashes of its files (experiments/integrity.py)."""
        with self._db:
            self._db.execute("BEGIN")
            self._db.execute("UPDATE runs SET state='done', error=NULL, seconds=?, worker=?, finished=? "
                             "WHERE run_id=?", (seconds, worker, time.time(), run_id))
            self._replace_files(run_id, files or {})

    def record_files(self, owner: str, files: Mapping[str, Digest]) -> None:
        """Record the content hashes of a run's (or the summaries') files, replacing any earlier record."""
        with self._db:
            self._db.execute("BEGIN")
            self._replace_files(owner, files)

    def _replace_files(self, owner: str, files: Mapping[str, Digest]) -> None:
        self._db.execute("DELETE FROM files WHERE owner=?", (owner,))
        self._db.executemany("INSERT INTO files (owner, name, sha256, bytes) VALUES (?,?,?,?)",
                             [(owner, name, sha, size) for name, (sha, size) in sorted(files.items())])

    def redo(self, run_ids: Iterable[str], reasons: Mapping[str, str]) -> None:
        """Damaged runs (missing or changed files) planned again, their records forgotten, the reason kept."""
        with self._db:
            self._db.execute("BEGIN")
            for run_id in run_ids:
                self._db.execute("UPDATE runs SET state='planned', error=? WHERE run_id=?",
                                 (f"damaged, run again: {reasons[run_id]}", run_id))
                self._db.execute("DELETE FROM files WHERE owner=?", (run_id,))

    def failed(self, run_id: str, error: str, worker: str | None = None) -> None:
        """A run raised (or its worker died too often): recorded with the error, not retried."""
        self._set("UPDATE runs SET state='failed', error=?, worker=COALESCE(?, worker), finished=? WHERE run_id=?",
                  error, worker, time.time(), run_id)

    def replan(self, run_id: str, error: str) -> None:
        """A run could not be written (full disk, read-only folder): planned again, the error kept for status."""
        self._set("UPDATE runs SET state='planned', error=? WHERE run_id=?", error, run_id)

    def worker_died(self, run_id: str, error: str, max_deaths: int) -> bool:
        """A worker died during a run: plan it again, or fail it after ``max_deaths``. True when re-planned."""
        (deaths,) = self._db.execute("SELECT worker_deaths FROM runs WHERE run_id=?", (run_id,)).fetchone()
        deaths += 1
        state = "planned" if deaths < max_deaths else "failed"
        message = f"worker died {deaths} time(s); last: {error}"
        self._set("UPDATE runs SET state=?, worker_deaths=?, error=?, finished=? WHERE run_id=?",
                  state, deaths, message, time.time(), run_id)
        return state == "planned"

    def recover(self, published: set[str]) -> tuple[int, int]:
        """After a coordinator stopped: runs left 'running' become done (folder published) or planned again."""
        rows = [r[0] for r in self._db.execute("SELECT run_id FROM runs WHERE state='running'")]
        done = [r for r in rows if r in published]
        again = [r for r in rows if r not in published]
        with self._db:
            self._db.execute("BEGIN")
            self._db.executemany("UPDATE runs SET state='done', error=NULL, finished=? WHERE run_id=?",
                                 [(time.time(), r) for r in done])
            self._db.executemany("UPDATE runs SET state='planned' WHERE run_id=?", [(r,) for r in again])
        return len(done), len(again)

    def retry_failed(self) -> int:
        """Plan every failed run again with a fresh count of worker deaths (its attempts stay counted); returns
        how many. For failures that were not the run's fault: a full disk, a lost cluster, a since-fixed bug."""
        with self._db:
            self._db.execute("BEGIN")
            cur = self._db.execute("UPDATE runs SET state='planned', worker_deaths=0 WHERE state='failed'")
        return cur.rowcount

    def ids(self, state: str) -> list[str]:
        """Run ids in one state, sorted."""
        return [r[0] for r in self._db.execute("SELECT run_id FROM runs WHERE state=? ORDER BY run_id", (state,))]

    def counts(self) -> dict[str, int]:
        """Number of runs in each state."""
        out = dict.fromkeys(STATES, 0)
        for state, n in self._db.execute("SELECT state, COUNT(*) FROM runs GROUP BY state"):
            out[state] = n
        return out

    def total(self) -> int:
        """Number of runs in the ledger."""
        return self._db.execute("SELECT COUNT(*) FROM runs").fetchone()[0]

    def rows(self) -> list[LedgerRow]:
        """Every run's line, sorted by run id."""
        cur = self._db.execute("SELECT run_id, scenario, replicate, seed, state, attempts, worker_deaths, worker, "
                               "error, seconds FROM runs ORDER BY run_id")
        return [LedgerRow(*r) for r in cur]


class SweepLocked(Exception):
    """Another live coordinator owns the sweep."""


class SweepLockLost(SweepLocked):
    """This coordinator's lock was taken by another (it was paused past the stale limit): it must stop writing."""


class SweepLock:
    """``coordinator.lock``: pid, host and a heartbeat refreshed by a thread while the coordinator lives.

    Acquisition creates the file exclusively (``O_EXCL``); a stale lock is first renamed aside (one reclaimer
    wins the rename), so two coordinators never both believe they own the sweep.
    """

    def __init__(self, path: Path, *, heartbeat_s: float = 2.0, stale_after_s: float = 60.0) -> None:
        self.path = Path(path)
        self.heartbeat_s = heartbeat_s
        self.stale_after_s = stale_after_s
        self.token = uuid.uuid4().hex
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _content(self) -> str:
        return json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "heartbeat": time.time(),
                           "token": self.token})

    @staticmethod
    def read(path: Path) -> dict | None:
        """The lock's content, or None when there is no (readable) lock."""
        try:
            return json.loads(Path(path).read_text("utf-8"))
        except (OSError, ValueError):
            return None

    def stale_reason(self, info: dict | None) -> str | None:
        """Why a lock is stale (its owner is gone), or None when its owner may be alive."""
        if info is None:
            return "unreadable lock"
        age = time.time() - float(info.get("heartbeat", 0))
        if age > self.stale_after_s:
            return f"heartbeat {age:.0f} s old"
        if info.get("host") == socket.gethostname():
            try:
                os.kill(int(info["pid"]), 0)
            except ProcessLookupError:
                return f"process {info['pid']} is gone"
            except PermissionError:
                return None
        return None

    def acquire(self) -> None:
        """Take the lock, reclaiming a stale one; raise ``SweepLocked`` if a live coordinator holds it."""
        for _ in range(5):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                info = self.read(self.path)
                reason = self.stale_reason(info)
                if reason is None:
                    assert info is not None  # stale_reason calls an unreadable lock stale
                    age = time.time() - float(info.get("heartbeat", 0)) if info else 0.0
                    raise SweepLocked(f"another coordinator (pid {info.get('pid')} on {info.get('host')}, "
                                      f"heartbeat {age:.0f} s ago) is running this sweep") from None
                aside = self.path.with_name(f".{self.path.name}.stale-{self.token}")
                try:
                    os.replace(self.path, aside)
                except FileNotFoundError:
                    continue  # another reclaimer moved it first; try again
                moved = self.read(aside)
                if info is not None and (moved or {}).get("token") != info.get("token"):
                    os.replace(aside, self.path)  # a fresh lock taken meanwhile by another reclaimer: give it back
                else:
                    aside.unlink(missing_ok=True)
                continue
            with os.fdopen(fd, "w") as f:
                f.write(self._content())
            self._thread = threading.Thread(target=self._beat, name="sweep-lock-heartbeat", daemon=True)
            self._thread.start()
            return
        raise SweepLocked("could not take the sweep lock (contended)")

    def _beat(self) -> None:
        while not self._stop.wait(self.heartbeat_s):
            info = self.read(self.path)
            if not info or info.get("token") != self.token:
                return  # reclaimed by someone else: stop touching it
            tmp = self.path.with_name(f".{self.path.name}.{self.token}")
            tmp.write_text(self._content(), "utf-8")
            os.replace(tmp, self.path)

    def held(self) -> bool:
        """Whether the lock file still carries this coordinator's token."""
        info = self.read(self.path)
        return info is not None and info.get("token") == self.token

    def ensure_held(self) -> None:
        """The fence: raise ``SweepLockLost`` if another coordinator has taken the lock. Called before every ledger
        write, so a coordinator paused (SIGSTOP, a suspended laptop) past the stale limit stops instead of writing
        beside the one that reclaimed the sweep."""
        if not self.held():
            info = self.read(self.path) or {}
            raise SweepLockLost(f"this coordinator lost the sweep lock to pid {info.get('pid')} on "
                                f"{info.get('host')} (it was paused longer than {self.stale_after_s:.0f} s); it "
                                "stopped writing, and the other coordinator finishes the sweep")

    def release(self) -> None:
        """Stop the heartbeat and remove the lock if it is still ours."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        info = self.read(self.path)
        if info and info.get("token") == self.token:
            self.path.unlink(missing_ok=True)

    def __enter__(self) -> SweepLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
