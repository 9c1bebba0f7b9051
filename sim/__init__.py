"""The hukou model: migrants choosing among the districts of Shenzhen, Guangzhou and Chengdu, gaining permits
and points, and settling under each city's regime (Mesa, columnar migrant state, vectorised phases).

``HukouModel(RunConfig(...)).run()`` runs it; ``run_simulation`` also writes the run folder. See docs/model.md.
Imports ``policies``, never ``experiments`` or ``dashboard`` (docs/contracts.md §2).
"""

from __future__ import annotations

from sim.config import RunConfig, load_config
from sim.model import HukouModel
from sim.run import run_simulation

__all__ = ["HukouModel", "RunConfig", "load_config", "run_simulation"]
