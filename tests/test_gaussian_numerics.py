"""GaussianMixture numerics: float32, data far from the origin, tight far-away components.

Each case below returned a wrong answer (or raised) before the second moments were taken
about the component means (emlib.moments); the references are scikit-learn, which uses the
two-pass formula for full covariances, and emlib's own float64 fit of the very same numbers.
"""

import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.stats import multivariate_normal
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import GaussianMixture as SklearnGaussianMixture

from emlib import GaussianMixture
from emlib.gaussian import estimate_gaussian_parameters, mahalanobis_and_log_det
from emlib.moments import (
    WIDE_FEATURES,
    _inexact,
    diagonal_scatter,
    full_scatter,
    pooled_scatter,
    row_blocks,
    spread_limit,
    zero_below_resolution,
)

COVARIANCE_TYPES = ["full", "tied", "diag", "spherical"]
DTYPES = [np.float64, np.float32]


def blobs(seed, n_components=3, n_features=2, n_per=100):
    """Unit-variance clusters around centres drawn with spread 4."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(0.0, 4.0, (n_components, n_features))
    X = np.concatenate([rng.normal(c, 1.0, (n_per, n_features)) for c in centres])
    return X, centres


def fixed_start(centres, covariance_type, scale=1.0):
    """Initial parameters that make a fit deterministic and comparable across libraries:
    equal weights, the given means, and unit covariances times ``scale ** 2``."""
    K, D = centres.shape
    precisions = {
        "full": np.stack([np.eye(D)] * K),
        "tied": np.eye(D),
        "diag": np.ones((K, D)),
        "spherical": np.ones(K),
    }[covariance_type] / scale**2
    return dict(weights_init=np.full(K, 1.0 / K), means_init=centres, precisions_init=precisions)


def fit(X, centres, covariance_type, n_iter=5, library=GaussianMixture, scale=1.0, **params):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return library(
            len(centres),
            covariance_type=covariance_type,
            max_iter=n_iter,
            tol=0.0,
            **fixed_start(centres, covariance_type, scale),
            **params,
        ).fit(X)


# ---------------------------------------------------------------- one point per component
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("covariance_type", ["full", "diag", "spherical"])
def test_a_component_on_one_point_has_covariance_reg_covar(dtype, covariance_type):
    X = np.random.default_rng(0).normal(3.0, 2.0, (50, 3)).astype(dtype)
    resp = np.zeros((50, 2), dtype=dtype)
    resp[7, 0] = 1.0
    resp[np.arange(50) != 7, 1] = 1.0
    nk, means, covariances = estimate_gaussian_parameters(X, resp, 1e-6, covariance_type)
    # The mean is the point itself, with no bias from a guard added to the count.
    np.testing.assert_array_equal(means[0], X[7])
    assert nk[0] == 1.0
    expected = {"full": 1e-6 * np.eye(3), "diag": np.full(3, 1e-6), "spherical": 1e-6}
    np.testing.assert_allclose(covariances[0], expected[covariance_type], rtol=1e-6)


def test_float32_one_point_seeds_never_raise_and_match_scikit_learn():
    """k-means++ starts put one point in each component; 100 seeds, none may fail."""
    failures, compared, worst = [], 0, 0.0
    for seed in range(100):
        X = np.random.default_rng(seed).normal(3.0, 2.0, (200, 2)).astype(np.float32)
        kwargs = dict(n_components=3, init_params="k-means++", random_state=seed, max_iter=1)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            try:
                ours = GaussianMixture(**kwargs).fit(X)
            except ValueError as error:
                failures.append((seed, str(error)[:40]))
                continue
            theirs = SklearnGaussianMixture(**kwargs).fit(X)
        # One EM iteration from the same k-means++ seeds: the same covariances, up to float32
        # rounding amplified by one E-step.
        scale = np.abs(theirs.covariances_).max()
        worst = max(worst, np.abs(ours.covariances_ - theirs.covariances_).max() / scale)
        compared += 1
    assert failures == []
    assert compared == 100
    assert worst < 1e-3


# ---------------------------------------------------------------- far from the origin
@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
@pytest.mark.parametrize(("dtype", "offset"), [(np.float32, 1e3), (np.float64, 1e8)])
def test_one_component_far_from_the_origin(covariance_type, dtype, offset):
    """N(offset, 1) in 2-D: the variances are those of the float64 fit of the same numbers."""
    X = np.random.default_rng(0).normal(offset, 1.0, (500, 2)).astype(dtype)
    model = GaussianMixture(1, covariance_type=covariance_type).fit(X)
    exact = np.var(X.astype(np.float64) - offset, axis=0)  # centred before squaring
    covariances = model.covariances_
    if covariance_type in ("full", "tied"):
        variances = np.diagonal(covariances, axis1=-2, axis2=-1).ravel()
    else:
        variances = covariances.ravel()
    expected = exact.mean() if covariance_type == "spherical" else exact
    rtol = 300 * np.finfo(dtype).eps * (1 + offset)
    np.testing.assert_allclose(variances, expected + 1e-6, rtol=rtol)
    # The log-likelihood of a unit-variance Gaussian in 2-D is about -log(2 pi) - 1.
    assert model.score(X) == pytest.approx(-np.log(2 * np.pi) - 1, abs=0.1)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
@pytest.mark.parametrize("offset", [0.0, 1e2, 1e3, 1e4, -1e4])
def test_float32_m_step_keeps_its_digits_far_from_the_origin(covariance_type, offset):
    """One M-step on float32 data: the covariances are those of the same numbers in float64
    to a tolerance that does not grow with the offset. Only the means may lose digits with
    the offset, since a mean near 1e4 is itself stored to eps * 1e4."""
    rng = np.random.default_rng(1)
    X = np.vstack([rng.normal(offset - 5, 1.0, (300, 2)), rng.normal(offset + 5, 1.0, (200, 2))])
    X = X.astype(np.float32)
    resp = np.zeros((500, 2))
    resp[:300, 0] = 0.9
    resp[:300, 1] = 0.1
    resp[300:, 1] = 1.0
    _, means32, cov32 = estimate_gaussian_parameters(
        X, resp.astype(np.float32), 0.0, covariance_type
    )
    _, means64, cov64 = estimate_gaussian_parameters(
        X.astype(np.float64), resp, 0.0, covariance_type
    )
    eps = float(np.finfo(np.float32).eps)
    # The variances are about 1, so an absolute tolerance is a relative one. The one-product
    # formula of emlib.moments costs about eps (1 + rho) per term (rho = 25 here) summed over
    # hundreds of float32 terms; moments taken about the origin instead of the data's mean
    # were 2e4 eps off at 1e3.
    np.testing.assert_allclose(cov32, cov64, rtol=0, atol=2000 * eps)
    np.testing.assert_allclose(means32, means64, rtol=0, atol=300 * eps * (1 + abs(offset)))


def test_tight_component_far_from_the_other_float32():
    rng = np.random.default_rng(0)
    X = np.r_[rng.normal(0, 1, (300, 2)), rng.normal(30, 0.01, (300, 2))].astype(np.float32)
    ours = GaussianMixture(2, random_state=0).fit(X)
    theirs = SklearnGaussianMixture(2, random_state=0).fit(X)
    tight_ours = np.sort(ours.covariances_[:, 0, 0])[0]
    tight_theirs = np.sort(theirs.covariances_[:, 0, 0])[0]
    assert tight_ours == pytest.approx(tight_theirs, rel=1e-3)
    assert tight_ours == pytest.approx(1e-4, rel=0.2)  # the true variance, 0.01 ** 2
    assert ours.score(X) == pytest.approx(theirs.score(X), abs=1e-3)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("covariance_type", ["diag", "spherical"])
def test_diagonal_distances_of_a_tight_far_component(covariance_type, dtype):
    """A component of spread 0.1 at 1,000 from two others: P (mu - c)^2 is about 4e7,
    past both dtypes' limits, so its distances come from its own deviations, within a few
    eps of each; the expansion about the means' centre leaves almost none of their
    digits. Enough rows for several blocks (emlib.moments.row_blocks)."""
    rng = np.random.default_rng(5)
    means = np.array([[0.0, 0.0, 0.0], [1.0, 1.0, 1.0], [1e3, 0.0, 0.0]])
    X = np.concatenate([rng.normal(m, 0.1, (4000, 3)) for m in means]).astype(dtype)
    precisions = np.array([1.0, 1.0, 100.0])
    if covariance_type == "diag":
        factors = np.sqrt(precisions)[:, np.newaxis] * np.ones((3, 3))
    else:
        factors = np.sqrt(precisions)
    mahalanobis, _ = mahalanobis_and_log_det(X, means.astype(dtype), factors.astype(dtype),
                                             covariance_type)
    X128, means128 = X.astype(np.longdouble), means.astype(dtype).astype(np.longdouble)
    factors128 = factors.astype(dtype).astype(np.longdouble)
    factors128 = factors128 if covariance_type == "diag" else factors128[:, np.newaxis]
    reference = (((X128[:, np.newaxis, :] - means128) * factors128) ** 2).sum(axis=2)
    reference = reference.astype(np.float64)
    assert len(row_blocks(len(X), 8 * 3)) > 1
    eps = np.finfo(dtype).eps
    np.testing.assert_allclose(mahalanobis[:, 2], reference[:, 2], rtol=16 * eps, atol=0)


def test_diagonal_distances_of_float32_data_under_float64_parameters():
    """A float64 fit scoring float32 data: the expansion runs in float32, so a component
    past float32's limit (P (mu - c)^2 about 2e4 here) but not float64's is evaluated
    from its deviations; expanded, it was 2e-3 off."""
    rng = np.random.default_rng(6)
    means = np.array([[0.0, 0.0], [1.0, 1.0], [20.0, 0.0]])
    X = np.concatenate([rng.normal(m, 0.1, (500, 2)) for m in means]).astype(np.float32)
    factors = np.sqrt([[1.0, 1.0], [1.0, 1.0], [100.0, 100.0]])
    mahalanobis, _ = mahalanobis_and_log_det(X, means, factors, "diag")
    deviations = X.astype(np.longdouble)[:, np.newaxis, :] - means
    reference = ((deviations * factors) ** 2).sum(axis=2).astype(np.float64)
    np.testing.assert_allclose(mahalanobis[:, 2], reference[:, 2],
                               rtol=16 * np.finfo(np.float32).eps, atol=0)


def test_tight_component_far_away_float64_without_regularisation():
    rng = np.random.default_rng(0)
    X = np.r_[rng.normal(0, 1, (300, 2)), rng.normal(3e7, 0.01, (300, 2))]
    ours = GaussianMixture(2, random_state=0, reg_covar=0.0).fit(X)
    theirs = SklearnGaussianMixture(2, random_state=0, reg_covar=0.0).fit(X)
    order_ours, order_theirs = np.argsort(ours.means_[:, 0]), np.argsort(theirs.means_[:, 0])
    np.testing.assert_allclose(
        ours.covariances_[order_ours], theirs.covariances_[order_theirs], rtol=1e-6
    )
    # scikit-learn evaluates x U - mu U about the origin, about 3e9 here, and keeps only
    # about nine digits of the score; SciPy subtracts the mean first, as emlib does.
    assert ours.score(X) == pytest.approx(theirs.score(X), rel=1e-7)
    reference = sum(
        w * np.exp(multivariate_normal(m, c).logpdf(X))
        for w, m, c in zip(ours.weights_, ours.means_, ours.covariances_, strict=True)
    )
    assert ours.score(X) == pytest.approx(np.mean(np.log(reference)), rel=1e-12)


# ---------------------------------------------------------------- the moment formulas
@pytest.mark.parametrize("dtype", DTYPES)
def test_moments_match_the_two_pass_definition(dtype):
    """Soft responsibilities, one component far away: every entry against the definition."""
    rng = np.random.default_rng(3)
    X = np.r_[rng.normal(0, 1, (200, 3)), rng.normal(5e3, 0.1, (100, 3))].astype(dtype)
    resp = rng.dirichlet(np.ones(3), size=300).astype(dtype)
    nk = resp.sum(axis=0)
    means = (resp.T @ X) / nk[:, None]
    X64, r64, m64 = X.astype(np.float64), resp.astype(np.float64), means.astype(np.float64)
    # Definition, in float64 on the same numbers: deviations first, then their squares.
    reference = np.stack(
        [((r64[:, k] * (X64 - m64[k]).T) @ (X64 - m64[k])) / r64[:, k].sum() for k in range(3)]
    )
    rtol = 50 * spread_limit(dtype) * np.finfo(dtype).eps
    np.testing.assert_allclose(full_scatter(X, resp, nk, means), reference, rtol=rtol)
    np.testing.assert_allclose(
        diagonal_scatter(X, resp, nk, means),
        np.diagonal(reference, axis1=1, axis2=2),
        rtol=rtol,
    )
    np.testing.assert_allclose(
        pooled_scatter(X, resp, nk, means),
        np.einsum("k,kij->ij", nk.astype(np.float64), reference) / nk.sum(),
        rtol=rtol,
        atol=rtol * np.abs(reference).max(),
    )


@pytest.mark.parametrize("n_wide", [0, 40])
@pytest.mark.parametrize("dtype", DTYPES)
def test_moments_when_only_some_features_need_the_exact_computation(dtype, n_wide):
    """One component lies far away in feature 0 only, and feature 3 is constant (as the
    border pixels of images are): the rows and columns of those features are recomputed
    exactly, and every entry, the mixed ones included, matches the definition. With 40 more
    features, half of them blank, and five times the rows, the same holds on the wide data's
    paths, over several blocks of rows."""
    rng = np.random.default_rng(4)
    n_near, n_far = (1500, 500) if n_wide else (300, 100)
    near = rng.normal(0, 1, (n_near, 4))
    far = rng.normal(0, 1, (n_far, 4)) * [0.1, 1, 1, 1] + [5e3, 0, 0, 0]
    X = np.r_[near, far]
    X[:, 3] = 0.0
    if n_wide:
        extra = rng.normal(0, 1, (len(X), n_wide))
        extra[:, ::2] = 0.0
        X = np.c_[X, extra]
        assert X.shape[1] >= WIDE_FEATURES
        assert len(row_blocks(len(X), 3 * X.shape[1], min_rows=X.shape[1])) > 1
        assert len(row_blocks(len(X), 4 * X.shape[1])) > 1
    X = X.astype(dtype)
    resp = np.zeros((len(X), 3), dtype=dtype)
    resp[:n_near, 1:] = rng.dirichlet(np.ones(2), size=n_near)
    resp[n_near:] = [0.98, 0.01, 0.01]
    nk = resp.sum(axis=0)
    means = (resp.T @ X) / nk[:, None]
    X64, r64 = X.astype(np.float64), resp.astype(np.float64)
    m64 = (r64.T @ X64) / r64.sum(axis=0)[:, None]  # the definition's means, in float64
    reference = np.stack(
        [((r64[:, k] * (X64 - m64[k]).T) @ (X64 - m64[k])) / r64[:, k].sum() for k in range(3)]
    )
    rtol = 50 * spread_limit(dtype) * np.finfo(dtype).eps
    scale = np.sqrt(np.einsum("kii->ki", reference))
    bound = rtol * (scale[:, :, None] * scale[:, None, :])
    full = full_scatter(X, resp, nk, means)
    assert np.all(np.abs(full - reference) <= bound)
    blank = np.all(X == 0, axis=0)
    assert blank.sum() == 1 + n_wide // 2
    assert np.all(full[:, blank, :] == 0) and np.all(full[:, :, blank] == 0)
    np.testing.assert_array_equal(full, np.swapaxes(full, 1, 2))
    diagonal = diagonal_scatter(X, resp, nk, means)
    np.testing.assert_allclose(diagonal, np.einsum("kii->ki", reference), rtol=rtol)
    assert np.all(diagonal[:, blank] == 0)


@pytest.mark.parametrize("dtype", DTYPES)
def test_recomputed_moments_are_as_accurate_as_the_two_pass_formula(dtype):
    """Two components 2,000 apart in feature 0, 1,000 or more from the origin, with spreads
    of 0.5 to 2: the rows and columns of feature 0 are recomputed (rho is about 1e6), and
    every entry is within 100 eps of the moments in extended precision, relative to the
    product of the spreads (the variances of diagonal_scatter within 10 eps). Each
    component's first sample, the one of largest responsibility, lies 2.5 standard
    deviations from its mean: anchored there, the full covariances were 226 eps (float32)
    and 333 eps (float64) off."""
    rng = np.random.default_rng(0)
    n, centres = 20_000, np.array([[1000.0, 1000, 1000], [3000, 1000, 1000]])
    spread = np.array([1.0, 2.0, 0.5])
    labels = rng.integers(0, 2, n)
    labels[:2] = [0, 1]
    noise = rng.normal(size=(n, 3))
    noise[:2] = 2.5
    X = (centres[labels] + noise * spread).astype(dtype)
    resp = np.zeros((n, 2), dtype=dtype, order="F")
    resp[np.arange(n), labels] = 1
    nk = resp.sum(axis=0)
    exact = X.astype(np.longdouble)
    exact_means = np.stack([exact[labels == k].mean(axis=0) for k in range(2)])
    means = exact_means.astype(dtype)
    shift_sq = np.square(means - (nk @ means) / nk.sum())
    assert np.all(_inexact(shift_sq, np.ones_like(means), nk, means, 0.0)[:, 0])
    deviations = [exact[labels == k] - exact_means[k] for k in range(2)]
    moments = [np.einsum("ni,nj->ij", d, d) / len(d) for d in deviations]
    reference = np.stack(moments).astype(np.float64)
    scale = np.sqrt(np.einsum("kii->ki", reference))
    eps = np.finfo(dtype).eps
    error = np.abs(full_scatter(X, resp, nk, means) - reference)
    assert np.all(error <= 100 * eps * (scale[:, :, None] * scale[:, None, :]))
    variances = diagonal_scatter(X, resp, nk, means)
    assert np.all(np.abs(variances - np.einsum("kii->ki", reference)) <= 10 * eps * scale**2)


# ---------------------------------------------------------------- invariances (hypothesis)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10_000),
    covariance_type=st.sampled_from(COVARIANCE_TYPES),
    dtype_and_exponent=st.one_of(
        st.tuples(st.just(np.float64), st.floats(0.0, 4.0)),
        st.tuples(st.just(np.float32), st.floats(0.0, 3.0)),
    ),
    direction=st.sampled_from([1.0, -1.0]),
)
def test_translation_invariance(seed, covariance_type, dtype_and_exponent, direction):
    """Fitting X + c gives means + c, the same covariances and the same log-likelihood.

    The shifted data are rounded to the dtype first, and the reference is a float64 fit of
    those very numbers moved back to the origin, so only the fit's own rounding is measured:
    it may grow with the offset (a mean far from zero is itself stored to eps * |c|), never
    with its square, as the textbook one-pass formula does.
    """
    dtype, exponent = dtype_and_exponent
    X, centres = blobs(seed)
    offset = direction * 10.0**exponent  # the within-cluster spread is 1
    shifted = (X + offset).astype(dtype)
    back = shifted.astype(np.float64) - offset
    far = fit(shifted, centres + offset, covariance_type)
    near = fit(back, centres, covariance_type)
    tol = 300 * float(np.finfo(dtype).eps) * (1 + abs(offset))
    assert far.means_.dtype == dtype
    np.testing.assert_allclose(far.means_ - offset, near.means_, rtol=0, atol=tol)
    np.testing.assert_allclose(
        far.covariances_, near.covariances_, rtol=0, atol=tol * np.abs(near.covariances_).max()
    )
    assert far.lower_bound_ == pytest.approx(near.lower_bound_, abs=tol)


@settings(max_examples=30, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    covariance_type=st.sampled_from(COVARIANCE_TYPES),
    dtype=st.sampled_from(DTYPES),
    power=st.integers(-12, 12),
)
def test_scale_equivariance(seed, covariance_type, dtype, power):
    """Fitting s X (with reg_covar scaled by s^2) gives s means, s^2 covariances and a
    log-likelihood lower by D log s. Powers of two scale without rounding."""
    X, centres = blobs(seed)
    s = 2.0**power
    base = fit(X.astype(dtype), centres, covariance_type, reg_covar=1e-6)
    scaled = fit(
        (s * X).astype(dtype), s * centres, covariance_type, scale=s, reg_covar=1e-6 * s**2
    )
    tol = 300 * float(np.finfo(dtype).eps)
    np.testing.assert_allclose(scaled.means_ / s, base.means_, rtol=0, atol=tol * 10)
    np.testing.assert_allclose(
        scaled.covariances_ / s**2,
        base.covariances_,
        rtol=0,
        atol=tol * np.abs(base.covariances_).max(),
    )
    D = X.shape[1]
    assert scaled.lower_bound_ + D * np.log(s) == pytest.approx(base.lower_bound_, abs=tol * 10)


@settings(max_examples=30, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    covariance_type=st.sampled_from(COVARIANCE_TYPES),
    exponent=st.floats(0.0, 4.0),
    power=st.integers(-8, 8),
)
def test_agrees_with_scikit_learn_on_shifted_and_scaled_data(
    seed, covariance_type, exponent, power
):
    """float64, offsets up to 1e4 standard deviations, from the same initial parameters.

    scikit-learn expands diagonal, spherical and tied covariances about the origin, which
    costs it about eps * (offset / spread)^2 of relative accuracy; the tolerance allows for
    that, and emlib's own accuracy is checked against itself in the tests above.
    """
    X, centres = blobs(seed)
    s, offset = 2.0**power, 10.0**exponent
    data, start = s * (X + offset), s * (centres + offset)
    reg = 1e-6 * s**2
    kwargs = dict(n_iter=10, scale=s, reg_covar=reg)
    ours = fit(data, start, covariance_type, **kwargs)
    theirs = fit(data, start, covariance_type, library=SklearnGaussianMixture, **kwargs)
    loss = np.finfo(float).eps * (1 + offset) ** (1 if covariance_type == "full" else 2)
    rtol = 1e-9 + 1e3 * loss
    np.testing.assert_allclose(ours.means_, theirs.means_, rtol=rtol)
    np.testing.assert_allclose(
        ours.covariances_,
        theirs.covariances_,
        rtol=0,
        atol=rtol * np.abs(theirs.covariances_).max(),
    )
    assert ours.lower_bound_ == pytest.approx(theirs.lower_bound_, rel=rtol, abs=rtol)


@pytest.mark.parametrize("dtype", DTYPES)
def test_lower_bound_is_a_python_float_for_every_dtype(dtype):
    X, centres = blobs(0)
    model = fit(X.astype(dtype), centres, "full")
    assert type(model.lower_bound_) is float
    assert model.log_likelihood_history_.dtype == np.float64
    assert model.lower_bound_ == model.log_likelihood_history_[-1]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("covariance_type", ["full", "diag", "spherical"])
@pytest.mark.parametrize(("value", "copies"), [(6.1, 3), (6.1, 1000), (7.3, 500), (6.7, 10_000)])
def test_a_component_on_copies_of_one_point_is_a_collapse(dtype, covariance_type, value, copies):
    """However many copies: their computed mean may miss the point by several rounding
    steps, but their scatter is exactly zero, so reg_covar=0 cannot fit a spike."""
    x = np.r_[np.random.default_rng(0).normal(0.0, 1.0, 40), [value] * copies]
    x = x[:, np.newaxis].astype(dtype)
    model = GaussianMixture(2, covariance_type=covariance_type, reg_covar=0.0, random_state=0)
    with pytest.raises(ValueError, match="collapsed onto a single point"):
        model.fit(x)
    # With the default regularisation the spike's variance is reg_covar, exactly.
    fitted = GaussianMixture(2, covariance_type=covariance_type, random_state=0).fit(x)
    spike = int(np.argmax(fitted.means_[:, 0]))
    assert np.ravel(fitted.covariances_)[spike] == pytest.approx(1e-6, rel=1e-6)


@pytest.mark.parametrize("dtype", DTYPES)
def test_every_variance_below_the_resolution_is_also_inexact(dtype):
    """full_scatter and diagonal_scatter look for variances below the data's resolution
    only when some entry was inexact; that skips nothing only if every such variance is
    itself inexact (at or below the rounding level of a mean of max(N_k, 1) numbers), or
    is an exact zero about a mean exactly at the centre, which is zero already."""
    rng = np.random.default_rng(0)
    shape = (5000, 3)
    means = (rng.choice([-1.0, 1.0], shape) * 10.0 ** rng.uniform(-3, 8, shape)).astype(dtype)
    resolution = (16 * np.finfo(dtype).eps * np.abs(means.astype(np.float64))) ** 2
    # On both sides of the bound, counts below and above one.
    variances = (resolution * rng.uniform(0.0, 2.0, shape)).astype(dtype)
    counts = rng.uniform(0.0, 50.0, shape[0]).astype(dtype)
    flat = zero_below_resolution(variances.copy(), means)
    inexact = _inexact(np.zeros_like(variances), variances, counts, means, 0.0)
    assert 0 < flat.sum() < flat.size
    assert np.all(inexact[flat])
    # Exact zeros: trusted only where the mean is exactly at the centre as well.
    zero = np.zeros((2, 3), dtype=dtype)
    shift_sq = np.array([[0.0, 0.0, 1e-30], [0.0, 4.0, 0.0]], dtype=dtype)
    means = np.array([[0.0, 5.0, 1.0], [3.0, 0.0, 0.0]], dtype=dtype)
    np.testing.assert_array_equal(
        _inexact(shift_sq, zero, np.ones(2, dtype=dtype), means, 0.0),
        shift_sq != 0,
    )


@pytest.mark.parametrize("dtype", DTYPES)
def test_moments_zero_a_spread_below_the_resolution_with_its_row_and_column(dtype):
    """A feature that only wobbles in its last bit far from the origin is flagged, computed
    exactly from the anchor (a spread of about one rounding step, not zero), and then set
    to zero with its row and column, as the data cannot resolve it."""
    rng = np.random.default_rng(7)
    X = rng.normal(0, 1, (200, 3)).astype(dtype)
    level = dtype(1e4)
    X[:, 1] = np.where(rng.random(200) < 0.5, level, np.nextafter(level, dtype(np.inf)))
    resp = rng.dirichlet(np.ones(2), size=200).astype(dtype)
    nk = resp.sum(axis=0)
    means = (resp.T @ X) / nk[:, None]
    full = full_scatter(X, resp, nk, means)
    assert np.all(full[:, 1, :] == 0) and np.all(full[:, :, 1] == 0)
    assert np.all(np.einsum("kii->ki", full)[:, [0, 2]] > 0.5)
    assert np.all(diagonal_scatter(X, resp, nk, means)[:, 1] == 0)
