"""The Dash application: pages from ``dashboard/pages``, a background-callback manager for the scenario builder,
and the safety settings of a local analysis server.

Safety, because the dashboard runs on analysts' machines next to their files: it binds only loopback addresses
(whatever ``HOST`` says), runs with debug off (no Werkzeug console), caps request bodies, turns any exception of a
callback into a message on the page (never a 500 with a traceback), and reads results only through
``dashboard.data`` by identifier.

Serving (``serve``): gunicorn, a pre-forking WSGI server, with ``workers`` processes of a few threads each, because
the callbacks are Python under one interpreter lock and a single process saturates one core (about 25 requests a
second, docs/performance.md). The app is built and its frames are read (``dashboard.data.warm``) in the master
before it forks, so every worker starts with the same read-only frames, shared copy-on-write. What a process holds
is safe to fork: DuckDB connections are opened and closed per query (none is open at the fork, so none of its
threads is), the registry and frames are plain Python objects that results never change under, and the
background-callback cache (diskcache) is one folder for all workers that reconnects in each process.

Scenarios (the builder's short sweeps) are kept in a folder beside the results, ``scenarios_folder``, listed on the
builder's page, so a link to one lasts as long as the results; the background-callback cache is ``_cache`` in it,
one folder reused by every start instead of a new temporary folder each time. Without
gunicorn (Windows) ``serve`` falls back to threaded Werkzeug with one process.
"""

from __future__ import annotations

import gc
import logging
import os
from pathlib import Path
from typing import Any

import dash
import dash_bootstrap_components as dbc
from dash import html, set_props
from flask import Response, jsonify, request
from werkzeug.exceptions import HTTPException

from dashboard import data

__all__ = ["create_app", "scenarios_folder", "LOOPBACK", "check_host", "check_workers", "default_workers", "serve",
           "warm_views", "MAX_REQUEST_BYTES", "MAX_WORKERS", "THREADS", "MAX_WARM_VIEWS"]

log = logging.getLogger(__name__)
LOOPBACK = ("127.0.0.1", "localhost", "::1")
MAX_REQUEST_BYTES = 1_000_000
MAX_WORKERS = 32
# Threads per worker process: requests that wait (a background-callback poll, a first read) do not hold up the rest.
THREADS = 4
# Environment variables through which a parent hands gunicorn listening sockets (systemd, gunicorn's re-exec):
# dropped, so the dashboard listens only on the loopback address it binds itself.
# Views drawn at start-up per experiment at most (every compare pair, city, view and language of an experiment with
# up to about eight scenarios); larger experiments draw theirs on first use.
MAX_WARM_VIEWS = 700
_INHERITED_SOCKETS = ("LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES", "GUNICORN_FD", "GUNICORN_PID")
_PAGES = Path(__file__).resolve().parent / "pages"
# Bootstrap's CSS from the bootstrap-flask wheel, served by this app: no CDN, so the dashboard works offline.
_BOOTSTRAP_URL = "/vendor/bootstrap.min.css"
_VENDOR_FILES = ("bootstrap.min.css", "bootstrap.min.css.map")


def _bootstrap_dir() -> Path:
    import flask_bootstrap

    return Path(flask_bootstrap.__file__).resolve().parent / "static" / "bootstrap5" / "css"


def check_host(host: str) -> str:
    """The host to bind: loopback only, because the dashboard has no authentication."""
    from policies.errors import InputError

    if host not in LOOPBACK:
        raise InputError(f"the dashboard binds loopback only ({', '.join(LOOPBACK)}), not {host!r}", field="--host")
    return host


def default_workers() -> int:
    """Worker processes by default: one per CPU this process may run on (one where gunicorn cannot run)."""
    import importlib.util

    if importlib.util.find_spec("gunicorn") is None:  # pragma: no cover - Windows: threaded Werkzeug, one process
        return 1
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - macOS has no affinity
        return max(1, os.cpu_count() or 1)


def check_workers(workers: int) -> int:
    """A number of worker processes from 1 to ``MAX_WORKERS``."""
    from policies.errors import InputError

    if isinstance(workers, bool) or not isinstance(workers, int) or not 1 <= workers <= MAX_WORKERS:
        raise InputError(f"worker processes must be a whole number from 1 to {MAX_WORKERS}, not {workers!r}",
                         field="--workers")
    return workers


def _on_error(err: Exception) -> None:
    """A callback failed: show why on the page and update nothing (Dash then answers 204, not 500)."""
    from dashboard.data import UnknownExperiment

    known = (UnknownExperiment, ValueError, TypeError, KeyError, LookupError)
    message = str(err)[:300] if isinstance(err, known) else "internal error (logged)"
    if not isinstance(err, known):
        log.exception("callback failed", exc_info=err)
    try:
        set_props("global-error", {"children": f"Error: {message}", "is_open": True})
    except Exception:  # pragma: no cover - outside a callback context there is nothing to show
        pass
    return None


def scenarios_folder(results: str | Path) -> Path:
    """Where the scenario builder keeps its sweeps unless told: ``scenarios`` in the results folder (a folder of
    sweeps), or beside a sweep folder given alone (the dashboard never writes inside a sweep)."""
    results = Path(results)
    return (results.parent if (results / "manifest.json").is_file() else results) / "scenarios"


def create_app(results: str | Path, *, scenarios: str | Path | None = None, cache_dir: str | Path | None = None,
               background: bool = True) -> dash.Dash:
    """Build the dashboard over a sweep folder (or a folder of sweep folders).

    Args:
        results: ``--results``: a sweep folder or a folder holding several.
        scenarios: where the scenario builder keeps its short sweeps (default: ``scenarios_folder(results)``,
            durable and listed, not a shared temporary folder whose clearing would break links to them).
        cache_dir: the background-callback cache (default: ``_cache`` in the scenarios folder, reused by every
            start).
        background: register the background-callback manager (the scenario builder needs it).
    """
    scenarios = Path(scenarios) if scenarios else scenarios_folder(results)
    scenarios.mkdir(parents=True, exist_ok=True)
    data.use_results(Path(results), scenarios)
    manager = None
    if background:
        import diskcache

        cache = diskcache.Cache(str(cache_dir or scenarios / "_cache"))
        manager = dash.DiskcacheManager(cache)
    app = dash.Dash(
        __name__, use_pages=True, pages_folder=str(_PAGES), title="hukou-sim",
        external_stylesheets=[_BOOTSTRAP_URL], suppress_callback_exceptions=True,
        background_callback_manager=manager, on_error=_on_error, serve_locally=True,
        update_title=None,  # type: ignore[arg-type]  # dash documents None (no "Updating..." title); annotated str
    )
    # the Chinese web font (dashboard/fonts.py) fetched with the page, not when the first Chinese text is laid
    # out: Chromium left text laid out before the font arrived drawn as boxes (the title, the headings)
    font = app.get_asset_url("fonts/hukou-cjk.woff")
    app.index_string = app.index_string.replace(
        "{%css%}", f'<link rel="preload" href="{font}" as="font" type="font/woff" crossorigin>{{%css%}}', 1)
    app.layout = html.Div([
        dbc.Alert(id="global-error", is_open=False, dismissable=True, color="danger", className="m-2"),
        dash.page_container,
    ])
    server = app.server
    server.config["MAX_CONTENT_LENGTH"] = MAX_REQUEST_BYTES
    server.config["PROPAGATE_EXCEPTIONS"] = False
    server.config["HUKOU_SCENARIOS"] = str(scenarios)

    @server.route("/vendor/<name>")
    def _vendor(name: str) -> Any:  # two fixed files, looked up in a tuple, never a path from the request
        from flask import abort, send_file

        if name not in _VENDOR_FILES:
            abort(404)
        return send_file(_bootstrap_dir() / _VENDOR_FILES[_VENDOR_FILES.index(name)], max_age=3600)

    @server.errorhandler(Exception)
    def _error(exc: Exception) -> Any:  # a request Dash could not parse: 400 with a short reason, never 500
        if isinstance(exc, HTTPException):
            return exc
        log.warning("bad request to %s: %s: %s", request.path, type(exc).__name__, str(exc)[:200])
        return jsonify({"error": "bad request", "reason": type(exc).__name__}), 400

    @server.after_request
    def _headers(response: Response) -> Response:
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "SAMEORIGIN")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        return response

    return app


def warm_views(reg: data.Registry, max_views: int = MAX_WARM_VIEWS) -> int:
    """Draw the views whose inputs are few, once, before the workers fork (each page keeps its views,
    ``dashboard.data.ViewMemo``): every validation view of every report (city × kind × language) and every compare
    view (baseline × reform × city × zone view × language, with its key findings) of each experiment that has at
    most ``max_views`` of them. They are the slowest requests (0.1–0.4 s of CPU each) and without this each worker
    would draw each one once. Returns the number of views drawn; one that fails is logged and skipped."""
    import sys

    from dashboard.controls import CITIES
    from dashboard.figures import VALIDATION_KINDS
    from dashboard.i18n import LANGS

    pages = {entry["module"].split(".")[-1]: sys.modules.get(entry["module"]) for entry in dash.page_registry.values()}
    from dashboard.glossary import regime_summary

    regime_summary("talent_only", "en")  # reads the regime catalogue once, before the fork (about 1 s)
    from dashboard.reproduce import installed_code

    installed_code()  # the model's code version, which the Python boxes compare with each experiment's (20 ms)
    validation, compare = pages.get("validation"), pages.get("compare")
    calls: list[tuple[Any, tuple[Any, ...]]] = []
    if validation is not None:
        for report in reg.report_ids():
            for city in ("all", *CITIES):
                for lang in LANGS:
                    calls.append((validation.update_shares, (report, city, lang)))
                    calls += [(validation.update, (report, city, kind, lang)) for kind in ("all", *VALIDATION_KINDS)]
    if compare is not None:
        for ident in reg.ids():
            keys = reg.get(ident).scenario_keys()
            views = [(ident, base, reform, city, view, lang) for base in keys for reform in keys if reform != base
                     for city in CITIES for view in compare.VIEWS for lang in LANGS]
            if len(views) <= max_views:
                calls += [(compare.update, v) for v in views]
                # the key findings above the chart: one per pair, city and language (no zone view)
                calls += [(compare.briefing, (i, b, r, c, lang)) for i, b, r, c, v, lang in views if v == "city"]
    drawn = 0
    for function, args in calls:
        try:
            function(*args)
            drawn += 1
        except Exception:  # a view that cannot be drawn now shows its error when asked for
            log.exception("warming %s%s failed", function.__name__, args)
    return drawn


def _bind(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def serve(app: dash.Dash, host: str = "127.0.0.1", port: int = 8050, *, workers: int | None = None,
          threads: int = THREADS, warm: bool = True) -> None:
    """Serve on a loopback address with debug off: gunicorn with ``workers`` processes (default: one per CPU) of
    ``threads`` threads each, after reading every experiment's frames once in this process (``warm``), so that the
    workers fork with them. Blocks until the server stops (Ctrl+C or SIGTERM)."""
    host = check_host(host)
    workers = check_workers(default_workers() if workers is None else workers)
    try:
        from gunicorn.app.base import BaseApplication
    except ImportError:  # pragma: no cover - Windows: no fork, no gunicorn
        from policies.errors import InputError

        if workers != 1:
            raise InputError("several worker processes need gunicorn, which runs on Linux and macOS; use "
                             "--workers 1 here", field="--workers") from None
        app.run(host=host, port=port, debug=False, dev_tools_ui=False, dev_tools_props_check=False,
                use_reloader=False, threaded=True)
        return
    if warm:
        data.warm(data.registry())
        warm_views(data.registry())
    for name in _INHERITED_SOCKETS:
        os.environ.pop(name, None)
    options: dict[str, Any] = {
        "bind": [_bind(host, port)], "workers": workers, "worker_class": "gthread", "threads": threads,
        "preload_app": True,  # the app (built by the caller) and its frames come from this process
        "timeout": 120, "graceful_timeout": 10, "keepalive": 5,
        "accesslog": None, "errorlog": "-", "loglevel": "warning", "capture_output": False,
        "control_socket_disable": True,  # no runtime control socket in the user's home or runtime folder
        "proc_name": "hukou-dashboard", "limit_request_line": 8190,
    }

    class _Server(BaseApplication):  # type: ignore[misc]  # gunicorn ships no type hints
        def load_config(self) -> None:  # only these settings: no config file, no GUNICORN_CMD_ARGS
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self) -> Any:
            return app.server

    gc.collect()
    gc.freeze()  # the frames read so far are never collected: a worker's collector does not touch (copy) their pages
    _Server().run()
