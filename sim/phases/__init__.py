"""The phases of a step, each a vectorised function of the model (``HukouModel.step`` lists them in order)."""

from __future__ import annotations

__all__: list[str] = []
