"""Bounds on the numbers of a network and a scenario: beyond them a value cannot run or turns outputs into inf.

Every bound is far outside any physical or published figure, so it only refuses input
that is a typo, an overflow or an attempt at an endless run; docs/model.md ("Bounds")
lists them with their units.  The size of a run as a whole (events, memory) is checked
separately, against ``engine.max_events`` and ``engine.max_memory_gb`` (``sim.size``).
"""

from __future__ import annotations

__all__ = [
    "MAX_BANDWIDTH_GBPS",
    "MAX_CARBON_KG_PER_KWH",
    "MAX_COUNT",
    "MAX_DEMAND_WEIGHT",
    "MAX_DISTANCE_KM",
    "MAX_FACTOR",
    "MAX_FIBRE_US_PER_KM",
    "MAX_GPU_W",
    "MAX_HOP_MS",
    "MAX_HORIZON_H",
    "MAX_PRICE_CNY_PER_GB",
    "MAX_PRICE_CNY_PER_KWH",
    "MAX_PRIORITY",
    "MAX_PUE",
    "MAX_RATE_PER_H",
    "MAX_ROUTE_FACTOR",
    "MAX_SCALE",
    "MAX_SITE_GPUS",
    "MAX_SIZE",
    "MAX_SKU_SPEED",
    "MAX_WEIGHT",
    "MIN_STEP_H",
]

MAX_HORIZON_H = 876_600.0
"""Longest simulated time, h: 100 Julian years (also the longest step, wait, deadline or repair)."""
MIN_STEP_H = 1e-6
"""Shortest metric interval, arrival step or adoption step, h (3.6 ms); the number of steps
(horizon / step) is bounded by the size check."""
MAX_COUNT = 10**12
"""Largest count a key may hold (restarts, events)."""
MAX_RATE_PER_H = 1e9
"""Largest arrival rate of a class, simulated jobs per hour."""
MAX_SIZE = 1e12
"""Largest parameter of a size distribution, in the unit of its field (GPU-h, GPUs, GB)."""
MAX_WEIGHT = 1e12
"""Largest relative weight (origins, choice weights); a sum of weights stays finite."""
MAX_SCALE = 1e9
"""Largest number of real jobs one simulated job stands for."""
MAX_PRIORITY = 10**6
"""Largest |priority| of a job class."""
MAX_FACTOR = 1e3
"""Largest dimensionless adoption multiplier (a factor, an elasticity, a coefficient per year)."""

# Network figures (topology.model).
MAX_SITE_GPUS = 10_000_000
"""GPUs at one site (the largest announced clusters are ~10^5-10^6)."""
MAX_SKU_SPEED = 1000.0
"""Throughput of one GPU relative to the reference GPU."""
MAX_GPU_W = 100_000.0
"""Board power of one GPU, W (today's are ~300-1,200 W)."""
MAX_PUE = 10.0
"""Power usage effectiveness (published figures are 1.04-2.5)."""
MAX_POWER_ENVELOPE_MW = 100_000.0
"""Power envelope of one site, MW (the largest announced campuses are ~1,000-5,000 MW)."""
MAX_PRICE_CNY_PER_KWH = 100.0
"""Electricity price, CNY/kWh (Chinese industrial tariffs are ~0.3-1.5)."""
MAX_CARBON_KG_PER_KWH = 5.0
"""Grid carbon intensity, kgCO2/kWh (coal generation is ~1)."""
MAX_DEMAND_WEIGHT = 1e12
"""Relative weight of a demand region (the built-in weights are populations in millions)."""
MAX_DISTANCE_KM = 100_000.0
"""Route length, km (the Earth's circumference is ~40,000 km)."""
MAX_HOP_MS = 1e6
"""Fixed one-way cost of a hop, ms."""
MAX_BANDWIDTH_GBPS = 1e9
"""Link capacity, Gbit/s."""
MAX_ROUTE_FACTOR = 100.0
"""Route length over great-circle distance."""
MAX_FIBRE_US_PER_KM = 1e6
"""Propagation delay, µs/km (light in fibre: ~5)."""
MAX_PRICE_CNY_PER_GB = 1e4
"""Price of moving one GB over a link, CNY (public-cloud egress list prices are ~0.5-1 CNY/GB)."""
