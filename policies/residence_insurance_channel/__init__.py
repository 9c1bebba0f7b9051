"""居住社保迁户: Shenzhen's residence-plus-social-insurance channel (深府〔2016〕58号 （七）).

A mechanism folder: rules.py (pure rules), params.yaml (dated parameters), cases/ (test cases as data).
"""

from __future__ import annotations

__all__: list[str] = []
