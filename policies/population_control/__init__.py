"""总量控制 and 动态平衡: population targets and the yearly talent-versus-points balance.

A mechanism folder: rules.py (pure rules), params.yaml (dated parameters), cases/ (test cases as data).
"""

from __future__ import annotations

__all__: list[str] = []
