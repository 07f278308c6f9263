"""KMeans: agreement with scikit-learn's Lloyd, the inertia trace, empty clusters, errors."""

import warnings

import numpy as np
import pytest
from sklearn.cluster import KMeans as SklearnKMeans
from sklearn.cluster import kmeans_plusplus
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.metrics.pairwise import _euclidean_distances

import emlib.seeding
from emlib import KMeans
from emlib.datasets import load_mnist, three_blobs_2d
from emlib.kmeans import (
    _column_means_and_variances,
    _column_variances,
)
from emlib.moments import row_blocks
from emlib.seeding import binary_kmeans_plusplus_centers, kmeans_plusplus_centers


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


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_point_moved_into_an_empty_cluster_leaves_its_old_cluster(dtype):
    X = np.array([[0.0], [1.0], [2.0], [10.0]], dtype=dtype)
    # All four points choose the centre 1; 10 is the farthest from it and moves to the empty
    # cluster, so the first M-step averages 0, 1 and 2 only.
    km = KMeans(2, init=[[1.0], [100.0]], max_iter=1).fit(X)
    assert km.cluster_centers_.dtype == dtype
    np.testing.assert_array_equal(km.cluster_centers_, [[1.0], [10.0]])
    np.testing.assert_array_equal(km.labels_, [0, 0, 0, 1])


def test_cluster_that_gives_away_its_only_point_keeps_its_centre():
    X = np.array([[0.0], [10.0], [10.2], [10.4]])
    # First E-step: 0 alone in cluster 0 (squared distance 25), nothing in cluster 1. The
    # point 0 moves to cluster 1, which leaves cluster 0 with no mean: it stays at -5.
    km = KMeans(3, init=[[-5.0], [100.0], [10.2]], max_iter=1).fit(X)
    np.testing.assert_allclose(km.cluster_centers_, [[-5.0], [0.0], [10.2]])


def test_four_points_agree_with_scikit_learn():
    X = np.array([[0.0, 0.0], [0.5, 0.0], [0.5, 1.0], [1.0, 1.0]])
    init = np.array([[0.5, 0.5], [3.0, 3.0]])
    ours = KMeans(2, init=init).fit(X)
    theirs = SklearnKMeans(2, init=init, n_init=1, algorithm="lloyd").fit(X)
    np.testing.assert_allclose(ours.cluster_centers_, theirs.cluster_centers_)
    np.testing.assert_array_equal(ours.labels_, theirs.labels_)
    assert ours.n_iter_ == theirs.n_iter_ == 3


def test_no_relocation_when_every_point_lies_on_its_centre():
    X = np.array([[-0.4]] * 3 + [[0.4]] * 3)
    # Cluster 2 is empty, but every point sits on its centre: moving one would only make two
    # centres compete for copies of the same point.
    with pytest.warns(ConvergenceWarning, match="Distinct points in X: 2,"):
        km = KMeans(3, init=[[-0.4], [0.4], [-0.4]]).fit(X)
    assert km.n_iter_ == 1
    np.testing.assert_allclose(km.cluster_centers_, [[-0.4], [0.4], [-0.4]])
    # Centres 0 and 2 both lie on -0.4 (up to rounding), so either may get its copies.
    np.testing.assert_allclose(km.cluster_centers_[km.labels_], X)


@pytest.mark.parametrize("seed", range(4))
def test_more_clusters_than_distinct_points_converges_at_once(seed):
    points = np.random.default_rng(0).normal(size=(3, 2))
    X = np.repeat(points, 10, axis=0)
    # The call GaussianMixture(init_params="kmeans") makes; the warning reaches its users too.
    with pytest.warns(ConvergenceWarning, match="Distinct points in X: 3,"):
        km = KMeans(5, n_init=1, random_state=np.random.RandomState(seed)).fit(X)
    assert km.n_iter_ <= 2
    assert len(np.unique(km.labels_)) == 3
    np.testing.assert_allclose(km.cluster_centers_[km.labels_], X, rtol=1e-12)


@pytest.mark.parametrize("value, n_copies", [(0.1, 3), (-0.4, 3), (0.7, 7), (0.7, 10)])
def test_copies_of_one_point_stop_at_once(value, n_copies):
    X = np.full((n_copies, 1), value)
    # The mean of these copies is not exactly `value`: (0.1 + 0.1 + 0.1) / 3 is
    # 0.10000000000000002.
    # Relocating on that rounding step used to make the points hop between two centres.
    with pytest.warns(ConvergenceWarning, match="Distinct points in X: 1,"):
        km = KMeans(2, init=[[value], [value]]).fit(X)
    # At worst the copies try the other centre once, then both centres are the same mean.
    assert km.n_iter_ <= 3
    np.testing.assert_allclose(km.cluster_centers_, value, rtol=1e-15)


def test_duplicated_points_converge_quickly():
    n_iter = []
    for seed in range(300):
        rng = np.random.default_rng(seed)
        n_distinct, n_features = rng.integers(1, 5), rng.integers(1, 4)
        points = rng.normal(size=(n_distinct, n_features)) * 10.0 ** rng.integers(-3, 4)
        X = rng.permutation(np.repeat(points, rng.integers(2, 12, size=n_distinct), axis=0))
        K = int(rng.integers(n_distinct + 1, min(n_distinct + 4, len(X)) + 1))
        init = "random" if seed % 2 else "k-means++"
        with pytest.warns(ConvergenceWarning, match=f"Distinct points in X: {n_distinct},"):
            n_iter.append(KMeans(K, init=init, random_state=seed).fit(X).n_iter_)
    # Before, some of these ran to max_iter=300.
    assert max(n_iter) <= 20


def test_warns_when_fewer_distinct_points_than_clusters():
    # -0.0 and 0.0 are the same point.
    X = np.repeat([[0.0, 0.0], [1.0, 0.0], [0.0, 2.0], [-0.0, 2.0]], [4, 3, 2, 2], axis=0)
    message = r"^Distinct points in X: 3, fewer than n_clusters=4; some clusters end up empty"
    with pytest.warns(ConvergenceWarning, match=message):
        KMeans(4, random_state=0).fit(X)
    with pytest.warns(ConvergenceWarning, match=message):
        KMeans(4, init="random", n_init=3, random_state=0).fit(X)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        KMeans(3, random_state=0).fit(X)


def _problem_with_empty_clusters(seed):
    """Random data; some initial centres are data points, the others are too far for any."""
    rng = np.random.default_rng(seed)
    n_samples, n_features, K = rng.integers(8, 41), rng.integers(1, 4), rng.integers(2, 7)
    n_far = rng.integers(1, K)
    X = rng.normal(size=(n_samples, n_features))
    near = X[rng.choice(n_samples, K - n_far, replace=False)]
    far = 100.0 + rng.normal(size=(n_far, n_features))
    return X, rng.permutation(np.vstack([near, far]))


def test_agrees_with_scikit_learn_when_clusters_are_empty():
    n_empty_first = []
    disagree = []
    for seed in range(300):
        X, init = _problem_with_empty_clusters(seed)
        K = len(init)
        counts = np.bincount(((X[:, None] - init) ** 2).sum(axis=2).argmin(axis=1), minlength=K)
        n_empty_first.append(np.sum(counts == 0))
        ours = KMeans(K, init=init).fit(X)
        theirs = SklearnKMeans(K, init=init, n_init=1, algorithm="lloyd").fit(X)
        same = (
            np.allclose(ours.cluster_centers_, theirs.cluster_centers_, rtol=1e-9, atol=1e-12)
            and np.array_equal(ours.labels_, theirs.labels_)
            and np.isclose(ours.inertia_, theirs.inertia_, rtol=1e-9)
            and ours.n_iter_ == theirs.n_iter_
        )
        if not same:
            disagree.append(seed)
    # Every problem starts with an empty cluster, and many with several.
    assert min(n_empty_first) >= 1
    assert sum(n >= 2 for n in n_empty_first) >= 50
    assert disagree == []


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


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("offset", [1e3, 1e4, 1e5])
def test_data_far_from_the_origin_cluster_as_at_the_origin(dtype, offset):
    """Unit-spread clusters moved far away: the same partition as the centred data.

    Squared distances expanded about the origin would lose every digit in float32 here.
    """
    rng = np.random.default_rng(0)
    X = np.concatenate([rng.normal(c, 1.0, (200, 2)) for c in ([0, 0], [4, 0], [0, 4])])
    far = (X + offset).astype(dtype)
    near = far.astype(np.float64) - offset  # the same numbers, moved back exactly
    init = [0, 200, 400]
    ours = KMeans(3, init=far[init]).fit(far)
    reference = KMeans(3, init=near[init]).fit(near)
    np.testing.assert_array_equal(ours.labels_, reference.labels_)
    assert ours.n_iter_ == reference.n_iter_
    np.testing.assert_allclose(ours.cluster_centers_ - offset, reference.cluster_centers_,
                               atol=10 * np.finfo(dtype).eps * offset)
    assert ours.inertia_ == pytest.approx(reference.inertia_, rel=1e-3)
    np.testing.assert_array_equal(ours.predict(far), reference.labels_)
    assert -ours.score(far) == pytest.approx(reference.inertia_, rel=1e-3)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_score_keeps_its_digits_when_centres_lie_far_apart(dtype):
    """Clusters of spread 0.5 whose centres are about 100 apart, 1,000 from the origin:
    the score is minus the inertia of predict's labels, summed from the deviations in
    float64 (expanded distances lost a relative 1e-3 of it in float32), for data in the
    model's dtype and in the other one."""
    rng = np.random.default_rng(0)
    centres = rng.normal(0, 100, (5, 3))
    X = centres[rng.integers(0, 5, 20000)] + rng.normal(0, 0.5, (20000, 3)) + 1000
    X = X.astype(dtype)
    km = KMeans(5, random_state=0).fit(X)
    for data in (X, X.astype(np.float32), X.astype(np.float64)):
        deviations = data.astype(np.float64) - km.cluster_centers_.astype(np.float64)[
            km.predict(data)]
        exact = float(np.sum(deviations**2))
        assert km.score(data) == pytest.approx(-exact, rel=1e-12)
    assert km.score(X) == pytest.approx(-km.inertia_, rel=1e-6)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_transform_keeps_its_digits_when_centres_lie_far_apart(dtype):
    """The same clusters: every distance to within a few units of the last place of the
    dtype, the distances to a point's own centre included (expanded in float32 they lost
    every digit, and some came out as zero), in blocks of rows as on one block."""
    rng = np.random.default_rng(0)
    centres = rng.normal(0, 100, (5, 3))
    X = centres[rng.integers(0, 5, 100_000)] + rng.normal(0, 0.5, (100_000, 3)) + 1000
    X = X.astype(dtype)
    km = KMeans(5, random_state=0).fit(X)
    distances = km.transform(X)
    assert distances.dtype == dtype
    deviations = X.astype(np.float64)[:, None, :] - km.cluster_centers_.astype(np.float64)
    exact = np.sqrt(np.sum(deviations**2, axis=2))
    # float64: the expansion about the centres' mean keeps all but eps |x - c|^2 / d^2.
    rtol = 1e-8 if dtype == np.float64 else 2 * np.finfo(np.float32).eps
    np.testing.assert_allclose(distances, exact, rtol=rtol)
    assert distances.min() > 0
    assert len(row_blocks(X.shape[0], X.shape[1] + 5)) > 1  # several blocks of rows
    np.testing.assert_array_equal(km.transform(X[:100]), distances[:100])
    # float32 only when the data and the centres both are, as scikit-learn's transform.
    other = np.float32 if dtype == np.float64 else np.float64
    assert km.transform(X[:10].astype(other)).dtype == np.float64


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("max_iter", [1, 2, 300])
def test_final_labels_and_inertia_are_those_of_the_final_centres(dtype, max_iter):
    """Whether Lloyd stopped on unchanged labels or not (max_iter), labels_ are the nearest
    final centres, and inertia_ their distances summed in float64 from the deviations."""
    X = (three_blobs_2d(3000, random_state=5)[0] + 1.0).astype(dtype)
    km = KMeans(3, init=X[:3], max_iter=max_iter).fit(X)
    X64, centres64 = X.astype(np.float64), km.cluster_centers_.astype(np.float64)
    d2 = ((X64[:, None, :] - centres64[None]) ** 2).sum(axis=2)
    # Where the two nearest centres are further apart than the expansion's rounding in
    # the dtype, the labels are those of the exact distances.
    ordered = np.sort(d2, axis=1)
    decided = ordered[:, 1] - ordered[:, 0] > 1e3 * np.finfo(dtype).eps * (
        (X64**2).sum(axis=1) + (centres64**2).sum(axis=1).max())
    assert decided.mean() > 0.99
    np.testing.assert_array_equal(km.labels_[decided], d2.argmin(axis=1)[decided])
    assert km.inertia_ == pytest.approx(d2[np.arange(len(X)), km.labels_].sum(), rel=1e-13)


def assert_draws_scikit_learns_centres(seeding, X, n_clusters, seed, n_local_trials):
    """The same centres as scikit-learn's kmeans_plusplus, and the generator advanced by the
    same draws."""
    ours_rng, theirs_rng = np.random.RandomState(seed), np.random.RandomState(seed)
    ours = seeding(X, n_clusters, ours_rng, n_local_trials)
    theirs = kmeans_plusplus(X, n_clusters, random_state=theirs_rng,
                             n_local_trials=n_local_trials)[0]
    np.testing.assert_array_equal(ours, theirs)
    assert ours.dtype == X.dtype
    assert ours_rng.uniform() == theirs_rng.uniform()


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("n_local_trials", [None, 1, 3])
@pytest.mark.parametrize("private", [True, False])
def test_seeding_without_checks_draws_scikit_learns_centres(dtype, n_local_trials, private,
                                                            monkeypatch):
    if not private:  # as if scikit-learn no longer had its private seeding
        monkeypatch.setattr(emlib.seeding, "_kmeans_plusplus", None)
    X = three_blobs_2d(300, random_state=2)[0].astype(dtype)
    assert_draws_scikit_learns_centres(kmeans_plusplus_centers, X, 5, 4, n_local_trials)


@pytest.mark.parametrize(("n_samples", "n_features", "n_clusters"),
                         [(1, 3, 1), (2, 1, 2), (97, 2, 7), (5000, 10, 10), (2283, 3, 6),
                          (1200, 784, 20)])
@pytest.mark.parametrize("n_local_trials", [None, 1, 4])
@pytest.mark.parametrize("given_norms", [False, True])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_compiled_seeding_draws_scikit_learns_centres(n_samples, n_features, n_clusters,
                                                      n_local_trials, given_norms, dtype):
    """The seeding with compiled passes: scikit-learn's centres and draws, on grey images
    (many equal distances: zeros everywhere a digit has no ink), on data with copies of
    points (distances of exactly 0, candidates drawn twice) and on blobs. In float32,
    scikit-learn's distances come from blocks of rows converted to float64: 5,000 and
    2,283 points span several blocks, the last of 2,283 a single row."""
    if n_features == 784:
        X = load_mnist(n_samples)[0].astype(dtype)
    else:
        X = three_blobs_2d(n_samples, random_state=n_samples)[0][:, :1].repeat(n_features, 1)
        X += np.random.default_rng(0).normal(size=X.shape)
        X[: n_samples // 3] = X[0]  # a third of the points are one point
        X = X.astype(dtype)
    if n_samples == 2283:
        assert n_samples % emlib.seeding._upcast_batch_size(1, n_samples, n_features) == 1
    x_sq = np.einsum("ij,ij->i", X, X) if given_norms else None
    for seed in range(3):

        def seeding(X, n_clusters, rng, n_local_trials):
            return kmeans_plusplus_centers(X, n_clusters, rng, n_local_trials, x_sq)

        assert_draws_scikit_learns_centres(seeding, X, n_clusters, seed, n_local_trials)


@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("n_features", [10, 64])
def test_float32_candidate_distances_are_scikit_learns_bit_for_bit(order, n_features):
    """The float32 distances from scikit-learn's float64 blocks, on features far from the
    origin beside features spanning six decades (where products and norms of another
    shape, or norms in float32, round differently), with near-copies of a point (distances
    clipped at 0), three blocks of which the last has one row (whose norm, in F order,
    NumPy sums in another order than the whole array's), and both memory orders, which
    emlib.KMeans passes on as it gets them."""
    rng = np.random.default_rng(6)
    batch = emlib.seeding._upcast_batch_size(4, 3000, n_features)
    n = 2 * batch + 1
    assert {emlib.seeding._upcast_batch_size(m, n, n_features) for m in (1, 4)} == {batch}
    half = n_features // 2
    X = np.concatenate([rng.normal(1e3, 1e-2, (n, half)),
                        rng.normal(size=(n, n_features - half))
                        * 10.0 ** rng.integers(-6, 1, (n, n_features - half))], axis=1)
    X[1:200] = X[0] + rng.normal(0.0, 1e-6, (199, n_features))
    X = np.asarray(X.astype(np.float32), order=order)
    x_sq = np.einsum("ij,ij->i", X, X)  # what scikit-learn's seeding passes, and ignores
    closest = rng.uniform(0.0, 1e7, n).astype(np.float32)
    closest[3] = np.nan
    norms = {}
    for ids in (np.array([0]), np.array([0, 5, 5, n - 1])):
        plain = _euclidean_distances(X[ids], X, Y_norm_squared=x_sq, squared=True)
        assert plain.dtype == np.float32 and (plain == 0).sum() > 20
        for nearest, expected in ((None, plain), (closest, np.minimum(closest, plain))):
            ours = emlib.seeding._upcast_nearest(X, ids, nearest, norms)
            np.testing.assert_array_equal(ours, expected)
    # Norms computed from the float32 rows would not do. (Whether products of the whole
    # array would differ too depends on the BLAS's kernels, so it is not asserted.)
    whole = -2 * (X[ids].astype(np.float64) @ X.astype(np.float64).T)
    assert not np.array_equal(
        np.maximum((whole + np.einsum("ij,ij->i", X[ids], X[ids])[:, None] + x_sq)
                   .astype(np.float32), 0), plain)


def test_float32_seeding_with_more_candidates_than_a_block_draws_scikit_learns_centres():
    # 700 candidates of 784 pixels: scikit-learn converts them in two blocks of rows.
    X = load_mnist(1200)[0].astype(np.float32)
    assert emlib.seeding._upcast_batch_size(700, len(X), X.shape[1]) < 700
    assert_draws_scikit_learns_centres(kmeans_plusplus_centers, X, 4, 0, 700)


def test_candidate_distances_are_scikit_learns_bit_for_bit():
    # Far from the origin, so that the expansion rounds in every entry, with points next
    # to a candidate (distances that round below 0 and are clipped), a candidate drawn
    # twice, and a nan where the running minimum is nan.
    rng = np.random.default_rng(4)
    X = rng.normal(1e3, 1.0, (3000, 6))
    X[1:300] = X[0] + rng.normal(0.0, 1e-7, (299, 6))  # distances far below the rounding
    ids = np.array([0, 5, 5, 2999])
    x_sq = np.einsum("ij,ij->i", X, X)
    closest = rng.uniform(0.0, 20.0, len(X))
    closest[7] = np.nan
    expected = np.minimum(closest, _euclidean_distances(X[ids], X, Y_norm_squared=x_sq,
                                                        squared=True))
    ours = X[ids] @ X.T
    emlib.seeding._closest_after_candidates(ours, np.einsum("ij,ij->i", X[ids], X[ids]),
                                            x_sq, closest)
    unclipped = -2 * (X[ids] @ X.T) + x_sq[ids, np.newaxis] + x_sq
    assert (unclipped < 0).any() and np.isnan(expected[:, 7]).all()
    np.testing.assert_array_equal(ours, expected)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("n_samples", [1, 2, 3, 10, 999, 100_003])
def test_first_centre_is_numpys_weighted_choice(n_samples, dtype):
    # scikit-learn's p: unit weights of the data's dtype over their sum.
    weights = np.ones(n_samples, dtype=dtype)
    for seed in range(20):
        ours, theirs = np.random.RandomState(seed), np.random.RandomState(seed)
        assert emlib.seeding._uniform_choice(ours, n_samples, dtype) == theirs.choice(
            n_samples, p=weights / weights.sum())
        assert ours.uniform() == theirs.uniform()


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("n_local_trials", [None, 1])
@pytest.mark.parametrize("n_features", [5, 64, 131])
@pytest.mark.parametrize("bit_count", ["numpy", "table"])
def test_binary_seeding_draws_scikit_learns_centres(dtype, n_local_trials, n_features,
                                                    bit_count, monkeypatch):
    # The table is what NumPy before 2.0 (no np.bitwise_count) uses.
    if bit_count == "table":
        monkeypatch.setattr(emlib.seeding, "_bits_set", emlib.seeding._bits_set_by_table)
    rng = np.random.default_rng(n_features)
    # Pixels on with different rates, so that the distances spread.
    X = (rng.random((700, n_features)) < rng.uniform(0.05, 0.6, n_features)).astype(dtype)
    assert_draws_scikit_learns_centres(binary_kmeans_plusplus_centers, X, 6, 1, n_local_trials)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape", [(1, 3), (7, 2), (1000, 1), (5000, 10), (3001, 784)])
@pytest.mark.parametrize("order", ["C", "F"])
def test_column_means_and_variances_equal_numpys_bit_for_bit(dtype, shape, order):
    # Far from the origin, so that the order of the sums shows in the last bits.
    rng = np.random.default_rng(1)
    X = np.asarray(rng.normal(1e3, 1.0, shape), dtype=dtype, order=order)
    if shape[1] > 1:
        X[:, 0] = -0.0  # NumPy's sums start from +0, so a column of -0 sums to +0
    mean, variances = _column_means_and_variances(X)
    expected_mean, expected_variances = X.mean(axis=0), np.var(X, axis=0)
    # The compiled pass, and the blocked NumPy fallback.
    for ours, expected in [(mean, expected_mean), (variances, expected_variances),
                           (_column_variances(X, expected_mean), expected_variances)]:
        assert ours.dtype == expected.dtype
        np.testing.assert_array_equal(ours, expected)
        assert np.array_equal(np.signbit(ours), np.signbit(expected))
