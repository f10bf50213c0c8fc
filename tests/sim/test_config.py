"""Bounds of the scenario's numbers: every value that cannot run is refused in one located line."""

import math
import typing

import pydantic
import pytest

from sim.config import Scenario
from sim.scenario import load_scenario
from topology.limits import MAX_HORIZON_H, MIN_STEP_H
from topology.plumbing import ConfigError

ADOPTION = "examples/adoption.toml"


@pytest.mark.parametrize(
    ("override", "pattern"),
    [
        # Crashed with a traceback (numpy's "lam value too large", "Unable to allocate 171 PiB").
        ("workload.batch.arrival_rate_per_h=inf",
         r"workload\.batch\.arrival_rate_per_h: .*less than or equal to 1000000000, got inf$"),
        ("workload.batch.arrival_rate_per_h=1e308", r"workload\.batch\.arrival_rate_per_h: .*less than or equal"),
        ("workload.batch.arrival_rate_per_h=nan", r"workload\.batch\.arrival_rate_per_h: .*got nan"),
        # "Probabilities contain NaN", "do not sum to 1".
        ("workload.batch.origins={dr_cn_bth=inf}", r"workload\.batch\.origins\.dr_cn_bth: .*less than or equal"),
        ("workload.batch.origins={dr_cn_bth=1e308, dr_cn_yrd=1e308}", r"workload\.batch\.origins\.dr_cn_bth: "),
        ("workload.batch.origins={dr_cn_bth=-1}", r"workload\.batch\.origins\.dr_cn_bth: .*greater than or equal to 0"),
        # Accepted, then never finished.
        ("horizon_h=inf", r"horizon_h: .*less than or equal to 876600"),
        ("metric_interval_h=5e-324", r"metric_interval_h: .*greater than or equal to 0\.000001, got 5e-324$"),
        ("engine.arrival_step_h=5e-324", r"engine\.arrival_step_h: .*greater than or equal"),
        ("failures.gpu_failures_per_gpu_h=inf", r"failures\.gpu_failures_per_gpu_h: .*less than or equal to 1"),
        ("replications=1000000000000", r"replications: .*less than or equal to 10000"),
        # Accepted, then inf in the outputs.
        ("sites.cl_wuhu.pue=inf", r"sites\.cl_wuhu\.pue: .*less than or equal to 10"),
        ("sites.cl_wuhu.price_cny_per_kwh=1e308", r"sites\.cl_wuhu\.price_cny_per_kwh: .*less than or equal to 100"),
        ("workload.batch.scale=inf", r"workload\.batch\.scale: .*less than or equal"),
        # Sizes that overflow a draw or the int64 GPU count.
        ("workload.batch.work_gpu_h={dist='lognormal', median=1.0, sigma=100}",
         r"workload\.batch\.work_gpu_h\.sigma: .*less than or equal to 10, got 100$"),
        ("workload.batch.gpus={dist='constant', value=1e300}", r"workload\.batch\.gpus\.value: .*less than or equal"),
        ("workload.batch.gpus={dist='choice', values=[1, 2], weights=[1e308, 1e308]}",
         r"workload\.batch\.gpus\.weights: "),
        ("seed=100000000000000000000", r"seed: .*less than or equal"),
        ("workload.batch.priority=100000000000000000000", r"workload\.batch\.priority: .*less than or equal"),
    ],
)
def test_unrunnable_values_are_refused_naming_the_key(override, pattern):
    with pytest.raises(ConfigError, match=r"^--set: " + pattern) as info:
        load_scenario(None, [override])
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    "override",
    [
        "adoption.step_h=5e-324",
        "adoption.p0_per_yr=inf",
        "adoption.industries.manufacturing.complexity=1e-300",
        "adoption.growth.cost_elasticity=1e308",
        "adoption.industries.manufacturing.jobs_per_adopter_per_h={training=inf}",
    ],
)
def test_adoption_values_that_cannot_run_are_refused(override):
    key = override.partition("=")[0].replace(".", r"\.")
    with pytest.raises(ConfigError, match=r"^--set: " + key):
        load_scenario(ADOPTION, [override])


def test_infinite_outage_mtbf_still_means_no_outages():
    loaded = load_scenario(None, ["failures.outage_mtbf_h=inf"])
    assert not loaded.scenario.failures.for_site("cl_wuhu").has_outages


def test_bounds_admit_every_shipped_example_and_the_extremes_that_can_run():
    for path in (None, "examples/adoption.toml", "examples/national.toml", "examples/mmc.toml"):
        load_scenario(path)
    loaded = load_scenario(None, [f"metric_interval_h={MIN_STEP_H}", "horizon_h=0.001"])
    assert loaded.scenario.metric_interval_h == MIN_STEP_H
    long = load_scenario(None, [f"horizon_h={MAX_HORIZON_H}", "metric_interval_h=8766",
                                "engine.arrival_step_h=8766", "workload.batch.arrival_rate_per_h=0",
                                "workload.finetune.arrival_rate_per_h=0", "workload.inference.arrival_rate_per_h=0"])
    assert long.scenario.horizon_h == MAX_HORIZON_H


def test_every_float_field_of_the_scenario_is_bounded_or_documented_as_unbounded():
    # A new float key without an upper bound must be added here on purpose.
    unbounded = {"warmup_h"}  # below horizon_h, checked by the model

    def models_in(annotation: object) -> list[type]:
        if isinstance(annotation, type) and issubclass(annotation, pydantic.BaseModel):
            return [annotation]
        return [m for arg in typing.get_args(annotation) for m in models_in(arg)]

    def walk(model: type[pydantic.BaseModel], prefix: str) -> list[str]:
        out = []
        for name, field in model.model_fields.items():
            annotation = field.annotation
            args = typing.get_args(annotation)
            if annotation is dict or (typing.get_origin(annotation) is dict and args[1] is float):
                continue  # dict values are checked by a validator of the model (a test below sends inf)
            if annotation in (float, float | None) and not any(hasattr(m, "le") or hasattr(m, "lt")
                                                               for m in field.metadata):
                out.append(prefix + name)
            for sub in models_in(annotation):
                out.extend(walk(sub, f"{prefix}{name}.{sub.__name__}."))
        return out

    loose = set(walk(Scenario, "")) - unbounded
    # outage_mtbf_h: inf is its documented "no outages"; a huge finite value just never fires.
    expected = {"failures.Failures.outage_mtbf_h", "failures.Failures.sites.SiteFailures.outage_mtbf_h"}
    assert loose == expected, sorted(loose)


def test_bounds_are_finite_numbers():
    assert math.isfinite(MAX_HORIZON_H) and MIN_STEP_H > 0


def test_a_start_price_that_overflows_the_work_scale_is_refused():
    # unit_cost_at_start ** -cost_elasticity overflowed (OverflowError, a traceback) at 5e-324.
    with pytest.raises(ConfigError, match=r"^--set: adoption\.growth\.unit_cost_at_start: .*greater than or equal"):
        load_scenario(ADOPTION, ["adoption.growth.unit_cost_at_start=5e-324", "adoption.growth.cost_elasticity=1"])
