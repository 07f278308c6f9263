"""Fits of Dask arrays (emlib.daskfit) against the same fits in memory.

On data that fit in memory the start is drawn from all rows, so a Dask fit must be the
in-memory fit: same number of iterations, same objective history and parameters, up to
the rounding of summing in a different order (pooled chunk moments against one pass).
"""

import functools
import subprocess
import sys
import warnings

import dask.array as da
import distributed
import numpy as np
import pytest
from fit_comparison import parameters, relative_difference
from sklearn.exceptions import ConvergenceWarning, NotFittedError

import emlib.daskfit
from emlib import (
    BernoulliMixture,
    GaussianMixture,
    MultinomialMixture,
    StudentTMixture,
    VariationalGaussianMixture,
)
from emlib.datasets import make_binary_patterns

COVARIANCE_TYPES = ["full", "tied", "diag", "spherical"]


def blobs(n=300, offset=0.0, seed=0, dtype=np.float64):
    """Three separated Gaussian blobs in three dimensions, rows shuffled."""
    rng = np.random.default_rng(seed)
    centres = np.array([[0.0, 0.0, 0.0], [6.0, 0.0, 1.0], [0.0, 7.0, -2.0]])
    labels = rng.integers(0, 3, size=n)
    X = centres[labels] + rng.normal(size=(n, 3)) * np.array([1.0, 0.5, 1.5])
    return (X + offset).astype(dtype)


def binary(n=300, seed=0):
    X = make_binary_patterns(n_samples=n, random_state=seed)[0]
    return X.astype(np.float64)


def assert_same_fit(dask_model, numpy_model, tol):
    assert dask_model.n_iter_ == numpy_model.n_iter_
    assert dask_model.converged_ == numpy_model.converged_
    np.testing.assert_allclose(dask_model.log_likelihood_history_,
                               numpy_model.log_likelihood_history_, rtol=tol, atol=0)
    for name, value in parameters(numpy_model).items():
        got = getattr(dask_model, name)
        assert got.dtype == value.dtype, name
        assert relative_difference(got, value) <= tol, (name, relative_difference(got, value))


CHUNKINGS = {
    "uneven": ((100, 37, 1, 162), -1),
    "one_row_chunk": ((1, 299), -1),
    "columns_too": ((150, 150), "columns"),
    "many": (25, -1),
}


def fit_both(make, X, chunks):
    if chunks[1] == "columns":  # two chunks of columns, of uneven widths
        chunks = (chunks[0], (2, X.shape[1] - 2))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning at max_iter alike for both
        expected = make().fit(X)
        got = make().fit(da.from_array(X, chunks=chunks))
    return got, expected


@pytest.mark.parametrize("chunking", list(CHUNKINGS))
@pytest.mark.parametrize("prior", [None, "conjugate"])
@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_gaussian_dask_fit_equals_the_in_memory_fit(covariance_type, prior, chunking):
    X = blobs()
    got, expected = fit_both(
        lambda: GaussianMixture(3, covariance_type=covariance_type, prior=prior, tol=1e-8,
                                max_iter=30, random_state=0),
        X, CHUNKINGS[chunking])
    assert_same_fit(got, expected, 1e-10)
    if prior is not None:
        np.testing.assert_allclose(got.prior_.mean, expected.prior_.mean, rtol=1e-14)
        np.testing.assert_allclose(got.prior_.scale, expected.prior_.scale, rtol=1e-12)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_gaussian_dask_fit_at_offset_1e6(covariance_type):
    X = blobs(offset=1e6)
    for prior in (None, "conjugate"):
        got, expected = fit_both(
            lambda p=prior: GaussianMixture(3, covariance_type=covariance_type, prior=p,
                                            tol=1e-8, max_iter=30, random_state=0),
            X, ((100, 37, 1, 162), 3))
        assert_same_fit(got, expected, 1e-10)


@pytest.mark.parametrize("chunking", list(CHUNKINGS))
@pytest.mark.parametrize("priors", [(0.0, 0.0), (1.0, 2.0)])
def test_bernoulli_dask_fit_equals_the_in_memory_fit(priors, chunking):
    X = binary()
    got, expected = fit_both(
        lambda: BernoulliMixture(3, pixel_prior=priors[0], weight_prior=priors[1], tol=1e-8,
                                 max_iter=30, random_state=0),
        X, CHUNKINGS[chunking])
    assert_same_fit(got, expected, 1e-10)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_gaussian_dask_fit_with_an_empty_component(covariance_type):
    # A component started far from every point gets no responsibility at all (its
    # responsibilities underflow to exactly zero): weight 0 in both fits, and the same
    # mean (the in-memory M-step puts an empty component at the data mean).
    X = blobs()
    means_init = np.array([[0.0, 0.0, 0.0], [6.0, 0.0, 1.0], [1e3, 1e3, 1e3]])
    got, expected = fit_both(
        lambda: GaussianMixture(3, covariance_type=covariance_type, means_init=means_init,
                                max_iter=5, tol=0, random_state=0),
        X, ((100, 37, 1, 162), 3))
    assert expected.weights_[2] == 0
    assert_same_fit(got, expected, 1e-10)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_float32_dask_fit_agrees_with_the_float32_in_memory_fit(covariance_type):
    X = blobs(dtype=np.float32)
    got, expected = fit_both(
        lambda: GaussianMixture(3, covariance_type=covariance_type, tol=0, max_iter=5,
                                random_state=0),
        X, ((100, 37, 1, 162), 3))
    assert got.n_iter_ == expected.n_iter_ == 5
    # Both fits are in float32: the parameters are float32. The Dask fit sums float32
    # chunk moments in float64 and takes the M-step in float64; the in-memory fit sums
    # and divides in float32. Each float32 scatter over 300 rows carries a rounding of up
    # to a few tens of eps (eps = 1.2e-7), which the iterations carry along without
    # growing (EM on separated blobs is a contraction). Measured over the four types after
    # 5 iterations: weights and means within 1.4e-7 of their scale, covariances 2.9e-6,
    # precision factors 6.9e-6 (through the Cholesky factor of the smallest variance),
    # objectives 6e-7. Bounds: 1e-6 for weights and means, 5e-5 for the rest and 5e-6
    # for the objectives; a float64 step slipping into float32 data would show up as
    # dtype float64, a wrong M-step as differences of order one.
    bounds = {"weights_": 1e-6, "means_": 1e-6}
    for name, value in parameters(expected).items():
        assert getattr(got, name).dtype == np.float32
        assert relative_difference(getattr(got, name), value) < bounds.get(name, 5e-5), name
    np.testing.assert_allclose(got.log_likelihood_history_, expected.log_likelihood_history_,
                               rtol=5e-6)
    # The lazy results are float32 too.
    assert got.predict_proba(da.from_array(X, chunks=100)).compute().dtype == np.float32


def test_bernoulli_float32_dask_fit():
    X = binary()
    got, expected = fit_both(
        lambda: BernoulliMixture(3, dtype=np.float32, tol=0, max_iter=5, random_state=0),
        X, ((100, 37, 1, 162), 3))
    assert got.means_.dtype == got.weights_.dtype == np.float32
    # Measured 6e-8 for the means and 0 for the weights (sums of 0/1 products).
    assert relative_difference(got.means_, expected.means_) < 1e-6
    assert relative_difference(got.weights_, expected.weights_) < 1e-6


def test_a_start_from_a_sample_recovers_known_parameters(monkeypatch):
    monkeypatch.setattr(emlib.daskfit, "INIT_SAMPLE_SIZE", 200)
    true = GaussianMixture.from_parameters(
        [0.5, 0.3, 0.2], [[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]],
        [np.eye(2), [[2.0, 0.5], [0.5, 1.0]], 0.5 * np.eye(2)], random_state=0)
    X, labels = emlib.daskfit.lazy_sample(true, 6000, chunk_size=1000, random_state=1)
    sampled = []
    real = emlib.daskfit._sample_rows

    def spy(X, rng, **kwargs):
        sampled.append(real(X, rng, **kwargs))
        return sampled[-1]

    monkeypatch.setattr(emlib.daskfit, "_sample_rows", spy)
    model = GaussianMixture(3, random_state=0, tol=1e-6, max_iter=200).fit(X)
    # The start saw about 200 of the 6000 rows (repeats of the draw dropped), not all.
    assert 150 <= len(sampled[0]) <= 200
    order = np.argsort(model.means_[:, 0] + 2 * model.means_[:, 1])
    np.testing.assert_allclose(model.weights_[order], [0.5, 0.3, 0.2], atol=0.03)
    np.testing.assert_allclose(model.means_[order], true.means_, atol=0.1)
    np.testing.assert_allclose(model.covariances_[order], true.covariances_, atol=0.15)
    accuracy = np.mean(np.asarray(model.predict(X)) == order.argsort()[labels.compute()])
    assert accuracy > 0.99


@pytest.mark.parametrize("family", ["gaussian", "bernoulli"])
def test_a_start_fixed_by_the_init_arrays_draws_no_sample(monkeypatch, family):
    # A random sample touches every chunk (a pass); with every parameter of the start
    # given, the first rows serve, and the fit equals the in-memory one from that start.
    monkeypatch.setattr(emlib.daskfit, "INIT_SAMPLE_SIZE", 50)
    if family == "gaussian":
        X = blobs()
        given = GaussianMixture(3, random_state=0).fit(X)
        make = functools.partial(
            GaussianMixture, 3, weights_init=given.weights_, means_init=given.means_ + 0.3,
            precisions_init=given.precisions_, tol=0, max_iter=4)
    else:
        X = binary()
        given = BernoulliMixture(3, random_state=0).fit(X)
        make = functools.partial(
            BernoulliMixture, 3, weights_init=given.weights_,
            means_init=np.clip(given.means_ + 0.05, 0.01, 0.99), tol=0, max_iter=4)
    calls = []
    real = emlib.daskfit._sample_rows

    def spy(X, rng, **kwargs):
        calls.append(kwargs)
        return real(X, rng, **kwargs)

    monkeypatch.setattr(emlib.daskfit, "_sample_rows", spy)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        got = make().fit(da.from_array(X, chunks=60))
        expected = make().fit(X)
    assert calls == [{"first": True}]
    assert_same_fit(got, expected, 1e-10)
    # Without every array the start needs the random sample.
    partial = {"gaussian": {"precisions_init": None}, "bernoulli": {"means_init": None}}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # four iterations on purpose
        make(**partial[family], random_state=0).fit(da.from_array(X, chunks=60))
    assert calls[-1] == {"first": False}


@pytest.mark.parametrize("make, data", [
    (lambda: GaussianMixture(3, random_state=0, covariance_type="tied"), blobs),
    (lambda: BernoulliMixture(3, random_state=0), binary),
])
def test_lazy_predictions_equal_the_numpy_ones(make, data):
    X = data()
    model = make().fit(X)
    XD = da.from_array(X, chunks=((100, 37, 1, 162), (2, X.shape[1] - 2)))
    for method in ("predict", "predict_proba", "score_samples"):
        lazy = getattr(model, method)(XD)
        assert isinstance(lazy, da.Array)
        got = lazy.compute()
        expected = getattr(model, method)(X)
        assert got.shape == expected.shape and got.dtype == expected.dtype
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-300)
    assert model.score(XD) == pytest.approx(model.score(X), rel=1e-12)
    assert isinstance(model.score(XD), float)


@pytest.mark.parametrize("data_dtype", [np.float64, np.float32, np.int64])
def test_lazy_results_declare_the_dtype_they_compute(data_dtype):
    # A model fitted in float32 scores float64 data in float64, as in memory; the Dask
    # array must say so (its dtype is what downstream code plans with).
    X = blobs()
    for model_dtype in (np.float32, np.float64):
        model = GaussianMixture(3, random_state=0).fit(X.astype(model_dtype))
        data = X.round().astype(data_dtype)
        XD = da.from_array(data, chunks=100)
        for method in ("predict_proba", "score_samples", "predict"):
            lazy = getattr(model, method)(XD)
            assert lazy.dtype == lazy.compute().dtype == getattr(model, method)(data).dtype


def test_fit_predict_returns_lazy_labels_of_the_fitted_model():
    X = blobs()
    model = GaussianMixture(3, random_state=0)
    labels = model.fit_predict(da.from_array(X, chunks=77))
    assert isinstance(labels, da.Array)
    np.testing.assert_array_equal(labels.compute(), model.predict(X))


def test_lazy_sample_is_reproducible_chunked_and_fair():
    model = GaussianMixture.from_parameters([0.6, 0.4], [[0.0, 0.0], [5.0, 5.0]],
                                            [np.eye(2), np.eye(2)])
    X, labels = emlib.daskfit.lazy_sample(model, 25_000, chunk_size=10_000, random_state=7)
    assert X.shape == (25_000, 2) and labels.shape == (25_000,)
    assert X.chunks == ((10_000, 10_000, 5_000), (2,))
    assert labels.chunks == ((10_000, 10_000, 5_000),)
    # Same seed, same chunks, in any order of computation.
    Y, labels_y = emlib.daskfit.lazy_sample(model, 25_000, chunk_size=10_000, random_state=7)
    last_first = Y.blocks[2].compute()
    np.testing.assert_array_equal(last_first, X.blocks[2].compute())
    whole = X.compute()
    np.testing.assert_array_equal(whole, Y.compute())
    np.testing.assert_array_equal(labels.compute(), labels_y.compute())
    # Points and labels belong together: the labels are those of the drawn points.
    assert np.mean(model.predict(whole) == labels.compute()) > 0.99
    # Label frequencies near the weights: 25,000 draws, standard error 0.003.
    assert np.mean(labels.compute() == 0) == pytest.approx(0.6, abs=0.015)
    # Different chunks are different draws, and so are different seeds.
    assert not np.array_equal(whole[:5000], whole[10_000:15_000])
    Z, _ = emlib.daskfit.lazy_sample(model, 25_000, chunk_size=10_000, random_state=8)
    assert not np.array_equal(Z.blocks[0].compute(), X.blocks[0].compute())
    # Rows within a chunk are shuffled, not sorted by component.
    first = labels.blocks[0].compute()
    assert np.count_nonzero(np.diff(first)) > 1000


@pytest.mark.parametrize("n_samples, chunk_size, name", [
    (0, 10, "n_samples"), (-3, 10, "n_samples"), (10, 0, "chunk_size"), (10.5, 3, "n_samples"),
])
def test_lazy_sample_checks_its_sizes(n_samples, chunk_size, name):
    model = GaussianMixture.from_parameters([1.0], [[0.0]], [[[1.0]]])
    with pytest.raises((ValueError, TypeError), match=name):
        emlib.daskfit.lazy_sample(model, n_samples, chunk_size=chunk_size)


def test_lazy_sample_of_a_bernoulli_mixture():
    model = BernoulliMixture.from_parameters([0.5, 0.5], [[0.1, 0.9], [0.9, 0.1]])
    X, labels = emlib.daskfit.lazy_sample(model, 1001, chunk_size=100, random_state=0)
    assert X.chunks[0] == (100,) * 10 + (1,)
    values = X.compute()
    assert set(np.unique(values)) <= {0.0, 1.0}
    assert values.shape == (1001, 2)


@pytest.mark.parametrize("make", [
    lambda: StudentTMixture(2),
    lambda: VariationalGaussianMixture(2),
    lambda: MultinomialMixture(2),
])
def test_families_without_the_hooks_refuse_dask_input(make):
    X = da.from_array(np.abs(blobs()).round(), chunks=100)
    with pytest.raises(TypeError, match=r"cannot fit a Dask array.*X\.compute\(\)"):
        make().fit(X)


def test_unknown_chunk_sizes_are_refused():
    X = da.from_array(blobs(), chunks=100)
    filtered = X[X[:, 0] > 0]
    assert np.isnan(filtered.shape[0])
    with pytest.raises(ValueError, match="compute_chunk_sizes"):
        GaussianMixture(2).fit(filtered)
    model = GaussianMixture(2, random_state=0).fit(filtered.compute_chunk_sizes())
    assert model.n_iter_ >= 1


def test_without_dask_the_helpers_say_what_to_install(monkeypatch):
    model = GaussianMixture.from_parameters([1.0], [[0.0]], [[[1.0]]])
    monkeypatch.setitem(sys.modules, "dask", None)
    monkeypatch.setitem(sys.modules, "dask.array", None)
    with pytest.raises(ImportError, match=r"emlib-course\[dask\]"):
        emlib.daskfit.require_dask()
    with pytest.raises(ImportError, match=r"emlib-course\[dask\]"):
        emlib.daskfit.lazy_sample(model, 10)


def test_emlib_imports_and_fits_where_dask_cannot_be_imported():
    code = """
import sys

class Blocker:
    def find_spec(self, name, path=None, target=None):
        if name == "dask" or name.startswith("dask.") or name == "distributed":
            raise ImportError("blocked: " + name)

sys.meta_path.insert(0, Blocker())
import numpy as np
import emlib
X = np.r_[np.zeros((20, 2)), np.ones((20, 2)) * 5] + np.random.default_rng(0).normal(size=(40, 2))
m = emlib.GaussianMixture(2, random_state=0).fit(X)
m.partial_fit(X)
assert "dask" not in sys.modules
try:
    emlib.daskfit.require_dask()
except ImportError as e:
    assert "emlib-course[dask]" in str(e)
else:
    raise SystemExit("require_dask did not raise")
print("ok", sorted(np.round(m.means_[:, 0]).tolist()))
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("ok")


def test_em_pass_gives_the_total_log_likelihood_and_the_moments():
    X = blobs()
    model = GaussianMixture(3, random_state=0, max_iter=3).fit(X)
    total, moments = emlib.daskfit.em_pass(model, da.from_array(X, chunks=(50, 3)))
    assert total == pytest.approx(model.score(X) * len(X), rel=1e-12)
    resp = model.predict_proba(X)
    np.testing.assert_allclose(moments["count"], resp.sum(axis=0), rtol=1e-12)
    np.testing.assert_allclose(moments["mean"], (resp.T @ X) / resp.sum(axis=0)[:, None],
                               rtol=1e-12)
    # The model is left untouched by the pass (its snapshot went to the chunks).
    assert not hasattr(model, "_running_moments")


@pytest.fixture(scope="module")
def client():
    # Loopback only (CI has no network), two worker processes of one thread each. Without
    # a dashboard the scheduler still serves its health routes over HTTP on 127.0.0.1,
    # at port 8787 when free and another port otherwise (another cluster on the machine,
    # say), which it warns about: harmless here (see the test's filterwarnings mark).
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=None,
                                  silence_logs=50) as cluster, \
            distributed.Client(cluster) as client:
        yield client


@pytest.mark.filterwarnings("ignore:Port 8787 is already in use:UserWarning")
def test_fits_on_a_local_cluster_equal_the_in_memory_fits(client):
    cases = [
        (lambda: GaussianMixture(3, covariance_type="full", prior="conjugate", tol=1e-8,
                                 max_iter=20, random_state=0), blobs()),
        (lambda: BernoulliMixture(3, pixel_prior=1.0, tol=1e-8, max_iter=20,
                                  random_state=0), binary()),
    ]
    for make, X in cases:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            expected = make().fit(X)
            with distributed.get_task_stream(client) as stream:
                got = make().fit(da.from_array(X, chunks=((100, 37, 1, 162), X.shape[1])))
        assert_same_fit(got, expected, 1e-10)
        # The chunks' E-steps really ran on the cluster's workers (in other processes).
        names = [task["key"] if isinstance(task["key"], str) else task["key"][0]
                 for task in stream.data]
        chunk_tasks = [name for name in names if "_chunk_statistics" in str(name)]
        assert len(chunk_tasks) >= 4 * got.n_iter_
        workers = {task["worker"] for task in stream.data}
        assert workers <= set(client.scheduler_info()["workers"])
        assert workers
    pids = client.run(lambda: __import__("os").getpid())
    assert len(pids) == 2 and __import__("os").getpid() not in pids.values()


def test_lazy_results_keep_the_parameters_of_their_call():
    # map_rows sends a snapshot of the model: a later fit of the same object changes
    # neither a lazy result made before it nor the data behind it.
    X = blobs()
    model = GaussianMixture(3, random_state=0).fit(X)
    expected = model.predict_proba(X)
    lazy = model.predict_proba(da.from_array(X, chunks=100))
    model.fit(X[:50] * 3)
    np.testing.assert_allclose(lazy.compute(), expected, rtol=1e-12, atol=1e-300)


def test_a_dask_fit_leaves_no_per_fit_state_and_forgets_partial_fit():
    X = blobs()
    model = GaussianMixture(3, random_state=0, prior="conjugate")
    model.partial_fit(X[:100])
    assert hasattr(model, "_running_moments")
    model.fit(da.from_array(X, chunks=70))
    for name in ("_running_moments", "n_steps_", "n_seen_", "_fit_scratch"):
        assert not hasattr(model, name), name
    expected = GaussianMixture(3, random_state=0, prior="conjugate").fit(X)
    assert relative_difference(model.means_, expected.means_) < 1e-10
    # Two Dask fits in a row give the same result: nothing carried over between them.
    again = GaussianMixture(3, random_state=0, prior="conjugate").fit(da.from_array(X, 70))
    np.testing.assert_array_equal(again.means_, model.means_)
    np.testing.assert_array_equal(again.covariances_, model.covariances_)


def test_a_dask_fit_that_fails_leaves_the_model_as_it_was():
    X = blobs()
    model = GaussianMixture(3, random_state=0).fit(X)
    before = {name: np.copy(value) for name, value in parameters(model).items()}
    bad = da.from_array(np.where(np.arange(300)[:, None] == 150, np.nan, X), chunks=100)
    with pytest.raises(ValueError):
        model.fit(bad)
    for name, value in before.items():
        np.testing.assert_array_equal(getattr(model, name), value)
    assert model.n_features_in_ == 3 and not hasattr(model, "_fit_scratch")


@pytest.mark.parametrize("init_params", ["k-means++", "random", "random_from_data"])
def test_other_starts_and_restarts_match_the_in_memory_fit(init_params):
    X = blobs()

    def make(n_init):
        return lambda: GaussianMixture(3, init_params=init_params, n_init=n_init, tol=1e-8,
                                       max_iter=30, random_state=1)

    got, expected = fit_both(make(1), X, ((100, 37, 1, 162), -1))
    assert_same_fit(got, expected, 1e-10)
    # With restarts that reach the same maximum, which run is kept is decided by the last
    # digit of their final objectives (measured: -4.898509931804695 against ...696), so
    # the kept run's history may be another run's, its components in another order; the
    # fit itself must agree.
    got, expected = fit_both(make(3), X, ((100, 37, 1, 162), -1))
    assert got.lower_bound_ == pytest.approx(expected.lower_bound_, rel=1e-10)
    mine, theirs = (np.argsort(m.means_ @ [1.0, 10.0, 100.0]) for m in (got, expected))
    for name, value in parameters(expected).items():
        assert relative_difference(getattr(got, name)[mine], value[theirs]) < 1e-8, name


def test_a_failure_inside_a_pass_leaves_the_model_as_it_was(monkeypatch):
    # The start, fixed by the init arrays, reads the first rows only: the bad row is met
    # in the first pass, after the model's attributes have started to change.
    monkeypatch.setattr(emlib.daskfit, "INIT_SAMPLE_SIZE", 50)
    X = blobs()
    given = GaussianMixture(3, random_state=0).fit(X)
    model = GaussianMixture(3, weights_init=given.weights_, means_init=given.means_,
                            precisions_init=given.precisions_)
    bad = da.from_array(np.where(np.arange(300)[:, None] == 290, np.nan, X), chunks=100)
    with pytest.raises(ValueError, match="NaN"):
        model.fit(bad)
    assert not hasattr(model, "weights_") and not hasattr(model, "n_features_in_")


def test_a_one_row_dask_array_is_refused():
    with pytest.raises(ValueError, match="at least 2"):
        GaussianMixture(1).fit(da.from_array(np.array([[1.0, 2.0]])))


def test_a_dask_fit_drops_the_column_names_of_an_earlier_fit():
    import pandas as pd  # in the locked environment (seaborn needs it)
    X = blobs()
    model = GaussianMixture(3, random_state=0).fit(pd.DataFrame(X, columns=list("abc")))
    assert hasattr(model, "feature_names_in_")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "X does not have valid feature names"
        model.fit(da.from_array(X, chunks=100))
        model.predict(X)
    assert not hasattr(model, "feature_names_in_")


def test_lazy_results_check_the_model_and_the_columns_at_once():
    XD = da.from_array(blobs(), chunks=100)
    with pytest.raises(NotFittedError):
        GaussianMixture(3).predict(XD)
    model = GaussianMixture(3, random_state=0).fit(blobs())
    with pytest.raises(ValueError, match="features"):
        model.predict(da.from_array(blobs()[:, :2], chunks=100))


@pytest.mark.parametrize("n_samples", [201, 399, 2000])
def test_the_start_sample_has_exactly_init_sample_size_distinct_rows(monkeypatch, n_samples):
    monkeypatch.setattr(emlib.daskfit, "INIT_SAMPLE_SIZE", 200)
    X = da.from_array(np.arange(n_samples, dtype=np.float64)[:, None], chunks=97)
    rows = emlib.daskfit._sample_rows(X, np.random.RandomState(0))
    assert len(np.unique(rows)) == 200
