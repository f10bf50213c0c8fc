"""``latency_budget_one_way_ms``: a one-way requirement becomes the round-trip budget placement compares with."""

from __future__ import annotations

import pytest

from sim.scenario import load_scenario
from topology.plumbing import ConfigError
from workloads.job_class import JobClass

WORK = {"dist": "constant", "value": 1.0}


def test_one_way_budget_sets_the_round_trip_to_twice_it_and_survives_a_dump() -> None:
    cls = JobClass(arrival_rate_per_h=1.0, work_gpu_h=WORK, latency_budget_one_way_ms=20.0)
    assert cls.latency_budget_ms == 40.0 and cls.latency_budget_one_way_ms == 20.0
    again = JobClass.model_validate(cls.model_dump())
    assert again == cls
    # Unset, it is left out of the dump (scenario ids of classes without it stay).
    plain = JobClass(arrival_rate_per_h=1.0, work_gpu_h=WORK, latency_budget_ms=20.0)
    assert "latency_budget_one_way_ms" not in plain.model_dump()


def test_an_inconsistent_pair_is_one_line_naming_the_key() -> None:
    with pytest.raises(ConfigError) as info:
        load_scenario("examples/national.toml", ["workload.inference.latency_budget_ms=20.0"])
    message = str(info.value)
    assert "workload.inference.latency_budget_ms" in message and "one_way" in message and "\n" not in message


@pytest.mark.parametrize("value", ["[1]", '"x"', "{a = 1}", "true"])
def test_a_wrong_type_beside_a_one_way_budget_is_one_line_not_a_traceback(value: str) -> None:
    # A list once reached an f-string format in the validator and raised TypeError.
    with pytest.raises(ConfigError) as info:
        load_scenario("examples/national.toml", [f"workload.inference.latency_budget_ms={value}"])
    message = str(info.value)
    assert "workload.inference.latency_budget_ms" in message and "\n" not in message


def test_the_national_example_reads_the_edwc_20_ms_as_one_way() -> None:
    inference = load_scenario("examples/national.toml").scenario.workload["inference"]
    assert (inference.latency_budget_one_way_ms, inference.latency_budget_ms) == (20.0, 40.0)
