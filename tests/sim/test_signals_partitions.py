"""Time signals on a network with a chip mix: a partition takes its site's profile."""

from __future__ import annotations

import numpy as np

from sim.signals import build_site_signals
from topology.load import load_network
from topology.signals import SignalsConfig, builtin_profiles


def test_a_partition_of_a_mixed_site_takes_the_sites_profile() -> None:
    # Gui'an (cl_guian, profile southwest_hydro) runs as two partitions on the national network.
    assert builtin_profiles().site_profile["cl_guian"] == "southwest_hydro"
    network = load_network("national")
    signals = build_site_signals(SignalsConfig(enabled=True), network, "<test>")
    index = {s.id: i for i, s in enumerate(network.sites)}
    b, a = index["cl_guian/huawei_ascend_910b"], index["cl_guian/nvidia_a100_sxm4_80gb"]
    tianfu = index["cl_tianfu"]  # same profile; its own price and carbon
    # An hourly series (not the constant of a site without a profile), the same for both partitions ...
    assert signals.period[b] == signals.period[a] > 1
    assert np.array_equal(signals.series[b], signals.series[a])
    # ... whose shape is the profile's: price relative to the site's flat price matches Tianfu's.
    site_b, site_t = network.sites[b], network.sites[tianfu]
    assert np.allclose(signals.series[b][0] / site_b.price_cny_per_kwh,
                       signals.series[tianfu][0] / site_t.price_cny_per_kwh)
