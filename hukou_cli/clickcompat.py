"""click's exceptions, wherever this typer keeps them: typer 0.20 and later ship their own copy of click
(``typer._click``), older releases depend on click itself. One import for every command module."""

from __future__ import annotations

try:
    from typer._click import exceptions as click_errors
except ImportError:  # pragma: no cover - older typer depends on click
    from click import exceptions as click_errors  # type: ignore[no-redef]  # the same module, the other home

__all__ = ["click_errors"]
