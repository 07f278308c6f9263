"""Restarts: shared k-means starts across a grid, and repeated starts run once."""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

import emlib.em
from emlib import BernoulliMixture, GaussianMixture, MultinomialMixture, StudentTMixture
from emlib.datasets import load_mnist, three_blobs_2d
from emlib.em import shared_kmeans_starts
from emlib.gaussian import COVARIANCE_TYPES
from emlib.selection import select_gaussian_mixture
from emlib.student import _DOF_START


@pytest.fixture
def kmeans_fits(monkeypatch):
    """Counts the k-means fits that the mixtures' default starts run."""
    calls = []
    original = emlib.em.KMeans.fit

    def counting_fit(self, X, y=None):
        calls.append(X.shape)
        return original(self, X, y)

    monkeypatch.setattr(emlib.em.KMeans, "fit", counting_fit)
    return calls


def fit_grid(X, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return [
            GaussianMixture(k, covariance_type=t, n_init=4, random_state=3, **kwargs).fit(X)
            for t in COVARIANCE_TYPES
            for k in (2, 3, 5)
        ]


def test_shared_starts_give_the_same_fits_bit_for_bit(kmeans_fits):
    X, _ = three_blobs_2d(random_state=1)
    alone = fit_grid(X)
    unshared = len(kmeans_fits)
    with shared_kmeans_starts() as store:
        shared = fit_grid(X)
        # One partition per (K, restart): the covariance type does not enter.
        assert len(store) == 3 * 4
    assert len(kmeans_fits) - unshared == 3 * 4
    assert unshared == len(COVARIANCE_TYPES) * 3 * 4
    for a, b in zip(alone, shared, strict=True):
        np.testing.assert_array_equal(a.means_, b.means_)
        np.testing.assert_array_equal(a.covariances_, b.covariances_)
        assert a.lower_bound_ == b.lower_bound_


def test_shared_starts_serve_a_prior_and_another_family(kmeans_fits):
    X, _ = three_blobs_2d(random_state=1)
    with shared_kmeans_starts():
        fit_grid(X)
        before = len(kmeans_fits)
        with_prior = fit_grid(X, prior="conjugate")
        nested_calls = len(kmeans_fits)
        with shared_kmeans_starts():  # a nested block reuses the outer store
            fit_grid(X, prior="conjugate")
    assert nested_calls == before == len(kmeans_fits)
    outside = fit_grid(X, prior="conjugate")
    for a, b in zip(with_prior, outside, strict=True):
        np.testing.assert_array_equal(a.means_, b.means_)


def test_the_store_is_keyed_by_the_data(kmeans_fits):
    X, _ = three_blobs_2d(random_state=1)
    binary = (X > X.mean(axis=0)).astype(float)
    with shared_kmeans_starts():
        GaussianMixture(3, random_state=0).fit(X)
        GaussianMixture(3, random_state=0).fit(X + 1.0)
        GaussianMixture(3, random_state=0).fit(X.astype(np.float32))
        BernoulliMixture(3, random_state=0).fit(binary)
    assert len(kmeans_fits) == 4
    # Outside the block nothing is kept.
    GaussianMixture(3, random_state=0).fit(X)
    assert len(kmeans_fits) == 5


def test_the_random_generator_advances_as_without_the_store():
    X, _ = three_blobs_2d(random_state=1)
    rng = np.random.RandomState(7)
    GaussianMixture(3, n_init=3, random_state=rng).fit(X)
    expected = rng.get_state()[1].copy()
    with shared_kmeans_starts():
        for _ in range(2):  # the second fit is served from the store
            rng = np.random.RandomState(7)
            GaussianMixture(3, n_init=3, random_state=rng).fit(X)
            np.testing.assert_array_equal(rng.get_state()[1], expected)


def test_select_gaussian_mixture_runs_each_kmeans_start_once(kmeans_fits):
    X, _ = three_blobs_2d(random_state=1)
    result = select_gaussian_mixture(X, range(1, 4), n_init=2, cv=None)
    # Three values of K, two restarts, four covariance types sharing them.
    assert len(kmeans_fits) == 3 * 2
    assert result.best("bic")["n_components"] == 3


def test_a_repeated_start_runs_em_once(monkeypatch):
    """With one component every k-means start is the same partition: one EM run."""
    runs = []
    original = GaussianMixture._run_em

    def counting_run(self, X, objective):
        runs.append(objective)
        return original(self, X, objective)

    monkeypatch.setattr(GaussianMixture, "_run_em", counting_run)
    X, _ = three_blobs_2d(random_state=1)
    one = GaussianMixture(1, n_init=10, random_state=0).fit(X)
    assert len(runs) == 1
    runs.clear()
    GaussianMixture(3, n_init=10, init_params="random", random_state=0).fit(X)
    assert len(runs) == 10  # random responsibilities never repeat
    reference = GaussianMixture(1, n_init=1, random_state=0).fit(X)
    np.testing.assert_array_equal(one.means_, reference.means_)


# One EM iteration, to read the start: not converging is the point.
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_bernoulli_start_is_a_short_kmeans_and_gaussian_start_is_scikit_learns():
    from sklearn.cluster import kmeans_plusplus
    from sklearn.mixture import GaussianMixture as SklearnGaussianMixture

    from emlib import BernoulliMixture, GaussianMixture, KMeans
    from emlib.datasets import load_mnist

    X = load_mnist(2000, binarize=True)[0].astype(np.float64)
    converged = KMeans(10, random_state=0).fit(X).labels_
    # Plain D² seeding (one candidate per centre), then at most 10 Lloyd iterations.
    rng = np.random.RandomState(0)
    seeds = kmeans_plusplus(X, 10, random_state=rng, n_local_trials=1)[0]
    short = KMeans(10, init=seeds, max_iter=10, random_state=rng).fit(X)
    assert short.n_iter_ == 10
    capped = short.labels_
    assert not np.array_equal(capped, converged)  # else the test tells the starts apart
    model = BernoulliMixture(10, max_iter=1, tol=0, random_state=0, keep_history=True)
    start = model.fit(X).params_history_[0]
    counts = np.bincount(capped, minlength=10)
    class_means = np.stack([X[capped == k].mean(axis=0) for k in range(10)])
    eps = np.finfo(np.float64).eps
    np.testing.assert_allclose(start["weights"], counts / counts.sum(), rtol=1e-12)
    np.testing.assert_allclose(start["means"], np.clip(class_means, eps, 1 - eps),
                               rtol=1e-12, atol=1e-14)

    blobs = np.random.default_rng(0).normal(size=(300, 2)) * [1, 3]
    ours = GaussianMixture(3, max_iter=1, tol=0, random_state=0).fit(blobs)
    theirs = SklearnGaussianMixture(3, max_iter=1, tol=0, random_state=0).fit(blobs)
    np.testing.assert_allclose(ours.means_, theirs.means_, rtol=1e-10)


def test_gaussian_and_bernoulli_starts_on_the_same_data_are_kept_apart(kmeans_fits):
    # The two families make different k-means starts (see BernoulliMixture's Notes), so
    # the same data, K and generator state must not share a partition.
    binary = (three_blobs_2d(random_state=1)[0] > 0).astype(float)
    with shared_kmeans_starts() as store:
        GaussianMixture(3, random_state=0).fit(binary)
        BernoulliMixture(3, random_state=0).fit(binary)
        assert len(store) == 2
    assert len(kmeans_fits) == 2



def test_the_bernoulli_start_counting_bits_is_the_start_from_floats():
    images = load_mnist(binarize=True)[0][:3000].astype(np.float64)
    starts = []
    for binary in (False, True):
        rng = np.random.RandomState(5)
        labels = emlib.em._kmeans_labels(images, 10, rng, max_iter=10, n_local_trials=1,
                                         binary=binary)
        starts.append((labels, rng.uniform()))
    np.testing.assert_array_equal(starts[0][0], starts[1][0])
    assert starts[0][1] == starts[1][1]
    assert BernoulliMixture._kmeans_start["binary"]


def _given_start(model, X, labels, K):
    """``model`` with every parameter of its start given, from a partition of X."""
    sums = np.stack([X[labels == k].sum(axis=0) for k in range(K)])
    counts = np.bincount(labels, minlength=K)[:, np.newaxis]
    if isinstance(model, BernoulliMixture):
        means = (sums + 1) / (counts + 2)  # strictly inside (0, 1)
    elif isinstance(model, MultinomialMixture):
        means = (sums + 1) / (sums + 1).sum(axis=1, keepdims=True)
    else:
        means = sums / counts
    params = dict(weights_init=np.full(K, 1 / K), means_init=means)
    if isinstance(model, (GaussianMixture, StudentTMixture)):
        params["precisions_init"] = np.stack([np.eye(X.shape[1])] * K)
    return model.set_params(**params)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize(
    "family", [GaussianMixture, StudentTMixture, BernoulliMixture, MultinomialMixture]
)
def test_a_given_start_computes_no_start_and_runs_once(family, monkeypatch):
    """With every *_init array given, no start is computed and one run is made, whatever
    n_init; the fit is the one continued from those parameters (warm_start). Without one
    of them, a start is computed for every restart. Agreement with scikit-learn from a
    given start: tests/test_gaussian.py."""
    starts, runs = [], []
    original_start, original_run = family._initial_responsibilities, family._run_em

    def counting_start(self, X, rng):
        starts.append(self.init_params)
        return original_start(self, X, rng)

    def counting_run(self, step, objective):
        runs.append(objective)
        return original_run(self, step, objective)

    monkeypatch.setattr(family, "_initial_responsibilities", counting_start)
    monkeypatch.setattr(family, "_run_em", counting_run)
    X, y = three_blobs_2d(random_state=1)
    if family in (BernoulliMixture, MultinomialMixture):
        X = (X > np.median(X, axis=0)).astype(np.float64)
        X = np.c_[X, 1 - X]  # no empty row for the multinomial
    model = _given_start(family(3, n_init=4, max_iter=20, random_state=0), X, y, 3)
    fitted = model.fit(X)
    assert starts == [] and len(runs) == 1
    known = [model.weights_init, model.means_init]
    if family in (GaussianMixture, StudentTMixture):
        known.append(np.linalg.inv(model.precisions_init))
    if family is StudentTMixture:
        known.append(np.full(3, _DOF_START))  # where dof="estimate" starts
    continued = family.from_parameters(
        *known, max_iter=20, warm_start=True, random_state=0
    ).fit(X)
    for name in ("weights_", "means_"):
        np.testing.assert_array_equal(getattr(fitted, name), getattr(continued, name))
    starts.clear()
    runs.clear()
    # Without the weights the start is not given: it is computed for every restart.
    family(3, n_init=2, max_iter=20, random_state=0).set_params(
        means_init=fitted.means_
    ).fit(X)
    assert starts == ["kmeans", "kmeans"] and 1 <= len(runs) <= 2
    if family in (GaussianMixture, StudentTMixture):
        # Without the precisions neither.
        starts.clear()
        family(3, n_init=2, max_iter=20, random_state=0).set_params(
            weights_init=fitted.weights_, means_init=fitted.means_
        ).fit(X)
        assert starts == ["kmeans", "kmeans"]
