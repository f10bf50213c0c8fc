"""register_policy: a custom policy is usable by name in a scenario; the registry guards its names."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sim.placement import POLICIES, REJECT, LeastLoaded, Policy, register_policy, unregister_policy
from sim.run import run_replication
from sim.scenario import load_scenario
from topology.plumbing import ConfigError


class FarthestFit(Policy):
    """The reachable site farthest away that is large enough (nobody's sensible choice: easy to spot)."""

    calls = 0

    def choose(self, origin: int, gpus: int, cls: int) -> int:
        FarthestFit.calls += 1
        return next((j for j in reversed(self.by_latency[origin]) if self.pools[j].total >= gpus), REJECT)


@pytest.fixture
def farthest_fit() -> Iterator[str]:
    register_policy("farthest_fit", FarthestFit)
    FarthestFit.calls = 0
    yield "farthest_fit"
    unregister_policy("farthest_fit")


def test_a_registered_policy_runs_a_scenario_by_name(farthest_fit):
    loaded = load_scenario(None, [f"policy={farthest_fit}", "horizon_h=48", "metric_interval_h=24"])
    result = run_replication(loaded)
    assert isinstance(result.model.policy, FarthestFit)
    assert result.runs_row["policy"] == farthest_fit
    assert FarthestFit.calls == result.runs_row["jobs_arrived"] > 0
    assert farthest_fit in POLICIES


def test_unregistered_it_is_an_unknown_policy_again():
    register_policy("farthest_fit", FarthestFit)
    load_scenario(None, ["policy=farthest_fit"])
    unregister_policy("farthest_fit")
    with pytest.raises(ConfigError, match=r"policy: .*unknown policy 'farthest_fit'"):
        load_scenario(None, ["policy=farthest_fit"])


def test_names_and_classes_are_checked():
    with pytest.raises(ValueError, match=r"policy name 'least_loaded' is taken by sim.placement.least_loaded"):
        register_policy("least_loaded", FarthestFit)
    register_policy("least_loaded", LeastLoaded)  # the same class again: nothing changes
    with pytest.raises(ValueError, match=r"policy name 'no good' must be an identifier"):
        register_policy("no good", FarthestFit)
    with pytest.raises(TypeError, match=r"is not a subclass of sim.placement.Policy"):
        register_policy("not_a_policy", dict)  # type: ignore[arg-type]
    with pytest.raises(KeyError, match=r"no policy registered as 'nothing'"):
        unregister_policy("nothing")


def test_policies_is_a_read_only_view():
    with pytest.raises(TypeError):
        POLICIES["x"] = FarthestFit  # type: ignore[index]
    assert list(POLICIES) == ["nearest", "least_loaded", "cheapest", "greenest", "edwc"]
