"""积分入户: the yearly points round with its quota, minimum score and the city's own ranking rule.

A mechanism folder: rules.py (pure rules), params.yaml (dated parameters), cases/ (test cases as data).
"""

from __future__ import annotations

__all__: list[str] = []
