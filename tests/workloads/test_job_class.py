"""Job classes: parsing from TOML-shaped dicts, defaults and the largest GPU ask."""

import tomllib

import pydantic
import pytest

from workloads.distributions import Choice, Constant, LogNormal
from workloads.job_class import JobClass

WORK = {"dist": "constant", "value": 10.0}


def test_from_toml_table():
    doc = tomllib.loads(
        """
        arrival_rate_per_h = 12.0
        gpus = { dist = "choice", values = [8, 16, 32, 64], weights = [4, 3, 2, 1] }
        work_gpu_h = { dist = "lognormal", median = 200.0, sigma = 1.0 }
        origins = { dr_cn_bth = 1.0, dr_cn_yrd = 2.0 }
        """
    )
    c = JobClass.model_validate(doc)
    assert c.arrival_rate_per_h == 12.0
    assert isinstance(c.gpus, Choice) and c.gpus.weights == (4.0, 3.0, 2.0, 1.0)
    assert c.work_gpu_h == LogNormal(dist="lognormal", median=200.0, sigma=1.0)
    assert c.origins == {"dr_cn_bth": 1.0, "dr_cn_yrd": 2.0}


def test_defaults():
    c = JobClass.model_validate({"arrival_rate_per_h": 1.0, "work_gpu_h": WORK})
    assert c.gpus == Constant(dist="constant", value=1)
    assert c.origins is None
    assert c.max_gpus() == 1


@pytest.mark.parametrize(
    ("gpus", "expected"),
    [
        ({"dist": "choice", "values": [8, 16, 64], "weights": [1, 1, 0]}, 16),  # zero-weight 64 never asked
        ({"dist": "uniform", "low": 0.5, "high": 3.2}, 4),  # continuous draws are rounded up
        ({"dist": "constant", "value": 8}, 8),
        ({"dist": "pareto", "min": 1, "alpha": 2, "max": 31.5}, 32),
    ],
)
def test_max_gpus(gpus, expected):
    c = JobClass.model_validate({"arrival_rate_per_h": 1.0, "gpus": gpus, "work_gpu_h": WORK})
    assert c.max_gpus() == expected


@pytest.mark.parametrize("gpus", [{"dist": "pareto", "min": 1, "alpha": 2}, {"dist": "exponential", "mean": 4}])
def test_unbounded_gpus_are_rejected(gpus):
    with pytest.raises(pydantic.ValidationError, match="unbounded; set 'max'"):
        JobClass.model_validate({"arrival_rate_per_h": 1.0, "gpus": gpus, "work_gpu_h": WORK})


@pytest.mark.parametrize(
    ("data", "match"),
    [
        ({"arrival_rate_per_h": -1.0, "work_gpu_h": WORK}, "greater than or equal to 0"),
        ({"arrival_rate_per_h": 1.0}, "work_gpu_h\n  Field required"),
        ({"arrival_rate_per_h": 1.0, "work_gpu_h": WORK, "rate": 2}, "Extra inputs are not permitted"),
        ({"arrival_rate_per_h": 1.0, "work_gpu_h": WORK, "origins": {"r": "x"}}, "valid number"),
    ],
)
def test_validation_errors(data, match):
    with pytest.raises(pydantic.ValidationError, match=match):
        JobClass.model_validate(data)


def test_zero_rate_allowed_and_frozen():
    c = JobClass.model_validate({"arrival_rate_per_h": 0.0, "work_gpu_h": WORK})
    with pytest.raises(pydantic.ValidationError, match="frozen"):
        c.arrival_rate_per_h = 3.0


@pytest.mark.parametrize(
    ("gpus", "expected"),
    [
        ({"dist": "choice", "values": [8, 16, 64], "weights": [0, 1, 1]}, 16),  # zero-weight 8 never asked
        ({"dist": "uniform", "low": 2.5, "high": 3.2}, 3),  # continuous draws are rounded up
        ({"dist": "uniform", "low": 0.2, "high": 3.2}, 1),  # and to at least one GPU
        ({"dist": "constant", "value": 8}, 8),
        ({"dist": "lognormal", "median": 100, "sigma": 1, "max": 400}, 1),  # the support reaches down to 0
    ],
)
def test_min_gpus_is_the_smallest_ask_the_arrivals_draw(gpus, expected):
    import numpy as np

    from workloads.arrivals import class_arrivals

    c = JobClass.model_validate({"arrival_rate_per_h": 1.0, "gpus": gpus, "work_gpu_h": WORK})
    assert c.min_gpus() == expected
    drawn = class_arrivals(c, 0, np.ones(1), 1.0, 0.0, 20_000.0, np.random.default_rng(3)).gpus
    assert drawn.min() >= c.min_gpus()
    if not isinstance(c.gpus, LogNormal):  # a bounded-below support: the smallest ask does come
        assert drawn.min() == c.min_gpus()
