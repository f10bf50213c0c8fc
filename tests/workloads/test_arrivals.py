"""Poisson arrivals a step at a time, and merging the per-class batches."""

import math

import numpy as np
import pydantic
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from workloads.arrivals import ArrivalBatch, class_arrivals, merge_batches
from workloads.job_class import JobClass

SEED = 314159
ALPHA = 1e-3  # significance level of every goodness-of-fit test
Z = 4.0  # a sample mean must lie within Z standard errors of the analytic mean
ORIGIN_P = np.array([0.5, 0.3, 0.2, 0.0])


def _job_class(gpus: dict | None = None, work: dict | None = None, rate: float = 1.0) -> JobClass:
    data = {"arrival_rate_per_h": rate, "work_gpu_h": work or {"dist": "exponential", "mean": 2.0}}
    if gpus is not None:
        data["gpus"] = gpus
    return JobClass.model_validate(data)


UNIFORM_GPUS = {"dist": "uniform", "low": 0.2, "high": 3.7}


def _draw(rate: float, t0: float, t1: float, seed: int = SEED, job_class: JobClass | None = None) -> ArrivalBatch:
    jc = job_class or _job_class(UNIFORM_GPUS)
    return class_arrivals(jc, 2, ORIGIN_P, rate, t0, t1, np.random.default_rng(seed))


def _assert_same(a: ArrivalBatch, b: ArrivalBatch) -> None:
    for field in ("t_h", "cls", "gpus", "work_gpu_h", "origin"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field))


# -- counts --------------------------------------------------------------------------


def test_count_is_poisson_with_rate_times_step():
    # 6 per hour over half-hour steps: Poisson(3) per step.
    jc, rng, steps, lam = _job_class(), np.random.default_rng(SEED), 4000, 3.0
    counts = np.array([len(class_arrivals(jc, 0, ORIGIN_P, 6.0, 0.5 * k, 0.5 * (k + 1), rng)) for k in range(steps)])
    assert abs(counts.mean() - lam) <= Z * math.sqrt(lam / steps)
    # Dispersion index: sum (x - mean)^2 / mean ~ chi2(steps - 1) for Poisson counts.
    d = ((counts - counts.mean()) ** 2).sum() / counts.mean()
    chi2 = stats.chi2(steps - 1)
    assert 2 * min(chi2.cdf(d), chi2.sf(d)) > ALPHA
    # Full law: chi-square on 0..8 and a lumped >= 9 bin.
    observed = [(counts == k).sum() for k in range(9)] + [(counts >= 9).sum()]
    p = [stats.poisson.pmf(k, lam) for k in range(9)] + [stats.poisson.sf(8, lam)]
    assert stats.chisquare(observed, steps * np.array(p)).pvalue > ALPHA


def test_zero_rate_or_empty_step_gives_empty_batch():
    for rate, t0, t1 in [(0.0, 0.0, 1.0), (5.0, 2.0, 2.0)]:
        b = _draw(rate, t0, t1)
        assert len(b) == 0
        assert b.t_h.dtype == np.float64 and b.work_gpu_h.dtype == np.float64
        assert b.cls.dtype == b.gpus.dtype == b.origin.dtype == np.int64
        assert all(getattr(b, f).shape == (0,) for f in ("t_h", "cls", "gpus", "work_gpu_h", "origin"))


# -- columns -------------------------------------------------------------------------


def test_times_sorted_inside_step_and_uniform():
    t0, t1 = 5.0, 6.0
    b = _draw(20_000.0, t0, t1)
    assert len(b) > 0
    assert (np.diff(b.t_h) >= 0).all()
    assert b.t_h.min() >= t0 and b.t_h.max() < t1
    # Given the count, Poisson arrival times are i.i.d. uniform on the step.
    assert stats.kstest(b.t_h, stats.uniform(loc=t0, scale=t1 - t0).cdf).pvalue > ALPHA


def test_columns_have_one_row_per_arrival():
    b = _draw(500.0, 0.0, 1.0)
    n = len(b)
    assert n > 0
    for field in ("t_h", "cls", "gpus", "work_gpu_h", "origin"):
        assert getattr(b, field).shape == (n,)
    assert (b.cls == 2).all()


def test_continuous_gpus_rounded_up_to_integers_at_least_one():
    b = _draw(20_000.0, 0.0, 1.0)
    assert b.gpus.dtype == np.int64
    assert (b.gpus >= 1).all()
    # ceil of U(0.2, 3.7): 1 w.p. 0.8/3.5, 2 and 3 w.p. 1/3.5 each, 4 w.p. 0.7/3.5.
    observed = [(b.gpus == k).sum() for k in (1, 2, 3, 4)]
    assert sum(observed) == len(b)
    assert stats.chisquare(observed, len(b) * np.array([0.8, 1.0, 1.0, 0.7]) / 3.5).pvalue > ALPHA


def test_draw_order_is_count_times_gpus_work_origin():
    # The documented stream order, replayed by hand: the batch must equal it exactly.
    jc = _job_class(UNIFORM_GPUS)
    rate, t0, t1 = 40.0, 1.0, 1.5
    b = class_arrivals(jc, 7, ORIGIN_P, rate, t0, t1, np.random.default_rng(SEED))
    rng = np.random.default_rng(SEED)
    n = int(rng.poisson(rate * (t1 - t0)))
    t = np.sort(rng.uniform(t0, t1, n))
    raw_gpus = rng.uniform(0.2, 3.7, n)
    work = rng.exponential(2.0, n)
    origin = rng.choice(4, size=n, p=ORIGIN_P)
    assert len(b) == n > 0
    np.testing.assert_array_equal(b.t_h, t)
    assert b.gpus.tolist() == [max(1, math.ceil(g)) for g in raw_gpus]
    np.testing.assert_array_equal(b.work_gpu_h, work)
    np.testing.assert_array_equal(b.origin, origin)
    assert b.cls.tolist() == [7] * n


def test_work_follows_the_class_distribution():
    b = _draw(20_000.0, 0.0, 1.0)
    assert abs(b.work_gpu_h.mean() - 2.0) <= Z * 2.0 / math.sqrt(len(b))  # Exp(mean 2): sd = 2
    assert stats.kstest(b.work_gpu_h, stats.expon(scale=2.0).cdf).pvalue > ALPHA


def test_origins_follow_origin_p():
    b = _draw(20_000.0, 0.0, 1.0)
    assert b.origin.dtype == np.int64
    assert not (b.origin == 3).any()  # zero probability: never an origin
    observed = [(b.origin == i).sum() for i in range(3)]
    assert sum(observed) == len(b)
    assert stats.chisquare(observed, len(b) * ORIGIN_P[:3]).pvalue > ALPHA


def test_choice_gpus_keep_their_values():
    jc = _job_class({"dist": "choice", "values": [8, 16, 64], "weights": [1, 1, 1]})
    b = class_arrivals(jc, 0, ORIGIN_P, 1000.0, 0.0, 1.0, np.random.default_rng(SEED))
    assert set(b.gpus.tolist()) == {8, 16, 64}


def test_unbounded_gpus_distribution_is_rejected():
    # An unbounded heavy tail would overflow the int64 cast in class_arrivals; the class refuses it.
    with pytest.raises(pydantic.ValidationError, match="unbounded; set 'max'"):
        _job_class({"dist": "pareto", "min": 1.0, "alpha": 0.5})


# -- streams -------------------------------------------------------------------------


def test_same_seed_same_arrivals():
    _assert_same(_draw(300.0, 0.0, 1.0, seed=11), _draw(300.0, 0.0, 1.0, seed=11))


def test_different_seeds_different_arrivals():
    a, b = _draw(300.0, 0.0, 1.0, seed=11), _draw(300.0, 0.0, 1.0, seed=12)
    assert len(a) > 0 and len(b) > 0
    n = min(len(a), len(b))
    # Continuous times from two streams coincide with probability zero.
    assert not np.isin(a.t_h[:n], b.t_h).any()


# -- merging -------------------------------------------------------------------------


def _batch(t: list[float], cls: int, first_id: int = 0) -> ArrivalBatch:
    n = len(t)
    return ArrivalBatch(
        np.asarray(t, float),
        np.full(n, cls, np.int64),
        np.arange(1, n + 1, dtype=np.int64) * (cls + 1),
        np.arange(first_id, first_id + n, dtype=float),  # row label, to follow rows around
        np.full(n, cls % 3, np.int64),
    )


def test_merge_by_hand():
    a = _batch([0.1, 0.5, 0.9], cls=0, first_id=0)
    b = _batch([0.2, 0.5, 0.7], cls=1, first_id=10)
    m = merge_batches([a, b])
    assert m.t_h.tolist() == [0.1, 0.2, 0.5, 0.5, 0.7, 0.9]
    assert m.cls.tolist() == [0, 1, 0, 1, 1, 0]  # tie at 0.5: class order
    assert m.work_gpu_h.tolist() == [0.0, 10.0, 1.0, 11.0, 12.0, 2.0]
    assert m.gpus.tolist() == [1, 2, 2, 4, 6, 3]
    assert m.origin.tolist() == [0, 1, 0, 1, 1, 0]
    assert len(m) == 6


def test_merge_single_batch_is_unchanged():
    a = _batch([0.3, 0.4], cls=0)
    _assert_same(merge_batches([a]), a)


def test_merge_with_empty_batches():
    a, empty = _batch([0.3, 0.4], cls=0), _batch([], cls=1)
    m = merge_batches([empty, a, empty])
    _assert_same(m, a)


times = st.lists(st.sampled_from([0.0, 0.25, 0.5, 0.75, 0.9]) | st.floats(0, 1, exclude_max=True), max_size=20)


@settings(derandomize=True)  # same examples on every run, like a fixed seed
@given(st.lists(times, min_size=1, max_size=5))
def test_merge_is_a_time_sorted_permutation(per_class):
    batches, first = [], 0
    for cls, t in enumerate(per_class):
        batches.append(_batch(sorted(t), cls, first))
        first += len(t)
    m = merge_batches(batches)
    assert len(m) == first
    assert (np.diff(m.t_h) >= 0).all()
    # Every row exactly once, with its own values.
    assert sorted(m.work_gpu_h.tolist()) == list(range(first))
    rows = {}
    for b in batches:
        for i in range(len(b)):
            rows[b.work_gpu_h[i]] = (b.t_h[i], b.cls[i], b.gpus[i], b.origin[i])
    for i in range(len(m)):
        assert rows[m.work_gpu_h[i]] == (m.t_h[i], m.cls[i], m.gpus[i], m.origin[i])
    # Ties go by class order, then by order within the class (a stable merge).
    key = list(zip(m.t_h.tolist(), m.cls.tolist(), m.work_gpu_h.tolist(), strict=True))
    assert key == sorted(key)
