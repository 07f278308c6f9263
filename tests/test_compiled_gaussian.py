"""The compiled small-data Gaussian EM iteration (emlib.compiled_gaussian) against the NumPy
iteration, which stays the reference, and against scikit-learn."""

import contextlib
import warnings
from collections import Counter

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import GaussianMixture as SklearnGaussianMixture

from emlib import GaussianMixture, compiled_gaussian
from emlib.datasets import three_blobs_2d
from emlib.moments import spread_limit
from tests.fit_comparison import parameters, relative_difference

COVARIANCE_TYPES = ["full", "tied", "diag", "spherical"]
PRIORS = [None, "conjugate"]
DTYPES = [np.float64, np.float32]


def _data():
    blobs = three_blobs_2d(200, random_state=1)[0]
    rng = np.random.default_rng(0)
    return {
        "ordinary": blobs,
        # a component 50 units from the others with spread 0.01
        "far": np.r_[rng.normal(0, 1, (150, 3)), rng.normal(50, 0.01, (30, 3))],
        # copies of one point: a component on them has scatter exactly zero
        "duplicated": np.r_[blobs[:150], np.repeat(blobs[150:151], 30, axis=0)],
        "offset": blobs + 1e4,
    }


DATA = _data()

# What the two paths may differ by, in units of the dtype's eps.
# - Weights and means are sums of N <= 200 terms divided by a count; blocked or pairwise
#   summation errs by about log2(N) < 8 eps in each path.
SUM_TOLERANCE = 16
# - The NumPy path's scatters and distances expand about a common centre and keep that
#   formula while it loses at most spread_limit = eps^(-1/3) of the digits (emlib.moments),
#   a relative error up to about eps * spread_limit; the compiled path's deviations from an
#   anchor (scatters) and from each mean (distances) lose none. Covariances, their factors,
#   the responsibilities and the log-likelihood may therefore differ by that much, relative
#   to their scale.
def expansion_tolerance(dtype):
    return 4 * np.finfo(dtype).eps * spread_limit(dtype)


@contextlib.contextmanager
def iteration(compiled):
    """Fits inside the block use the compiled iteration on small data, or NumPy's."""
    saved = compiled_gaussian.ENABLED
    compiled_gaussian.ENABLED = compiled
    try:
        yield
    finally:
        compiled_gaussian.ENABLED = saved


@pytest.fixture
def compiled_calls(monkeypatch):
    """Counts the calls of the compiled path's entry points, so that a test can check the
    path it compares really ran."""
    calls = Counter()
    for name in ("e_step", "responsibilities", "weighted_log_prob", "m_step", "log_prior"):
        function = getattr(compiled_gaussian, name)

        def counted(*args, _name=name, _function=function, **kwargs):
            calls[_name] += 1
            return _function(*args, **kwargs)

        monkeypatch.setattr(compiled_gaussian, name, counted)
    return calls


def fit_quietly(model, X):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(X)


def one_iteration(model, X):
    """The E-step, the M-step on its responsibilities, and the log-prior, from the model's
    parameters (``_fit_scratch`` as during a fit)."""
    model._fit_scratch = {}
    mean_log_likelihood, resp = model._e_step(X)
    weighted = model._estimate_weighted_log_prob(X)
    log_prior = model._log_prior()
    return mean_log_likelihood, resp, weighted, log_prior


@pytest.mark.parametrize("case", sorted(DATA))
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("prior", PRIORS)
@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_one_iteration_agrees_with_the_numpy_iteration(case, dtype, prior, covariance_type,
                                                       compiled_calls):
    X = DATA[case].astype(dtype)
    eps, bound = np.finfo(dtype).eps, expansion_tolerance(dtype)
    with iteration(False):
        model = fit_quietly(GaussianMixture(3, covariance_type=covariance_type, prior=prior,
                                            max_iter=3, tol=0, random_state=0), X)
        reference = one_iteration(model, X)
        numpy_parameters = model._parameters_and_factors(X, reference[1])
    assert not compiled_calls
    with iteration(True):
        compiled = one_iteration(model, X)
        compiled_parameters = model._parameters_and_factors(X, reference[1])
    assert compiled_calls["e_step"] == 1 and compiled_calls["weighted_log_prob"] == 1
    assert compiled_calls["m_step"] == 1
    assert compiled_calls["log_prior"] == (prior is not None)

    mean_log_likelihood, resp, weighted, log_prior = compiled
    assert abs(mean_log_likelihood - reference[0]) <= bound * abs(reference[0])
    assert resp.dtype == weighted.dtype == dtype
    np.testing.assert_allclose(resp, reference[1], rtol=0, atol=bound)
    np.testing.assert_allclose(weighted, reference[2], rtol=bound)
    # Both paths evaluate the prior in float64 from the same parameters.
    assert abs(log_prior - reference[3]) <= 64 * np.finfo(np.float64).eps * abs(reference[3])
    # Labels, where the two largest responsibilities are further apart than the tolerance.
    top_two = np.sort(reference[1], axis=1)[:, -2:]
    decided = top_two[:, 1] - top_two[:, 0] > 2 * bound
    np.testing.assert_array_equal(resp.argmax(axis=1)[decided],
                                  reference[1].argmax(axis=1)[decided])

    names = ("weights", "means", "covariances", "precisions_cholesky")
    for name, ours, theirs in zip(names, compiled_parameters, numpy_parameters, strict=True):
        assert ours.dtype == dtype and ours.shape == theirs.shape, name
        tolerance = SUM_TOLERANCE * eps if name in ("weights", "means") else bound
        assert relative_difference(ours, theirs) <= tolerance, name


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_copies_of_one_point_have_exactly_zero_scatter(dtype, covariance_type):
    """A component holding only copies of one point: its scatter is exactly zero, so its
    covariance is exactly reg_covar (the copies' mean is the point itself)."""
    X = DATA["duplicated"].astype(dtype)
    resp = np.zeros((len(X), 2), dtype=dtype)
    resp[:150, 0] = 1.0
    resp[150:, 1] = 1.0
    model = GaussianMixture(2, covariance_type=covariance_type, reg_covar=1e-3)
    model.prior_ = None
    with iteration(True):
        weights, means, covariances, _ = model._parameters_and_factors(X, resp)
    np.testing.assert_allclose(means[1], X[150], rtol=2 * np.finfo(dtype).eps)
    if covariance_type == "full":
        np.testing.assert_array_equal(covariances[1], dtype(1e-3) * np.eye(2, dtype=dtype))
    elif covariance_type in ("diag", "spherical"):
        np.testing.assert_array_equal(covariances[1], dtype(1e-3))
    np.testing.assert_allclose(weights, [150 / 180, 30 / 180], rtol=np.finfo(dtype).eps)


def collapse_message(X, compiled, **params):
    with (iteration(compiled),
          pytest.raises(ValueError, match="no longer positive definite") as error):
        fit_quietly(GaussianMixture(reg_covar=0.0, random_state=0, **params), X)
    return str(error.value)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_a_collapsed_component_raises_the_same_error(dtype, covariance_type, compiled_calls):
    """Without reg_covar, in both paths and with the same message: a component on copies of
    one point (not tied, whose shared matrix the other components keep positive definite);
    a component on a line (full), or all the data on one (tied)."""
    blobs = DATA["ordinary"]
    t = np.linspace(-1, 1, 40)
    if covariance_type != "tied":
        X = np.r_[blobs, np.repeat([[30.0, 30.0]], 30, axis=0)].astype(dtype)
        params = dict(n_components=4, covariance_type=covariance_type)
        assert collapse_message(X, True, **params) == collapse_message(X, False, **params)
    if covariance_type in ("full", "tied"):
        line = np.c_[t + 30, 2 * t + 30]
        X = np.r_[line, blobs if covariance_type == "full" else line + 3].astype(dtype)
        params = dict(n_components=2, covariance_type=covariance_type)
        assert collapse_message(X, True, **params) == collapse_message(X, False, **params)
    assert compiled_calls["m_step"] >= 1


@pytest.mark.parametrize("prior", PRIORS)
@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_an_empty_component_has_weight_zero_without_warnings(prior, covariance_type,
                                                             compiled_calls):
    X = DATA["ordinary"]
    means = np.array([[-3.0, 0.0], [3.0, 0.0], [0.0, 50.0]])
    results = []
    for compiled in (True, False):
        with (iteration(compiled), warnings.catch_warnings(),
              np.errstate(divide="raise", invalid="raise")):
            warnings.simplefilter("error")
            warnings.simplefilter("ignore", ConvergenceWarning)
            model = GaussianMixture(3, covariance_type=covariance_type, prior=prior,
                                    weights_init=[0.5, 0.5, 0.0], means_init=means,
                                    max_iter=4, tol=0, random_state=0).fit(X)
            results.append(model)
    assert compiled_calls["e_step"] >= 4
    ours, theirs = results
    assert ours.weights_[2] == 0.0 == theirs.weights_[2]
    # It sits at the point the M-step measures from: the data mean, or the prior mean.
    np.testing.assert_allclose(ours.means_[2], X.mean(axis=0), rtol=1e-12)
    for name, value in parameters(theirs).items():
        assert relative_difference(getattr(ours, name), value) <= 1e-9, name


@pytest.mark.parametrize("dtype", DTYPES)
def test_a_row_of_zero_probability_has_nan_responsibilities_in_both(dtype):
    X = DATA["ordinary"].astype(dtype)
    far = np.r_[X[:5], [[np.finfo(dtype).max / 4, 0.0]]].astype(dtype)
    results = []
    for compiled in (True, False):
        with iteration(compiled):
            model = fit_quietly(GaussianMixture(3, covariance_type="diag", random_state=0), X)
            with np.errstate(all="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                results.append(model.predict_proba(far))
    for resp in results:
        assert np.isnan(resp[-1]).all() and np.isfinite(resp[:-1]).all()
    np.testing.assert_allclose(results[0][:-1], results[1][:-1], atol=expansion_tolerance(dtype))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("covariance_type", ["full", "diag", "spherical"])
def test_a_sample_of_zero_probability_during_a_fit_raises_in_both(dtype, covariance_type,
                                                                   compiled_calls):
    """A sample so far away that no component gives it any probability makes the M-step's
    covariances nan: both paths raise rather than return a fit of nan. (A tied fit fails
    already in its first M-step, which is always NumPy's; see the next test.)"""
    X = np.r_[DATA["ordinary"][:100], [[np.finfo(dtype).max / 4, 0.0]]].astype(dtype)
    messages = []
    for compiled in (True, False):
        with (iteration(compiled), np.errstate(all="ignore"), warnings.catch_warnings(),
              pytest.raises(ValueError, match="no longer positive definite") as error):
            warnings.simplefilter("ignore", RuntimeWarning)
            fit_quietly(GaussianMixture(2, covariance_type=covariance_type,
                                        init_params="random", random_state=0), X)
        messages.append(str(error.value))
    assert messages[0] == messages[1] and compiled_calls["m_step"] >= 1


@pytest.mark.parametrize("init_params", ["k-means++", "random_from_data"])
@pytest.mark.parametrize("prior", PRIORS)
def test_a_tied_start_from_one_hot_seeds_is_the_same_in_both(init_params, prior,
                                                             compiled_calls):
    """Seeds whose rows of resp do not sum to one: the first tied covariance is the NumPy
    path's pooled scatter (scikit-learn's) in both, and so is the whole fit."""
    X = DATA["ordinary"]
    fits = []
    for compiled in (True, False):
        with iteration(compiled):
            fits.append(fit_quietly(GaussianMixture(3, covariance_type="tied", prior=prior,
                                                    init_params=init_params,
                                                    random_state=0), X))
    ours, theirs = fits
    assert ours.n_iter_ == theirs.n_iter_
    np.testing.assert_allclose(ours.log_likelihood_history_, theirs.log_likelihood_history_,
                               rtol=1e-9)
    assert compiled_calls["m_step"] >= 1


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_agrees_with_scikit_learn_from_the_same_start(covariance_type, compiled_calls):
    """A whole fit, from the same weights, means and precisions, with the compiled path."""
    X = DATA["ordinary"]
    reference = fit_quietly(GaussianMixture(3, covariance_type=covariance_type, max_iter=2,
                                            random_state=3), X)
    start = dict(weights_init=reference.weights_, means_init=reference.means_,
                 precisions_init=reference.precisions_)
    kwargs = dict(n_components=3, covariance_type=covariance_type, max_iter=20, tol=0.0,
                  **start)
    ours = fit_quietly(GaussianMixture(**kwargs), X)
    theirs = fit_quietly(SklearnGaussianMixture(**kwargs), X)
    assert compiled_calls["m_step"] >= 20
    for name in ("weights_", "means_", "covariances_", "precisions_cholesky_"):
        np.testing.assert_allclose(getattr(ours, name), getattr(theirs, name), rtol=1e-6,
                                   atol=1e-12, err_msg=name)
    np.testing.assert_allclose(ours.log_likelihood_history_, theirs.lower_bounds_, rtol=1e-9)
    np.testing.assert_array_equal(ours.predict(X), theirs.predict(X))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("prior", PRIORS)
@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_whole_fits_agree_with_history_and_warm_start(dtype, prior, covariance_type,
                                                      compiled_calls):
    """Ten iterations, their parameter history, and five more from a warm start: a step's
    rounding differences carried through fifteen steps stay far below half the digits."""
    X = DATA["ordinary"].astype(dtype)
    tolerance = float(np.sqrt(np.finfo(dtype).eps))
    fits = []
    for compiled in (True, False):
        with iteration(compiled):
            model = fit_quietly(GaussianMixture(3, covariance_type=covariance_type, prior=prior,
                                                max_iter=10, tol=0, keep_history=True,
                                                random_state=0), X)
            history = model.params_history_
            model.set_params(warm_start=True, max_iter=5, keep_history=False)
            fits.append((fit_quietly(model, X), history))
    assert compiled_calls["m_step"] >= 15
    (ours, our_history), (theirs, their_history) = fits
    assert len(our_history) == len(their_history) == 11
    for ours_step, theirs_step in zip(our_history, their_history, strict=True):
        for name, value in theirs_step.items():
            assert ours_step[name].dtype == dtype
            assert relative_difference(ours_step[name], value) <= tolerance, name
    for name, value in parameters(theirs).items():
        assert getattr(ours, name).dtype == dtype
        assert relative_difference(getattr(ours, name), value) <= tolerance, name
    np.testing.assert_allclose(ours.log_likelihood_history_, theirs.log_likelihood_history_,
                               rtol=tolerance)


def test_the_dispatch_takes_small_data_in_the_parameters_dtype():
    work = compiled_gaussian.SMALL_WORK
    f32, f64 = np.zeros(1, np.float32), np.zeros(1)
    assert compiled_gaussian.applies((work // 4, 1), 4, np.float64, f64)
    assert not compiled_gaussian.applies((work // 4 + 1, 1), 4, np.float64, f64)
    assert not compiled_gaussian.applies((10, 2), 3, np.float32, f32, f64)
    with iteration(False):
        assert not compiled_gaussian.applies((10, 2), 3, np.float64, f64)


def test_large_data_take_the_numpy_iteration(compiled_calls):
    X = three_blobs_2d(compiled_gaussian.SMALL_WORK // 12 + 1, random_state=0)[0]
    fit_quietly(GaussianMixture(3, max_iter=2, random_state=0), X)
    assert not compiled_calls
    fit_quietly(GaussianMixture(3, max_iter=2, random_state=0), X[: len(X) // 2])
    assert compiled_calls["m_step"] == 3 and compiled_calls["e_step"] == 3
