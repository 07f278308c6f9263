"""k-means++ seeding for validated data: scikit-learn's centres from the same draws.

:func:`kmeans_plusplus_centers` is :func:`sklearn.cluster.kmeans_plusplus` without its
second validation of X, and :func:`binary_kmeans_plusplus_centers` the same seeding for
0/1 data with its distances counted from packed bits. :class:`emlib.KMeans` and the
default starts of the mixtures (:func:`emlib.em._kmeans_labels`) use them; the tests
compare both with scikit-learn's public function, centre for centre and draw for draw.
"""

import numpy as np
from sklearn.cluster import kmeans_plusplus
from sklearn.utils.extmath import row_norms

try:  # scikit-learn's private seeding (see kmeans_plusplus_centers); the public one if it goes
    from sklearn.cluster._kmeans import _kmeans_plusplus
except ImportError:  # pragma: no cover - scikit-learn 1.6 to 1.9 have it
    _kmeans_plusplus = None

__all__ = ["binary_kmeans_plusplus_centers", "kmeans_plusplus_centers"]


def kmeans_plusplus_centers(X, n_clusters, rng, n_local_trials=None):
    """:func:`sklearn.cluster.kmeans_plusplus` ``(X, n_clusters, random_state=rng,
    n_local_trials=n_local_trials)[0]``, the same centres from the same draws, for X that
    is already validated (a float array with at least ``n_clusters`` rows) and a
    ``RandomState``.

    The public function checks X, the weights and its parameters again, which on the
    200 points of a chapter's mixtures took half of the seeding's time; this calls
    scikit-learn's private seeding with what the public one passes it (unit weights and
    the squared row norms). The tests compare the two; should a release of scikit-learn
    drop the private function, the public one is called instead.
    """
    if _kmeans_plusplus is None:
        return kmeans_plusplus(X, n_clusters, random_state=rng, n_local_trials=n_local_trials)[0]
    return _kmeans_plusplus(X, n_clusters, row_norms(X, squared=True),
                            np.ones(X.shape[0], dtype=X.dtype), rng, n_local_trials)[0]


_BYTE_BITS = np.array([bin(byte).count("1") for byte in range(256)], dtype=np.uint8)


def _bits_set_by_table(words):
    """The number of bits set in each row of ``words`` (uint64, last axis), byte by byte
    from a table: NumPy before 2.0, supported by emlib, has no ``np.bitwise_count``."""
    return _BYTE_BITS[words.view(np.uint8)].sum(axis=-1, dtype=np.int64)


def _bits_set_by_count(words):
    """The number of bits set in each row of ``words``, by ``np.bitwise_count``."""
    return np.bitwise_count(words).sum(axis=-1, dtype=np.int64)


_bits_set = _bits_set_by_count if hasattr(np, "bitwise_count") else _bits_set_by_table


def binary_kmeans_plusplus_centers(X, n_clusters, rng, n_local_trials=None):
    r""":func:`kmeans_plusplus_centers` for 0/1 data: the same centres from the same draws,
    with the distances counted from bits.

    For 0/1 rows, :math:`\lVert x - y \rVert^2` is the number of positions where they
    differ, :math:`\lvert x \rvert + \lvert y \rvert - 2 \lvert x \wedge y \rvert`,
    an integer. scikit-learn's expansion computes exactly these integers too (every
    product and sum is an integer far below :math:`2^{24}`, so nothing rounds, in float64
    or in its float64 products for float32), and from them on the seeding below runs
    scikit-learn's own arithmetic: the draws, the cumulative sums and the potentials are
    bit for bit the same. The rows are packed 64 pixels to a word, so a pass over
    60,000 x 784 images reads 6 MB instead of the 376 MB of float64 X; each of the 20
    centres of the Bernoulli start costs about a millisecond instead of about twenty.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        0/1 values, float64 or float32, at least ``n_clusters`` rows.
    n_clusters : int
    rng : numpy.random.RandomState
    n_local_trials : int, default=None
        Candidates per centre; None is scikit-learn's ``2 + int(log(n_clusters))``.

    Returns
    -------
    centers : ndarray of shape (n_clusters, n_features), X's dtype
    """
    n_samples = X.shape[0]
    if n_local_trials is None:
        n_local_trials = 2 + int(np.log(n_clusters))
    packed = np.packbits(X.astype(bool), axis=1)
    n_bytes = -(-packed.shape[1] // 8) * 8
    words = np.zeros((n_samples, n_bytes), dtype=np.uint8)
    words[:, : packed.shape[1]] = packed
    words = words.view(np.uint64)
    ones = _bits_set(words)

    def distances(ids):
        common = _bits_set(words[ids][:, np.newaxis, :] & words)
        return (ones[ids][:, np.newaxis] + ones - 2 * common).astype(X.dtype)

    # From here on, scikit-learn's _kmeans_plusplus line by line, with unit weights.
    sample_weight = np.ones(n_samples, dtype=X.dtype)
    indices = [rng.choice(n_samples, p=sample_weight / sample_weight.sum())]
    closest_dist_sq = distances(indices)
    current_pot = closest_dist_sq @ sample_weight
    for _ in range(1, n_clusters):
        rand_vals = rng.uniform(size=n_local_trials) * current_pot
        candidate_ids = np.searchsorted(np.cumsum(sample_weight * closest_dist_sq), rand_vals)
        np.clip(candidate_ids, None, closest_dist_sq.size - 1, out=candidate_ids)
        distance_to_candidates = distances(candidate_ids)
        np.minimum(closest_dist_sq, distance_to_candidates, out=distance_to_candidates)
        candidates_pot = distance_to_candidates @ sample_weight.reshape(-1, 1)
        best = np.argmin(candidates_pot)
        current_pot = candidates_pot[best]
        closest_dist_sq = distance_to_candidates[best]
        indices.append(candidate_ids[best])
    return X[np.array(indices)]
