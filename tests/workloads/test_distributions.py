"""Size distributions: shapes, bounds, means and laws against scipy, validation."""

import math
import tomllib

import numpy as np
import pydantic
import pytest
from scipy import stats

from workloads.distributions import Choice, Constant, Distribution, Exponential, LogNormal, Pareto, Uniform

SEED = 20240601
N = 200_000  # large-sample checks; a draw of this size takes a few ms
ALPHA = 1e-3  # significance level of every goodness-of-fit test
Z = 4.0  # a sample mean must lie within Z standard errors of the analytic mean

ADAPTER = pydantic.TypeAdapter(Distribution)


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(SEED)


def _check_mean(x: np.ndarray, mean: float, var: float) -> None:
    """Sample mean within Z standard errors, the standard error from the analytic variance."""
    se = math.sqrt(var / x.size)
    assert abs(x.mean() - mean) <= Z * se, (x.mean(), mean, se)


def _check_binomial(hits: int, n: int, p: float) -> None:
    """A count of events with probability p lies within Z binomial standard errors of n*p."""
    assert abs(hits - n * p) <= Z * math.sqrt(n * p * (1 - p)), (hits, n * p)


ALL = [
    Constant(dist="constant", value=4.0),
    Exponential(dist="exponential", mean=3.0),
    LogNormal(dist="lognormal", median=200.0, sigma=1.0),
    LogNormal(dist="lognormal", median=200.0, sigma=1.0, max=500.0),
    Pareto(dist="pareto", min=2.0, alpha=1.5),
    Pareto(dist="pareto", min=2.0, alpha=1.5, max=10.0),
    Uniform(dist="uniform", low=2.0, high=5.0),
    Choice(dist="choice", values=(8, 16, 32, 64), weights=(4, 3, 2, 1)),
]


@pytest.mark.parametrize("dist", ALL, ids=repr)
@pytest.mark.parametrize("n", [0, 1, 7])
def test_sample_shape_and_dtype(dist, n, rng):
    x = dist.sample(rng, n)
    assert isinstance(x, np.ndarray)
    assert x.shape == (n,)
    assert x.dtype == np.float64


@pytest.mark.parametrize("dist", ALL, ids=repr)
def test_samples_stay_within_upper_and_are_positive(dist, rng):
    x = dist.sample(rng, 20_000)
    assert (x > 0).all()
    assert (x <= dist.upper()).all()


@pytest.mark.parametrize("dist", ALL, ids=repr)
def test_samples_stay_above_lower_which_is_tight_where_it_is_not_zero(dist, rng):
    # lower() is what cluster.idle_sites compares a site's GPUs with ("smaller than every job").
    x = dist.sample(rng, 20_000)
    assert (x >= dist.lower()).all()
    if dist.lower() > 0:  # the support starts there: 20,000 draws come within 1 % of it
        assert x.min() <= dist.lower() * 1.01, (x.min(), dist.lower())


def test_lower_of_a_choice_ignores_values_without_weight():
    assert Choice(dist="choice", values=(8, 16, 32), weights=(0, 1, 1)).lower() == 16.0


@pytest.mark.parametrize("dist", ALL, ids=repr)
def test_same_seed_same_draws(dist):
    a = dist.sample(np.random.default_rng(7), 100)
    b = dist.sample(np.random.default_rng(7), 100)
    np.testing.assert_array_equal(a, b)


# -- one distribution at a time ------------------------------------------------------


def test_constant(rng):
    d = Constant(dist="constant", value=4.5)
    before = rng.bit_generator.state
    np.testing.assert_array_equal(d.sample(rng, 5), [4.5] * 5)
    assert rng.bit_generator.state == before  # documented: rng is not advanced
    assert d.expected() == 4.5 and d.upper() == 4.5


def test_exponential_mean_and_law(rng):
    d = Exponential(dist="exponential", mean=3.0)
    x = d.sample(rng, N)
    assert d.expected() == 3.0 and d.upper() == math.inf
    _check_mean(x, d.expected(), 3.0**2)
    assert stats.kstest(x, stats.expon(scale=3.0).cdf).pvalue > ALPHA


def test_lognormal_mean_and_law(rng):
    d = LogNormal(dist="lognormal", median=200.0, sigma=0.5)
    x = d.sample(rng, N)
    s2 = 0.5**2
    assert d.expected() == pytest.approx(200.0 * math.exp(s2 / 2), rel=1e-12)
    _check_mean(x, d.expected(), (math.exp(s2) - 1) * 200.0**2 * math.exp(s2))
    assert stats.kstest(x, stats.lognorm(s=0.5, scale=200.0).cdf).pvalue > ALPHA
    # Asymptotic se of a sample median: 1 / (2 f(median) sqrt(N)) = sigma * median * sqrt(pi / 2 / N).
    assert abs(np.median(x) - 200.0) <= Z * 0.5 * 200.0 * math.sqrt(math.pi / 2 / N)
    assert d.upper() == math.inf


def test_lognormal_clipped_at_max(rng):
    d = LogNormal(dist="lognormal", median=200.0, sigma=1.0, max=500.0)
    x = d.sample(rng, N)
    assert x.max() == 500.0 and d.upper() == 500.0
    # Mass at the clip equals the untruncated tail P(X > 500).
    _check_binomial(int((x == 500.0).sum()), N, stats.lognorm(s=1.0, scale=200.0).sf(500.0))
    # Below the clip the draws follow the log-normal truncated to (0, 500).
    law = stats.lognorm(s=1.0, scale=200.0)
    assert stats.kstest(x[x < 500.0], lambda v: law.cdf(v) / law.cdf(500.0)).pvalue > ALPHA


def test_lognormal_sigma_zero_is_constant(rng):
    d = LogNormal(dist="lognormal", median=7.0, sigma=0.0)
    np.testing.assert_allclose(d.sample(rng, 10), 7.0, rtol=1e-15)
    assert d.expected() == 7.0


def test_pareto_mean_and_law(rng):
    lo, a = 2.0, 4.0
    d = Pareto(dist="pareto", min=lo, alpha=a)
    x = d.sample(rng, N)
    assert x.min() >= lo
    assert d.expected() == pytest.approx(a * lo / (a - 1), rel=1e-12)
    _check_mean(x, d.expected(), lo**2 * a / ((a - 1) ** 2 * (a - 2)))
    assert stats.kstest(x, stats.pareto(b=a, scale=lo).cdf).pvalue > ALPHA


def test_pareto_clipped_at_max(rng):
    d = Pareto(dist="pareto", min=1.0, alpha=1.5, max=4.0)
    x = d.sample(rng, N)
    assert x.min() >= 1.0 and x.max() == 4.0 and d.upper() == 4.0
    _check_binomial(int((x == 4.0).sum()), N, 4.0**-1.5)  # P(X > max) = (min/max)^alpha


@pytest.mark.parametrize("alpha", [0.5, 1.0])
def test_pareto_infinite_mean(alpha, rng):
    d = Pareto(dist="pareto", min=3.0, alpha=alpha)
    assert d.expected() == math.inf
    assert d.sample(rng, 1000).min() >= 3.0


def test_uniform_mean_and_law(rng):
    d = Uniform(dist="uniform", low=2.0, high=5.0)
    x = d.sample(rng, N)
    assert x.min() >= 2.0 and x.max() <= 5.0
    assert d.expected() == 3.5 and d.upper() == 5.0
    _check_mean(x, 3.5, 3.0**2 / 12)
    assert stats.kstest(x, stats.uniform(loc=2.0, scale=3.0).cdf).pvalue > ALPHA


def test_uniform_degenerate(rng):
    d = Uniform(dist="uniform", low=3.0, high=3.0)
    np.testing.assert_array_equal(d.sample(rng, 4), [3.0] * 4)


def test_choice_weights_respected(rng):
    values, weights = (8, 16, 32, 64), (4, 3, 2, 1)
    d = Choice(dist="choice", values=values, weights=weights)
    x = d.sample(rng, N)
    assert set(np.unique(x)) == {8.0, 16.0, 32.0, 64.0}
    observed = [(x == v).sum() for v in values]
    p = np.array(weights) / sum(weights)
    assert stats.chisquare(observed, N * p).pvalue > ALPHA
    assert d.expected() == pytest.approx((8 * 4 + 16 * 3 + 32 * 2 + 64 * 1) / 10, rel=1e-12)
    var = float(np.dot(p, np.array(values) ** 2)) - d.expected() ** 2
    _check_mean(x, d.expected(), var)


def test_choice_default_weights_are_equal(rng):
    d = Choice(dist="choice", values=(1, 2, 3))
    x = d.sample(rng, N)
    observed = [(x == v).sum() for v in (1, 2, 3)]
    assert sum(observed) == N
    assert stats.chisquare(observed).pvalue > ALPHA
    assert d.expected() == pytest.approx(2.0) and d.upper() == 3.0


def test_choice_zero_weight_never_drawn(rng):
    d = Choice(dist="choice", values=(8, 64, 16), weights=(1, 0, 1))
    x = d.sample(rng, 10_000)
    assert set(np.unique(x)) == {8.0, 16.0}
    assert d.upper() == 16.0  # the largest value with positive weight, not 64
    assert d.expected() == 12.0


# -- validation ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "match"),
    [
        ({"dist": "uniform", "low": 2.0, "high": 1.0}, r"high: must be >= low \(=2\), got 1"),
        ({"dist": "uniform", "low": -1.0, "high": 1.0}, "greater than 0"),
        ({"dist": "choice", "values": [8, 16, 32], "weights": [1, 2]}, "weights: 2 entries but values has 3"),
        ({"dist": "choice", "values": [-1, 2]}, r"values: must be > 0 and <= 1e\+12, got \[-1\.0, 2\.0\]"),
        ({"dist": "choice", "values": [0, 2]}, r"values: must be > 0 and <= 1e\+12, got \[0\.0, 2\.0\]"),
        ({"dist": "choice", "values": [1, 2], "weights": [-1, 2]}, "weights: must be >= 0 and <= 1e"),
        ({"dist": "choice", "values": [1, 2], "weights": [0, 0]}, "and sum to > 0"),
        ({"dist": "choice", "values": []}, "at least 1 item"),
        ({"dist": "constant", "value": 0}, "greater than 0"),
        ({"dist": "exponential", "mean": -2.0}, "greater than 0"),
        ({"dist": "lognormal", "median": 1.0, "sigma": -0.1}, "greater than or equal to 0"),
        ({"dist": "lognormal", "median": 1.0, "sigma": 1.0, "max": 0}, "greater than 0"),
        ({"dist": "pareto", "min": -1.0, "alpha": 2.0}, "greater than 0"),
        ({"dist": "pareto", "min": 1.0, "alpha": 0.0}, "greater than or equal to 0.1"),
        ({"dist": "exponential", "mean": 1.0, "median": 1.0}, "Extra inputs are not permitted"),
        ({"dist": "gamma", "shape": 2.0}, "does not match any of the expected tags"),
        ({"mean": 2.0}, "Unable to extract tag using discriminator 'dist'"),
    ],
)
def test_validation_errors(data, match):
    with pytest.raises(pydantic.ValidationError, match=match):
        ADAPTER.validate_python(data)


@pytest.mark.parametrize(
    "data",
    [
        {"dist": "choice", "values": [math.nan, 2.0]},
        {"dist": "choice", "values": [1.0, 2.0], "weights": [math.nan, 1.0]},
    ],
    ids=["nan-value", "nan-weight"],
)
def test_choice_rejects_nan(data):
    with pytest.raises(pydantic.ValidationError, match="must be"):
        ADAPTER.validate_python(data)


def test_toml_tables_select_the_right_class():
    doc = tomllib.loads(
        'w = { dist = "lognormal", median = 200.0, sigma = 1.0 }\n'
        'g = { dist = "choice", values = [8, 16, 32, 64], weights = [4, 3, 2, 1] }\n'
    )
    w, g = ADAPTER.validate_python(doc["w"]), ADAPTER.validate_python(doc["g"])
    assert w == LogNormal(dist="lognormal", median=200.0, sigma=1.0)
    assert isinstance(g, Choice) and g.values == (8.0, 16.0, 32.0, 64.0) and g.upper() == 64.0


def test_distributions_are_frozen():
    d = Exponential(dist="exponential", mean=1.0)
    with pytest.raises(pydantic.ValidationError, match="frozen"):
        d.mean = 2.0
