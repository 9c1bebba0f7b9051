"""Spatial levers: housing, low-skill jobs, commuting and services changed district by district.

A mechanism folder: rules.py (pure rules), params.yaml (dated parameters), cases/ (test cases as data).
"""

from __future__ import annotations

__all__: list[str] = []
