"""The dashboard: a Dash app over the results ``experiments`` writes (DESIGN section 2; docs/dashboard.md).

``create_app(results)`` builds it; ``hukou dashboard --results DIR`` serves it on 127.0.0.1:8050. It reads
results only (``dashboard.data``), and starts short runs only through ``experiments`` (the scenario builder).
"""

from __future__ import annotations

__all__ = ["create_app", "serve"]


def __getattr__(name: str):  # noqa: ANN202 - lazy: importing dashboard.data must not pull in Dash
    if name in __all__:
        from dashboard import app

        return getattr(app, name)
    raise AttributeError(name)
