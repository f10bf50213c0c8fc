"""cpnsim.sim: one scenario — typed config, SimPy engine, placement, metrics, tables.

Simulated time is in hours (see :mod:`sim.engine`).  Whether the hot modules run compiled
(mypyc) or as Python is decided by :mod:`sim.compiled`, imported first for that reason.
"""

from sim import compiled as compiled  # first: decides compiled or pure Python before any hot module is imported
from sim.config import Scenario
from sim.engine import TIME_UNIT, Engine
from sim.run import ReplicationResult, ScenarioResult, run_replication, run_scenario
from sim.scenario import LoadedScenario, load_scenario
from sim.tables import SCHEMA_VERSION

__all__ = [
    "SCHEMA_VERSION",
    "TIME_UNIT",
    "Engine",
    "LoadedScenario",
    "ReplicationResult",
    "Scenario",
    "ScenarioResult",
    "load_scenario",
    "run_replication",
    "run_scenario",
]
