"""政策性迁户: policy and family entry as a yearly chance among long-term residents.

A mechanism folder: rules.py (pure rules), params.yaml (dated parameters), cases/ (test cases as data).
"""

from __future__ import annotations

__all__: list[str] = []
