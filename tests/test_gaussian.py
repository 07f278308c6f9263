"""GaussianMixture: agreement with scikit-learn, recovery of known parameters, errors."""

import re
import warnings

import numpy as np
import pytest
from scipy.optimize import linear_sum_assignment
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.mixture import GaussianMixture as SklearnGaussianMixture

from emlib import GaussianMixture, moments
from emlib.datasets import (
    load_mnist,
    make_gaussian_mixture,
    three_blobs_2d,
    three_blobs_2d_params,
)
from emlib.gaussian import mahalanobis_and_log_det, precision_cholesky

COVARIANCE_TYPES = ["full", "tied", "diag", "spherical"]


@pytest.fixture(scope="module")
def data():
    weights = [0.5, 0.3, 0.2]
    means = [[0.0, 0.0, 0.0], [4.0, 1.0, -1.0], [-1.0, 4.0, 2.0]]
    covariances = [
        np.diag([1.0, 0.5, 2.0]),
        [[1.0, 0.6, 0.0], [0.6, 1.0, 0.3], [0.0, 0.3, 1.0]],
        np.eye(3) * 0.7,
    ]
    X, _ = make_gaussian_mixture(600, weights, means, covariances, random_state=1)
    return X


def initial_parameters(X, covariance_type, K=3):
    """Deliberately poor but legal starting values, shared by both libraries."""
    rng = np.random.default_rng(7)
    D = X.shape[1]
    weights = np.full(K, 1.0 / K)
    means = X[rng.choice(len(X), K, replace=False)]
    precisions = {
        "full": np.stack([np.eye(D) * (k + 1) for k in range(K)]),
        "tied": np.eye(D) * 0.5,
        "diag": np.ones((K, D)) + np.arange(K)[:, None],
        "spherical": np.arange(1.0, K + 1.0),
    }[covariance_type]
    return {"weights_init": weights, "means_init": means, "precisions_init": precisions}


def fit_both(X, covariance_type, n_iter):
    kwargs = dict(
        n_components=3,
        covariance_type=covariance_type,
        max_iter=n_iter,
        tol=0.0,
        n_init=3,  # every run starts from the given parameters, in both libraries
        **initial_parameters(X, covariance_type),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ours = GaussianMixture(**kwargs).fit(X)
        theirs = SklearnGaussianMixture(**kwargs).fit(X)
    return ours, theirs


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
@pytest.mark.parametrize("n_iter", [1, 5, 30])
def test_agrees_with_scikit_learn_from_same_start(data, covariance_type, n_iter):
    ours, theirs = fit_both(data, covariance_type, n_iter)
    for name in ["weights_", "means_", "covariances_", "precisions_", "precisions_cholesky_"]:
        np.testing.assert_allclose(
            getattr(ours, name), getattr(theirs, name), rtol=1e-6, atol=1e-12, err_msg=name
        )
    assert ours.n_iter_ == theirs.n_iter_ == n_iter
    np.testing.assert_allclose(ours.lower_bound_, theirs.lower_bound_, rtol=1e-9)
    np.testing.assert_allclose(ours.log_likelihood_history_, theirs.lower_bounds_, rtol=1e-9)
    X_new = data[::7] + 0.3
    np.testing.assert_allclose(ours.score(X_new), theirs.score(X_new), rtol=1e-9)
    np.testing.assert_allclose(ours.score_samples(X_new), theirs.score_samples(X_new), rtol=1e-9)
    np.testing.assert_allclose(ours.bic(data), theirs.bic(data), rtol=1e-9)
    np.testing.assert_allclose(ours.aic(data), theirs.aic(data), rtol=1e-9)
    np.testing.assert_allclose(
        ours.predict_proba(X_new), theirs.predict_proba(X_new), rtol=1e-6, atol=1e-12
    )
    np.testing.assert_array_equal(ours.predict(data), theirs.predict(data))
    assert ours.n_parameters() == ours._n_parameters() == theirs._n_parameters()
    full = ours.full_covariances()
    assert full.shape == (3, data.shape[1], data.shape[1])
    # scikit-learn's precisions are the inverses of the expanded covariances, whatever the type.
    theirs_precisions = theirs.precisions_
    if covariance_type == "tied":
        theirs_precisions = np.broadcast_to(theirs_precisions, full.shape)
    elif covariance_type == "diag":
        theirs_precisions = theirs_precisions[:, :, None] * np.eye(data.shape[1])
    elif covariance_type == "spherical":
        theirs_precisions = theirs_precisions[:, None, None] * np.eye(data.shape[1])
    np.testing.assert_allclose(np.linalg.inv(full), theirs_precisions, rtol=1e-6)


@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("covariance_type", ["full", "tied"])
@pytest.mark.parametrize("n_features", [31, 32, 63, 64, 90])
def test_wide_mahalanobis_by_triangular_products(n_features, covariance_type, dtype, order):
    """From 32 features on (tied) and 64 (full), the distances go through BLAS's
    triangular product: they equal ||(x - mu_k)^T U_k||^2 computed directly in float64
    from the same numbers, over several blocks of rows, for data far from the origin and
    for Fortran-ordered data, on either side of the threshold."""
    rng = np.random.default_rng(5)
    n_components = 3
    X = rng.normal(0, 1, (5000, n_features)) + 1e3
    means = X[rng.choice(len(X), n_components, replace=False)] + 0.1
    shape = (n_components,) if covariance_type == "full" else ()
    A = rng.normal(size=shape + (n_features, n_features)) / np.sqrt(n_features)
    covariances = A @ A.swapaxes(-1, -2) + np.eye(n_features)
    U = precision_cholesky(covariances, covariance_type)
    X, means, U = (np.asarray(a, dtype=dtype, order=order) for a in (X, means, U))
    assert len(moments.row_blocks(len(X), n_features, min_rows=n_features)) > 1
    distances, _ = mahalanobis_and_log_det(X, means, U, covariance_type)
    assert distances.dtype == dtype
    factors = U.astype(np.float64) if covariance_type == "full" else [U.astype(float)] * 3
    exact = np.stack([np.sum(((X.astype(float) - m.astype(float)) @ f) ** 2, axis=1)
                      for m, f in zip(means, factors, strict=True)], axis=1)
    # A few units in the last place: centring keeps the data's distance from the origin
    # out of the products (measured: 1e-15 and 3e-7 at most, as with the general product).
    rtol = 1e-13 if dtype == np.float64 else 8 * np.finfo(np.float32).eps
    np.testing.assert_allclose(distances, exact, rtol=rtol)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_agrees_with_scikit_learn_on_wide_images(covariance_type, dtype):
    """784 pixels, a quarter of them blank in every image: the wide-data paths (the
    symmetric product of the full scatter, samples-major diagonal blocks, larger blocks for
    the full products, LAPACK's triangular inverse, exact zeros left alone) give
    scikit-learn's fit, over more than one block of rows."""
    X, y = load_mnist(digits=[2, 6])
    X, y = X[:1000].astype(dtype), y[:1000]
    assert X.shape[1] >= moments.WIDE_FEATURES
    assert len(moments.row_blocks(len(X), 2 * X.shape[1], min_rows=X.shape[1])) > 1
    blank = np.all(X == 0, axis=0)
    assert blank.mean() > 0.2
    rng = np.random.default_rng(0)
    kwargs = dict(
        n_components=2, covariance_type=covariance_type, max_iter=3, tol=0.0,
        reg_covar=1e-2, weights_init=[0.5, 0.5],
        means_init=np.stack([X[y == d].mean(axis=0) for d in (2, 6)])
        + rng.uniform(0, 0.01, (2, X.shape[1])) * ~blank,
        # Unit precisions for both: the class means then split the images.
        precisions_init={
            "full": np.stack([np.eye(X.shape[1])] * 2),
            "tied": np.eye(X.shape[1]),
            "diag": np.ones((2, X.shape[1])),
            "spherical": np.ones(2),
        }[covariance_type],
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ours = GaussianMixture(**kwargs).fit(X)
        theirs = SklearnGaussianMixture(**kwargs).fit(X.astype(np.float64))
    assert ours.means_.dtype == dtype
    rtol = 1e-6 if dtype == np.float64 else 1e-3
    for name in ["weights_", "means_", "covariances_", "precisions_cholesky_"]:
        ours_value, theirs_value = getattr(ours, name), getattr(theirs, name)
        np.testing.assert_allclose(ours_value, theirs_value, rtol=rtol,
                                   atol=rtol * np.abs(theirs_value).max(), err_msg=name)
    np.testing.assert_allclose(ours.lower_bound_, theirs.lower_bound_, rtol=rtol)
    if covariance_type in ("full", "diag"):
        # A blank pixel's variance is reg_covar exactly, and it covaries with nothing.
        rows = ours.full_covariances()[:, blank, :]
        expected = np.zeros_like(rows)
        expected[:, np.arange(blank.sum()), np.flatnonzero(blank)] = dtype(1e-2)
        np.testing.assert_array_equal(rows, expected)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_converges_like_scikit_learn(data, covariance_type):
    """With the same tolerance both stop after the same number of iterations."""
    kwargs = dict(n_components=3, covariance_type=covariance_type, tol=1e-8, max_iter=500)
    kwargs.update(initial_parameters(data, covariance_type))
    ours = GaussianMixture(**kwargs).fit(data)
    theirs = SklearnGaussianMixture(**kwargs).fit(data)
    assert ours.converged_ and theirs.converged_
    assert ours.n_iter_ == theirs.n_iter_
    np.testing.assert_allclose(ours.means_, theirs.means_, rtol=1e-6)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_float32_input_stays_float32_and_close(data, covariance_type):
    ours, _ = fit_both(data, covariance_type, 5)
    kwargs = dict(n_components=3, covariance_type=covariance_type, max_iter=5, tol=0.0)
    kwargs.update(initial_parameters(data, covariance_type))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        single = GaussianMixture(**kwargs).fit(data.astype(np.float32))
    assert single.means_.dtype == np.float32
    np.testing.assert_allclose(single.means_, ours.means_, rtol=1e-3, atol=1e-3)


def match_to_truth(true_means, fitted_means):
    cost = ((true_means[:, None, :] - fitted_means[None, :, :]) ** 2).sum(axis=2)
    return linear_sum_assignment(cost)[1]


def test_recovers_known_parameters():
    truth = three_blobs_2d_params()
    X, _ = make_gaussian_mixture(
        20_000, truth["weights"], truth["means"], truth["covariances"], random_state=3
    )
    gm = GaussianMixture(3, n_init=3, random_state=0, tol=1e-6).fit(X)
    order = match_to_truth(np.asarray(truth["means"]), gm.means_)
    np.testing.assert_allclose(gm.weights_[order], truth["weights"], atol=0.02)
    np.testing.assert_allclose(gm.means_[order], truth["means"], atol=0.06)
    np.testing.assert_allclose(gm.covariances_[order], truth["covariances"], atol=0.08)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_sample_shapes_and_moments(covariance_type):
    X, _ = three_blobs_2d(2000, random_state=0)
    gm = GaussianMixture(3, covariance_type=covariance_type, random_state=0).fit(X)
    big = GaussianMixture(
        3,
        covariance_type=covariance_type,
        weights_init=gm.weights_,
        means_init=gm.means_,
        precisions_init=gm.precisions_,
        max_iter=1,
        random_state=5,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        big.fit(X)
    S, labels = big.sample(60_000)
    assert S.shape == (60_000, 2) and labels.shape == (60_000,)
    np.testing.assert_allclose(np.bincount(labels) / 60_000, big.weights_, atol=0.01)
    for k in range(3):
        np.testing.assert_allclose(S[labels == k].mean(axis=0), big.means_[k], atol=0.05)
    if covariance_type == "full":
        for k in range(3):
            np.testing.assert_allclose(np.cov(S[labels == k].T), big.covariances_[k], atol=0.1)
    # The overall mean of the samples is the mixture mean.
    np.testing.assert_allclose(S.mean(axis=0), big.weights_ @ big.means_, atol=0.05)


def test_fit_predict_equals_fit_then_predict():
    X, _ = three_blobs_2d(400, random_state=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        labels = GaussianMixture(3, random_state=0, max_iter=3, tol=0).fit_predict(X)
        refit = GaussianMixture(3, random_state=0, max_iter=3, tol=0).fit(X)
    np.testing.assert_array_equal(labels, refit.predict(X))


def test_history_matches_parameters():
    X, _ = three_blobs_2d(300, random_state=4)
    gm = GaussianMixture(3, random_state=1, keep_history=True).fit(X)
    assert len(gm.params_history_) == gm.n_iter_ + 1
    assert len(gm.log_likelihood_history_) == gm.n_iter_
    np.testing.assert_array_equal(gm.params_history_[-1]["means"], gm.means_)
    probe = GaussianMixture(3)
    probe.n_features_in_ = 2
    for i in [0, gm.n_iter_ // 2, gm.n_iter_ - 1]:
        probe._set_parameters(gm.params_history_[i])
        np.testing.assert_allclose(probe.score(X), gm.log_likelihood_history_[i], rtol=1e-12)


def test_more_initialisations_never_hurt():
    X, _ = three_blobs_2d(300, random_state=4)
    single = [
        GaussianMixture(3, init_params="random", random_state=seed).fit(X).lower_bound_
        for seed in range(3)
    ]
    best = GaussianMixture(3, init_params="random", n_init=5, random_state=0).fit(X)
    assert best.lower_bound_ >= max(single) - 1e-3


@pytest.mark.parametrize("init_params", ["kmeans", "k-means++", "random", "random_from_data"])
def test_every_initialisation_fits(init_params):
    X, y = three_blobs_2d(500, random_state=0)
    gm = GaussianMixture(3, init_params=init_params, random_state=0, max_iter=300).fit(X)
    assert gm.converged_
    assert gm.lower_bound_ > -3.5


def test_warm_start_continues_from_fitted_parameters():
    X, _ = three_blobs_2d(500, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        gm = GaussianMixture(3, max_iter=2, warm_start=True, random_state=0, tol=0).fit(X)
        first = gm.lower_bound_
        gm.fit(X)
    assert gm.log_likelihood_history_[0] >= first - 1e-12
    assert gm.lower_bound_ > first


def test_convergence_warning_when_max_iter_is_too_small():
    X, _ = three_blobs_2d(300, random_state=0)
    with pytest.warns(ConvergenceWarning, match="did not converge within max_iter=1"):
        GaussianMixture(3, max_iter=1, random_state=0).fit(X)


def test_sample_requires_a_fit():
    with pytest.raises(NotFittedError):
        GaussianMixture(2).sample(3)


# ---------------------------------------------------------------------------- bad input
X_OK = np.random.default_rng(0).normal(size=(30, 2))


@pytest.mark.parametrize(
    "X, message",
    [
        (np.array([[0.0, 1.0], [np.nan, 2.0], [3.0, 4.0]]), "Input X contains NaN"),
        (np.array([[0.0, 1.0], [np.inf, 2.0], [3.0, 4.0]]), "Input X contains infinity"),
        (np.arange(10.0), "Expected 2D array, got 1D array"),
        (np.empty((0, 2)), "Found array with 0 sample"),
        (np.array([[1.0, 2.0]]), "minimum of 2 is required"),
    ],
)
def test_bad_data_is_rejected_clearly(X, message):
    with pytest.raises(ValueError, match=message):
        GaussianMixture(1).fit(X)


def test_more_components_than_samples():
    with pytest.raises(
        ValueError, match=r"n_components=5 is larger than the number of samples \(4\)"
    ):
        GaussianMixture(5).fit(X_OK[:4])


def test_wrong_number_of_features_at_predict_time():
    gm = GaussianMixture(2, random_state=0).fit(X_OK)
    with pytest.raises(ValueError, match="X has 3 features, but GaussianMixture is expecting 2"):
        gm.predict(np.zeros((2, 3)))


@pytest.mark.parametrize("method", ["predict", "predict_proba", "score", "score_samples"])
def test_use_before_fit(method):
    with pytest.raises(NotFittedError, match="not fitted yet"):
        getattr(GaussianMixture(2), method)(X_OK)


@pytest.mark.parametrize(
    "params, message",
    [
        ({"covariance_type": "banana"}, "covariance_type='banana' is not supported"),
        ({"reg_covar": -1.0}, "reg_covar == -1.0, must be >= 0.0"),
        ({"tol": -1.0}, "tol == -1.0, must be >= 0.0"),
        ({"n_init": 0}, "n_init == 0, must be >= 1"),
        ({"max_iter": 0}, "max_iter == 0, must be >= 1"),
        ({"n_components": 0}, "n_components == 0, must be >= 1"),
        ({"n_components": 1.5}, "n_components must be an instance of"),
        ({"init_params": "magic"}, "init_params='magic' is not supported"),
        ({"weights_init": [0.5, 0.6]}, "weights_init must be non-negative and sum to 1"),
        ({"weights_init": [1.0]}, r"weights_init has shape \(1,\); expected \(2,\)"),
        ({"means_init": np.zeros((2, 3))}, r"means_init has shape \(2, 3\); expected \(2, 2\)"),
        ({"precisions_init": -np.ones((2, 2, 2))}, "symmetric positive definite"),
        ({"precisions_init": np.ones(2)}, r"covariance_type='full' expects \(2, 2, 2\)"),
    ],
)
def test_invalid_parameters(params, message):
    with pytest.raises((ValueError, TypeError), match=message):
        GaussianMixture(**{"n_components": 2, **params}).fit(X_OK)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_collapsing_component_asks_for_reg_covar(covariance_type):
    # Three copies of one point and a far-away cloud: a component initialised on the
    # copies shrinks onto them and, without regularisation, its covariance becomes singular.
    X = np.vstack([np.tile([[5.0, 5.0]], (3, 1)), X_OK])
    means_init = np.array([[5.0, 5.0], [0.0, 0.0]])
    gm = GaussianMixture(
        2,
        covariance_type=covariance_type,
        reg_covar=0.0,
        means_init=means_init,
        precisions_init={
            "full": np.stack([np.eye(2)] * 2),
            "tied": np.eye(2),
            "diag": np.ones((2, 2)),
            "spherical": np.ones(2),
        }[covariance_type],
    )
    if covariance_type == "tied":
        # A shared covariance cannot collapse while the other cloud has spread: it fits.
        gm.fit(X)
        assert np.all(np.isfinite(gm.covariances_))
        return
    with pytest.raises(ValueError, match=re.escape("Increase reg_covar (now 0)")):
        gm.fit(X)
    gm.set_params(reg_covar=1e-6).fit(X)
    assert np.all(np.isfinite(gm.means_))


def test_collapse_onto_one_outlier_is_caught_in_one_dimension():
    # A single outlier captures a component; its variance is zero up to rounding.
    X = np.r_[np.random.default_rng(0).normal(size=(40, 1)), [[6.0]]]
    gm = GaussianMixture(2, reg_covar=0.0, means_init=[[0.0], [6.0]])
    with pytest.raises(ValueError, match="collapsed onto a single point"):
        gm.fit(X)


@pytest.mark.parametrize("seed", range(5))
def test_collapse_onto_duplicates_never_passes_silently(seed):
    X, _ = three_blobs_2d(300, random_state=0)
    X = np.vstack([X, np.tile([[7.0, -3.0]], (4, 1))])
    gm = GaussianMixture(4, reg_covar=0.0, random_state=seed)
    try:
        gm.fit(X)
    except ValueError as error:
        assert "Increase reg_covar" in str(error)
    else:
        # If no component found the duplicates, every covariance must be a real one.
        assert np.linalg.eigvalsh(gm.covariances_).min() > 1e-3


def test_collapse_onto_a_line_is_caught():
    # Two components in 2-D; one is initialised on three collinear points far away.
    line = np.array([[10.0, 10.0], [11.0, 11.0], [12.0, 12.0]])
    X = np.vstack([np.random.default_rng(1).normal(size=(50, 2)), line])
    gm = GaussianMixture(2, reg_covar=0.0, means_init=[[0.0, 0.0], [11.0, 11.0]])
    with pytest.raises(ValueError, match="lower-dimensional subspace"):
        gm.fit(X)


def test_seeded_initialisations_start_from_weights_that_sum_to_one():
    X, _ = three_blobs_2d(300, random_state=0)
    for init in ["k-means++", "random_from_data"]:
        gm = GaussianMixture(3, init_params=init, random_state=0, max_iter=1, keep_history=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            gm.fit(X)
        np.testing.assert_allclose(gm.params_history_[0]["weights"].sum(), 1.0)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_from_parameters_equals_the_fitted_model(covariance_type):
    X, _ = three_blobs_2d(300, random_state=0)
    fitted = GaussianMixture(3, covariance_type=covariance_type, random_state=0).fit(X)
    rebuilt = GaussianMixture.from_parameters(
        fitted.weights_, fitted.means_, fitted.covariances_, covariance_type=covariance_type
    )
    np.testing.assert_allclose(rebuilt.score_samples(X), fitted.score_samples(X), rtol=1e-12)
    np.testing.assert_allclose(rebuilt.precisions_, fitted.precisions_, rtol=1e-10)
    assert rebuilt.n_features_in_ == 2


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"means": [0.0, 1.0]}, "means must be 2-D"),
        ({"weights": [0.5, 0.6]}, "weights must be non-negative and sum to 1"),
        ({"covariances": np.ones((2, 2))}, r"covariances has shape \(2, 2\)"),
        ({"covariances": -np.stack([np.eye(2)] * 2)}, "symmetric positive definite"),
        ({"covariances": np.stack([[[1.0, 5.0], [0.0, 1.0]]] * 2)}, "symmetric positive"),
        ({"n_components": 3}, "n_components is not a parameter here"),
        ({"covariance_type": "round"}, "covariance_type='round' is not supported"),
    ],
)
def test_from_parameters_rejects_bad_parameters(kwargs, message):
    good = {
        "weights": [0.5, 0.5],
        "means": [[0.0, 0.0], [1.0, 1.0]],
        "covariances": np.stack([np.eye(2)] * 2),
    }
    with pytest.raises(ValueError, match=message):
        GaussianMixture.from_parameters(**{**good, **kwargs})


def test_warm_start_from_given_parameters():
    X, _ = three_blobs_2d(500, random_state=0)
    truth = three_blobs_2d_params()
    gm = GaussianMixture.from_parameters(
        truth["weights"], truth["means"], truth["covariances"], warm_start=True
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        gm.fit(X)
    # The first E-step is evaluated at the given parameters.
    start = GaussianMixture.from_parameters(truth["weights"], truth["means"], truth["covariances"])
    np.testing.assert_allclose(gm.log_likelihood_history_[0], start.score(X), rtol=1e-12)


def test_public_counts_and_covariances_need_a_fitted_model():
    model = GaussianMixture(2)
    with pytest.raises(NotFittedError):
        model.n_parameters()
    with pytest.raises(NotFittedError):
        model.full_covariances()
