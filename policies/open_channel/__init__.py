"""条件入户 by residence and home (Chengdu before 2018) and the open-registration counterfactual.

A mechanism folder: rules.py (pure rules), params.yaml (dated parameters), cases/ (test cases as data).
"""

from __future__ import annotations

__all__: list[str] = []
