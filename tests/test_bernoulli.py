"""BernoulliMixture: a loop-based reference, MAP-EM, 784 features, binary input only."""

import itertools
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.stats import bernoulli
from sklearn.exceptions import ConvergenceWarning

from emlib import BernoulliMixture, blocked_products, lloyd
from emlib import bernoulli as bernoulli_module
from emlib.bernoulli import SPREAD_LIMIT, _weighted_sums, log_bernoulli_density
from emlib.blocked_products import block_rows_for
from emlib.datasets import load_mnist, make_binary_patterns
from emlib.metrics import matched_accuracy


def reference_em(X, weights, means, n_iter, a=0.0, b=0.0):
    """EM written with explicit loops and products of probabilities (tiny data only)."""
    N, D = X.shape
    K = len(weights)
    weights, means = np.array(weights, float), np.array(means, float)
    objectives = []
    for _ in range(n_iter):
        joint = np.empty((N, K))
        for n, k in itertools.product(range(N), range(K)):
            p = 1.0
            for d in range(D):
                p *= means[k, d] if X[n, d] == 1 else 1.0 - means[k, d]
            joint[n, k] = weights[k] * p
        log_prior = a * np.sum(np.log(means) + np.log(1 - means)) + b * np.sum(np.log(weights))
        objectives.append((np.sum(np.log(joint.sum(axis=1))) + log_prior) / N)
        resp = joint / joint.sum(axis=1, keepdims=True)
        for k in range(K):
            nk = resp[:, k].sum()
            weights[k] = (nk + b) / (N + K * b)
            for d in range(D):
                means[k, d] = (sum(resp[n, k] * X[n, d] for n in range(N)) + a) / (nk + 2 * a)
    return weights, means, objectives


@pytest.mark.parametrize("a, b", [(0.0, 0.0), (1.0, 0.0), (0.5, 2.0)])
def test_matches_loop_reference(a, b):
    rng = np.random.default_rng(0)
    X = (rng.random((25, 6)) < 0.4).astype(np.uint8)
    w0, m0 = [0.3, 0.7], rng.uniform(0.2, 0.8, size=(2, 6))
    ref_w, ref_m, ref_obj = reference_em(X, w0, m0, 6, a, b)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        bm = BernoulliMixture(
            2, pixel_prior=a, weight_prior=b, weights_init=w0, means_init=m0, max_iter=6, tol=0
        ).fit(X)
    np.testing.assert_allclose(bm.weights_, ref_w, rtol=1e-10)
    np.testing.assert_allclose(bm.means_, ref_m, rtol=1e-10)
    np.testing.assert_allclose(bm.log_likelihood_history_, ref_obj, rtol=1e-10)


def test_finite_with_784_features_where_products_underflow():
    X, _ = load_mnist(500, binarize=True)
    bm = BernoulliMixture(10, random_state=0, max_iter=50).fit(X)
    # Products of 784 Bernoulli probabilities underflow to exactly zero in float64 ...
    terms = np.where(X[:, None, :] == 1, bm.means_[None], 1 - bm.means_[None])
    assert np.mean(terms.prod(axis=2) == 0.0) > 0.1
    # ... but every quantity the model reports is finite.
    assert np.all(np.isfinite(bm.score_samples(X)))
    assert np.all((bm.means_ > 0) & (bm.means_ < 1))
    np.testing.assert_allclose(bm.predict_proba(X).sum(axis=1), 1.0)
    assert np.all(np.diff(bm.log_likelihood_history_) >= -1e-10)


def test_recovers_the_binary_patterns():
    X, y, prototypes = make_binary_patterns(900, flip_prob=0.1, random_state=0)
    bm = BernoulliMixture(3, n_init=3, random_state=0).fit(X)
    assert matched_accuracy(y, bm.predict(X)) > 0.99
    # Each learned image is its prototype with flips: 0.1 where off and 0.9 where on.
    expected = np.where(prototypes == 1, 0.9, 0.1)
    errors = np.abs(expected[:, None, :] - bm.means_[None, :, :]).mean(axis=2)
    assert np.all(errors.min(axis=1) < 0.04)


def test_map_objective_includes_the_log_prior_and_never_decreases():
    X, _ = load_mnist(300, binarize=True)
    bm = BernoulliMixture(5, pixel_prior=1.0, weight_prior=1.0, random_state=0).fit(X)
    assert np.all(np.diff(bm.log_likelihood_history_) >= -1e-12)
    # Priors pull the pixel probabilities away from 0 and 1: never closer than a/(N_k + 2a).
    assert bm.means_.min() > 1.0 / (len(X) + 2.0) - 1e-12


def test_prior_fixes_pixels_never_seen():
    X = np.zeros((20, 4), dtype=np.uint8)
    X[:10, 0] = 1
    ml = BernoulliMixture(1).fit(X)
    smoothed = BernoulliMixture(1, pixel_prior=1.0).fit(X)
    new = np.array([[0, 0, 0, 1]])
    assert ml.score(new) < -30  # probability about machine epsilon: "impossible"
    assert smoothed.score(new) > -5
    np.testing.assert_allclose(smoothed.means_[0], [11 / 22, 1 / 22, 1 / 22, 1 / 22])


def test_float32_halves_memory_and_agrees():
    X, _ = load_mnist(400, binarize=True)
    kwargs = dict(n_components=4, random_state=0, max_iter=10, tol=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        double = BernoulliMixture(**kwargs).fit(X)
        single = BernoulliMixture(**kwargs, dtype=np.float32).fit(X)
    assert single.means_.dtype == np.float32
    np.testing.assert_allclose(single.means_, double.means_, atol=1e-3)


def test_float32_start_near_zero_and_one_stays_finite():
    """1 - 1e-10 is a valid start in float64 but rounds to 1 in float32, where log(1 - mu)
    was -inf and the fit ended in nan; it is kept within eps of (0, 1) as the M-step's are."""
    X, _ = load_mnist(200, binarize=True)
    means = np.clip(X[:3], 1e-10, 1 - 1e-10)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        warnings.simplefilter("ignore", ConvergenceWarning)
        fit = BernoulliMixture(3, dtype=np.float32, means_init=means,
                               weights_init=np.full(3, 1 / 3), max_iter=5).fit(X)
    assert np.isfinite(fit.lower_bound_) and np.all(np.isfinite(fit.means_))
    eps = np.finfo(np.float32).eps
    assert fit.means_.min() >= eps and fit.means_.max() <= 1 - eps


def test_sample_bic_aic():
    X, _, _ = make_binary_patterns(300, random_state=1)
    bm = BernoulliMixture(3, random_state=0).fit(X)
    S, labels = bm.sample(20_000)
    assert S.shape == (20_000, 64) and set(np.unique(S)) <= {0, 1}
    np.testing.assert_allclose(S.mean(axis=0), bm.weights_ @ bm.means_, atol=0.02)
    assert bm.n_parameters() == bm._n_parameters() == 3 * 64 + 2
    log_lik = bm.score(X) * len(X)
    np.testing.assert_allclose(bm.bic(X), -2 * log_lik + 194 * np.log(len(X)))
    np.testing.assert_allclose(bm.aic(X), -2 * log_lik + 2 * 194)


# ------------------------------------------------------------------ sparse input
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("init_params", ["kmeans", "k-means++", "random", "random_from_data"])
@pytest.mark.parametrize("sparse_format", [sp.csr_array, sp.csc_matrix])
def test_sparse_input_fits_as_dense_input_does(dtype, init_params, sparse_format):
    """The same start and the same iterations: only the order of the products' sums
    differs, by rounding, which the iterations carry along without amplifying much."""
    X, _ = load_mnist(500, binarize=True)
    kwargs = dict(n_components=5, init_params=init_params, random_state=0, pixel_prior=0.1,
                  max_iter=200, dtype=dtype)
    dense = BernoulliMixture(**kwargs).fit(X)
    sparse = BernoulliMixture(**kwargs).fit(sparse_format(X))
    assert sparse.means_.dtype == dtype and sparse.n_iter_ == dense.n_iter_
    eps = np.finfo(dtype).eps
    np.testing.assert_allclose(sparse.means_, dense.means_, rtol=0, atol=1e3 * eps)
    np.testing.assert_allclose(sparse.weights_, dense.weights_, rtol=0, atol=1e3 * eps)
    np.testing.assert_array_equal(sparse.predict(sparse_format(X)), dense.predict(X))
    # A log-likelihood sums 784 terms as large as |log eps| (pixels a component never saw),
    # and the parameters themselves differ by rounding.
    np.testing.assert_allclose(sparse.score_samples(sparse_format(X)), dense.score_samples(X),
                               rtol=1e3 * eps)


def test_sparse_input_to_partial_fit_and_predict():
    X, _ = load_mnist(600, binarize=True)
    dense, sparse = BernoulliMixture(4, random_state=0), BernoulliMixture(4, random_state=0)
    for rows in np.array_split(np.arange(len(X)), 3):
        dense.partial_fit(X[rows])
        sparse.partial_fit(sp.csr_array(X[rows]))
    np.testing.assert_allclose(sparse.means_, dense.means_, rtol=0, atol=1e-12)
    np.testing.assert_allclose(dense.predict_proba(sp.csr_array(X)), dense.predict_proba(X),
                               rtol=0, atol=1e-12)


def test_sparse_log_density_is_column_major_and_equals_the_dense_one():
    X, _ = load_mnist(50, binarize=True)
    means = np.random.default_rng(0).uniform(0.05, 0.95, size=(3, X.shape[1]))
    dense = log_bernoulli_density(X.astype(float), means)
    sparse = log_bernoulli_density(sp.csr_matrix(X, dtype=float), means)
    assert isinstance(sparse, np.ndarray) and sparse.flags.f_contiguous
    np.testing.assert_allclose(sparse, dense, rtol=1e-13)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("layout", ["dense", "sparse"])
def test_both_products_agree_with_scipy_in_either_dtype(dtype, layout):
    """The E-step's density and the M-step's sums, whichever orientation the BLAS is asked
    for in each dtype, against SciPy's Bernoulli log-pmf and a float64 product."""
    X, _ = load_mnist(300, binarize=True)
    rng = np.random.default_rng(1)
    means = rng.uniform(0.01, 0.99, size=(7, X.shape[1])).astype(dtype)
    resp = np.asfortranarray(rng.dirichlet(np.ones(7), size=len(X)).astype(dtype))
    data = X.astype(dtype) if layout == "dense" else sp.csr_array(X, dtype=dtype)

    log_prob = log_bernoulli_density(data, means)
    expected = bernoulli.logpmf(X[:, None, :], means[None].astype(np.float64)).sum(axis=2)
    assert log_prob.dtype == dtype and log_prob.flags.f_contiguous
    # 784 terms, each as large as |log 0.01|, rounded in the dtype.
    eps = np.finfo(dtype).eps
    np.testing.assert_allclose(log_prob, expected, rtol=0,
                               atol=X.shape[1] * eps * np.abs(expected).max())

    sums = _weighted_sums(data, resp)
    expected_sums = resp.T.astype(np.float64) @ X
    assert sums.shape == means.shape and sums.dtype == dtype
    assert sums.flags.c_contiguous or layout == "sparse"
    # Sums of 300 non-negative terms rounded in the dtype.
    np.testing.assert_allclose(sums, expected_sums, rtol=0,
                               atol=len(X) * eps * expected_sums.max())


@pytest.mark.parametrize(("x_dtype", "means_dtype", "result_dtype"),
                         [(np.uint8, np.float32, np.float32), (bool, np.float32, np.float32),
                          (np.float32, np.float64, np.float64)])
def test_log_density_of_mixed_dtypes_takes_the_promoted_dtype(x_dtype, means_dtype,
                                                               result_dtype):
    """Called directly with integer images and float32 means, the product runs in float32
    (the orientation float32 prefers); float32 images with float64 means run in float64."""
    X, _ = load_mnist(100, binarize=True)
    means = np.random.default_rng(2).uniform(0.01, 0.99, size=(3, X.shape[1]))
    log_prob = log_bernoulli_density(X.astype(x_dtype), means.astype(means_dtype))
    expected = log_bernoulli_density(X.astype(np.float64), means.astype(means_dtype)
                                     .astype(np.float64))
    assert log_prob.dtype == result_dtype and log_prob.flags.f_contiguous
    eps = np.finfo(result_dtype).eps
    np.testing.assert_allclose(log_prob, expected, rtol=0,
                               atol=X.shape[1] * eps * np.abs(expected).max())


# ------------------------------------------------------------------ cancellation
def collapsed_components(dtype):
    """300 MNIST images, and components collapsed onto one of them (0 to 5) or two (6 to
    11), their probabilities clipped to within eps of 0 and 1 as a fit leaves them, and
    two ordinary ones. The images are followed by 0 to 5 with 1, 2 or 4 pixels flipped,
    whose spreads under their own component, 19 to 292, stay below the limit."""
    X, _ = load_mnist(300, binarize=True)
    rng = np.random.default_rng(3)
    flipped = np.repeat(X[:6], 3, axis=0)
    for row, n_flips in zip(flipped, [1, 2, 4] * 6, strict=True):
        pixels = rng.choice(X.shape[1], n_flips, replace=False)
        row[pixels] ^= 1
    eps = np.finfo(dtype).eps
    means = np.vstack([X[:6], (X[6:12:2] + X[7:12:2]) / 2, X[100:200].mean(axis=0),
                       X[200:].mean(axis=0)])
    return np.vstack([X, flipped]), np.clip(means, eps, 1 - eps).astype(dtype)


def exact_log_density(X, means):
    """The sum of non-positive terms, in long double."""
    X, means = X.astype(np.longdouble), means.astype(np.longdouble)
    return (X @ np.log(means).T + (1 - X) @ np.log1p(-means).T).astype(np.float64)


def spreads(X, means, exact):
    r""":math:`\rho_{nk} = 2 \sum_d x_{nd} \max(L_{kd}, 0) / |\log p(x_n \mid \mu_k)|`."""
    means = means.astype(np.float64)
    gains = np.maximum(np.log(means) - np.log1p(-means), 0)
    return 2 * (X @ gains.T) / np.abs(exact)


PATHS = ["dense, whole", "dense, blocked", "sparse"]


def forced_onto(path, X, dtype, n_components, monkeypatch):
    """X in ``dtype``, with its product sent down ``path``: whole with the parallel work
    threshold out of reach; in blocks with it at zero and OpenBLAS's small-matrix kernels
    taken as present, whatever this machine's processor."""
    if path == "dense, blocked":
        monkeypatch.setattr(lloyd, "_small_kernels", lambda: True)
        monkeypatch.setattr(blocked_products, "PARALLEL_WORK", 0)
    else:
        monkeypatch.setattr(blocked_products, "PARALLEL_WORK", 2**62)
    data = sp.csr_array(X, dtype=dtype) if path == "sparse" else X.astype(dtype)
    assert (block_rows_for(data, n_components) is not None) == (path == "dense, blocked")
    return data


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("path", PATHS)
def test_log_density_keeps_its_digits_where_the_product_cancels(dtype, path, monkeypatch):
    """Under a component collapsed onto it, an image's log-density is about -784 eps, but
    the product sums terms of +-|log eps| to it; here it had no correct digit left
    (relative errors of 1.6 in float32, 22 to 46 in float64)."""
    X, means = collapsed_components(dtype)
    data = forced_onto(path, X, dtype, len(means), monkeypatch)
    log_prob = log_bernoulli_density(data, means)
    assert log_prob.dtype == dtype and log_prob.flags.f_contiguous
    exact = exact_log_density(X, means)
    collapsed = np.arange(6)
    assert np.all(np.abs(exact[collapsed, collapsed]) < 800 * np.finfo(dtype).eps)
    # Past the limit, summed again: a few eps. Below it, the product's error grows as
    # (1 + spread) eps, times the growth of its rounding, a few units here.
    eps = np.finfo(dtype).eps
    np.testing.assert_allclose(log_prob, exact, rtol=8 * SPREAD_LIMIT * eps, atol=0)
    np.testing.assert_allclose(log_prob[collapsed, collapsed], exact[collapsed, collapsed],
                               rtol=8 * eps, atol=0)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("path", PATHS)
def test_only_entries_past_the_limit_are_summed_again(dtype, path, monkeypatch):
    """Entries up to the limit are the product's, bit for bit, as in every ordinary fit;
    those past it are not."""
    X, means = collapsed_components(dtype)
    data = forced_onto(path, X, dtype, len(means), monkeypatch)
    log_prob = log_bernoulli_density(data, means)
    monkeypatch.setattr(bernoulli_module, "_sum_again_where_cancelled", lambda *args: None)
    product = log_bernoulli_density(data, means)

    spread = spreads(X, means, exact_log_density(X, means))
    past = spread > SPREAD_LIMIT
    # None near the limit, where the product's rounding could tip an entry either way. Past
    # it, the images of the collapsed components; below it, under those components, the
    # flipped images too, with spreads of 19 to 292 (fits to MNIST stay under 10).
    assert not np.any((spread > SPREAD_LIMIT / 2) & (spread < 2 * SPREAD_LIMIT))
    assert np.array_equal(np.flatnonzero(past.any(axis=1)), np.arange(6))
    assert np.sum(~past[:, :6] & (spread[:, :6] > 10)) >= 18
    np.testing.assert_array_equal(log_prob[~past], product[~past])
    assert np.all(log_prob[past] != product[past])


def test_sparse_non_binary_data_says_how_to_binarise():
    X = sp.csr_array(np.array([[0.0, 2.0], [1.0, 0.0]]))
    with pytest.raises(ValueError, match="needs binary data"):
        BernoulliMixture(1).fit(X)
    # Explicitly stored zeros are 0/1 values too.
    stored_zero = sp.csr_array((np.array([0.0, 1.0]), np.array([0, 1]), np.array([0, 1, 2])),
                               shape=(2, 2))
    assert BernoulliMixture(1).fit(stored_zero).means_.shape == (1, 2)


def test_bool_input_is_accepted():
    X, _, _ = make_binary_patterns(100, random_state=1)
    a = BernoulliMixture(2, random_state=0).fit(X)
    b = BernoulliMixture(2, random_state=0).fit(X.astype(bool))
    np.testing.assert_allclose(a.means_, b.means_)


@pytest.mark.parametrize("X", [np.array([[0.0, 0.5], [1.0, 0.0]]), np.array([[0, 2], [1, 0]])])
def test_non_binary_data_says_how_to_binarise(X):
    with pytest.raises(ValueError, match=r"needs binary data .* X = \(X > 0.5\)\.astype"):
        BernoulliMixture(1).fit(X)


def test_non_binary_data_at_predict_time():
    bm = BernoulliMixture(1).fit(np.eye(3))
    with pytest.raises(ValueError, match="needs binary data"):
        bm.predict(np.full((1, 3), 0.3))


@pytest.mark.parametrize(
    "params, message",
    [
        ({"pixel_prior": -1.0}, "pixel_prior == -1.0, must be >= 0.0"),
        ({"weight_prior": -0.5}, "weight_prior == -0.5, must be >= 0.0"),
        ({"means_init": np.array([[0.0, 0.5, 0.5]] * 2)}, "strictly between 0 and 1"),
        (
            {"means_init": np.full((3, 3), 0.5)},
            r"means_init has shape \(3, 3\); expected \(2, 3\)",
        ),
        ({"weights_init": [0.2, 0.2]}, "must be non-negative and sum to 1"),
        ({"dtype": np.int32}, "dtype=.* is not supported"),
        ({"n_components": 4}, r"n_components=4 is larger than the number of samples \(3\)"),
    ],
)
def test_invalid_parameters(params, message):
    with pytest.raises(ValueError, match=message):
        BernoulliMixture(**{"n_components": 2, **params}).fit(np.eye(3))


def test_from_parameters_equals_the_fitted_model():
    X, _, _ = make_binary_patterns(200, random_state=2)
    fitted = BernoulliMixture(3, random_state=0).fit(X)
    rebuilt = BernoulliMixture.from_parameters(fitted.weights_, fitted.means_)
    np.testing.assert_allclose(rebuilt.score_samples(X), fitted.score_samples(X), rtol=1e-12)
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        BernoulliMixture.from_parameters([1.0], [[0.0, 0.5]])
    with pytest.raises(ValueError, match="weights must be non-negative and sum to 1"):
        BernoulliMixture.from_parameters([0.5], [[0.2, 0.5]])
