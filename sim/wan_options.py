"""The ``[wan]`` table of a scenario (:class:`WanOptions`), apart from :mod:`sim.transfers`.

A pydantic model cannot be compiled by mypyc, and :mod:`sim.transfers` is (``setup.py``);
so the model lives here, and :mod:`sim.transfers` re-exports it.
"""

from __future__ import annotations

from pydantic import Field

from topology.plumbing import StrictModel

__all__ = ["MAX_TCP_WINDOW_MB", "MIN_TCP_WINDOW_MB", "WanOptions"]

MAX_TCP_WINDOW_MB = 1e6
"""Largest TCP window, MB (10^6 bytes); Linux's default maximum receive buffer is ~6 MB."""

MIN_TCP_WINDOW_MB = 1e-3
"""Smallest TCP window, MB (1,000 bytes, under one 1,460-byte segment, smaller than any real
window).  Without a floor a window of 5e-324 MB (accepted by ``> 0``) gave a cap of 0 Gbit/s
and a ValueError mid-run, found by ``tests/cluster/cli/test_input_fuzz.py``."""


class WanOptions(StrictModel):
    """The ``[wan]`` table of a scenario.

    Attributes
    ----------
    tcp_window_mb : float, optional
        Largest TCP window of one transfer, MB (10^6 bytes).  A transfer then moves at
        most ``window / RTT`` (:func:`sim.transfers.window_cap_gbps`), as in SimGrid's flow models
        (``network/TCP-gamma``, default 4,194,304 bytes); at least 0.001 (1,000 bytes).
        ``None`` (default): no cap.
    """

    tcp_window_mb: float | None = Field(default=None, ge=MIN_TCP_WINDOW_MB, le=MAX_TCP_WINDOW_MB)
