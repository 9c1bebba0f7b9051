"""Load test of the dashboard: simulated analysts against a server on loopback, bounded in users, time and requests.

``python -m dashboard.load --results DIR`` starts ``hukou dashboard`` (``--workers`` processes) on a free port of
127.0.0.1, lets ``--users`` threads act like analysts for ``--seconds`` (open a page, then change one control at a
time: experiment views, regimes, metric, year, city, compare pairs and zones, map modes, points profiles — each a
real Dash callback request built from the server's own ``/_dash-dependencies``), then stops the server and prints
request counts, failures, latency percentiles, the CPU the server and the users used, and the machine's load
average (the figures depend on what else runs). Nothing leaves the machine: the only host it talks to is 127.0.0.1.

``--profile`` instead times each kind of callback alone, in this process, on warm frames (one user, no network):
where a request's time goes when nothing waits in a queue.

``--build`` first runs ``dashboard/load_spec.yaml`` (1,022,540 district-year rows) into DIR if it is not there
(about 15 minutes on two cores; a finished sweep is reused).
"""

from __future__ import annotations

import argparse
import logging
import os
import random
import socket
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

__all__ = ["LoadResult", "run_load", "main"]

log = logging.getLogger(__name__)
HOST = "127.0.0.1"
MAX_USERS = 100
MAX_SECONDS = 600
MAX_REQUESTS_PER_USER = 5000
LOAD_SPEC = Path(__file__).resolve().parent / "load_spec.yaml"


@dataclass
class LoadResult:
    """What the simulated users saw."""

    users: int
    seconds: float
    rows: int
    workers: int | None = None
    pages: list[float] = field(default_factory=list)
    callbacks: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    server_cpu: float = float("nan")  # CPU seconds of the server's processes during the test
    client_cpu: float = float("nan")  # CPU seconds of this process (the simulated users) during the test
    load_before: tuple[float, float, float] = (float("nan"),) * 3
    load_after: tuple[float, float, float] = (float("nan"),) * 3

    def percentile(self, values: list[float], q: float) -> float:
        """The q-th percentile (0–100) in milliseconds."""
        if not values:
            return float("nan")
        ordered = sorted(values)
        return 1000 * ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]

    def report(self) -> str:
        """A few lines for docs/performance.md."""
        n = len(self.pages) + len(self.callbacks)
        load = " ".join(f"{x:.2f}" for x in self.load_before) + " -> " + " ".join(f"{x:.2f}" for x in self.load_after)
        return "\n".join([
            f"users={self.users} seconds={self.seconds:.1f} district_year_rows={self.rows} "
            f"workers={self.workers if self.workers else 'default'} cpus={os.cpu_count()}",
            f"requests={n} failures={len(self.failures)} rate={n / self.seconds:.1f}/s",
            f"pages={len(self.pages)} p50={self.percentile(self.pages, 50):.0f}ms "
            f"p95={self.percentile(self.pages, 95):.0f}ms",
            f"callbacks={len(self.callbacks)} p50={self.percentile(self.callbacks, 50):.0f}ms "
            f"p95={self.percentile(self.callbacks, 95):.0f}ms p99={self.percentile(self.callbacks, 99):.0f}ms "
            f"max={1000 * max(self.callbacks, default=float('nan')):.0f}ms "
            f"mean={1000 * statistics.fmean(self.callbacks) if self.callbacks else float('nan'):.0f}ms",
            f"server_cpu={self.server_cpu:.1f}s ({self.server_cpu / self.seconds:.2f} cores) "
            f"users_cpu={self.client_cpu:.1f}s ({self.client_cpu / self.seconds:.2f} cores) "
            f"loadavg(1/5/15 min) {load}",
        ])


def _free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def _callbacks(base: str) -> dict[str, dict[str, Any]]:
    """The server's callbacks by their first output id (the graph or table they update)."""
    deps = requests.get(f"{base}/_dash-dependencies", timeout=30).json()
    out: dict[str, dict[str, Any]] = {}
    for dep in deps:
        first = dep["output"].strip(".").split("...")[0].split(".")[0]
        out.setdefault(first, dep)
    return out


def _payload(dep: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    outputs = [{"id": o.split(".")[0], "property": o.split(".")[1]} for o in dep["output"].strip(".").split("...")]
    inputs = [{"id": i["id"], "property": i["property"], "value": values.get(i["id"])} for i in dep["inputs"]]
    state = [{"id": s["id"], "property": s["property"], "value": values.get(s["id"])} for s in dep["state"]]
    return {"output": dep["output"], "outputs": outputs if len(outputs) > 1 else outputs[0], "inputs": inputs,
            "state": state, "changedPropIds": [f"{inputs[0]['id']}.{inputs[0]['property']}"]}


def _actions(results: Path) -> list[tuple[str, str, dict[str, Any] | None]]:
    """A menu of (kind, target, control values) an analyst chooses from, over the experiment's real choices."""
    from dashboard.data import Registry
    from policies.cities import CITIES

    registry = Registry(results)
    exp = registry.get(registry.ids()[0])
    keys = exp.scenario_keys()
    years = [y for y in exp.years() if y % 1 == 0]
    cities = list(CITIES)
    metrics = ["hukou_share", "suburban_dispersion_migrants", "talent_share_settlers", "settlements_total",
               "school_access", "return_rate", "time_to_hukou_years"]
    from dashboard.controls import CALCULATOR_DEFAULTS

    actions: list[tuple[str, str, dict[str, Any] | None]] = [("page", p, None) for p in
                                                              ("/", "/compare", "/map", "/calculator", "/validation")]
    rng = random.Random(0)
    for _ in range(200):
        chosen = rng.sample(keys, rng.randint(1, len(keys)))
        actions.append(("callback", "ov-graph", {"ov-exp": exp.id, "ov-regimes": chosen,
                                                 "ov-metric": rng.choice(metrics), "ov-year": rng.choice(years),
                                                 "ov-city": rng.choice(["all", *cities]),
                                                 "ov-lang": rng.choice(["en", "zh"])}))
        base, ref = rng.sample(keys, 2)
        actions.append(("callback", "cmp-graph", {"cmp-exp": exp.id, "cmp-baseline": base, "cmp-reform": ref,
                                                  "cmp-city": rng.choice(cities),
                                                  "cmp-view": rng.choice(["city", "zones"]),
                                                  "cmp-lang": "en"}))
        actions.append(("callback", "map-graph", {"map-exp": exp.id, "map-regime": rng.choice(keys),
                                                  "map-mode": rng.choice(["level", "change"]), "map-baseline": keys[0],
                                                  "map-metric": rng.choice(["migrants", "residents", "settled_points"]),
                                                  "map-year": rng.choice(years), "map-city": rng.choice(cities),
                                                  "map-lang": "zh"}))
        # what the same changes also fire (issue 14): the overview's key findings and each page's Python box
        last = actions[-3:]
        actions.append(("callback", "ov-findings", last[0][2]))
        actions += [("callback", f"{page}-python", values) for page, (_, _, values) in
                    zip(("overview", "compare", "map"), last, strict=True)]
        profile = {f"calc-{k}": v for k, v in CALCULATOR_DEFAULTS.items()}
        profile.update({"calc-go": 1, "calc-age": rng.randint(20, 50), "calc-lang": "en",
                        "calc-home_district": rng.choice([440306, 440106, 510107]),
                        "calc-date": f"{rng.randint(2012, 2024)}-06-01"})
        actions.append(("callback", "calc-graph", profile))
        actions.append(("callback", "val-graph", {"val-report": rng.choice(registry.report_ids()),
                                                  "val-city": rng.choice(["all", *cities]),
                                                  "val-kind": rng.choice(["all", "calibration", "validation"]),
                                                  "val-lang": rng.choice(["en", "zh"])}))
    return actions


def _user(base: str, deps: dict[str, dict[str, Any]], actions: list[Any], stop: float, seed: int,
          think: tuple[float, float], result: LoadResult, lock: threading.Lock) -> None:
    rng = random.Random(seed)
    session = requests.Session()
    for _ in range(MAX_REQUESTS_PER_USER):
        if time.monotonic() >= stop:
            return
        kind, target, values = rng.choice(actions)
        started = time.perf_counter()
        try:
            if kind == "page":
                response = session.get(f"{base}{target}", timeout=30)
                ok = response.status_code == 200
            else:
                response = session.post(f"{base}/_dash-update-component", json=_payload(deps[target], values),
                                        timeout=30)
                ok = response.status_code == 200 and "global-error" not in response.text
            elapsed = time.perf_counter() - started
            with lock:
                (result.pages if kind == "page" else result.callbacks).append(elapsed)
                if not ok:
                    result.failures.append(f"{target}: {response.status_code} {response.text[:120]}")
        except requests.RequestException as exc:
            with lock:
                result.failures.append(f"{target}: {type(exc).__name__}")
        time.sleep(rng.uniform(*think))


def _server_cpu(pid: int) -> float:
    """CPU seconds (user + system) of a process and its live children."""
    import psutil

    total = 0.0
    try:
        root = psutil.Process(pid)
        for proc in [root, *root.children(recursive=True)]:
            try:
                times = proc.cpu_times()
                total += times.user + times.system
            except psutil.NoSuchProcess:
                pass
    except psutil.NoSuchProcess:
        pass
    return total


def server_command(results: Path, port: int, workers: int | None = None) -> list[str]:
    """``hukou dashboard`` on 127.0.0.1 run by this interpreter (``python -m hukou_cli``: the code the load test
    imports, not whichever ``hukou`` script is on the PATH)."""
    command = [sys.executable, "-m", "hukou_cli", "dashboard", "--results", str(results), "--host", HOST, "--port",
               str(port)]
    return command + (["--workers", str(workers)] if workers else [])


def run_load(results: Path, users: int = 30, seconds: float = 60.0, think: tuple[float, float] = (0.5, 1.5),
             warmup: bool = True, workers: int | None = None) -> LoadResult:
    """Start the dashboard on loopback, run the users, stop the server; bounded by ``MAX_*``."""
    from dashboard.data import Registry

    users = max(1, min(users, MAX_USERS))
    seconds = max(1.0, min(seconds, MAX_SECONDS))
    registry = Registry(results)
    if not registry.ids():
        raise SystemExit(f"{results}: no finished sweep (use --build)")
    rows = registry.get(registry.ids()[0]).row_count()
    port = _free_port()
    base = f"http://{HOST}:{port}"
    server = subprocess.Popen(server_command(results, port, workers), stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 600  # reading a million rows before serving takes a while on a busy machine
        while True:
            try:
                if requests.get(f"{base}/", timeout=5).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                raise SystemExit("the dashboard did not start")
            time.sleep(0.5)
        deps = _callbacks(base)
        actions = _actions(results)
        if warmup:  # the first view of each kind loads its frames (as the first analyst of the day would)
            firsts: dict[tuple[str, Any], dict[str, Any]] = {}
            for kind, target, values in actions:
                if kind == "callback" and values is not None:   # a callback action always carries its values
                    firsts.setdefault((target, values.get("cmp-view")), values)
            for (target, _), values in firsts.items():
                requests.post(f"{base}/_dash-update-component", json=_payload(deps[target], values), timeout=300)
        result = LoadResult(users, seconds, rows, workers=workers)
        lock = threading.Lock()
        result.load_before = os.getloadavg()
        server_cpu, client_cpu = _server_cpu(server.pid), time.process_time()
        stop = time.monotonic() + seconds
        started = time.monotonic()
        threads = [threading.Thread(target=_user, args=(base, deps, actions, stop, i, think, result, lock),
                                    daemon=True) for i in range(users)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=seconds + 60)
        result.seconds = time.monotonic() - started
        result.server_cpu = _server_cpu(server.pid) - server_cpu
        result.client_cpu = time.process_time() - client_cpu
        result.load_after = os.getloadavg()
        return result
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()


def profile_callbacks(results: Path, per_kind: int = 40, top: int = 0) -> str:
    """Time each kind of callback alone in this process on warm frames (``per_kind`` requests of each, from the
    load test's menu): wall time, and CPU time of the serving thread (what the request costs, whatever else runs on
    the machine); with ``top``, also the functions that took most of each kind's time (cProfile). Its scenario
    folder is temporary and removed at the end."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="hukou-profile-") as scenarios:
        return _profile_callbacks(results, Path(scenarios), per_kind, top)


def _profile_callbacks(results: Path, scenarios: Path, per_kind: int, top: int) -> str:
    import cProfile
    import io
    import pstats

    from dashboard.app import create_app
    from dashboard.data import registry, warm

    app = create_app(results, scenarios=scenarios, background=False)
    started = time.perf_counter()
    warm(registry())
    lines = [f"warm: {time.perf_counter() - started:.1f} s, loadavg {' '.join(f'{x:.2f}' for x in os.getloadavg())}"]
    client = app.server.test_client()
    deps: dict[str, dict[str, Any]] = {}
    for dep in client.get("/_dash-dependencies").get_json():
        deps.setdefault(dep["output"].strip(".").split("...")[0].split(".")[0], dep)
    by_kind: dict[str, list[dict[str, Any]]] = {}
    for kind, target, values in _actions(results):
        if kind == "callback":
            by_kind.setdefault(target, []).append(values or {})

    def q(values: list[float], p: float) -> float:
        ordered = sorted(values)
        return 1000 * ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]

    for target, menu in by_kind.items():
        client.post("/_dash-update-component", json=_payload(deps[target], menu[0]))  # first of its kind
        walls, cpus, sizes = [], [], []
        profiler = cProfile.Profile() if top else None
        for values in menu[:per_kind]:
            t0, c0 = time.perf_counter(), time.thread_time()
            if profiler:
                profiler.enable()
            response = client.post("/_dash-update-component", json=_payload(deps[target], values))
            if profiler:
                profiler.disable()
            walls.append(time.perf_counter() - t0)
            cpus.append(time.thread_time() - c0)
            sizes.append(len(response.data))
        lines.append(f"{target}: n={len(walls)} wall p50={q(walls, 50):.1f}ms p95={q(walls, 95):.1f}ms "
                     f"cpu p50={q(cpus, 50):.1f}ms p95={q(cpus, 95):.1f}ms "
                     f"response={statistics.median(sizes) / 1000:.0f}kB")
        if profiler:
            text = io.StringIO()
            pstats.Stats(profiler, stream=text).sort_stats("tottime").print_stats(top)
            lines.append(text.getvalue())
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Command line: ``python -m dashboard.load --results DIR [--users 30] [--seconds 60] [--build]``."""
    parser = argparse.ArgumentParser(prog="python -m dashboard.load", description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=Path, default=Path("sweeps/dashboard_load"))
    parser.add_argument("--users", type=int, default=30)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--think", type=float, nargs=2, default=(0.5, 1.5), metavar=("MIN", "MAX"),
                        help="seconds a user waits between actions (uniform)")
    parser.add_argument("--workers", type=int, default=None, help="server worker processes (default: hukou "
                        "dashboard's, one per CPU)")
    parser.add_argument("--build", action="store_true", help="run dashboard/load_spec.yaml into --results first")
    parser.add_argument("--profile", action="store_true", help="time each kind of callback alone, in this process, "
                        "instead of the load test")
    parser.add_argument("--top", type=int, default=0, help="with --profile: the N functions that took most of the "
                        "slowest kind's time")
    args = parser.parse_args(argv)
    if args.build:
        from experiments.sweep import run_sweep

        summary = run_sweep(LOAD_SPEC, args.results)
        if not summary.ok:
            print(f"load set: {len(summary.failed)} runs failed", file=sys.stderr)
            return 1
    if args.profile:
        print(profile_callbacks(args.results, top=args.top))
        return 0
    result = run_load(args.results, args.users, args.seconds, tuple(args.think), workers=args.workers)
    print(result.report())
    for failure in result.failures[:10]:
        print(f"failure: {failure}")
    return 0 if not result.failures else 1


if __name__ == "__main__":
    sys.exit(main())
