"""The EM engine: log-sum-exp, the ELBO/KL decomposition, and monotonicity properties."""

import copy
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy import stats
from scipy.special import logsumexp, softmax
from sklearn.exceptions import ConvergenceWarning

import emlib.compiled_normalize
import emlib.em
from emlib import BernoulliMixture, GaussianMixture, KMeans
from emlib.compiled_normalize import HAVE_NUMBA
from emlib.datasets import three_blobs_2d
from emlib.em import elbo, flush_limit, kl_divergence, log_normalize

finite = st.floats(-1e4, 1e4, allow_nan=False, allow_infinity=False)


@given(arrays(np.float64, st.tuples(st.integers(1, 30), st.integers(1, 8)), elements=finite))
def test_log_normalize_equals_scipy(a):
    log_norm, resp = log_normalize(a.copy())
    np.testing.assert_allclose(log_norm, logsumexp(a, axis=1), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(resp, softmax(a, axis=1), rtol=1e-9, atol=1e-300)
    np.testing.assert_allclose(resp.sum(axis=1), 1.0, rtol=1e-12)


def test_log_normalize_survives_extreme_logs():
    a = np.array([[-1000.0, -1001.0], [800.0, 799.0], [-np.inf, 0.0]])
    log_norm, resp = log_normalize(a.copy())
    assert np.all(np.isfinite(log_norm))
    np.testing.assert_allclose(resp[0], resp[1])
    np.testing.assert_array_equal(resp[2], [0.0, 1.0])


def test_log_normalize_and_empty_components_warn_of_nothing(fitted):
    """A row of zero probability everywhere has a log-normaliser of -inf (its
    responsibilities, 0 / 0, are nan, with NumPy's warning), and a component of weight zero
    a log-weight of -inf: neither warns of the logarithm of zero, whichever path the guards
    take."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.filterwarnings("ignore", "invalid value encountered in divide")
        log_norm, resp = log_normalize(np.array([[-np.inf, -np.inf], [0.0, 1.0]]))
        assert log_norm[0] == -np.inf and np.isnan(resp[0]).all()
        log_normalize(np.array([[0.0, 1.0], [-np.inf, 2.0]]))
        model, X = fitted
        emptied = copy.deepcopy(model)
        emptied.weights_ = np.r_[0.0, model.weights_[1:] / model.weights_[1:].sum()]
        assert np.all(emptied.predict_proba(X)[:, 0] == 0)


@pytest.fixture(scope="module")
def fitted():
    X, _ = three_blobs_2d(300, random_state=0)
    return GaussianMixture(3, random_state=0).fit(X), X


def test_decomposition_holds_for_any_q(fitted):
    model, X = fitted
    rng = np.random.default_rng(0)
    for _ in range(5):
        q = rng.dirichlet(np.ones(3) * 0.5, size=len(X))
        lower, gap = elbo(model, X, q), kl_divergence(model, X, q)
        assert gap > 0
        assert lower < model.score(X)
        np.testing.assert_allclose(lower + gap, model.score(X), rtol=1e-12)


def test_bound_is_tight_at_the_posterior(fitted):
    model, X = fitted
    posterior = model.predict_proba(X)
    assert abs(kl_divergence(model, X, posterior)) < 1e-12
    np.testing.assert_allclose(elbo(model, X, posterior), model.score(X), rtol=1e-12)


def test_hard_assignments_are_allowed(fitted):
    """q with zeros (0 log 0 = 0) still decomposes the log-likelihood."""
    model, X = fitted
    q = np.eye(3)[model.predict(X)]
    np.testing.assert_allclose(
        elbo(model, X, q) + kl_divergence(model, X, q), model.score(X), rtol=1e-12
    )


def test_decomposition_rejects_bad_q(fitted):
    model, X = fitted
    with pytest.raises(ValueError, match="resp has shape"):
        elbo(model, X, np.ones((len(X), 2)) / 2)
    with pytest.raises(ValueError, match="probability vector"):
        kl_divergence(model, X, np.ones((len(X), 3)))


# ---------------------------------------------------------------------------- properties
seeds = st.integers(0, 2**31 - 1)


def fit_quietly(model, X):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(X)


@settings(max_examples=25, deadline=None)
@given(
    seed=seeds,
    n=st.integers(20, 120),
    d=st.integers(1, 4),
    K=st.integers(1, 4),
    covariance_type=st.sampled_from(["full", "tied", "diag", "spherical"]),
    # k-means++ and random_from_data start each component on one point, whose covariance
    # only a ridge or a prior keeps from collapsing (test_gaussian_prior.py covers them).
    init=st.sampled_from(["kmeans", "random"]),
)
def test_gaussian_log_likelihood_never_decreases(seed, n, d, K, covariance_type, init):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)) * rng.uniform(0.5, 3, size=d) + rng.integers(0, 3, size=(n, 1))
    # Without the ridge: S + reg_covar I maximises no objective, and it lowers the
    # log-likelihood when a component thins towards a collapse (seed=2, n=20, d=2, K=2,
    # full, kmeans: by 1.8e-5 per sample with the default 1e-6; chapter 3 measures it).
    model = GaussianMixture(
        K,
        covariance_type=covariance_type,
        init_params=init,
        reg_covar=0.0,
        random_state=seed,
        max_iter=60,
        tol=1e-10,
    )
    try:
        fit_quietly(model, X)
    except ValueError as error:
        # Without a ridge a collapse can happen (5 of 300 draws of this test's data); it
        # must be reported, not returned.
        assert "collapsed" in str(error)
        return
    history = model.log_likelihood_history_
    # Rounding only: the exact M-step never lowers the log-likelihood.
    assert np.all(np.diff(history) >= -1e-9)
    np.testing.assert_allclose(model.predict_proba(X).sum(axis=1), 1.0, rtol=1e-12)


def test_the_ridge_can_lower_the_log_likelihood():
    """The counterexample hypothesis found: with the default reg_covar the log-likelihood
    falls near a collapse, without it it rises; the prior's objective rises as well."""
    rng = np.random.default_rng(2)
    X = rng.normal(size=(20, 2)) * rng.uniform(0.5, 3, size=2) + rng.integers(0, 3, size=(20, 1))
    falls = {}
    for name, params in {
        "ridge": {},
        "exact": {"reg_covar": 0.0},
        "prior": {"prior": "conjugate"},
    }.items():
        model = fit_quietly(
            GaussianMixture(2, random_state=2, max_iter=60, tol=1e-10, **params), X
        )
        falls[name] = -np.diff(model.log_likelihood_history_).min()
    assert falls["ridge"] > 1e-6
    assert falls["exact"] < 1e-12
    assert falls["prior"] < 1e-12


@settings(max_examples=25, deadline=None)
@given(
    seed=seeds,
    n=st.integers(10, 100),
    D=st.integers(1, 30),
    K=st.integers(1, 5),
    a=st.sampled_from([0.0, 0.1, 1.0]),
    b=st.sampled_from([0.0, 1.0]),
)
def test_bernoulli_objective_never_decreases(seed, n, D, K, a, b):
    rng = np.random.default_rng(seed)
    X = (rng.random((n, D)) < rng.uniform(0.05, 0.95, size=D)).astype(np.uint8)
    K = min(K, n)
    model = fit_quietly(
        BernoulliMixture(K, pixel_prior=a, weight_prior=b, random_state=seed, tol=1e-10), X
    )
    assert np.all(np.diff(model.log_likelihood_history_) >= -1e-10)
    assert np.all(np.isfinite(model.means_))
    np.testing.assert_allclose(model.predict_proba(X).sum(axis=1), 1.0, rtol=1e-12)


@settings(max_examples=30, deadline=None)
@given(seed=seeds, n=st.integers(5, 150), d=st.integers(1, 5), K=st.integers(1, 6))
def test_kmeans_inertia_never_increases(seed, n, d, K):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)) + rng.integers(0, 4, size=(n, 1))
    K = min(K, n)
    model = KMeans(K, init="random", random_state=seed).fit(X)
    history = model.inertia_history_
    assert np.all(np.diff(history) <= 1e-9 * max(history[0], 1.0))
    assert model.inertia_ <= history[-1] + 1e-9 * max(history[0], 1.0)


def in_subnormal_window(log_resp, dtype):
    """Where exp(log_resp) would be a subnormal number of this dtype (with a margin)."""
    tiny = np.finfo(dtype).tiny
    smallest = float(np.finfo(dtype).smallest_subnormal)
    return (log_resp > np.log(2 * smallest)) & (log_resp < np.log(tiny / 2))


def assert_no_subnormals(resp):
    tiny = np.finfo(resp.dtype).tiny
    assert np.all((resp == 0) | (resp >= tiny))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_no_subnormal_responsibility_reaches_the_m_step(dtype):
    """Points between two fitted components, where the far one's responsibility exp(-gap)
    would fall between the smallest subnormal and the smallest normal number."""
    rng = np.random.default_rng(0)
    X = np.concatenate([rng.normal(0, 1, 200), rng.normal(60, 1, 200)])[:, None].astype(dtype)
    model = GaussianMixture(2, covariance_type="spherical", random_state=0).fit(X)
    assert model.means_.dtype == dtype
    # The log-responsibilities in float64, from the fitted parameters, with SciPy.
    grid = np.linspace(-20, 80, 20001)[:, None]
    weighted = np.log(model.weights_.astype(float)) + stats.norm.logpdf(
        grid, model.means_[:, 0].astype(float), np.sqrt(model.covariances_.astype(float))
    )
    log_resp = weighted - logsumexp(weighted, axis=1, keepdims=True)
    window = in_subnormal_window(log_resp, dtype).any(axis=1)
    assert window.sum() > 10  # the case is really exercised
    resp = model.predict_proba(grid[window].astype(dtype))
    assert resp.dtype == dtype
    assert_no_subnormals(resp)
    assert np.all(resp.min(axis=1) == 0.0)
    np.testing.assert_allclose(resp.sum(axis=1), 1.0, rtol=4 * np.finfo(dtype).eps)
    # A point so far away that every component gives it probability zero has nan
    # responsibilities (0 / 0); the other rows are flushed all the same.
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        far = np.r_[grid[window], [[np.finfo(dtype).max / 4]]].astype(dtype)
        resp = model.predict_proba(far)
    assert np.isnan(resp[-1]).all()
    assert_no_subnormals(resp[:-1])


@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_log_normalize_flush_makes_no_subnormal_and_drops_only_what_no_sum_sees(dtype, order):
    """Shifted log-weights swept across the subnormal range of ``exp``: with ``flush`` the
    log-sum-exp is bit for bit the plain one, exactly the entries whose shifted log-weight
    is below the limit are dropped (some of them normal numbers, which the old rule, a
    flush after exp below tiny, kept), every probability kept is bit for bit the plain one,
    and every one dropped is below e K tiny. Fortran order takes the compiled passes (with
    Numba), C order NumPy's."""
    tiny = float(np.finfo(dtype).tiny)
    n_rows, n_components = 4000, 5
    log_tiny = np.log(tiny)
    rng = np.random.default_rng(0)
    a = rng.uniform(1.5 * log_tiny, 0.0, size=(n_rows, n_components)).astype(dtype)
    a[:, 0] = 0.0  # the largest of each row
    a[::7, 3] = -np.inf  # an empty component
    a[5] = -np.inf  # a row of probability zero everywhere: -inf and nan, as without flush
    a = np.asarray(rng.permuted(a, axis=1), order=order)  # the largest anywhere in its row
    assert emlib.compiled_normalize.applies(a) == (order == "F" and HAVE_NUMBA)
    with np.errstate(invalid="ignore"):
        plain_norm, plain = log_normalize(a.copy())
        flushed_norm, flushed = log_normalize(a.copy(), flush=True)
    assert np.any((plain > 0) & (plain < tiny))  # the plain exp makes subnormals
    np.testing.assert_array_equal(flushed_norm, plain_norm)
    rest = np.ones(n_rows, bool)
    rest[5] = False
    assert np.isnan(flushed[5]).all() and flushed_norm[5] == -np.inf
    assert_no_subnormals(flushed[rest])
    limit = flush_limit(np.dtype(dtype), n_components)
    dropped = flushed[rest] == 0
    np.testing.assert_array_equal(dropped, a[rest] < limit)
    kept = ~dropped
    np.testing.assert_array_equal(flushed[rest][kept], plain[rest][kept])
    # Normal numbers dropped: what the new rule does that a flush below tiny did not.
    assert np.count_nonzero(dropped & (plain[rest] >= tiny)) > 20
    assert np.all(plain[rest][dropped] < np.e * n_components * tiny)
    # The limit is log(e K tiny) rounded down to the dtype.
    exact = np.log(np.e * n_components * tiny)
    assert limit.dtype == dtype
    assert limit <= exact < np.nextafter(limit, dtype(np.inf))


def normalize_both_ways(a, monkeypatch):
    """``log_normalize(a, flush=True)`` with the compiled passes and with NumPy's."""
    calls = []
    kernel = emlib.compiled_normalize.shift_and_raise
    monkeypatch.setattr(emlib.compiled_normalize, "shift_and_raise",
                        lambda *args: calls.append(1) or kernel(*args))
    with np.errstate(invalid="ignore"):
        compiled = log_normalize(a.copy(order="F"), flush=True)
        assert calls, "the compiled passes did not run"
        monkeypatch.setattr(emlib.compiled_normalize, "ENABLED", False)
        numpy_path = log_normalize(a.copy(order="F"), flush=True)
    monkeypatch.undo()
    assert len(calls) == 1
    return compiled, numpy_path


@pytest.mark.skipif(not HAVE_NUMBA, reason="the compiled passes need Numba")
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("spread", [30.0, 400.0, 2000.0])
def test_compiled_normalization_is_numpys_to_the_bit(dtype, spread, monkeypatch):
    """The two compiled passes give NumPy's log-normalisers and responsibilities to the
    bit: with nothing raised to the limit (spread 30, ``float64``), some (float32 at 400),
    many (2,000); with empty components, a row of zero probability, a nan and an inf."""
    rng = np.random.default_rng(1)
    a = np.asfortranarray(-spread * rng.random((3001, 7)) ** 2 - 50.0, dtype=dtype)
    a[::5, 2] = -np.inf
    a[7] = -np.inf
    a[11, 3] = np.nan
    a[13, 1] = np.inf
    (norm_c, resp_c), (norm_n, resp_n) = normalize_both_ways(a, monkeypatch)
    assert resp_c.dtype == resp_n.dtype == dtype
    np.testing.assert_array_equal(norm_c, norm_n)  # nan where nan, to the bit elsewhere
    np.testing.assert_array_equal(resp_c, resp_n)
    assert np.isnan(resp_c[11]).all()  # nan data: the whole row
    assert np.isnan(resp_c[13, 1]) and not resp_c[13, [0, 2, 3, 4, 5, 6]].any()  # inf / inf
    assert np.isnan(resp_c[7]).all() and norm_c[7] == -np.inf
    with np.errstate(invalid="ignore"):  # -inf - (-inf) in the row of zero probability
        raised = (a - a.max(axis=1, keepdims=True)) < flush_limit(np.dtype(dtype), 7)
    assert raised[::5, 2].all()  # -inf is always raised
    if spread >= 400:
        assert raised[:, [0, 1, 3, 4, 5, 6]].any(), "no finite entry reached the limit"


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_one_row_keeps_numpys_pairwise_sum(dtype, monkeypatch):
    """A row is C- and Fortran-ordered at once, and NumPy sums eight or more entries of a
    contiguous row pairwise, not from the first to the last: such arrays (one row, as a
    one-sample partial_fit gives, or none, or one column) keep NumPy's passes, so the
    results do not depend on whether Numba is installed."""
    rng = np.random.default_rng(4)
    for shape in [(1, 8), (1, 30), (0, 8), (50, 1)]:
        assert not emlib.compiled_normalize.applies(np.zeros(shape, dtype, order="F"))
    read_only = np.zeros((50, 8), dtype, order="F")
    read_only.flags.writeable = False
    assert not emlib.compiled_normalize.applies(read_only)
    for _ in range(200):
        row = np.r_[0.0, -2 * rng.random(8), -1000.0].astype(dtype)[None, :]
        with_numba = log_normalize(row.copy(order="F"), flush=True)
        monkeypatch.setattr(emlib.compiled_normalize, "ENABLED", False)
        without = log_normalize(row.copy(order="F"), flush=True)
        monkeypatch.undo()
        np.testing.assert_array_equal(with_numba[0], without[0])
        np.testing.assert_array_equal(with_numba[1], without[1])


@pytest.mark.skipif(not HAVE_NUMBA, reason="the compiled passes need Numba")
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_compiled_normalization_without_anything_to_raise(dtype, monkeypatch):
    """Rows within a few nats of their largest entry: nothing is raised, the compiled path
    skips its second pass and still matches NumPy's to the bit."""
    a = np.asfortranarray(np.random.default_rng(2).normal(0, 3, (500, 4)), dtype=dtype)
    (norm_c, resp_c), (norm_n, resp_n) = normalize_both_ways(a, monkeypatch)
    np.testing.assert_array_equal(norm_c, norm_n)
    np.testing.assert_array_equal(resp_c, resp_n)
    np.testing.assert_allclose(resp_c.sum(axis=1), 1, rtol=4 * np.finfo(dtype).eps)


def test_bernoulli_float32_responsibilities_have_no_subnormals():
    """784 binary features, where log-likelihood gaps of about a hundred nats are common."""
    rng = np.random.default_rng(0)
    prototypes = rng.random((5, 784)) < 0.3
    X = (prototypes[rng.integers(0, 5, 600)] ^ (rng.random((600, 784)) < 0.3)).astype(np.float32)
    model = BernoulliMixture(5, max_iter=3, random_state=0, dtype=np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X)
    p = model.means_.astype(float)
    weighted = np.log(model.weights_.astype(float)) + X @ np.log(p).T + (1 - X) @ np.log1p(-p).T
    log_resp = weighted - logsumexp(weighted, axis=1, keepdims=True)
    assert in_subnormal_window(log_resp, np.float32).sum() > 10  # the case arises
    resp = model.predict_proba(X)
    assert resp.dtype == np.float32
    assert_no_subnormals(resp)


@pytest.mark.parametrize("prior", [None, "conjugate"])
def test_a_refit_sees_data_changed_in_place(prior):
    """What a fit derives from X once (a centred copy, constants of the prior) must not
    outlive the fit: validate_data passes a float64 array through uncopied, so a second fit
    on the same array, changed in place, has to start from the new values."""
    X, _ = three_blobs_2d(300, random_state=0)
    X = np.ascontiguousarray(X, dtype=np.float64)
    model = GaussianMixture(3, random_state=0, prior=prior).fit(X)
    assert not hasattr(model, "_fit_scratch")
    X *= 2.0
    X += 50.0
    refit = model.fit(X)
    fresh = GaussianMixture(3, random_state=0, prior=prior).fit(X.copy())
    np.testing.assert_array_equal(refit.means_, fresh.means_)
    np.testing.assert_array_equal(refit.covariances_, fresh.covariances_)


def test_without_progress_no_progress_bar_is_made(monkeypatch):
    """A disabled bar still formats its postfix in every iteration, a tenth of an
    iteration on small data: without ``progress`` the loop makes none at all."""

    def no_bar(*args, **kwargs):
        raise AssertionError("a progress bar was made")

    monkeypatch.setattr(emlib.em, "tqdm", no_bar)
    X, _ = three_blobs_2d(100, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        GaussianMixture(2, max_iter=5, random_state=0).fit(X)
        with pytest.raises(AssertionError, match="a progress bar was made"):
            GaussianMixture(2, max_iter=5, random_state=0, progress=True).fit(X)


def test_e_step_mean_log_likelihood_is_numpys_mean():
    """Above 2**24 rows a float32 count is no longer exact: the mean still equals np.mean."""
    rng = np.random.default_rng(3)
    log_norm = rng.normal(-50.0, 3.0, (1 << 24) + 3).astype(np.float32)

    class Stub:
        def _responsibilities(self, X):
            return log_norm, None

    mean, _ = emlib.em.MixtureEM._e_step(Stub(), None)
    assert mean == float(np.mean(log_norm))
