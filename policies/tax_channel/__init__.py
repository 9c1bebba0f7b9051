"""纳税迁户: settlement by personal income tax paid in the city.

A mechanism folder: rules.py (pure rules), params.yaml (dated parameters), cases/ (test cases as data).
"""

from __future__ import annotations

__all__: list[str] = []
