"""cpnsim.workloads: what is asked of the network.

Job classes with their size distributions and Poisson arrival streams generated a
step at a time as arrays; public GPU-cluster traces replayed as a job stream
(:mod:`workloads.traces`); the DANT-KIF adoption model and its calibration
(:mod:`workloads.adoption`).
"""

from workloads.arrivals import ArrivalBatch, class_arrivals, merge_batches
from workloads.distributions import Choice, Constant, Distribution, Exponential, LogNormal, Pareto, Uniform
from workloads.job_class import JobClass

__all__ = [
    "ArrivalBatch",
    "Choice",
    "Constant",
    "Distribution",
    "Exponential",
    "JobClass",
    "LogNormal",
    "Pareto",
    "Uniform",
    "class_arrivals",
    "merge_batches",
]
