"""The dashboard: a Dash app over the results ``experiments`` writes (docs/contracts.md §2; docs/dashboard.md).

``dashboard.app.create_app(results)`` builds it; ``hukou dashboard --results DIR`` serves it on 127.0.0.1:8050. It
reads results only (``dashboard.data``), and starts short runs only through ``experiments`` (the scenario
builder). Nothing is imported here, so that importing ``dashboard.data`` does not pull in Dash.
"""

from __future__ import annotations

__all__: list[str] = []
