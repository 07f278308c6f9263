"""KMeans: agreement with scikit-learn's Lloyd, the inertia trace, empty clusters, errors."""

import numpy as np
import pytest
from sklearn.cluster import KMeans as SklearnKMeans
from sklearn.exceptions import NotFittedError

from emlib import KMeans
from emlib.datasets import load_mnist, three_blobs_2d


@pytest.fixture(scope="module")
def blobs():
    return three_blobs_2d(600, random_state=3)[0]


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
@pytest.mark.parametrize("K", [2, 3, 5])
def test_agrees_with_scikit_learn_from_same_centres(blobs, seed, K):
    init = blobs[np.random.default_rng(seed).choice(len(blobs), K, replace=False)]
    ours = KMeans(K, init=init).fit(blobs)
    theirs = SklearnKMeans(K, init=init, n_init=1, algorithm="lloyd").fit(blobs)
    np.testing.assert_allclose(ours.cluster_centers_, theirs.cluster_centers_, rtol=1e-9)
    np.testing.assert_array_equal(ours.labels_, theirs.labels_)
    np.testing.assert_allclose(ours.inertia_, theirs.inertia_, rtol=1e-9)
    assert ours.n_iter_ == theirs.n_iter_


def test_agrees_on_mnist_images():
    # Grey levels, not binarised: binary images tie exactly in distance, and the two libraries
    # then break ties differently (both correctly).
    X, _ = load_mnist(1000)
    init = X[:10]
    ours = KMeans(10, init=init, max_iter=20).fit(X)
    theirs = SklearnKMeans(10, init=init, n_init=1, max_iter=20).fit(X)
    np.testing.assert_allclose(ours.cluster_centers_, theirs.cluster_centers_, atol=1e-9)
    np.testing.assert_allclose(ours.inertia_, theirs.inertia_, rtol=1e-9)


def test_kmeans_plus_plus_seeding_matches_scikit_learn(blobs):
    """Same seed, same k-means++ centres, same result."""
    ours = KMeans(4, random_state=11).fit(blobs)
    theirs = SklearnKMeans(4, random_state=11, n_init=1).fit(blobs)
    np.testing.assert_allclose(ours.cluster_centers_, theirs.cluster_centers_, rtol=1e-9)


def test_inertia_history_is_non_increasing_and_ends_at_inertia(blobs):
    km = KMeans(6, init="random", random_state=0).fit(blobs)
    history = km.inertia_history_
    assert len(history) == km.n_iter_
    assert np.all(np.diff(history) <= 1e-9 * history[0])
    assert km.inertia_ <= history[-1] + 1e-9


def test_restarts_keep_the_lowest_inertia(blobs):
    singles = [KMeans(6, init="random", random_state=s).fit(blobs).inertia_ for s in range(5)]
    best = KMeans(6, init="random", n_init=5, random_state=0).fit(blobs)
    assert best.inertia_ <= min(singles) + 1e-9 or best.inertia_ == pytest.approx(min(singles))


def test_empty_cluster_is_reseeded_at_the_worst_served_point():
    X = np.array([[0.0, 0.0], [0.1, 0.0], [0.0, 0.1], [10.0, 10.0], [10.1, 10.0], [30.0, 30.0]])
    # The third centre is so far away that no point chooses it in the first assignment.
    init = np.array([[0.0, 0.0], [12.0, 12.0], [500.0, 500.0]])
    km = KMeans(3, init=init).fit(X)
    assert np.all(np.isfinite(km.cluster_centers_))
    assert sorted(np.bincount(km.labels_, minlength=3)) == [1, 2, 3]
    # The isolated point ends up with its own centre.
    assert np.any(np.all(km.cluster_centers_ == [30.0, 30.0], axis=1))


def test_predict_transform_and_score(blobs):
    km = KMeans(3, random_state=0).fit(blobs)
    np.testing.assert_array_equal(km.predict(blobs), km.labels_)
    np.testing.assert_array_equal(km.fit_predict(blobs), km.labels_)
    distances = km.transform(blobs)
    assert distances.shape == (len(blobs), 3)
    np.testing.assert_allclose(
        distances, np.linalg.norm(blobs[:, None, :] - km.cluster_centers_[None], axis=2)
    )
    np.testing.assert_allclose(km.score(blobs), -km.inertia_, rtol=1e-10)


@pytest.mark.parametrize(
    "params, message",
    [
        ({"n_clusters": 0}, "n_clusters == 0, must be >= 1"),
        ({"init": "best"}, "init='best' is not supported"),
        ({"init": np.zeros((2, 2))}, r"init has shape \(2, 2\); expected .* \(3, 2\)"),
        ({"init": np.zeros((3, 2)), "n_init": 3}, "use n_init=1"),
        ({"max_iter": 0}, "max_iter == 0, must be >= 1"),
        ({"tol": -1}, "tol == -1, must be >= 0.0"),
    ],
)
def test_invalid_parameters(blobs, params, message):
    with pytest.raises(ValueError, match=message):
        KMeans(**{"n_clusters": 3, **params}).fit(blobs)


def test_bad_data():
    with pytest.raises(ValueError, match="Input X contains NaN"):
        KMeans(2).fit(np.array([[0.0, np.nan], [1.0, 1.0], [2.0, 2.0]]))
    with pytest.raises(ValueError, match="Expected 2D array"):
        KMeans(2).fit(np.arange(5.0))
    with pytest.raises(
        ValueError, match=r"n_clusters=4 is larger than the number of samples \(3\)"
    ):
        KMeans(4).fit(np.eye(3))
    with pytest.raises(NotFittedError):
        KMeans(2).predict(np.eye(2))
    km = KMeans(2, random_state=0).fit(np.eye(3))
    with pytest.raises(ValueError, match="X has 2 features, but KMeans is expecting 3"):
        km.predict(np.eye(2))
