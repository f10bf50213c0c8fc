"""Time-changed Poisson streams: right rate, split-invariant, and common random numbers across rate paths."""

import numpy as np
import pytest

from workloads.adoption.arrivals import BLOCK, TimeChangedStream
from workloads.job_class import JobClass

CLASS = JobClass.model_validate({
    "arrival_rate_per_h": 0.0,
    "gpus": {"dist": "choice", "values": [1, 2, 4]},
    "work_gpu_h": {"dist": "exponential", "mean": 10.0},
})


def _stream(seed=7):
    return TimeChangedStream(CLASS, 1, 2, np.random.default_rng(seed))


def _walk(stream, path):
    """Concatenate a stream's arrivals over consecutive steps ``path`` = [(rate, t0, t1), ...]."""
    out = [stream.arrivals(rate, t0, t1) for rate, t0, t1 in path]
    return (np.concatenate([b.t_h for b in out]), np.concatenate([b.gpus for b in out]),
            np.concatenate([b.work_gpu_h for b in out]))


def test_count_matches_the_rate():
    rate, horizon = 3.0, 20_000.0
    t, _, _ = _walk(_stream(), [(rate, k * 100.0, (k + 1) * 100.0) for k in range(200)])
    expected = rate * horizon
    assert abs(t.size - expected) < 4 * np.sqrt(expected)
    assert np.all(np.diff(t) >= 0)


def test_times_stay_in_their_step_and_batches_are_labelled():
    s = _stream()
    b = s.arrivals(5.0, 10.0, 12.0)
    assert np.all((b.t_h >= 10.0) & (b.t_h < 12.0))
    assert set(b.cls.tolist()) <= {1} and set(b.origin.tolist()) <= {2}
    assert s.issued == len(b) and s.issued_work_gpu_h == pytest.approx(float(b.work_gpu_h.sum()))


def test_splitting_a_constant_rate_step_changes_nothing():
    one = _walk(_stream(), [(2.0, 0.0, 5000.0)])
    many = _walk(_stream(), [(2.0, k * 50.0, (k + 1) * 50.0) for k in range(100)])
    np.testing.assert_array_equal(one[1], many[1])
    np.testing.assert_array_equal(one[2], many[2])
    np.testing.assert_allclose(one[0], many[0], rtol=0, atol=1e-9)
    assert one[0].size > 4 * BLOCK  # crosses the buffer trimming


def test_a_higher_rate_path_gives_the_same_jobs_earlier_and_more_of_them():
    steps = [(k * 100.0, (k + 1) * 100.0) for k in range(50)]
    rng = np.random.default_rng(1)
    low_rates = rng.uniform(0.0, 2.0, len(steps))
    high_rates = low_rates * rng.uniform(1.0, 1.5, len(steps))
    low = _walk(_stream(), [(r, a, b) for r, (a, b) in zip(low_rates, steps, strict=True)])
    high = _walk(_stream(), [(r, a, b) for r, (a, b) in zip(high_rates, steps, strict=True)])
    n = low[0].size
    assert high[0].size >= n
    np.testing.assert_array_equal(high[1][:n], low[1])  # job j is the same job ...
    np.testing.assert_array_equal(high[2][:n], low[2])
    assert np.all(high[0][:n] <= low[0] + 1e-9)  # ... and arrives no later


def test_zero_rate_steps_pause_the_stream():
    paused = _walk(_stream(), [(1.0, 0.0, 100.0), (0.0, 100.0, 200.0), (1.0, 200.0, 300.0)])
    straight = _walk(_stream(), [(1.0, 0.0, 100.0), (1.0, 100.0, 200.0)])
    np.testing.assert_array_equal(paused[2], straight[2])
    shifted = np.where(paused[0] >= 200.0, paused[0] - 100.0, paused[0])
    np.testing.assert_allclose(shifted, straight[0], rtol=0, atol=1e-9)
