"""MAP-EM for Gaussian mixtures with conjugate priors: emlib.priors and GaussianMixture(prior=)."""

import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import optimize, stats
from sklearn.exceptions import ConvergenceWarning

from emlib import GaussianMixture, GaussianPrior, compiled_gaussian
from emlib.datasets import three_blobs_2d
from emlib.em import log_normalize
from emlib.gaussian import (
    COVARIANCE_TYPES,
    estimate_gaussian_parameters,
    log_gaussian_density,
    precision_cholesky,
)
from emlib.priors import (
    log_prior_density,
    map_gaussian_parameters,
    prior_constants,
    resolve_prior,
)


def fit_quietly(model, X):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(X)


def scipy_log_prior(prior, weights, means, covariances, covariance_type):
    """The log prior density written with scipy.stats, independently of emlib.priors."""
    K, D = means.shape
    kappa, nu = prior.shrinkage, prior.degrees_of_freedom
    total = stats.dirichlet(np.full(K, prior.weight_concentration)).logpdf(weights)
    if covariance_type == "tied":
        total += stats.invwishart(df=nu, scale=prior.scale).logpdf(covariances)
    for k in range(K):
        if covariance_type == "full":
            total += stats.invwishart(df=nu, scale=prior.scale).logpdf(covariances[k])
            total += stats.multivariate_normal(prior.mean, covariances[k] / kappa).logpdf(means[k])
        elif covariance_type == "tied":
            total += stats.multivariate_normal(prior.mean, covariances / kappa).logpdf(means[k])
        else:
            variances = covariances[k] * np.ones(D)
            scales = prior.scale * np.ones(D)
            if covariance_type == "diag":
                total += stats.invgamma(nu / 2, scale=scales / 2).logpdf(variances).sum()
            else:
                total += stats.invgamma(nu / 2, scale=prior.scale / 2).logpdf(covariances[k])
            total += stats.norm(prior.mean, np.sqrt(variances / kappa)).logpdf(means[k]).sum()
    return float(total)


def expected_complete_log_likelihood(X, resp, weights, means, covariances, covariance_type):
    K, D = means.shape
    total = resp.sum(axis=0) @ np.log(weights)
    for k in range(K):
        if covariance_type == "full":
            cov = covariances[k]
        elif covariance_type == "tied":
            cov = covariances
        else:
            cov = np.diag(covariances[k] * np.ones(D))
        total += resp[:, k] @ stats.multivariate_normal(means[k], cov).logpdf(X).reshape(-1)
    return float(total)


# ---------------------------------------------------------------- the objective never falls
def smallest_variance_bound(prior, covariance_type, n_samples, n_components):
    """A lower bound on every variance any MAP M-step can produce: the prior scale over the
    largest denominator of :func:`emlib.priors.map_gaussian_parameters`."""
    nu, D = prior.degrees_of_freedom, len(prior.mean)
    if covariance_type in ("full", "tied"):
        smallest = np.linalg.eigvalsh(prior.scale)[0]
        extra = D + 2 if covariance_type == "full" else n_components + D + 1
        return smallest / (nu + n_samples + extra)
    if covariance_type == "diag":
        return prior.scale.min() / (nu + n_samples + 3)
    return float(prior.scale) / (nu + n_samples * D + D + 2)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10_000),
    n=st.integers(6, 40),
    d=st.integers(1, 3),
    K=st.integers(1, 4),
    covariance_type=st.sampled_from(COVARIANCE_TYPES),
    dtype=st.sampled_from([np.float64, np.float32]),
    offset=st.sampled_from([0.0, 1e4]),
    init=st.sampled_from(["kmeans", "k-means++", "random", "random_from_data"]),
    duplicates=st.booleans(),
)
def test_log_posterior_never_decreases(
    seed, n, d, K, covariance_type, dtype, offset, init, duplicates
):
    """Hundreds of exact MAP-EM steps; starts on single points (k-means++, random_from_data)
    and repeated points would collapse under maximum likelihood with reg_covar=0."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)) * rng.uniform(0.5, 3, size=d) + 4 * rng.integers(0, 3, (n, 1))
    if duplicates:
        X[: n // 2] = X[0]
    X = (X + offset).astype(dtype)
    K = min(K, n)
    model = fit_quietly(
        GaussianMixture(
            K,
            covariance_type=covariance_type,
            prior="conjugate",
            init_params=init,
            random_state=seed,
            max_iter=200,
            tol=0,
        ),
        X,
    )
    history = model.log_likelihood_history_
    assert len(history) == 200
    assert np.all(np.isfinite(history))
    # Two roundings the algorithm cannot avoid: that of the objective itself (a few eps
    # per term of a mean whose terms have the size of the objective), and that of storing
    # each mean in the dtype, to half a unit in the last place of the data's magnitude,
    # which costs up to (ulp / 2)^2 / (2 sigma^2) per feature and sample, sigma^2 being
    # the smallest variance an M-step can give. The second matters only for float32 far
    # from the origin, where the data themselves keep only a few digits of their spread.
    eps = float(np.finfo(dtype).eps)
    ulp = float(np.spacing(np.abs(X).max()))
    variance = smallest_variance_bound(model.prior_, covariance_type, n, K)
    slack = 64 * eps * (1 + np.abs(history[:-1])) + d * ulp**2 / variance
    assert np.all(np.diff(history) >= -slack)
    assert model.means_.dtype == dtype and model.covariances_.dtype == dtype


def test_maximum_likelihood_collapses_where_the_prior_does_not():
    rng = np.random.default_rng(0)
    X = np.vstack([np.repeat([[1e4, 1e4]], 10, axis=0), rng.normal(1e4, 1, (30, 2))])
    ml = GaussianMixture(3, reg_covar=0, init_params="random_from_data", random_state=0)
    with pytest.raises(ValueError, match="collapsed"):
        fit_quietly(ml, X)
    model = fit_quietly(
        GaussianMixture(3, prior="conjugate", init_params="random_from_data", random_state=0), X
    )
    assert np.all(np.linalg.eigvalsh(model.covariances_) > 0)
    assert np.all(np.diff(model.log_likelihood_history_) >= -1e-12)


# ---------------------------------------------------------------- the M-step is the mode
def _small_problem(covariance_type, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(12, 2)) + np.repeat([[0.0, 0.0], [3.0, 1.0]], 6, axis=0)
    resp = rng.dirichlet([0.7, 0.7], size=12)
    scale = {
        "full": [[1.5, 0.4], [0.4, 0.8]],
        "tied": [[1.5, 0.4], [0.4, 0.8]],
        "diag": [1.5, 0.8],
        "spherical": 1.2,
    }[covariance_type]
    prior = GaussianPrior(
        mean=[0.5, -0.5],
        shrinkage=0.7,
        degrees_of_freedom=2.5,
        scale=scale,
        weight_concentration=2.5,
    )
    return X, resp, resolve_prior(prior, X, 2, covariance_type)


def _unpack(theta, K, D, covariance_type):
    """Unconstrained vector -> weights, means, covariances (through Cholesky factors)."""
    logits = np.append(theta[: K - 1], 0.0)
    weights = np.exp(logits - logits.max())
    weights /= weights.sum()
    means = theta[K - 1 : K - 1 + K * D].reshape(K, D)
    rest = theta[K - 1 + K * D :]
    rows, cols = np.tril_indices(D)

    def covariance(values):
        L = np.zeros((D, D))
        L[rows, cols] = values
        L[np.diag_indices(D)] = np.exp(np.diag(L))
        return L @ L.T

    size = D * (D + 1) // 2
    if covariance_type == "full":
        covariances = np.array([covariance(rest[k * size : (k + 1) * size]) for k in range(K)])
    elif covariance_type == "tied":
        covariances = covariance(rest)
    elif covariance_type == "diag":
        covariances = np.exp(2 * rest.reshape(K, D))
    else:
        covariances = np.exp(2 * rest)
    return weights, means, covariances


def _pack(weights, means, covariances, covariance_type):
    logits = np.log(weights[:-1]) - np.log(weights[-1])

    def factor(cov):
        L = np.linalg.cholesky(cov)
        L[np.diag_indices(len(L))] = np.log(np.diag(L))
        return L[np.tril_indices(len(L))]

    if covariance_type == "full":
        rest = np.concatenate([factor(c) for c in covariances])
    elif covariance_type == "tied":
        rest = factor(covariances)
    else:
        rest = 0.5 * np.log(covariances).ravel()
    return np.concatenate([logits, means.ravel(), rest])


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_m_step_maximises_expected_log_likelihood_plus_log_prior(covariance_type):
    X, resp, prior = _small_problem(covariance_type)
    K, D = resp.shape[1], X.shape[1]

    def objective(theta):
        params = _unpack(theta, K, D, covariance_type)
        return -(
            expected_complete_log_likelihood(X, resp, *params, covariance_type)
            + scipy_log_prior(prior, *params, covariance_type)
        )

    weights, means, covariances = map_gaussian_parameters(X, resp, prior, covariance_type)
    mode = _pack(weights, means, covariances, covariance_type)
    start = mode + np.random.default_rng(1).normal(0, 0.3, size=mode.shape)
    found = optimize.minimize(objective, start, method="BFGS", options={"gtol": 1e-9})
    assert objective(mode) <= found.fun + 1e-9
    np.testing.assert_allclose(found.x, mode, atol=1e-4)


# ---------------------------------------------------------------- the recorded log prior
@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_recorded_objective_is_log_likelihood_plus_scipy_log_prior(covariance_type):
    X = three_blobs_2d(200, random_state=1)[0]
    prior = GaussianPrior(shrinkage=0.3, weight_concentration=3.0)
    model = fit_quietly(
        GaussianMixture(
            3,
            covariance_type=covariance_type,
            prior=prior,
            keep_history=True,
            max_iter=6,
            tol=0,
            random_state=0,
        ),
        X,
    )
    resolved = model.prior_
    np.testing.assert_array_equal(resolved.mean, X.mean(axis=0))
    assert resolved.degrees_of_freedom == 4.0 and resolved.shrinkage == 0.3
    for recorded, params in zip(
        model.log_likelihood_history_, model.params_history_, strict=False
    ):
        weights, means, covariances = params["weights"], params["means"], params["covariances"]
        log_lik = GaussianMixture.from_parameters(
            weights, means, covariances, covariance_type=covariance_type
        ).score(X)
        log_prior = scipy_log_prior(resolved, weights, means, covariances, covariance_type)
        assert recorded == pytest.approx(log_lik + log_prior / len(X), rel=1e-12, abs=1e-12)
    # The score stays the log-likelihood, and BIC is computed from it.
    assert model.score(X) != pytest.approx(model.lower_bound_, abs=1e-6)
    assert model.bic(X) == pytest.approx(
        -2 * model.score(X) * len(X) + model.n_parameters() * np.log(len(X))
    )


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_log_prior_density_matches_scipy_at_random_parameters(covariance_type):
    rng = np.random.default_rng(3)
    K, D = 3, 3
    X = rng.normal(size=(50, D)) @ rng.normal(size=(D, D))
    prior = resolve_prior(
        GaussianPrior(shrinkage=0.2, degrees_of_freedom=4.5, weight_concentration=1.5),
        X,
        K,
        covariance_type,
    )
    weights = rng.dirichlet(np.ones(K))
    means = rng.normal(size=(K, D))
    A = rng.normal(size=(K, D, D))
    covariances = {
        "full": A @ np.swapaxes(A, 1, 2) + np.eye(D),
        "tied": A[0] @ A[0].T + np.eye(D),
        "diag": rng.uniform(0.2, 3, (K, D)),
        "spherical": rng.uniform(0.2, 3, K),
    }[covariance_type]
    factors = precision_cholesky(covariances, covariance_type)
    ours = log_prior_density(prior, weights, means, covariances, factors, covariance_type)
    assert ours == pytest.approx(
        scipy_log_prior(prior, weights, means, covariances, covariance_type), rel=1e-12
    )
    # The constants EM computes once per fit give the same density, bit for bit.
    constants = prior_constants(prior, K, covariance_type)
    assert ours == log_prior_density(
        prior, weights, means, covariances, factors, covariance_type, constants=constants
    )


# ---------------------------------------------------------------- MAP -> ML
@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_prior_effect_vanishes_as_n_grows(covariance_type):
    """Given the same responsibilities, MAP and ML M-steps differ by O(1/N)."""
    differences = []
    for n in (100, 1_000, 10_000, 100_000):
        X, labels = three_blobs_2d(n, random_state=0)
        resp = np.eye(3)[labels]
        prior = resolve_prior("conjugate", X, 3, covariance_type)
        weights, means, covariances = map_gaussian_parameters(X, resp, prior, covariance_type)
        nk, ml_means, ml_covariances = estimate_gaussian_parameters(X, resp, 0.0, covariance_type)
        differences.append(
            max(
                np.abs(weights - nk / n).max(),
                np.abs(means - ml_means).max(),
                np.abs(covariances - ml_covariances).max(),
            )
        )
    differences = np.array(differences)
    assert np.all(np.diff(differences) < 0)
    # Each tenfold increase of N divides the gap by about ten.
    assert np.all(differences[1:] / differences[:-1] < 0.2)
    assert differences[-1] < 1e-3


def test_map_fit_approaches_the_ml_fit():
    X = three_blobs_2d(50_000, random_state=0)[0]
    common = dict(n_components=3, tol=1e-10, max_iter=500, random_state=0)
    ml = fit_quietly(GaussianMixture(**common), X)
    start = dict(means_init=ml.means_, weights_init=ml.weights_, precisions_init=ml.precisions_)
    map_fit = fit_quietly(GaussianMixture(prior="conjugate", **common, **start), X)
    # The gap is O(1/N): about ((nu + D + 2) S_k - Psi) / N_k for the covariances.
    np.testing.assert_allclose(map_fit.means_, ml.means_, atol=100 / len(X))
    np.testing.assert_allclose(map_fit.covariances_, ml.covariances_, atol=100 / len(X))
    assert np.abs(map_fit.covariances_ - ml.covariances_).max() > 1 / len(X)


# ---------------------------------------------------------------- prior=None is unchanged
@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_without_prior_the_fit_is_the_maximum_likelihood_iteration_bit_for_bit(
    covariance_type, dtype, monkeypatch
):
    """EM written out with the ML building blocks gives exactly the fitted numbers (of the
    NumPy iteration; tests/test_compiled_gaussian.py compares the compiled one with it)."""
    monkeypatch.setattr(compiled_gaussian, "ENABLED", False)
    X = three_blobs_2d(300, random_state=2)[0].astype(dtype) + 100
    model = fit_quietly(
        GaussianMixture(
            3,
            covariance_type=covariance_type,
            reg_covar=1e-3,
            max_iter=20,
            tol=0,
            init_params="random",
            random_state=0,
        ),
        X,
    )
    rng = np.random.RandomState(0)
    resp = rng.uniform(size=(len(X), 3)).astype(dtype)
    resp /= resp.sum(axis=1, keepdims=True)
    history = []
    for _ in range(21):
        nk, means, covariances = estimate_gaussian_parameters(X, resp, 1e-3, covariance_type)
        weights = nk / nk.sum()
        factors = precision_cholesky(covariances, covariance_type, 1e-3)
        if len(history) == 20:
            break
        weighted = log_gaussian_density(X, means, factors, covariance_type)
        with np.errstate(divide="ignore"):
            weighted += np.log(weights)
        log_norm, resp = log_normalize(weighted)
        history.append(float(np.mean(log_norm)) + 0.0 / len(X))
    assert model.prior_ is None
    np.testing.assert_array_equal(model.log_likelihood_history_, history)
    np.testing.assert_array_equal(model.weights_, weights)
    np.testing.assert_array_equal(model.means_, means)
    np.testing.assert_array_equal(model.covariances_, covariances)


# ---------------------------------------------------------------- errors
@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"shrinkage": 0.0}, "shrinkage must be greater than 0"),
        ({"shrinkage": -1.0}, "shrinkage must be greater than 0"),
        ({"shrinkage": np.nan}, "shrinkage must be a finite number"),
        ({"shrinkage": True}, "shrinkage must be a finite number"),
        ({"degrees_of_freedom": 0.0}, "degrees_of_freedom must be greater than 0"),
        ({"weight_concentration": 0.5}, "weight_concentration must be at least 1"),
        ({"mean": [[0.0, 1.0]]}, "mean must be 1-D, one value per feature"),
        ({"mean": [0.0, np.inf]}, "mean must contain only finite numbers"),
        ({"scale": [[1.0, 2.0], [2.0, 1.0]]}, "eigenvalue <= 0"),
        ({"scale": [[1.0, 0.5], [0.0, 1.0]]}, "symmetric positive definite"),
        ({"scale": [1.0, -1.0]}, "scale must be positive"),
        ({"scale": np.ones((2, 2, 2))}, "a number, a vector or a matrix"),
    ],
)
def test_bad_hyper_parameters_raise_clear_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        GaussianPrior(**kwargs)


@pytest.mark.parametrize(
    ("prior", "covariance_type", "message"),
    [
        (GaussianPrior(mean=[0.0, 0.0, 0.0]), "full", r"prior mean has shape \(3,\)"),
        (GaussianPrior(scale=[1.0, 2.0]), "full", r"needs \(2, 2\)"),
        (GaussianPrior(scale=np.eye(2)), "diag", r"needs \(2,\)"),
        (GaussianPrior(scale=[1.0, 2.0]), "spherical", r"needs \(\)"),
        (GaussianPrior(degrees_of_freedom=0.5), "tied", "must exceed n_features - 1 = 1"),
        ("flat", "full", "prior must be None, 'conjugate' or an emlib.GaussianPrior"),
    ],
)
def test_priors_that_do_not_fit_the_data_raise_at_fit(prior, covariance_type, message):
    X = three_blobs_2d(50)[0]
    with pytest.raises(ValueError, match=message):
        GaussianMixture(2, covariance_type=covariance_type, prior=prior).fit(X)


def test_default_prior_on_degenerate_data_asks_for_a_scale():
    X = np.c_[np.arange(10.0), np.ones(10)]
    with pytest.raises(ValueError, match="explicit scale"):
        GaussianMixture(2, prior="conjugate").fit(X)
    fit_quietly(GaussianMixture(2, prior=GaussianPrior(scale=np.eye(2))), X)


def test_prior_with_reg_covar_raises():
    with pytest.raises(ValueError, match="reg_covar=0.1 cannot be combined with a prior"):
        GaussianMixture(2, prior="conjugate", reg_covar=0.1).fit(three_blobs_2d(50)[0])


def test_default_prior_follows_fraley_and_raftery():
    X = three_blobs_2d(200)[0]
    C = np.cov(X, rowvar=False)
    full = resolve_prior("conjugate", X, 4, "full")
    np.testing.assert_allclose(full.scale, C / 4.0)  # K^(2/D) = 4 for K = 4, D = 2
    np.testing.assert_allclose(full.mean, X.mean(axis=0))
    assert (full.shrinkage, full.degrees_of_freedom, full.weight_concentration) == (
        0.01,
        4.0,
        1.0,
    )
    np.testing.assert_allclose(resolve_prior("conjugate", X, 4, "diag").scale, np.diag(C) / 4)
    assert resolve_prior("conjugate", X, 4, "spherical").scale == pytest.approx(np.trace(C) / 8)


# ---------------------------------------------------------------- the issue's example
def test_issue_example_reg_covar_can_decrease_the_likelihood_the_prior_cannot():
    """Issue 11: Sigma = S + eps I maximises no EM objective, so the likelihood can fall
    (61 steps fall by more than rounding here, by up to 1e-3 per sample); MAP-EM's log
    posterior cannot."""
    X = three_blobs_2d(random_state=0)[0]
    common = dict(n_components=2, tol=0, max_iter=500, random_state=0)
    ridge = fit_quietly(GaussianMixture(reg_covar=0.1, **common), X)
    assert np.sum(np.diff(ridge.log_likelihood_history_) < -1e-12) > 10
    assert np.diff(ridge.log_likelihood_history_).min() < -1e-4
    for covariance_type in COVARIANCE_TYPES:
        map_fit = fit_quietly(
            GaussianMixture(prior="conjugate", covariance_type=covariance_type, **common), X
        )
        history = map_fit.log_likelihood_history_
        assert np.all(np.diff(history) >= -64 * np.finfo(float).eps * (1 + np.abs(history[1:])))
