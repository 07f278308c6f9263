"""k-means++ seeding for validated data: scikit-learn's centres from the same draws.

:func:`kmeans_plusplus_centers` is :func:`sklearn.cluster.kmeans_plusplus` without its
second validation of X (with Numba, with its element-wise passes compiled), and
:func:`binary_kmeans_plusplus_centers` the same seeding for 0/1 data with its distances
counted from packed bits. :class:`emlib.KMeans` and the
default starts of the mixtures (:func:`emlib.em._kmeans_labels`) use them; the tests
compare both with scikit-learn's public function, centre for centre and draw for draw.
"""

import math

import numpy as np
from sklearn.cluster import kmeans_plusplus
from sklearn.utils import gen_batches
from sklearn.utils.extmath import row_norms

from .lloyd import HAVE_NUMBA

if HAVE_NUMBA:
    import numba

try:  # scikit-learn's private seeding (see kmeans_plusplus_centers); the public one if it goes
    from sklearn.cluster._kmeans import _kmeans_plusplus
except ImportError:  # pragma: no cover - scikit-learn 1.6 to 1.9 have it
    _kmeans_plusplus = None

__all__ = ["binary_kmeans_plusplus_centers", "kmeans_plusplus_centers"]


def kmeans_plusplus_centers(X, n_clusters, rng, n_local_trials=None, x_sq=None):
    """:func:`sklearn.cluster.kmeans_plusplus` ``(X, n_clusters, random_state=rng,
    n_local_trials=n_local_trials)[0]``, the same centres from the same draws, for X that
    is already validated (a float array with at least ``n_clusters`` rows) and a
    ``RandomState``.

    The public function checks X, the weights and its parameters again, which on the
    200 points of a chapter's mixtures took half of the seeding's time; this calls
    scikit-learn's private seeding with what the public one passes it (unit weights and
    the squared row norms), or, when Numba is installed, the same seeding with its
    element-wise passes compiled (:func:`_compiled_seeding` for float64 data,
    :func:`_compiled_seeding_single` for float32). The tests compare both with the public
    function; should a release of scikit-learn drop the private function, the public one
    is called instead.

    Parameters
    ----------
    x_sq : ndarray of shape (n_samples,), default=None
        ``np.einsum("ij,ij->i", X, X)``, the squared row norms scikit-learn computes, when
        the caller has them already; None to compute them. For float32 X, scikit-learn
        computes its own in float64, and so does this function.
    """
    if _kmeans_plusplus is None:
        return kmeans_plusplus(X, n_clusters, random_state=rng, n_local_trials=n_local_trials)[0]
    if HAVE_NUMBA and X.dtype == np.float32:
        return _compiled_seeding_single(X, n_clusters, rng, n_local_trials)
    if x_sq is None:
        x_sq = row_norms(X, squared=True)
    if HAVE_NUMBA and X.dtype == np.float64:
        return _compiled_seeding(X, n_clusters, x_sq, rng, n_local_trials)
    return _kmeans_plusplus(X, n_clusters, x_sq, np.ones(X.shape[0], dtype=X.dtype), rng,
                            n_local_trials)[0]


if HAVE_NUMBA:

    @numba.njit(cache=True, nogil=True)
    def _closest_after_candidates(products, candidates_sq, x_sq, closest):
        # products[j, n] = y_j . x_n on entry; on return min(closest_n, d(y_j, x_n)^2), by
        # scikit-learn's operations in its order: d = -2 p, d += |y|^2, d += |x|^2,
        # np.maximum(d, 0), np.minimum(closest, d), each rounded as NumPy rounds it.
        for j in range(products.shape[0]):
            for n in range(products.shape[1]):
                value = (-2.0 * products[j, n] + candidates_sq[j]) + x_sq[n]
                # np.maximum(value, 0.0) keeps a nan.
                if not (value >= 0.0 or value != value):
                    value = 0.0
                # np.minimum(closest, value): closest if it is smaller or nan.
                current = closest[n]
                if current <= value or current != current:
                    value = current
                products[j, n] = value

    @numba.njit(cache=True, nogil=True)
    def _closest_after_candidates_single(products, candidates_sq, x_sq, closest, out):
        # _closest_after_candidates for float32 data as scikit-learn computes it: the
        # distance in float64 from products and norms of the rows converted to float64,
        # rounded to float32, then clipped at 0 and compared with closest in float32.
        for j in range(products.shape[0]):
            for n in range(products.shape[1]):
                value = np.float32((-2.0 * products[j, n] + candidates_sq[j]) + x_sq[n])
                if not (value >= 0.0 or value != value):
                    value = np.float32(0.0)
                current = closest[n]
                if current <= value or current != current:
                    value = current
                out[j, n] = value


def _uniform_choice(rng, n_samples, dtype):
    """``rng.choice(n_samples, p=weights / weights.sum())`` with unit ``weights`` in
    ``dtype``, scikit-learn's first centre, by NumPy's own steps (p in float64, its running
    sums divided by their last, searched for one ``random_sample``) without its checks of
    p, which took most of its 0.9 ms on 100,000 points. In float32, p is the float32
    rounding of 1 / n, as scikit-learn computes it."""
    weights = np.ones(n_samples, dtype=dtype)
    cdf = np.cumsum((weights / weights.sum()).astype(np.float64))
    cdf /= cdf[-1]
    return int(np.searchsorted(cdf, rng.random_sample(), side="right"))


def _greedy_d2_seeding(X, n_clusters, rng, n_local_trials, nearest_after):
    r"""Greedy D² seeding, drawing as scikit-learn's ``_kmeans_plusplus`` with unit weights
    draws: the same random numbers consumed in the same order, and the same arithmetic
    wherever a rounding could change a pick.

    The first centre is a uniformly drawn sample. Each later one is the best of
    ``n_local_trials`` candidates, each drawn with probability proportional to
    :math:`D(x)^2`, the squared distance of a sample to its nearest centre so far (Arthur
    and Vassilvitskii, 2007): the candidate whose potential :math:`\sum_n \min(D(x_n)^2,
    \lVert x_n - y \rVert^2)` is lowest.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    n_clusters : int
    rng : numpy.random.RandomState
    n_local_trials : int or None
        None is scikit-learn's ``2 + int(log(n_clusters))``.
    nearest_after : callable
        ``nearest_after(ids, nearest)`` returns, for the candidate rows ``ids``, the array
        of shape (len(ids), n_samples) of :math:`\min(D(x_n)^2, \lVert x_n - y \rVert^2)`,
        or of the plain squared distances when ``nearest`` is None (the first centre), in
        X's dtype.

    Returns
    -------
    centers : ndarray of shape (n_clusters, n_features)
    """
    n_samples = X.shape[0]
    if n_local_trials is None:
        n_local_trials = 2 + int(np.log(n_clusters))
    # Potentials as products with a vector of ones, scikit-learn's unit weights: a sum in
    # another order could round differently and change which candidate wins.
    ones = np.ones(n_samples, dtype=X.dtype)
    picked = [_uniform_choice(rng, n_samples, X.dtype)]
    nearest = nearest_after(picked, None)
    potential = nearest @ ones
    nearest = nearest[0]
    for _ in range(1, n_clusters):
        thresholds = rng.uniform(size=n_local_trials) * potential
        candidates = np.searchsorted(np.cumsum(nearest), thresholds)
        np.clip(candidates, None, n_samples - 1, out=candidates)
        after = nearest_after(candidates, nearest)
        potentials = after @ ones.reshape(-1, 1)
        best = np.argmin(potentials)
        potential, nearest = potentials[best], after[best]
        picked.append(candidates[best])
    return X[np.array(picked)]


def _compiled_seeding(X, n_clusters, x_sq, rng, n_local_trials):
    r""":func:`_greedy_d2_seeding` of float64 X with scikit-learn's distances,
    :math:`\max(-2\, y^\top x + \lVert y \rVert^2 + \lVert x \rVert^2, 0)`: the products
    by the same matrix product (``X[ids] @ X.T``), and the rest in one compiled pass
    (:func:`_closest_after_candidates`) with the same roundings, instead of five NumPy
    passes over a candidates x N array. On 100,000 x 10 blobs and 10 centres (one thread)
    the seeding took 21 ms in scikit-learn's code and 13 ms here, of which the matrix
    products it must share with scikit-learn take 7 ms.
    """
    unbounded = np.full(X.shape[0], np.inf)  # min(inf, d) is d, nan included

    def nearest_after(ids, nearest):
        candidates = X[ids]
        distances = candidates @ X.T
        _closest_after_candidates(distances, row_norms(candidates, squared=True), x_sq,
                                  unbounded if nearest is None else nearest)
        return distances

    return _greedy_d2_seeding(X, n_clusters, rng, n_local_trials, nearest_after)


def _upcast_batch_size(n_rows, n_samples, n_features):
    r"""The number of rows per block in which scikit-learn's distances between float32
    arrays (``sklearn.metrics.pairwise._euclidean_distances_upcast``) convert both to
    float64, for dense arrays of ``n_rows`` and ``n_samples`` rows: the positive root of
    :math:`b^2 + 2 D b = M`, where :math:`M` is a tenth of the elements of both arrays and
    of their distances, at least :math:`10 \cdot 2^{17}`."""
    maxmem = max(((n_rows + n_samples) * n_features + n_rows * n_samples) / 10, 10 * 2**17)
    linear = 2 * n_features
    return max(int((-linear + math.sqrt(linear**2 + 4 * maxmem)) / 2), 1)


def _compiled_seeding_single(X, n_clusters, rng, n_local_trials):
    r""":func:`_greedy_d2_seeding` of float32 X with scikit-learn's distances
    (:func:`_upcast_nearest`). On 100,000 x 10 blobs with 10 centres the seeding took 59 to
    73 ms against 116 to 138 ms in scikit-learn's code, on 60,000 x 784 images with 20
    centres 2.6 s against 5.1 s (a Skylake Xeon). Like scikit-learn, it holds at most a
    block of X in float64 at a time; unlike it, it also holds the candidates' products
    with all rows in float64 (one per candidate and row, where scikit-learn holds a
    block's) and the rows' norms (one float64 per row for each block size, at most two).
    """
    norms = {}
    return _greedy_d2_seeding(X, n_clusters, rng, n_local_trials,
                              lambda ids, nearest: _upcast_nearest(X, ids, nearest, norms))


def _upcast_nearest(X, ids, nearest, norms):
    r""":math:`\min(D(x_n)^2, \lVert x_n - y_j \rVert^2)` for float32 X and the candidates
    :math:`y_j` = ``X[ids]``, bit for bit as scikit-learn's k-means++ computes it
    (``sklearn.metrics.pairwise._euclidean_distances``, then ``np.minimum``).

    scikit-learn converts float32 arrays to float64 in blocks of rows
    (:func:`_upcast_batch_size`) and computes :math:`-2\, y^\top x + \lVert y \rVert^2 +
    \lVert x \rVert^2` there, with the norms of each converted block, then rounds to
    float32 and clips at 0. The same blocks are converted here, so that every matrix
    product and every norm has the shape and memory order of scikit-learn's and rounds as
    it does: the BLAS can round a product of other shape differently (on 100,000 x 10
    blobs, from none to nearly half of the float64 products differed in the last bit
    between whole-array and blocked products under OpenBLAS's Prescott kernels on two
    threads, depending on the candidates; a few hundred in five million, or none, under
    SkylakeX's; rounding to float32 hides most of that, but not on data whose features
    differ widely in magnitude).

    What is saved is scikit-learn's recomputation of the rows' norms for every new set of
    candidates (kept in ``norms``, a dict from block size to norms) and its five
    element-wise passes, here one compiled pass (:func:`_closest_after_candidates_single`).

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features), float32
    ids : array-like of int
        The candidates' rows.
    nearest : ndarray of shape (n_samples,), float32, or None
        :math:`D(x_n)^2`; None for the plain distances (the first centre).
    norms : dict
        Filled on first use of a block size.

    Returns
    -------
    ndarray of shape (len(ids), n_samples), float32
    """
    n_samples, n_features = X.shape
    candidates = X[np.asarray(ids)]
    batch = _upcast_batch_size(len(candidates), n_samples, n_features)
    if batch not in norms:
        norms[batch] = np.concatenate([row_norms(X[block].astype(np.float64), squared=True)
                                       for block in gen_batches(n_samples, batch)])
    products = np.empty((len(candidates), n_samples))
    candidates_sq = np.empty(len(candidates))
    for rows in gen_batches(len(candidates), batch):
        chunk = candidates[rows].astype(np.float64)
        candidates_sq[rows] = row_norms(chunk, squared=True)
        for block in gen_batches(n_samples, batch):
            np.matmul(chunk, X[block].astype(np.float64).T, out=products[rows, block])
    if nearest is None:
        nearest = np.full(n_samples, np.inf, dtype=np.float32)  # min(inf, d) is d
    distances = np.empty(products.shape, dtype=np.float32)
    _closest_after_candidates_single(products, candidates_sq, norms[batch], nearest,
                                     distances)
    return distances


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
    packed = np.packbits(X.astype(bool), axis=1)
    n_bytes = -(-packed.shape[1] // 8) * 8
    words = np.zeros((X.shape[0], n_bytes), dtype=np.uint8)
    words[:, : packed.shape[1]] = packed
    words = words.view(np.uint64)
    ones = _bits_set(words)

    def nearest_after(ids, nearest):
        common = _bits_set(words[ids][:, np.newaxis, :] & words)
        distances = (ones[ids][:, np.newaxis] + ones - 2 * common).astype(X.dtype)
        if nearest is not None:
            np.minimum(nearest, distances, out=distances)
        return distances

    return _greedy_d2_seeding(X, n_clusters, rng, n_local_trials, nearest_after)
