"""梯度赋权: migrant children's priority for public school places by status, residence and insurance.

A mechanism folder: rules.py (pure rules), params.yaml (dated parameters), cases/ (test cases as data).
"""

from __future__ import annotations

__all__: list[str] = []
