"""积分: the points tables of the three cities as one mechanism (rules, dated parameters, cases)."""

from __future__ import annotations

__all__: list[str] = []
