"""VariationalGaussianMixture: agreement with scikit-learn, the ELBO against independent
computations, monotonicity, emptied components, numerics, the predictive density, errors."""

import math
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import integrate, stats
from scipy.optimize import linear_sum_assignment
from scipy.special import betaln, digamma, gammaln, logsumexp
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.mixture import BayesianGaussianMixture

from emlib import VariationalGaussianMixture
from emlib.datasets import make_gaussian_mixture, three_blobs_2d_params

COVARIANCE_TYPES = ["full", "tied", "diag", "spherical"]
PRIOR_TYPES = ["dirichlet_process", "dirichlet_distribution"]
EPS32 = float(np.finfo(np.float32).eps)
ATTRIBUTES = [
    "weights_",
    "mean_precision_",
    "means_",
    "degrees_of_freedom_",
    "covariances_",
    "precisions_",
    "precisions_cholesky_",
]


def fit_quietly(model, X):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(X)


def starting_from(model, resp):
    """Make a model start from the given responsibilities (private API, in a test only)."""
    if isinstance(model, BayesianGaussianMixture):
        model._initialize_parameters = lambda X, random_state, xp=None: model._initialize(
            X, resp.copy()
        )
    else:
        model._initial_responsibilities = lambda X, rng: resp.astype(X.dtype)
    return model


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = np.r_[
        rng.normal(0.0, 1.0, (100, 3)),
        rng.normal(4.0, 0.7, (80, 3)),
        rng.normal([-3.0, 3.0, 0.0], 1.2, (70, 3)),
    ]
    resp = rng.dirichlet(np.ones(4), len(X))
    return X, resp


def sklearn_constant(model, n_samples):
    """C of the class Notes: our total ELBO minus scikit-learn's lower bound."""
    K, D = model.means_.shape
    a0, b0 = model.weight_concentration_prior_, model.mean_precision_prior_
    nu0, prior = model.degrees_of_freedom_prior_, model.covariance_prior_
    if model.covariance_type in ("full", "tied"):
        log_det = np.linalg.slogdet(prior)[1]
    else:
        log_det = np.log(np.broadcast_to(prior, (D,))).sum()
    if model.weight_concentration_prior_type == "dirichlet_process":
        c_pi = K * math.log(a0)
    else:
        c_pi = gammaln(K * a0) - K * gammaln(a0)
    per_component = (
        0.5 * nu0 * log_det
        - 0.5 * nu0 * D * math.log(2)
        - gammaln(0.5 * (nu0 - np.arange(D))).sum()
        + 0.5 * D * math.log(b0)
    )
    return c_pi + K * per_component - 0.5 * n_samples * D * math.log(2 * math.pi)


# ------------------------------------------------------------------ scikit-learn
@pytest.mark.parametrize("prior_type", PRIOR_TYPES)
@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
@pytest.mark.parametrize("n_iter", [1, 40])
def test_agrees_with_scikit_learn_from_the_same_responsibilities(
    data, prior_type, covariance_type, n_iter
):
    X, resp = data
    N = len(X)
    kwargs = dict(
        n_components=4,
        covariance_type=covariance_type,
        weight_concentration_prior_type=prior_type,
        max_iter=n_iter,
        tol=0.0,
    )
    # scikit-learn's reg_covar would add N_k reg_covar I to every scale matrix (Notes).
    theirs = fit_quietly(starting_from(BayesianGaussianMixture(reg_covar=0.0, **kwargs), resp), X)
    ours = fit_quietly(
        starting_from(VariationalGaussianMixture(keep_history=True, **kwargs), resp), X
    )
    for name in ATTRIBUTES:
        a, b = np.asarray(getattr(ours, name)), np.asarray(getattr(theirs, name))
        assert a.shape == b.shape, name
        # Relative to the largest entry: some off-diagonal entries are near zero.
        assert np.abs(a - b).max() <= 1e-10 * np.abs(b).max(), name
    np.testing.assert_allclose(
        ours.weight_concentration_, theirs.weight_concentration_, rtol=1e-10
    )
    for name in ["weight_concentration_prior_", "mean_precision_prior_",
                 "degrees_of_freedom_prior_", "mean_prior_", "covariance_prior_"]:
        np.testing.assert_allclose(getattr(ours, name), getattr(theirs, name), rtol=1e-12)
    assert ours.n_iter_ == theirs.n_iter_ == n_iter
    X_new = X[::7] + 0.3
    np.testing.assert_allclose(ours.predict_proba(X_new), theirs.predict_proba(X_new),
                               rtol=1e-9, atol=1e-12)
    np.testing.assert_array_equal(ours.predict(X), theirs.predict(X))
    # scikit-learn's score_samples is log sum_k rho_nk, which our E-step computes ...
    rho = ours._estimate_weighted_log_prob(X_new)
    np.testing.assert_allclose(logsumexp(rho, axis=1), theirs.score_samples(X_new), rtol=1e-10)
    # ... and which lies below the log predictive density (Jensen's inequality).
    assert np.all(ours.score_samples(X_new) > theirs.score_samples(X_new))

    # The ELBO of the last E-step's q(Z) with the last M-step's q(theta), times N, is
    # scikit-learn's last bound plus the constant of the Notes.
    last = fit_quietly(VariationalGaussianMixture(**kwargs), X)  # to own the hyper-parameters
    last._set_parameters(ours.params_history_[n_iter - 1])
    resp_last = last.predict_proba(X)
    last._set_parameters(ours.params_history_[n_iter])
    total = last.elbo(X, resp_last) * N
    constant = sklearn_constant(ours, N)
    bounds = np.ravel(theirs.lower_bounds_)
    assert total - bounds[-1] == pytest.approx(constant, rel=1e-11)
    # Ours records the same q(Z) with the previous q(theta): the sequences interleave.
    shifted = (bounds + constant) / N
    history = ours.log_likelihood_history_
    slack = 1e-12 * np.abs(shifted)
    assert np.all(history <= shifted + slack)
    assert np.all(shifted[:-1] <= history[1:] + slack[:-1])


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_default_hyper_parameters_are_scikit_learns(covariance_type):
    X = np.random.default_rng(1).normal(size=(60, 3)) * [1.0, 2.0, 0.5] + 10.0
    kwargs = dict(n_components=3, covariance_type=covariance_type, max_iter=1)
    ours = fit_quietly(VariationalGaussianMixture(**kwargs), X)
    theirs = fit_quietly(BayesianGaussianMixture(**kwargs), X)
    for name in ["weight_concentration_prior_", "mean_precision_prior_",
                 "degrees_of_freedom_prior_", "mean_prior_", "covariance_prior_"]:
        np.testing.assert_allclose(getattr(ours, name), getattr(theirs, name), rtol=1e-12,
                                   err_msg=name)


# ------------------------------------------------------------------ the ELBO, independently
def expanded_scales(model):
    """Every component's W_k and nu_k as full (D, D) matrices, and W_0, whatever the type."""
    K, D = model.means_.shape
    cov = np.asarray(model.covariances_, dtype=float)
    if model.covariance_type == "full":
        mean_cov = cov
    elif model.covariance_type == "tied":
        mean_cov = np.stack([cov] * K)
    elif model.covariance_type == "diag":
        mean_cov = np.stack([np.diag(c) for c in cov])
    else:
        mean_cov = np.stack([c * np.eye(D) for c in cov])
    nu = np.broadcast_to(np.asarray(model.degrees_of_freedom_, dtype=float), (K,))
    W = np.linalg.inv(mean_cov * nu[:, None, None])  # covariances_ = (nu W)^{-1}
    prior = model.covariance_prior_
    W0 = np.linalg.inv(prior if prior.ndim == 2 else np.diag(np.broadcast_to(prior, (D,))))
    return W, nu, W0


def expected_log_weights(model):
    if model.weight_concentration_prior_type == "dirichlet_distribution":
        alpha = model.weight_concentration_
        return digamma(alpha) - digamma(alpha.sum()), None
    a, b = model.weight_concentration_
    log_v, log_1mv = digamma(a) - digamma(a + b), digamma(b) - digamma(a + b)
    return log_v + np.r_[0.0, np.cumsum(log_1mv)[:-1]], (log_v, log_1mv)


def bishop_elbo(model, X, r):
    """Bishop (2006), eqs. 10.70-10.77 term by term (sticks: Blei and Jordan, 2006),
    with Wishart normalisers and entropies from scipy.stats."""
    N, D = X.shape
    K = r.shape[1]
    W, nu, W0 = expanded_scales(model)
    beta, m = model.mean_precision_, model.means_
    beta0, nu0, m0 = (model.mean_precision_prior_, model.degrees_of_freedom_prior_,
                      model.mean_prior_)
    Nk = r.sum(axis=0)
    xbar = (r.T @ X) / Nk[:, None]
    S = np.stack([((r[:, k] * (X - xbar[k]).T) @ (X - xbar[k])) / Nk[k] for k in range(K)])
    e_log_det = np.array([
        digamma(0.5 * (nu[k] + 1 - np.arange(1, D + 1))).sum() + D * math.log(2)
        + np.linalg.slogdet(W[k])[1] for k in range(K)
    ])
    e_log_pi, sticks = expected_log_weights(model)

    def log_b(scale, dof):  # ln B(W, nu) = ln W(I | W, nu) + tr(W^{-1}) / 2
        return stats.wishart(df=dof, scale=scale).logpdf(np.eye(D)) + 0.5 * np.trace(
            np.linalg.inv(scale)
        )

    likelihood = 0.5 * sum(
        Nk[k] * (e_log_det[k] - D / beta[k] - nu[k] * np.trace(S[k] @ W[k])
                 - nu[k] * (xbar[k] - m[k]) @ W[k] @ (xbar[k] - m[k]) - D * math.log(2 * math.pi))
        for k in range(K)
    )
    labels = (r * e_log_pi).sum()
    mean_prec = 0.5 * sum(
        D * math.log(beta0 / (2 * math.pi)) + e_log_det[k] - D * beta0 / beta[k]
        - beta0 * nu[k] * (m[k] - m0) @ W[k] @ (m[k] - m0) for k in range(K)
    ) + K * log_b(W0, nu0) + 0.5 * (nu0 - D - 1) * e_log_det.sum() - 0.5 * sum(
        nu[k] * np.trace(np.linalg.inv(W0) @ W[k]) for k in range(K)
    )
    entropy_z = -(r[r > 0] * np.log(r[r > 0])).sum()
    q_mean_prec = sum(
        0.5 * e_log_det[k] + 0.5 * D * math.log(beta[k] / (2 * math.pi)) - 0.5 * D
        - stats.wishart(df=nu[k], scale=W[k]).entropy() for k in range(K)
    )
    gamma = model.weight_concentration_prior_
    if sticks is None:
        alpha = model.weight_concentration_
        prior_pi = gammaln(K * gamma) - K * gammaln(gamma) + (gamma - 1) * e_log_pi.sum()
        q_pi = gammaln(alpha.sum()) - gammaln(alpha).sum() + ((alpha - 1) * e_log_pi).sum()
    else:
        (a, b), (log_v, log_1mv) = model.weight_concentration_, sticks
        prior_pi = (math.log(gamma) + (gamma - 1) * log_1mv).sum()
        q_pi = (-betaln(a, b) + (a - 1) * log_v + (b - 1) * log_1mv).sum()
    return (likelihood + labels + prior_pi + mean_prec + entropy_z - q_pi - q_mean_prec) / N


@pytest.mark.parametrize("prior_type", PRIOR_TYPES)
@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_elbo_equals_bishops_terms(data, prior_type, covariance_type):
    X, resp = data
    model = fit_quietly(
        VariationalGaussianMixture(
            4, covariance_type=covariance_type, weight_concentration_prior_type=prior_type,
            weight_concentration_prior=0.3, mean_precision_prior=0.5,
            degrees_of_freedom_prior=4.5, max_iter=3, random_state=0,
        ),
        X,
    )
    # Any q(Z), not only the optimal one: these responsibilities are not the E-step's.
    assert model.elbo(X, resp) == pytest.approx(bishop_elbo(model, X, resp), rel=1e-12)
    optimal = model.predict_proba(X)
    assert model.elbo(X) == pytest.approx(bishop_elbo(model, X, optimal), rel=1e-12)
    assert model.elbo(X) > model.elbo(X, resp)
    # The recorded value is the same function: the last E-step's, at the previous q.
    history = VariationalGaussianMixture(**{**model.get_params(), "max_iter": 2})
    fit_quietly(history, X)
    assert model.log_likelihood_history_[2] == pytest.approx(history.elbo(X), rel=1e-12)


def sample_log_joint_minus_log_q(model, X, r, n_draws, rng):
    """Draws of log p(X, Z, theta) - log q(Z, theta) with theta ~ q and the expectation
    over Z taken exactly, every density from scipy.stats."""
    K, D = model.means_.shape
    W, nu, W0 = expanded_scales(model)
    beta0, nu0, m0 = (model.mean_precision_prior_, model.degrees_of_freedom_prior_,
                      model.mean_prior_)
    gamma = model.weight_concentration_prior_
    entropy_z = -(r * np.log(r)).sum()
    draws = np.empty(n_draws)
    for s in range(n_draws):
        value = entropy_z
        if model.weight_concentration_prior_type == "dirichlet_distribution":
            alpha = model.weight_concentration_
            pi = rng.dirichlet(alpha)
            value += stats.dirichlet(np.full(K, gamma)).logpdf(pi)
            value -= stats.dirichlet(alpha).logpdf(pi)
        else:
            a, b = model.weight_concentration_
            v = rng.beta(a, b)
            pi = v * np.r_[1.0, np.cumprod(1 - v)[:-1]]
            value += stats.beta(1.0, gamma).logpdf(v).sum() - stats.beta(a, b).logpdf(v).sum()
        for k in range(K):
            precision = stats.wishart(df=nu[k], scale=W[k]).rvs(random_state=rng)
            cov = np.linalg.inv(precision)
            mu = rng.multivariate_normal(model.means_[k], cov / model.mean_precision_[k])
            value += stats.wishart(df=nu0, scale=W0).logpdf(precision)
            value -= stats.wishart(df=nu[k], scale=W[k]).logpdf(precision)
            value += stats.multivariate_normal(m0, cov / beta0).logpdf(mu)
            value -= stats.multivariate_normal(model.means_[k], cov / model.mean_precision_[k]
                                               ).logpdf(mu)
            log_lik = stats.multivariate_normal(mu, cov).logpdf(X)
            value += r[:, k] @ (math.log(pi[k]) + log_lik)
        draws[s] = value
    return draws


@pytest.mark.parametrize(
    ("prior_type", "covariance_type"),
    [("dirichlet_process", "full"), ("dirichlet_distribution", "diag"),
     ("dirichlet_process", "tied"), ("dirichlet_distribution", "spherical")],
)
def test_elbo_equals_a_monte_carlo_estimate(prior_type, covariance_type):
    rng = np.random.default_rng(3)
    X = np.r_[rng.normal(0, 1, (4, 2)), rng.normal(3, 1, (4, 2))]
    model = fit_quietly(
        VariationalGaussianMixture(
            2, covariance_type=covariance_type, weight_concentration_prior_type=prior_type,
            weight_concentration_prior=0.7, max_iter=2, random_state=0,
        ),
        X,
    )
    r = rng.dirichlet(np.ones(2), len(X))
    draws = sample_log_joint_minus_log_q(model, X, r, 800, rng) / len(X)
    error = draws.std() / math.sqrt(len(draws))  # measured 0.02-0.03 per sample
    assert error < 0.05
    assert abs(draws.mean() - model.elbo(X, r)) < 4 * error


def sequential_log_evidence(X, m0, beta0, nu0, prior_covariance):
    """log p(X) of one Gaussian with a Gaussian-Wishart prior, by the chain rule: each
    point's Student-t predictive (scipy.stats.multivariate_t) given the points before it,
    then the conjugate update with that point alone."""
    D = X.shape[1]
    m, beta, nu, scale_inv = np.array(m0, float), beta0, nu0, np.array(prior_covariance)
    total = 0.0
    for x in X:
        dof = nu + 1 - D
        shape = (1 + beta) / (dof * beta) * scale_inv  # the inverse of L = ... W
        total += stats.multivariate_t(m, shape, df=dof).logpdf(x)
        scale_inv = scale_inv + beta / (beta + 1) * np.outer(x - m, x - m)
        m = (beta * m + x) / (beta + 1)
        beta, nu = beta + 1, nu + 1
    return total


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
@pytest.mark.parametrize("prior_type", PRIOR_TYPES)
def test_one_component_elbo_is_the_exact_log_evidence(covariance_type, prior_type):
    """With K = 1, q(Z) is certain and q(mu, Lambda) is the exact posterior (full, and
    tied, which is the same model for one component), so the ELBO is log p(X), plus, for
    the stick-breaking prior, log E_prior[v^N] = log(B(1 + N, gamma) / B(1, gamma)) since
    pi_1 = v_1 there. diag and spherical restrict q(Lambda), which must cost something."""
    rng = np.random.default_rng(4)
    X = rng.multivariate_normal([1.0, -2.0], [[2.0, 0.8], [0.8, 1.0]], 25)
    model = fit_quietly(
        VariationalGaussianMixture(
            1, covariance_type=covariance_type, weight_concentration_prior_type=prior_type,
            weight_concentration_prior=0.5, mean_precision_prior=0.3,
            degrees_of_freedom_prior=3.0, covariance_prior={
                "full": [[1.5, 0.2], [0.2, 0.5]], "tied": [[1.5, 0.2], [0.2, 0.5]],
                "diag": [1.5, 0.5], "spherical": 0.8}[covariance_type],
            max_iter=3, tol=0,
        ),
        X,
    )
    prior = np.atleast_1d(model.covariance_prior_)
    prior = prior if prior.ndim == 2 else np.diag(np.broadcast_to(prior, (2,)))
    evidence = sequential_log_evidence(X, model.mean_prior_, 0.3, 3.0, prior)
    if prior_type == "dirichlet_process":
        evidence += betaln(1 + len(X), 0.5) - betaln(1, 0.5)
    elbo = model.elbo(X) * len(X)
    history = model.log_likelihood_history_ * len(X)
    if covariance_type in ("full", "tied"):
        assert elbo == pytest.approx(evidence, rel=1e-12)
        np.testing.assert_allclose(history, evidence, rtol=1e-12)
    else:
        assert np.all(history <= evidence) and elbo < evidence - 1e-3


# ------------------------------------------------------------------ the ELBO never falls
@settings(max_examples=24, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10_000),
    n=st.integers(8, 40),
    d=st.integers(1, 3),
    K=st.integers(1, 5),
    covariance_type=st.sampled_from(COVARIANCE_TYPES),
    prior_type=st.sampled_from(PRIOR_TYPES),
    dtype=st.sampled_from([np.float64, np.float32]),
    offset=st.sampled_from([0.0, 1e4]),
    init=st.sampled_from(["kmeans", "k-means++", "random", "random_from_data"]),
    concentration=st.sampled_from([None, 1e-3, 10.0]),
)
def test_elbo_never_decreases(
    seed, n, d, K, covariance_type, prior_type, dtype, offset, init, concentration
):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)) * rng.uniform(0.5, 3, size=d) + 4 * rng.integers(0, 3, (n, 1))
    X = (X + offset).astype(dtype)
    model = fit_quietly(
        VariationalGaussianMixture(
            min(K, n), covariance_type=covariance_type,
            weight_concentration_prior_type=prior_type,
            weight_concentration_prior=concentration, init_params=init, random_state=seed,
            max_iter=200, tol=0,
        ),
        X,
    )
    history = model.log_likelihood_history_
    assert len(history) == 200 and np.all(np.isfinite(history))
    # The rounding of the ELBO itself (a few eps per term of a mean whose terms have its
    # size), and of storing each mean in the dtype: half a unit in the last place of the
    # data moves a Mahalanobis term by up to (ulp / 2)^2 / (2 sigma^2) per feature, where
    # sigma^2 >= the prior's smallest variance over (nu_0 + N) bounds every covariances_.
    eps = float(np.finfo(dtype).eps)
    ulp = float(np.spacing(np.abs(X).max()))
    prior = np.atleast_1d(model.covariance_prior_)
    smallest = (np.linalg.eigvalsh(prior)[0] if prior.ndim == 2 else prior.min())
    variance = smallest / (model.degrees_of_freedom_prior_ + n)
    slack = 64 * eps * (1 + np.abs(history[:-1])) + d * ulp**2 / variance
    assert np.all(np.diff(history) >= -slack)
    assert model.means_.dtype == dtype and model.covariances_.dtype == dtype


# ------------------------------------------------------------------ what VB is for
@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_surplus_components_are_emptied(covariance_type):
    """Three clear round clusters (a fit for every covariance type), ten components, a
    small concentration: seven are emptied.

    An empty stick placed before occupied ones keeps E[v_k] = 1 / (1 + gamma + N_{>k}),
    so its weight cannot fall below about 1 / N: with 2,000 points, 5e-4."""
    means = np.array([[0.0, 0.0], [8.0, 0.0], [0.0, 8.0]])
    weights = np.array([0.5, 0.3, 0.2])
    X, _ = make_gaussian_mixture(2000, weights, means, np.stack([np.eye(2)] * 3),
                                 random_state=2)
    model = VariationalGaussianMixture(
        10, covariance_type=covariance_type, weight_concentration_prior=0.01,
        random_state=0, max_iter=2000, tol=1e-8,
    ).fit(X)
    assert model.converged_
    used = np.flatnonzero(model.weights_ >= 1e-3)
    assert len(used) == 3
    # The others hold almost no data: soft counts N_k = beta_k - beta_0 below a tenth of a
    # point (an empty stick before occupied ones keeps the prior's broad Gaussian at the
    # data's mean, which takes about 0.06 of a point from the 2,000).
    counts = model.mean_precision_ - model.mean_precision_prior_
    assert np.delete(counts, used).max() < 0.1
    order = linear_sum_assignment(((means[:, None] - model.means_[used][None]) ** 2).sum(2))[1]
    np.testing.assert_allclose(model.weights_[used][order], weights, atol=0.02)
    np.testing.assert_allclose(model.means_[used][order], means, atol=0.1)


def test_recovers_known_parameters_from_a_large_sample():
    truth = three_blobs_2d_params()
    X, _ = make_gaussian_mixture(
        20_000, truth["weights"], truth["means"], truth["covariances"], random_state=3
    )
    model = VariationalGaussianMixture(
        3, weight_concentration_prior_type="dirichlet_distribution", random_state=0,
        tol=1e-8, max_iter=500,
    ).fit(X)
    order = linear_sum_assignment(
        ((truth["means"][:, None] - model.means_[None]) ** 2).sum(axis=2)
    )[1]
    np.testing.assert_allclose(model.weights_[order], truth["weights"], atol=0.02)
    np.testing.assert_allclose(model.means_[order], truth["means"], atol=0.06)
    np.testing.assert_allclose(model.covariances_[order], truth["covariances"], atol=0.08)


# ------------------------------------------------------------------ numerics
def fit_from(X, resp, covariance_type, prior_type, n_iter=30):
    return fit_quietly(
        starting_from(
            VariationalGaussianMixture(
                resp.shape[1], covariance_type=covariance_type,
                weight_concentration_prior_type=prior_type, max_iter=n_iter, tol=0,
            ),
            resp,
        ),
        X,
    )


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
@pytest.mark.parametrize(("dtype", "offset"), [(np.float64, 1e6), (np.float32, 1e4)])
def test_far_from_the_origin_gives_the_centred_fit(data, covariance_type, dtype, offset):
    """X + c is fitted as X is: means moved by c, everything else unchanged.

    The shifted data are rounded to the dtype first, and the reference is the float64 fit
    of those very numbers moved back, so only the fit's own rounding is measured. Its
    floor is eps |c|: a mean near c (and the default prior mean, the data's mean) is
    stored to that, and the E-step sees the rounded means, which moves the
    responsibilities, and so everything else, by about eps |c| over the spread (here 1).
    The tolerance, 300 eps (1 + |c|), is that of GaussianMixture's translation test; a
    formula that lost digits with |c|^2 (moments about the origin) would miss it by far.
    """
    X, resp = data
    shifted = (X + offset).astype(dtype)
    near = fit_from(shifted.astype(np.float64) - offset, resp, covariance_type,
                    "dirichlet_process")
    far = fit_from(shifted, resp, covariance_type, "dirichlet_process")
    tol = 300 * float(np.finfo(dtype).eps) * (1 + offset)
    assert far.means_.dtype == dtype
    np.testing.assert_allclose(far.means_ - offset, near.means_, rtol=0, atol=tol)
    np.testing.assert_allclose(far.covariances_, near.covariances_, rtol=0,
                               atol=tol * np.abs(near.covariances_).max())
    np.testing.assert_allclose(far.weights_, near.weights_, rtol=0, atol=tol)
    assert far.lower_bound_ == pytest.approx(near.lower_bound_, abs=tol)


@pytest.mark.parametrize("prior_type", PRIOR_TYPES)
@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_float32_is_fitted_in_float32_and_agrees_with_float64(data, covariance_type,
                                                              prior_type):
    X, resp = data
    single = fit_from(X.astype(np.float32), resp, covariance_type, prior_type)
    double = fit_from(X.astype(np.float32).astype(np.float64), resp, covariance_type,
                      prior_type)
    for name in ATTRIBUTES:
        value = getattr(single, name)
        assert np.asarray(value).dtype == np.float32, name
        reference = np.asarray(getattr(double, name))
        # Measured: at most 21 eps (relative to the largest entry) after 30 iterations,
        # float32's rounding of each step carried through the next ones.
        assert np.abs(value - reference).max() <= 100 * EPS32 * np.abs(reference).max(), name
    assert single.lower_bound_ == pytest.approx(double.lower_bound_, rel=10 * EPS32)
    assert isinstance(single.lower_bound_, float)
    # The outputs too, as for every family (score_samples is evaluated in float64).
    X32 = X[:20].astype(np.float32)
    assert single.score_samples(X32).dtype == single.predict_proba(X32).dtype == np.float32


# ------------------------------------------------------------------ predictive density
@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_score_samples_is_a_mixture_of_scipy_student_t(data, covariance_type):
    X, _ = data
    model = fit_quietly(
        VariationalGaussianMixture(4, covariance_type=covariance_type, random_state=0,
                                   max_iter=20),
        X,
    )
    W, nu, _ = expanded_scales(model)
    D = X.shape[1]
    X_new = X[::5] + 0.5
    density = np.zeros(len(X_new))
    for k in range(4):
        dof = nu[k] + 1 - D
        precision = dof * model.mean_precision_[k] / (1 + model.mean_precision_[k]) * W[k]
        t = stats.multivariate_t(model.means_[k], np.linalg.inv(precision), df=dof)
        density += model.weights_[k] * t.pdf(X_new)
    np.testing.assert_allclose(model.score_samples(X_new), np.log(density), rtol=1e-12)
    assert model.score(X_new) == pytest.approx(np.log(density).mean(), rel=1e-12)


def test_predictive_density_integrates_to_one_and_sample_draws_from_it():
    rng = np.random.default_rng(5)
    X = np.r_[rng.normal(-2, 0.5, (12, 1)), rng.normal(2, 1.0, (8, 1))]
    model = fit_quietly(VariationalGaussianMixture(2, random_state=0, max_iter=50), X)
    def pdf(x):
        return math.exp(model.score_samples([[x]])[0])
    total = sum(integrate.quad(pdf, a, b, limit=200)[0]
                for a, b in [(-np.inf, -2), (-2, 2), (2, np.inf)])
    assert total == pytest.approx(1.0, abs=1e-7)
    model.set_params(random_state=1)
    draws, labels = model.sample(20_000)
    assert draws.shape == (20_000, 1) and np.all(np.diff(labels) >= 0)

    def cdf(x):
        return np.array([integrate.quad(pdf, -np.inf, v, limit=200)[0] for v in x])

    grid = np.linspace(-5, 6, 23)
    # Kolmogorov distance on a grid: within 1.6/sqrt(n) (about the 99.9% level) of zero.
    empirical = np.searchsorted(np.sort(draws[:, 0]), grid) / len(draws)
    assert np.abs(empirical - cdf(grid)).max() < 1.6 / math.sqrt(len(draws))


# ------------------------------------------------------------------ errors and API
X_OK = np.random.default_rng(0).normal(size=(30, 2))


@pytest.mark.parametrize(
    "params, message",
    [
        ({"covariance_type": "banana"}, "covariance_type='banana' is not supported"),
        ({"weight_concentration_prior_type": "stick"},
         "weight_concentration_prior_type='stick' is not supported"),
        ({"weight_concentration_prior": 0.0}, "weight_concentration_prior == 0.0, must be > 0"),
        ({"weight_concentration_prior": -1}, "weight_concentration_prior == -1, must be > 0"),
        ({"weight_concentration_prior": np.inf}, "weight_concentration_prior must be finite"),
        ({"mean_precision_prior": 0.0}, "mean_precision_prior == 0.0, must be > 0"),
        ({"mean_precision_prior": "1"}, "mean_precision_prior must be an instance of"),
        ({"degrees_of_freedom_prior": 1.0}, "must exceed n_features - 1 = 1"),
        ({"degrees_of_freedom_prior": np.inf}, "degrees_of_freedom_prior must be finite"),
        ({"mean_prior": [0.0]}, r"mean_prior has shape \(1,\); the data need \(2,\)"),
        ({"mean_prior": [0.0, np.nan]}, "mean_prior must contain only finite numbers"),
        ({"covariance_prior": np.eye(3)}, r"covariance_prior has shape \(3, 3\)"),
        ({"covariance_prior": [[1.0, 2.0], [2.0, 1.0]]}, "must be positive definite"),
        ({"covariance_prior": [[1.0, 0.5], [0.0, 1.0]]}, "must be a symmetric matrix"),
        ({"covariance_type": "diag", "covariance_prior": [1.0, -1.0]}, "must be positive"),
        ({"covariance_type": "spherical", "covariance_prior": [1.0, 1.0]},
         r"covariance_prior has shape \(2,\); covariance_type='spherical'"),
        ({"n_components": 0}, "n_components == 0, must be >= 1"),
        ({"tol": -1.0}, "tol == -1.0, must be >= 0.0"),
    ],
)
def test_bad_hyper_parameters_raise_clear_errors(params, message):
    with pytest.raises((ValueError, TypeError), match=message):
        VariationalGaussianMixture(**{"n_components": 2, **params}).fit(X_OK)


@pytest.mark.parametrize("covariance_type", ["full", "tied", "diag"])
def test_constant_feature_asks_for_a_covariance_prior(covariance_type):
    # (The spherical default, the mean of the variances, stays positive.)
    X = np.c_[X_OK[:, 0], np.ones(len(X_OK))]
    with pytest.raises(ValueError, match="pass an explicit covariance_prior"):
        VariationalGaussianMixture(2, covariance_type=covariance_type).fit(X)
    prior = {"full": np.eye(2), "tied": np.eye(2), "diag": [1.0, 1.0]}
    model = VariationalGaussianMixture(
        2, covariance_type=covariance_type, covariance_prior=prior[covariance_type],
        random_state=0,
    ).fit(X)
    assert np.all(np.isfinite(model.covariances_))


def test_elbo_rejects_bad_responsibilities():
    model = VariationalGaussianMixture(2, random_state=0).fit(X_OK)
    with pytest.raises(ValueError, match=r"resp has shape \(30, 3\)"):
        model.elbo(X_OK, np.full((30, 3), 1 / 3))
    with pytest.raises(ValueError, match="every row of resp must be a probability vector"):
        model.elbo(X_OK, np.full((30, 2), 0.7))


@pytest.mark.parametrize("method", ["predict", "predict_proba", "score_samples", "elbo"])
def test_use_before_fit(method):
    with pytest.raises(NotFittedError, match="not fitted yet"):
        getattr(VariationalGaussianMixture(2), method)(X_OK)


def test_history_warm_start_and_fit_predict():
    model = VariationalGaussianMixture(3, random_state=0, keep_history=True, tol=0,
                                       max_iter=5)
    labels = fit_quietly(model, X_OK).predict(X_OK)
    assert len(model.params_history_) == model.n_iter_ + 1 == 6
    np.testing.assert_array_equal(model.params_history_[-1]["means"], model.means_)
    again = VariationalGaussianMixture(3, random_state=0, tol=0, max_iter=5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        np.testing.assert_array_equal(again.fit_predict(X_OK), labels)
    # A warm start continues: its first ELBO is the next E-step of the fit it continues.
    model.set_params(warm_start=True)
    next_elbo = model.elbo(X_OK)
    fit_quietly(model, X_OK)
    assert model.log_likelihood_history_[0] == pytest.approx(next_elbo, rel=1e-12)


def test_flat_data_with_a_tiny_prior_in_float32_raise_a_clear_error():
    # Two identical features: only the prior (1e-3 against a scatter of 50 x 1e4) keeps
    # the scale matrices invertible, beyond float32's resolution; float64 copes.
    x = np.random.default_rng(0).normal(0, 100, (50, 1))
    model = VariationalGaussianMixture(2, covariance_prior=np.eye(2) * 1e-3, random_state=0)
    with pytest.raises(ValueError, match="singular to working precision"):
        model.fit(np.c_[x, x].astype(np.float32))
    assert np.all(np.isfinite(fit_quietly(model, np.c_[x, x]).covariances_))
