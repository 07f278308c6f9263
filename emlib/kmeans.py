r"""k-means clustering by Lloyd's algorithm, written as hard EM.

k-means minimises the inertia (distortion, Bishop 2006, eq. 9.1)

.. math::

    J = \sum_{n=1}^{N} \sum_{k=1}^{K} r_{nk} \lVert x_n - \mu_k \rVert^2,
    \qquad r_{nk} \in \{0, 1\},\ \sum_k r_{nk} = 1,

by alternating

* a **hard E-step**: :math:`r_{nk} = 1` for the nearest centre, 0 otherwise;
* an **M-step**: :math:`\mu_k = \sum_n r_{nk} x_n / \sum_n r_{nk}`, the same formula as the
  Gaussian-mixture mean update, with one-hot responsibilities.

Neither step can increase :math:`J`, so the inertia never increases (Lloyd, 1982).

:meth:`KMeans.partial_fit` is the online version, mini-batch k-means (Sculley, 2010): one
hard E-step per batch, and each centre moved to the running mean of all the points ever
assigned to it.
"""

import warnings
from numbers import Integral, Real

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator, ClusterMixin, TransformerMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state, check_scalar
from sklearn.utils.validation import check_is_fitted, validate_data

from ._restore import restored_on_failure
from ._stacklevel import user_stacklevel
from .lloyd import HAVE_NUMBA, column_sums_compiled, inertia, lloyd_step, one_blas_thread
from .moments import row_blocks, spread_limit
from .seeding import kmeans_plusplus_centers

__all__ = ["KMeans"]

# Fitted attributes that only fit sets, and those that only partial_fit sets: each method
# removes the other's, which would no longer describe the centres.
_BATCH_ATTRIBUTES = ("labels_", "inertia_", "n_iter_", "inertia_history_")
_ONLINE_ATTRIBUTES = ("counts_", "n_steps_")


def squared_distances(X, centers):
    r""":math:`\lVert x_n - \mu_k \rVert^2` for all pairs, shape (n_samples, n_clusters).

    Expanded as :math:`\lVert x\rVert^2 - 2 x^\top \mu + \lVert \mu \rVert^2` so that the
    work is one matrix product; rounding can make a tiny distance negative, hence the clip.
    The expansion cancels when the points lie far from the origin relative to their
    distances (each term is rounded relative to :math:`\lVert x \rVert^2`), so both sides
    are first moved to the mean of the centres, which changes no distance.
    """
    shift = centers.mean(axis=0)
    X = X - shift
    centers = centers - shift
    d2 = X @ (-2.0 * centers).T
    d2 += np.einsum("ij,ij->i", X, X)[:, np.newaxis]
    d2 += (centers * centers).sum(axis=1)
    return np.maximum(d2, 0.0, out=d2)


def _column_means_and_variances(X):
    """``X.mean(axis=0)`` and ``np.var(X, axis=0)``, bit for bit, by the compiled column
    sums when X allows (:func:`emlib.lloyd.column_sums_compiled`), else by NumPy."""
    n_samples, n_features = X.shape
    if not (HAVE_NUMBA and n_features >= 2 and X.flags.c_contiguous):
        mean = X.mean(axis=0)
        return mean, _column_variances(X, mean)
    # NumPy's mean and variance divide by the count as an intp, cast back to X's dtype.
    count = np.intp(n_samples)
    sums = column_sums_compiled(X)
    mean = np.true_divide(sums, count, out=sums, casting="unsafe")
    sums = column_sums_compiled(X, mean)
    return mean, np.true_divide(sums, count, out=sums, casting="unsafe")


# Rows per block of _column_variances: 256 KiB of float64 deviations, which stay in cache.
_VARIANCE_BLOCK_BYTES = 2**18


def _column_variances(X, mean):
    r"""The variance of every column, :math:`\sigma_d^2 = \frac1N \sum_n (x_{nd} -
    \bar x_d)^2`, equal bit for bit to ``np.var(X, axis=0)``, from the column means.

    ``np.var`` writes all the deviations to a temporary as large as X (on 60,000 x 784
    float64 images, 376 MB whose first touch alone took longer than several Lloyd
    iterations). Here they are squared and added a block of rows at a time. NumPy sums
    the rows of a C-contiguous array in order (one running sum per column), so carrying
    the running sum into the next block, as that block's first row, adds the same numbers
    in the same order. A single column is contiguous and NumPy sums it pairwise instead:
    such X, X that are not C-contiguous, and X of one block go to ``np.var``.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    mean : ndarray of shape (n_features,)
        ``X.mean(axis=0)``, which ``np.var`` computes the same way.
    """
    n_samples, n_features = X.shape
    rows = max(1, _VARIANCE_BLOCK_BYTES // (X.itemsize * n_features))
    if n_features < 2 or not X.flags.c_contiguous or n_samples <= rows:
        return np.var(X, axis=0)
    buffer = np.empty((min(rows, n_samples) + 1, n_features), dtype=X.dtype)
    total = None
    for start in range(0, n_samples, rows):
        block = X[start : start + rows]
        first = 0 if total is None else 1
        if total is not None:
            buffer[0] = total
        deviations = buffer[first : first + block.shape[0]]
        np.subtract(block, mean, out=deviations)
        np.square(deviations, out=deviations)
        total = np.add.reduce(buffer[: first + block.shape[0]], axis=0)
    # np.var divides by the count as an intp, casting the quotient back to X's dtype.
    return np.true_divide(total, np.intp(n_samples), out=total, casting="unsafe")


def _relocate_to_empty_clusters(X, labels, centers, sums, counts):
    """Give each empty cluster one of the points farthest from their centres, in place.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    labels : ndarray of shape (n_samples,)
        The assignment of the E-step.
    centers : ndarray of shape (n_clusters, n_features)
        The centres that assignment was made with.
    sums, counts : ndarray of shape (n_clusters, n_features) and (n_clusters,)
        Sum and number of the points of every cluster; updated in place. A moved point is
        subtracted from its old cluster and becomes the only point of an empty one. Nothing
        moves when every cluster consists of copies of one point.
    """
    # Moving a point can lower J only if some cluster holds two different points. That is
    # tested exactly, against one member of each cluster (any will do), and not through the
    # distances to the centres: a mean of copies of a point can miss it by a rounding step.
    member = np.empty(counts.size, dtype=np.intp)
    member[labels] = np.arange(labels.size)
    if np.array_equal(X, X[member[labels]]):
        return
    empty = np.flatnonzero(counts == 0)
    # Differences rather than the expansion of the E-step, whose rounding error grows with the
    # norms of the points and could change which points count as farthest.
    d2 = ((X - centers[labels]) ** 2).sum(axis=1)
    # A partial sort is enough; taking its tail backwards pairs points with empty clusters as
    # scikit-learn does, so that the two can be compared label for label.
    farthest = np.argpartition(d2, -empty.size)[-empty.size :][::-1]
    old = labels[farthest]
    np.subtract.at(sums, old, X[farthest])
    np.subtract.at(counts, old, 1)
    sums[empty] = X[farthest]
    counts[empty] = 1


def _weighted_sums(X, labels, weights, n_clusters):
    r"""Weighted sums :math:`\sum_{n: z_n = k} w_n x_n` and weights :math:`\sum_{n: z_n = k}
    w_n` per cluster, in float64 (as the Lloyd step sums), the sums rounded once to X's dtype.
    """
    # The one-hot responsibilities times the weights, stored sparse: one pass over X.
    resp_T = sparse.csr_matrix(
        (weights, (labels, np.arange(labels.size))), shape=(n_clusters, labels.size)
    )
    sums = np.asarray(resp_T @ X.astype(np.float64, copy=False)).astype(X.dtype)
    return sums, np.bincount(labels, weights=weights, minlength=n_clusters)


def _check_sample_weight(sample_weight, n_samples):
    """Weights as float64, or None when they are all 1 (the unweighted step then serves)."""
    if sample_weight is None:
        return None
    weights = np.asarray(sample_weight, dtype=np.float64)
    if weights.shape != (n_samples,):
        raise ValueError(
            f"sample_weight has shape {weights.shape}; expected ({n_samples},), one weight "
            "per row of X."
        )
    if not np.isfinite(weights).all() or (weights < 0).any():
        raise ValueError("sample_weight must be finite and non-negative.")
    return None if (weights == 1.0).all() else weights


class KMeans(ClusterMixin, TransformerMixin, BaseEstimator):
    """k-means clustering with Lloyd's algorithm (hard EM).

    Parameters
    ----------
    n_clusters : int, default=8
        Number of clusters :math:`K`.
    init : {"k-means++", "random"} or array-like of shape (n_clusters, n_features)
        Initial centres: k-means++ seeding (Arthur and Vassilvitskii, 2007, via
        :func:`sklearn.cluster.kmeans_plusplus`, which is the greedy variant: at each step it
        draws ``2 + log(n_clusters)`` candidates and keeps the one that lowers the inertia
        most), ``n_clusters`` distinct data points drawn uniformly, or the given array.
    n_init : int, default=1
        Number of initialisations; the run with the lowest final inertia is kept. Must be 1
        when ``init`` is an array.
    max_iter : int, default=300
        Maximum number of iterations (one assignment step and one update step each).
    tol : float, default=1e-4
        Stop when the squared movement of all centres, summed, is at most ``tol`` times the
        mean per-feature variance of X (scikit-learn's convention), or when no label changes.
    random_state : int, RandomState instance or None, default=None
        Seed of the initial centres (``"k-means++"`` or ``"random"``); unused when ``init``
        is an array.

    Attributes
    ----------
    cluster_centers_ : ndarray of shape (n_clusters, n_features)
    labels_ : ndarray of shape (n_samples,)
    inertia_ : float
        Sum of squared distances of the samples to their centres.
    n_iter_ : int
    inertia_history_ : ndarray of shape (n_iter_,)
        The inertia right after each assignment step of the best run; never increasing.
    n_features_in_ : int
    counts_ : ndarray of shape (n_clusters,), float64
        Set by :meth:`partial_fit` only: :math:`v_k`, the number (the total weight, with
        ``sample_weight``) of the points assigned to each centre over all batches so far.
    n_steps_ : int
        Set by :meth:`partial_fit` only: the number of batches seen.

    Notes
    -----
    Empty clusters. When the E-step leaves ``m`` clusters without points, the M-step first
    measures the squared distance of every point to the centre it was just assigned to (a
    centre of that assignment, not an updated one) and takes the ``m`` farthest points, the
    worst served. Each of them leaves its cluster, whose mean is then computed without it, and
    becomes the only point, hence the centre, of one empty cluster, which can only lower
    :math:`J`. The ``m`` points come from a partial sort (:func:`numpy.argpartition`), so
    which of them goes to which empty cluster does not follow their rank. When every cluster
    consists of copies of a single point (possible only if X has fewer distinct points than
    clusters), nothing is moved: the M-step puts each centre on its point, and no move could
    lower :math:`J`. A cluster that is still empty (nothing was moved, or it gave away its
    only point) has no mean and keeps its centre.

    This is scikit-learn's relocation with two differences. scikit-learn skips it only when
    all the distances above are exactly zero; but a centre that is the mean of copies of a
    point can miss the point by a rounding step, so some moves would then be made on rounding
    noise alone, leaving centres one rounding step apart between which points hop, sometimes
    until ``max_iter``. And scikit-learn puts a cluster that is still empty on top of the
    largest one. From the same initial centres, and apart from rounding, the two give the
    same results whenever neither case arises.

    Data far from the origin. The assignment step expands the squared distance as
    ``|x|^2 - 2 x.mu + |mu|^2`` (one matrix product for all pairs),
    whose terms are rounded relative to ``|x|^2``. When the squared length
    of the data mean exceeds :func:`emlib.moments.spread_limit` times the total variance,
    the iterations run on the data minus their mean (scikit-learn always centres); otherwise
    on the data as given, so that 0/1 images keep exact integer distances and ``float32``
    and ``float64`` break ties alike.
    """

    def __init__(
        self,
        n_clusters=8,
        *,
        init="k-means++",
        n_init=1,
        max_iter=300,
        tol=1e-4,
        random_state=None,
    ):
        self.n_clusters = n_clusters
        self.init = init
        self.n_init = n_init
        self.max_iter = max_iter
        self.tol = tol
        self.random_state = random_state

    def _check_parameters(self, X):
        check_scalar(self.n_clusters, "n_clusters", Integral, min_val=1)
        check_scalar(self.n_init, "n_init", Integral, min_val=1)
        check_scalar(self.max_iter, "max_iter", Integral, min_val=1)
        check_scalar(self.tol, "tol", Real, min_val=0.0)
        if X.shape[0] < self.n_clusters:
            raise ValueError(
                f"n_clusters={self.n_clusters} is larger than the number of samples "
                f"({X.shape[0]}); use fewer clusters or more data."
            )
        if isinstance(self.init, str):
            if self.init not in ("k-means++", "random"):
                raise ValueError(
                    f"init={self.init!r} is not supported; use 'k-means++', 'random' or an "
                    "array of initial centres."
                )
        else:
            centers = np.asarray(self.init, dtype=X.dtype)
            if centers.shape != (self.n_clusters, X.shape[1]):
                raise ValueError(
                    f"init has shape {centers.shape}; expected (n_clusters, n_features) = "
                    f"({self.n_clusters}, {X.shape[1]})."
                )
            if self.n_init != 1:
                raise ValueError("With explicit initial centres use n_init=1: every run is equal.")

    def _initial_centers(self, X, rng, offset, x_sq=None):
        if isinstance(self.init, str) and self.init == "k-means++":
            return kmeans_plusplus_centers(X, self.n_clusters, rng, x_sq=x_sq)
        if isinstance(self.init, str):
            return X[rng.choice(X.shape[0], self.n_clusters, replace=False)].copy()
        return np.array(self.init, dtype=X.dtype) - offset

    def _update_centers(self, X, labels, centers, sums, counts):
        """M-step with one-hot responsibilities; empty clusters as in the class Notes.

        ``centers`` are the centres ``labels`` was computed with; ``sums`` and ``counts``
        are the sums and numbers of the points of each cluster (:mod:`emlib.lloyd`).
        """
        if counts.all():
            return sums / counts[:, np.newaxis].astype(X.dtype)
        _relocate_to_empty_clusters(X, labels, centers, sums, counts)
        # A cluster still empty has no mean, and J does not depend on its centre: it stays.
        new_centers = centers.copy()
        filled = counts > 0
        new_centers[filled] = sums[filled] / counts[filled, np.newaxis].astype(X.dtype)
        return new_centers

    def _lloyd(self, X, centers, tol, x_sq):
        history = []
        labels_old = None
        strict = False
        for n_iter in range(1, self.max_iter + 1):  # noqa: B007 (returned below)
            labels, sums, counts, inertia = lloyd_step(X, centers, x_sq)
            history.append(inertia)
            new_centers = self._update_centers(X, labels, centers, sums, counts)
            shift = float(((new_centers - centers) ** 2).sum())
            centers = new_centers
            if labels_old is not None and np.array_equal(labels, labels_old):
                strict = True
                break
            if shift <= tol:
                break
            labels_old = labels
        return centers, labels, strict, n_iter, np.asarray(history)

    @staticmethod
    def _final_assignment(X, centers, labels, strict, x_sq):
        r"""Labels that match the final centres, and the inertia they give.

        When the last update moved the centres (not ``strict``), one more assignment step
        labels the points by the final centres, as scikit-learn's Lloyd does; its sums are
        not used. The inertia is then taken from the deviations themselves
        (:func:`emlib.lloyd.inertia`), not from the expansion, whose terms are rounded
        relative to :math:`\lVert x \rVert^2`: the reported inertia keeps its digits.
        """
        if not strict:
            labels = lloyd_step(X, centers, x_sq)[0]
        return labels, inertia(X, centers, labels)

    def _warn_if_too_few_distinct_points(self, X):
        # Identical points always share their nearest centre, so with fewer distinct points
        # than clusters some cluster ends up empty. Counting distinct rows sorts X: it is only
        # worth doing when that has happened.
        if np.bincount(self.labels_, minlength=self.n_clusters).all():
            return
        n_distinct = len(np.unique(X, axis=0))
        if n_distinct < self.n_clusters:
            warnings.warn(
                f"Distinct points in X: {n_distinct}, fewer than n_clusters={self.n_clusters}; "
                "some clusters end up empty.",
                ConvergenceWarning,
                stacklevel=user_stacklevel(),
            )

    def fit(self, X, y=None):
        """Run Lloyd's algorithm ``n_init`` times and keep the lowest inertia.

        Warns
        -----
        ConvergenceWarning
            If X has fewer distinct points than ``n_clusters``, with their number.
        """
        X = validate_data(self, X, dtype=[np.float64, np.float32])
        self._check_parameters(X)
        rng = check_random_state(self.random_state)
        offset, variances = _column_means_and_variances(X)
        tol = float(np.mean(variances)) * self.tol
        # Lloyd's iterations expand squared distances about the origin, which loses about
        # log10(|mean|^2 / spread) digits (in float32 at 1e4 standard deviations, all of them).
        # Data that far out are moved to their mean, which changes no distance; data near
        # the origin are left as they are, so that 0/1 images keep exact integer distances.
        if offset @ offset <= spread_limit(X.dtype) * variances.sum():
            offset[:] = 0.0
        centred = X - offset if offset.any() else X
        # ||x||^2 is the same in every iteration and for every centre: it does not change
        # which centre is nearest, so the step adds it only to each point's own distance.
        # The k-means++ seeding uses the same norms.
        x_sq = np.einsum("ij,ij->i", centred, centred)
        best = None
        for _ in range(self.n_init):
            # The compiled step runs its own threads, each with small products. The seeding
            # and the final pass stay on one BLAS thread too: BLAS threads left spinning
            # after them made the compiled steps 2 to 3 times slower (with the seeding's
            # products on two BLAS threads, a GaussianMixture(10) start on 100,000 x 10
            # blobs took 40 ms at best on two cores, on one 21 ms).
            with one_blas_thread():
                start = self._initial_centers(centred, rng, offset, x_sq)
                centers, labels, strict, n_iter, history = self._lloyd(centred, start, tol,
                                                                        x_sq)
                labels, final_inertia = self._final_assignment(centred, centers, labels, strict,
                                                               x_sq)
            if best is None or final_inertia < best[2]:
                best = (centers, labels, final_inertia, n_iter, history)
        (
            centers,
            self.labels_,
            self.inertia_,
            self.n_iter_,
            self.inertia_history_,
        ) = best
        self.cluster_centers_ = centers + offset
        # The running counts of earlier partial_fit calls do not describe these centres.
        self._forget(_ONLINE_ATTRIBUTES)
        self._warn_if_too_few_distinct_points(X)
        return self

    def fit_predict(self, X, y=None):
        """Fit and return the cluster of every sample."""
        return self.fit(X).labels_

    def _forget(self, names):
        for name in names:
            self.__dict__.pop(name, None)

    def partial_fit(self, X, y=None, sample_weight=None):
        r"""One step of mini-batch k-means (Sculley, 2010) on the batch X.

        Each call is one hard E-step on the batch and one update of the centres that the
        batch reaches. With :math:`z_n` the nearest centre of the batch point :math:`x_n`
        (from the centres before the update), :math:`w_n` its weight (1 by default),

        .. math::

            n_k = \sum_{n:\, z_n = k} w_n, \qquad s_k = \sum_{n:\, z_n = k} w_n x_n,

        and :math:`v_k` the weight assigned to centre :math:`k` by all earlier batches
        (``counts_``), every centre with :math:`n_k > 0` moves to the mean of all points
        ever assigned to it,

        .. math::

            \mu_k \leftarrow \frac{v_k \mu_k + s_k}{v_k + n_k}
            = \mu_k + \frac{n_k}{v_k + n_k}\Bigl(\frac{s_k}{n_k} - \mu_k\Bigr),
            \qquad v_k \leftarrow v_k + n_k,

        and a centre with :math:`n_k = 0` stays where it is, its count unchanged. This is
        Sculley's per-centre learning rate :math:`1/v_k`, applied to the points of a batch
        one after the other with the assignments fixed at the start of the batch.

        It is stepwise (online) EM (Cappé and Moulines, 2009,
        https://doi.org/10.1111/j.1467-9868.2009.00698.x) with a hard E-step. Stepwise EM
        moves the expected sufficient statistics towards those of the new data,
        :math:`S \leftarrow S + \gamma\,(\hat S - S)`, and maps them to parameters by the
        M-step. Here the statistic of centre :math:`k` is the mean of its points,
        :math:`\mu_k` itself, that of the batch is :math:`\bar x_k = s_k / n_k`, and the step
        :math:`\gamma_k = n_k / (v_k + n_k)` is per centre: point by point it is
        :math:`1/v_k`, the harmonic sequence, which meets the Robbins-Monro conditions
        :math:`\sum \gamma = \infty`, :math:`\sum \gamma^2 < \infty`.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            One batch. After the first call it is converted to the dtype of
            ``cluster_centers_`` (``float32`` batches give ``float32`` centres).
        y : Ignored
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights; they multiply each point's contribution to :math:`n_k`
            and :math:`s_k`. They are not used to choose the initial centres.

        Returns
        -------
        self : KMeans

        Raises
        ------
        ValueError
            If the number of features differs from that of the first batch, or the
            weights are not one finite non-negative number per row.

        Notes
        -----
        The first call (or the first after :meth:`fit`) starts afresh: it chooses the
        initial centres from this batch with ``init`` and ``random_state`` as :meth:`fit`
        does, once (``n_init`` is not used), sets every count to zero, and then makes the
        update above with this same batch, as scikit-learn's
        :meth:`sklearn.cluster.MiniBatchKMeans.partial_fit` does; each centre the batch
        reaches thus moves to the mean of its points in the batch. A model fitted by
        :meth:`fit` is not continued, since its centres carry no counts. Conversely
        :meth:`fit` drops ``counts_`` and ``n_steps_``.

        ``labels_``, ``inertia_``, ``n_iter_`` and ``inertia_history_`` describe a whole
        data set and are not set (those of an earlier :meth:`fit` are removed): call
        :meth:`predict` or :meth:`score` on the data of interest.

        Differences from scikit-learn's ``MiniBatchKMeans.partial_fit``: there is no random
        reassignment of centres whose count falls below ``reassignment_ratio`` times the
        largest, so the steps are deterministic once the centres are chosen, and a centre
        that starts far from the data may stay unused; with ``reassignment_ratio=0`` the
        two compute the same centres and counts from the same initial centres. Counts are
        kept in ``float64`` whatever the dtype of X.

        Numerics. When the batch lies far from the origin (the same test as in :meth:`fit`,
        with :func:`emlib.moments.spread_limit`), both the batch and the centres are first
        moved to the batch mean, which changes no distance: the assignment then keeps its
        digits (without the move, ``float32`` data at 1e3 have near-ties decided by
        rounding, and the counts change). The update is computed in the second form above,
        as a correction :math:`(s_k - n_k \mu_k) / (v_k + n_k)` to the centre, a sum of
        differences of the size of the clusters, so the centre moves by a correction
        rounded relative to itself, which is small once :math:`v_k` is large, instead of
        being recomputed from :math:`v_k \mu_k + s_k`. The
        assignment and the sums are those of :func:`emlib.lloyd.lloyd_step` (compiled if
        Numba is installed), as in :meth:`fit`.
        """
        # validate_data sets n_features_in_ (and feature_names_in_) before the checks of a
        # first call can fail: a call that raises must leave the model as it was, or an
        # unfitted model would look fitted.
        with restored_on_failure(self):
            return self._partial_fit(X, sample_weight)

    def _partial_fit(self, X, sample_weight):
        first = not hasattr(self, "counts_")
        X = validate_data(self, X, dtype=[np.float64, np.float32], reset=first)
        weights = _check_sample_weight(sample_weight, X.shape[0])
        if first:
            self._check_parameters(X)
            rng = check_random_state(self.random_state)
            centers = self._initial_centers(X, rng, 0.0)
            counts = np.zeros(self.n_clusters)
            n_steps = 0
        else:
            centers, counts, n_steps = self.cluster_centers_, self.counts_, self.n_steps_
            X = X.astype(centers.dtype, copy=False)
        centers, counts = self._minibatch_step(X, weights, centers, counts)
        if first:
            self._forget(_BATCH_ATTRIBUTES)
        self.cluster_centers_, self.counts_, self.n_steps_ = centers, counts, n_steps + 1
        return self

    def _minibatch_step(self, X, weights, centers, counts):
        """The update of :meth:`partial_fit`; returns new centres and counts (no mutation)."""
        offset = X.mean(axis=0)
        # As in fit: far from the origin the expanded distances and v_k mu_k lose digits, so
        # work relative to the batch mean; near it keep X, so that 0/1 data give exact sums.
        if offset @ offset <= spread_limit(X.dtype) * np.var(X, axis=0).sum():
            offset[:] = 0.0
        centred = X - offset if offset.any() else X
        start = centers - offset
        with one_blas_thread():
            labels, sums, n, _ = lloyd_step(centred, start, np.einsum("ij,ij->i", centred,
                                                                      centred))
        if weights is None:
            n = n.astype(np.float64)
        else:
            sums, n = _weighted_sums(centred, labels, weights, self.n_clusters)
        new_counts = counts + n
        reached = n > 0
        # Correction form: s_k - n_k mu_k is a sum of differences x_n - mu_k, of the size of
        # the clusters, so its rounding does not grow with v_k as that of v_k mu_k does.
        step = (sums[reached] - n[reached, np.newaxis] * start[reached]) / new_counts[
            reached, np.newaxis
        ]
        new = start.copy()
        new[reached] += step.astype(X.dtype)
        return new + offset if offset.any() else new, new_counts

    def _check_fitted_input(self, X):
        check_is_fitted(self)
        return validate_data(self, X, reset=False, dtype=[np.float64, np.float32])

    def predict(self, X):
        """Index of the nearest centre for every sample."""
        X = self._check_fitted_input(X)
        return squared_distances(X, self.cluster_centers_).argmin(axis=1)

    def transform(self, X):
        r"""Euclidean distance :math:`\lVert x_n - \mu_k \rVert` of every sample to every
        centre, in ``float32`` when both the data and the centres are, else in ``float64``.

        ``float32`` data are expanded in ``float64``, a block of rows at a time (as
        scikit-learn's ``euclidean_distances`` does), then rounded: expanded in ``float32``,
        the distance of a point to its own centre lost every digit when the centres lie
        far apart relative to the clusters' spread (spread 0.5, centres 100 apart: a
        median relative error of 8e-4, and zeros for distances of about 0.03).
        :meth:`predict` keeps the ``float32`` expansion, as scikit-learn's does, so in
        ``float32`` ``transform(X).argmin(axis=1)`` can differ from it where two centres
        are nearly equidistant (up to 3 points in 10,000, with 300 overlapping clusters).
        """
        X = self._check_fitted_input(X)
        centers = self.cluster_centers_.astype(np.float64)
        dtype = np.result_type(X, self.cluster_centers_)
        distances = np.empty((X.shape[0], self.n_clusters), dtype=dtype)
        # Blocks sized by the distances they hold as well as by the rows they read.
        for rows in row_blocks(X.shape[0], X.shape[1] + self.n_clusters):
            np.sqrt(squared_distances(X[rows].astype(np.float64, copy=False), centers),
                    out=distances[rows], casting="same_kind")
        return distances

    def score(self, X, y=None):
        r"""Minus the inertia of X with respect to the fitted centres (higher is better):
        :math:`-\sum_n \lVert x_n - \mu_{z_n} \rVert^2`, with :math:`z_n` the label
        :meth:`predict` gives.

        The labels come from the expanded distances; the sum from the deviations
        themselves, in ``float64`` (:func:`emlib.lloyd.inertia`, as ``inertia_``): the
        expanded distances of points near their centre lose digits when the centres lie
        far apart (in ``float32``, a relative 1e-3 of the score on clusters of spread 0.5
        whose centres are 100 apart).
        """
        X = self._check_fitted_input(X)
        centers = self.cluster_centers_
        labels = squared_distances(X, centers).argmin(axis=1)
        # The kernel takes both in one dtype; float64 centres are not rounded to float32.
        X = X.astype(np.result_type(X, centers), copy=False)
        with one_blas_thread():
            return -inertia(X, centers, labels)
