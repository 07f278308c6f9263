"""emlib.moments.pool_moments and scale_moments against moments computed directly by NumPy.

Every reference here is computed from the whole data at once, by ``np.average`` and
``np.cov(..., aweights=, bias=True)`` (or the explicit weighted sum), never by emlib.
"""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from emlib.moments import pool_moments, scale_moments


def direct_moments(X, resp, layout):
    """Counts, weighted means and weighted scatters about them, straight from NumPy."""
    K, D = resp.shape[1], X.shape[1]
    count = resp.sum(axis=0)
    mean = np.zeros((K, D))
    scatter = np.zeros((K, D, D))
    for k in range(K):
        if count[k] > 0:
            mean[k] = np.average(X, axis=0, weights=resp[:, k])
            # np.cov with bias=True divides by the sum of the weights: times it, the scatter.
            scatter[k] = np.atleast_2d(
                np.cov(X, rowvar=False, aweights=resp[:, k], bias=True)
            ) * count[k]
    moments = {"count": count, "mean": mean}
    if layout == "full":
        moments["scatter"] = scatter
    elif layout == "diag":
        moments["scatter"] = np.diagonal(scatter, axis1=1, axis2=2).copy()
    else:  # tied: one matrix, the sum of the within-component scatters
        moments["tied_scatter"] = scatter.sum(axis=0)
    return moments


def piece_moments(X, resp, layout):
    """A piece's moments by explicit sums about the piece's own means (the two-pass
    formula), as the families' ``_moments`` hooks return them."""
    K, D = resp.shape[1], X.shape[1]
    count = resp.sum(axis=0)
    mean = np.zeros((K, D))
    scatter = np.zeros((K, D, D))
    for k in range(K):
        if count[k] > 0:
            mean[k] = (resp[:, k] @ X) / count[k]
            dev = X - mean[k]
            scatter[k] = (resp[:, k] * dev.T) @ dev
        else:
            mean[k] = X.mean(axis=0)  # what an empty component's mean is in _moments
    moments = {"count": count, "mean": mean}
    if layout == "full":
        moments["scatter"] = scatter
    elif layout == "diag":
        moments["scatter"] = np.diagonal(scatter, axis1=1, axis2=2).copy()
    else:
        moments["tied_scatter"] = scatter.sum(axis=0)
    return moments


def pool_all(pieces):
    total = pieces[0]
    for piece in pieces[1:]:
        total = pool_moments(total, piece)
    return total


def assert_moments_close(got, expected, rtol, nonempty, X):
    assert set(got) == set(expected)
    np.testing.assert_allclose(got["count"], expected["count"], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(got["mean"][nonempty], expected["mean"][nonempty], rtol=rtol,
                               atol=0)
    for key in ("scatter", "tied_scatter"):
        if key in expected:
            # Relative to the largest entry, or to what the data could give (a scatter of
            # one point is zero, which the reference rounds to 1e-34).
            spread = np.max(np.abs(X - X.mean(axis=0))) ** 2 * expected["count"].sum()
            scale = max(np.max(np.abs(expected[key])), spread)
            np.testing.assert_allclose(got[key], expected[key], rtol=0, atol=rtol * scale)


@st.composite
def split_data(draw):
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    n = draw(st.integers(2, 60))
    D = draw(st.integers(1, 4))
    K = draw(st.integers(1, 4))
    n_cuts = draw(st.integers(0, min(n - 1, 6)))
    cuts = np.sort(rng.choice(np.arange(1, n), size=n_cuts, replace=False))
    X = rng.normal(size=(n, D)) * rng.uniform(0.1, 10, size=D)
    resp = rng.dirichlet(np.ones(K), size=n)
    empty = draw(st.lists(st.booleans(), min_size=K, max_size=K))
    if all(empty):
        empty[0] = False
    resp[:, np.array(empty)] = 0.0
    resp /= resp.sum(axis=1, keepdims=True)
    layout = draw(st.sampled_from(["full", "diag", "tied"]))
    return X, resp, cuts, layout, ~np.array(empty)


@settings(max_examples=60, deadline=None)
@given(split_data(), st.sampled_from([0.0, 1e8]))
def test_pooled_pieces_equal_the_moments_of_the_whole(case, offset):
    X, resp, cuts, layout, nonempty = case
    X = X + offset
    pieces = [piece_moments(x, r, layout)
              for x, r in zip(np.split(X, cuts), np.split(resp, cuts), strict=True)]
    # Zero-weight components: count zero in every piece, and pooling keeps it zero with
    # a finite mean and zero scatter.
    got = pool_all(pieces)
    expected = direct_moments(X, resp, layout)
    # At offset 1e8 a value is resolved to 1.5e-8 only (8 of its 16 digits describe its
    # deviation from 1e8), and so is every mean: the means agree to a relative 1e-15 of
    # their size and the scatters to 1e-7 of their largest entry (measured over 300 random
    # cases: 7e-16 and 6.5e-9). That is the resolution of the data themselves, no digits
    # are lost to the offset; the textbook E[x^2] - E[x]^2 would keep none.
    rtol = 1e-11 if offset == 0 else 1e-7
    assert_moments_close(got, expected, rtol=rtol, nonempty=nonempty, X=X)
    assert np.all(np.isfinite(got["mean"]))
    key = "tied_scatter" if layout == "tied" else "scatter"
    assert np.all(got[key][~nonempty] == 0) if key == "scatter" else True


def test_pooling_at_offset_1e8_keeps_the_variance_digits():
    # 1,000 points of spread 1 around 1e8, cut into 10 pieces. Stored at 1e8 every value,
    # and so every piece mean, is resolved to 1.5e-8 only: the differences of piece means
    # (about 0.1) in the pooling correction carry a relative 1e-7, and the pooled scatter
    # (entries up to 1,000) is right to 1e-8 of its largest entry (measured 1.2e-9): the
    # 8 digits the data themselves resolve. The textbook E[x^2] - E[x]^2 loses them all
    # (1e16 - 1e16 in float64).
    rng = np.random.default_rng(3)
    X = rng.normal(size=(1000, 2)) + 1e8
    resp = np.ones((1000, 1))
    pieces = [piece_moments(x, r, "full")
              for x, r in zip(np.split(X, 10), np.split(resp, 10), strict=True)]
    got = pool_all(pieces)
    dev = X - X.mean(axis=0)
    expected = dev.T @ dev
    scale = np.max(np.abs(expected))
    np.testing.assert_allclose(got["scatter"][0], expected, rtol=0, atol=1e-8 * scale)
    naive = (X.T @ X) - 1000 * np.outer(X.mean(axis=0), X.mean(axis=0))
    assert np.max(np.abs(naive - expected)) > 1e-3 * np.max(np.abs(expected))


def test_two_empty_pieces_keep_a_finite_mean_and_zero_scatter():
    a = {"count": np.zeros(2), "mean": np.array([[0.0], [2.0]]), "scatter": np.zeros((2, 1))}
    b = {"count": np.zeros(2), "mean": np.array([[4.0], [2.0]]), "scatter": np.zeros((2, 1))}
    pooled = pool_moments(a, b)
    np.testing.assert_array_equal(pooled["count"], 0.0)
    np.testing.assert_array_equal(pooled["mean"], [[2.0], [2.0]])
    np.testing.assert_array_equal(pooled["scatter"], 0.0)


def test_an_empty_piece_leaves_the_other_unchanged():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(30, 3)) + 1e6
    b = piece_moments(X, rng.dirichlet(np.ones(2), size=30), "full")
    a = {"count": np.zeros(2), "mean": np.full((2, 3), -5.0), "scatter": np.zeros((2, 3, 3))}
    for pooled in (pool_moments(a, b), pool_moments(b, a)):
        np.testing.assert_array_equal(pooled["count"], b["count"])
        np.testing.assert_allclose(pooled["mean"], b["mean"], rtol=1e-15)
        np.testing.assert_array_equal(pooled["scatter"], b["scatter"])


@settings(max_examples=40, deadline=None)
# Factors are zero or at least 1e-3: subnormal weights (hypothesis tries 5e-324) break
# the reference np.average, not the pooling.
@given(split_data(), st.lists(st.one_of(st.just(0.0), st.floats(1e-3, 5.0)), min_size=8,
                              max_size=8))
def test_scaled_then_pooled_equals_the_weighted_combination(case, factors):
    # scale_moments(m, c) are the moments of the same data with every weight times c; pooling
    # scaled pieces is therefore the direct moments of the data with weights c_i r_nk.
    X, resp, cuts, layout, nonempty = case
    xs, rs = np.split(X, cuts), np.split(resp, cuts)
    factors = factors[: len(xs)]
    if sum(f * r.sum() for f, r in zip(factors, rs, strict=True)) == 0:
        factors[0] = 1.0
    pieces = [scale_moments(piece_moments(x, r, layout), f)
              for x, r, f in zip(xs, rs, factors, strict=True)]
    got = pool_all(pieces)
    weighted = np.vstack([f * r for r, f in zip(rs, factors, strict=True)])
    expected = direct_moments(X, weighted, layout)
    has_weight = nonempty & (expected["count"] > 0)
    assert_moments_close(got, expected, rtol=1e-10, nonempty=has_weight, X=X)


def test_scale_moments_scales_counts_and_scatters_not_means():
    m = {"count": np.array([2.0, 3.0]), "mean": np.array([[1.0], [2.0]]),
         "scatter": np.array([[4.0], [6.0]]), "log_likelihood": -7.0}
    s = scale_moments(m, 0.5)
    np.testing.assert_array_equal(s["count"], [1.0, 1.5])
    np.testing.assert_array_equal(s["mean"], m["mean"])
    np.testing.assert_array_equal(s["scatter"], [[2.0], [3.0]])
    assert s["log_likelihood"] == -3.5
    np.testing.assert_array_equal(m["count"], [2.0, 3.0])  # the input is not changed


def test_an_empty_component_pooled_by_size_gets_the_mean_of_all_the_data():
    # Each piece gives an empty component the mean of its own rows (as the Gaussian
    # _moments hook does); weighted by the pieces' sizes the pooled mean is the mean of all
    # rows, where the in-memory M-step puts an empty component. The unweighted midpoint
    # of pieces of 1 and 99 rows would not be.
    rng = np.random.default_rng(0)
    X = rng.normal(size=(100, 2)) * 3 + 5
    pieces = []
    for x in (X[:1], X[1:40], X[40:]):
        m = piece_moments(x, np.c_[np.ones(len(x)), np.zeros(len(x))], "full")
        m["size"] = float(len(x))
        pieces.append(m)
    pooled = pool_all(pieces)
    np.testing.assert_allclose(pooled["mean"][1], X.mean(axis=0), rtol=1e-14)
    np.testing.assert_allclose(pooled["mean"][0], X.mean(axis=0), rtol=1e-14)
    assert pooled["size"] == 100 and pooled["count"][1] == 0
