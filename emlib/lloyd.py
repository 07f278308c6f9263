r"""One Lloyd iteration of k-means: the nearest centre of every point, and the sums per centre.

Both halves of hard EM run over the rows of X once per iteration,

.. math::

    z_n = \operatorname*{arg\,min}_k \bigl(\lVert \mu_k \rVert^2 - 2\, x_n^\top \mu_k\bigr),
    \qquad
    s_k = \sum_{n:\, z_n = k} x_n, \qquad N_k = \lvert \{n : z_n = k\} \rvert,

(the E-step drops :math:`\lVert x_n \rVert^2`, which is the same for every centre, and adds
it back only to each point's own distance, for the inertia
:math:`J = \sum_n \lVert x_n - \mu_{z_n} \rVert^2`). Two implementations compute the same
thing:

* :func:`lloyd_step_numpy`, whole-array NumPy: one matrix product for all distances, an
  arg-min, and the sums as a sparse one-hot matrix times X. It reads X twice and writes an
  N × K matrix.
* :func:`lloyd_step_compiled`, a Numba kernel that does both steps on blocks of rows
  (:func:`block_rows`) while they are in cache: the distances of a block by one small
  matrix product, then for each point its nearest centre and its addition to that
  centre's sum. The blocks are split into ``N_GROUPS`` fixed groups, run in parallel, each
  with its own sums, which are then added in group order: the result does not depend on
  how many threads ran, so it is the same on every machine with the same BLAS.

The two agree up to the order in which floating-point sums are taken; on data whose sums
are exact (0/1 images in float64) they agree bit for bit. :func:`lloyd_step` uses the
kernel when Numba is installed and the fallback otherwise.

:func:`inertia` gives the inertia of a fit's final labels from the differences
:math:`x_n - \mu_{z_n}` themselves, in float64, where the expansion would lose digits; and
:func:`column_sums_compiled` the column sums a fit's mean and variance are made of.
"""

from __future__ import annotations

from contextlib import nullcontext
from functools import cache

import numpy as np
from scipy import sparse

try:
    import numba
except ImportError:  # The package works without Numba, more slowly.
    numba = None

__all__ = ["BLOCK_ROWS", "HAVE_NUMBA", "N_GROUPS", "PARALLEL_WORK", "block_rows",
           "column_sums_compiled", "inertia", "inertia_compiled", "inertia_numpy", "lloyd_step",
           "lloyd_step_compiled", "lloyd_step_numpy", "one_blas_thread", "small_block_rows"]

# A block of 256 rows of 784 float64 features and its distances to 20 centres take about
# 1.6 MB, which stays in a core's L2 cache between the product and the sums. The most rows
# a block has; see block_rows for fewer.
BLOCK_ROWS = 256
# OpenBLAS's kernels for processors with AVX-512 hand a product of M x K by K x N with
# M N K <= 100^3 to small-matrix kernels that skip packing the operands
# (kernel/x86_64/?gemm_small_kernel_permit_skylakex.c); other cores have none.
_SMALL_KERNEL_CORES = frozenset({"SkylakeX", "Cooperlake", "SapphireRapids"})
_SMALL_PRODUCT = 100**3
# Fixed, not the number of threads, so that the order of the final sums is too; 16 keeps
# 2 to 16 threads busy.
N_GROUPS = 16
# Below this many multiply-adds per iteration (N K D), the kernel runs on one thread:
# waking threads then costs more than it saves.
PARALLEL_WORK = 2**20
HAVE_NUMBA = numba is not None


def block_rows(n_clusters, n_features):
    """Rows per block of the compiled step: ``BLOCK_ROWS``, or fewer where that lets
    OpenBLAS use its small-matrix kernels for the block's distances.

    With those kernels (``_SMALL_KERNEL_CORES``), blocks of at most ``100**3 / (K D)``
    rows took the product of 784-pixel images with the centres in half the time per row
    or less for K up to 20, about two thirds for K = 50: on one core (AMD EPYC, OpenBLAS's
    SkylakeX kernels), in float64 0.53 to 0.61 µs per row for K = 10 in blocks of 32 to 96
    rows against 1.23 in blocks of 256, 0.74 to 0.81 against 1.44 to 1.68 for K = 20 (32
    to 56 rows), 1.86 against 2.62 to 2.85 for K = 50 (24 rows), 3.9 against 4.3 for
    K = 100 (8 rows); in float32 0.31 to 0.36 against 0.70 (K = 10), 0.43 to 0.51 against
    0.74 (K = 20), 0.86 against 1.21 to 1.25 (K = 50). With the Haswell or Zen kernels,
    which have no such path, blocks of 32 to 128 rows were mostly slower than 256 (by up
    to 80% with Haswell's, float32 with K = 50 in blocks of 32; by up to 34% with Zen's,
    7% faster at best), so there the blocks keep ``BLOCK_ROWS``. The choice depends only
    on the shape and on the OpenBLAS libraries loaded when it is first made, so every row
    of a fit goes through the same kernel.
    """
    return small_block_rows(n_clusters, n_features) or BLOCK_ROWS


def small_block_rows(n_columns, n_features):
    """The rows, a multiple of 8 and at most ``BLOCK_ROWS``, of the largest block whose
    product with a ``(n_features, n_columns)`` matrix OpenBLAS takes to its small-matrix
    kernels; ``None`` without such kernels or when not even 8 rows fit."""
    if not _small_kernels():
        return None
    rows = _SMALL_PRODUCT // (n_columns * n_features) // 8 * 8
    return min(rows, BLOCK_ROWS) if rows else None


@cache
def _small_kernels():
    """Whether every OpenBLAS loaded runs kernels with a small-matrix path (the one Numba
    calls is SciPy's, which follows the same core as NumPy's)."""
    cores = [lib.get("architecture") for lib in _threadpool_controller().info()
             if lib.get("internal_api") == "openblas"]
    return bool(cores) and all(core in _SMALL_KERNEL_CORES for core in cores)


def lloyd_step_numpy(X, centers, x_sq):
    """One Lloyd iteration in whole-array NumPy.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    centers : ndarray of shape (n_clusters, n_features)
        The centres of the assignment, same dtype as X.
    x_sq : ndarray of shape (n_samples,)
        :math:`\\lVert x_n \\rVert^2`, computed once per fit.

    Returns
    -------
    labels : ndarray of shape (n_samples,), intp
        Index of the nearest centre (the first, on a tie).
    sums : ndarray of shape (n_clusters, n_features)
        :math:`s_k`, the sum of the points assigned to each centre.
    counts : ndarray of shape (n_clusters,), intp
        :math:`N_k`.
    inertia : float
        :math:`J` of the assignment, each point's squared distance clipped at 0 (the
        expansion can round a tiny distance below it).
    """
    n_samples, n_clusters = X.shape[0], centers.shape[0]
    # Scale the small centre matrix, not X: "2.0 * X @ C.T" would copy all of X.
    partial = X @ (-2.0 * centers).T
    partial += (centers * centers).sum(axis=1)
    labels = partial.argmin(axis=1)
    own = partial[np.arange(n_samples), labels]
    inertia = float(np.maximum(x_sq + own, 0.0).sum())
    # The one-hot responsibilities, stored sparse: R^T X then costs one pass over X. They
    # are float64 so that float32 data are summed in float64, as in the compiled kernel.
    resp_T = sparse.csr_matrix(
        (np.ones(n_samples), (labels, np.arange(n_samples))),
        shape=(n_clusters, n_samples),
    )
    sums = np.asarray(resp_T @ X).astype(X.dtype, copy=False)
    counts = np.bincount(labels, minlength=n_clusters)
    return labels, sums, counts, inertia


if HAVE_NUMBA:

    @numba.njit(cache=True, nogil=True)
    def _lloyd_group(g, X, neg2_centers_T, centers_sq, x_sq, labels, group_sums,
                     group_counts, group_inertia, rows):
        n_samples, n_features = X.shape
        n_clusters = centers_sq.shape[0]
        n_groups = group_counts.shape[0]
        n_blocks = (n_samples + rows - 1) // rows
        # One buffer per group for the products of all its blocks, and the group's sums,
        # counts and inertia as local views and a scalar: a product allocated per block
        # and three-index updates took 7 to 10% more time per iteration on 100,000 x 10
        # blobs (one thread).
        partial = np.empty((rows, n_clusters), dtype=X.dtype)
        sums = group_sums[g]
        counts = group_counts[g]
        inertia = 0.0
        for block in range(g * n_blocks // n_groups, (g + 1) * n_blocks // n_groups):
            start = block * rows
            stop = min(start + rows, n_samples)
            if stop - start == rows:
                np.dot(X[start:stop], neg2_centers_T, partial)
            else:
                # Every product has the same number of rows, so that each row goes through the
                # same BLAS kernel: with fewer, OpenBLAS may switch kernels (a single
                # row goes to gemv), and two copies of a point could get different
                # roundings of their distances, and different centres on a near-tie.
                # Allocated here, for the one short block: 16 groups' worth of padding
                # in blocks of 256 rows of 784 features is 26 MB to zero in every
                # iteration.
                padded = np.zeros((rows, n_features), dtype=X.dtype)
                padded[: stop - start] = X[start:stop]
                np.dot(padded, neg2_centers_T, partial)
            for i in range(stop - start):
                n = start + i
                best = 0
                best_value = partial[i, 0] + centers_sq[0]
                for k in range(1, n_clusters):
                    value = partial[i, k] + centers_sq[k]
                    if value < best_value:
                        best = k
                        best_value = value
                labels[n] = best
                counts[best] += 1
                inertia += max(x_sq[n] + best_value, 0.0)
                row = sums[best]
                x = X[n]
                for f in range(n_features):
                    row[f] += x[f]
        group_inertia[g] = inertia

    # Two functions, not one compiled twice: Numba's cache keys an entry by the
    # function's name and line, so one function compiled with and without parallel=True
    # would load whichever version was cached first for both. The serial one does the
    # same groups in the same order, so the two give the same bits.
    @numba.njit(parallel=True, cache=True, nogil=True)
    def _lloyd_groups_parallel(X, neg2_centers_T, centers_sq, x_sq, labels, group_sums,
                               group_counts, group_inertia, rows):
        for g in numba.prange(group_counts.shape[0]):
            _lloyd_group(g, X, neg2_centers_T, centers_sq, x_sq, labels, group_sums,
                         group_counts, group_inertia, rows)

    # Starting threads costs more than small data take.
    @numba.njit(cache=True, nogil=True)
    def _lloyd_groups_serial(X, neg2_centers_T, centers_sq, x_sq, labels, group_sums,
                             group_counts, group_inertia, rows):
        for g in range(group_counts.shape[0]):
            _lloyd_group(g, X, neg2_centers_T, centers_sq, x_sq, labels, group_sums,
                         group_counts, group_inertia, rows)


def lloyd_step_compiled(X, centers, x_sq):
    """One Lloyd iteration by the Numba kernel; same parameters and results as
    :func:`lloyd_step_numpy`.

    Call it inside :func:`one_blas_thread`: the kernel runs its groups on Numba's
    threads, each with its own small matrix products, and a multi-threaded BLAS inside
    them would oversubscribe the cores. Below ``PARALLEL_WORK`` multiply-adds it runs the
    same groups on one thread.

    Raises
    ------
    RuntimeError
        If Numba is not installed.
    """
    if not HAVE_NUMBA:
        raise RuntimeError("the compiled Lloyd step needs Numba: pip install numba, or "
                           "use lloyd_step_numpy")
    n_samples, n_features = X.shape
    n_clusters = centers.shape[0]
    X = np.ascontiguousarray(X)
    neg2_centers_T = np.ascontiguousarray((-2.0 * centers).T)
    centers_sq = (centers * centers).sum(axis=1)
    labels = np.empty(n_samples, dtype=np.intp)
    # float64 sums also for float32 data: a float32 running sum over thousands of points
    # loses about log10(N) of its 7 digits.
    group_sums = np.zeros((N_GROUPS, n_clusters, n_features), dtype=np.float64)
    group_counts = np.zeros((N_GROUPS, n_clusters), dtype=np.intp)
    group_inertia = np.zeros(N_GROUPS, dtype=np.float64)
    kernel = (_lloyd_groups_parallel if n_samples * n_clusters * n_features >= PARALLEL_WORK
              else _lloyd_groups_serial)
    kernel(X, neg2_centers_T, centers_sq, np.asarray(x_sq, dtype=X.dtype), labels,
           group_sums, group_counts, group_inertia, block_rows(n_clusters, n_features))
    # Added in group order whatever the number of threads: the same result on every machine.
    sums = group_sums[0].copy()
    for g in range(1, N_GROUPS):
        sums += group_sums[g]
    return labels, sums.astype(X.dtype), group_counts.sum(axis=0), float(group_inertia.sum())


@cache
def _threadpool_controller():
    # Building a controller inspects every loaded library (about 10 ms): build it once.
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


def one_blas_thread():
    """A context in which BLAS runs on one thread, for the compiled step's own threads.

    Without Numba, a context that changes nothing.
    """
    if not HAVE_NUMBA:
        return nullcontext()
    return _threadpool_controller().limit(limits=1, user_api="blas")


if HAVE_NUMBA:

    @numba.njit(cache=True, nogil=True)
    def _column_sums_kernel(X, center, squares, out):
        # NumPy's order: each row in turn added to the running sums, which start at 0.
        n_samples, n_features = X.shape
        out[:] = 0.0
        for n in range(n_samples):
            for d in range(n_features):
                value = X[n, d] - center[d] if squares else X[n, d]
                if squares:
                    value = value * value
                out[d] += value


def column_sums_compiled(X, center=None):
    r"""Column sums :math:`\sum_n x_{nd}`, or with ``center``
    :math:`\sum_n (x_{nd} - c_d)^2`, in X's dtype, bit for bit as NumPy's
    ``np.add.reduce(X, axis=0)`` and ``np.add.reduce((X - c) ** 2, axis=0)``.

    NumPy adds the rows of a C-contiguous X with two or more columns in order, one running
    sum per column; so does this, in one pass and without the temporary of the deviations.
    The caller divides by N as NumPy's mean and variance do. On 100,000 x 10 blobs
    NumPy's mean and variance took 1.6 and 2.8 ms, more than two Lloyd iterations.

    Raises
    ------
    ValueError
        If X is not C-contiguous with at least two columns (NumPy then sums pairwise).
    """
    if not (X.ndim == 2 and X.shape[1] >= 2 and X.flags.c_contiguous):
        raise ValueError("column_sums_compiled needs a C-contiguous X with two or more "
                         "columns, whose rows NumPy adds in order")
    out = np.empty(X.shape[1], dtype=X.dtype)
    squares = center is not None
    _column_sums_kernel(X, np.asarray(center if squares else out, dtype=X.dtype), squares,
                        out)
    return out


def inertia_numpy(X, centers, labels):
    r"""The inertia :math:`J = \sum_n \lVert x_n - \mu_{z_n} \rVert^2` of given labels,
    from the differences, in float64 whatever the dtype; whole-array NumPy.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    centers : ndarray of shape (n_clusters, n_features)
    labels : ndarray of shape (n_samples,), intp

    Returns
    -------
    inertia : float
    """
    deviations = X.astype(np.float64) - centers.astype(np.float64)[labels]
    return float(np.einsum("ij,ij->", deviations, deviations))


if HAVE_NUMBA:

    @numba.njit(cache=True, nogil=True)
    def _inertia_group(g, X, centers, labels, group_inertia):
        n_samples, n_features = X.shape
        n_groups = group_inertia.shape[0]
        total = 0.0
        for n in range(g * n_samples // n_groups, (g + 1) * n_samples // n_groups):
            k = labels[n]
            for f in range(n_features):
                deviation = np.float64(X[n, f]) - np.float64(centers[k, f])
                total += deviation * deviation
        group_inertia[g] = total

    # Serial and parallel, as for the step: the same groups, the same bits.
    @numba.njit(parallel=True, cache=True, nogil=True)
    def _inertia_groups_parallel(X, centers, labels, group_inertia):
        for g in numba.prange(group_inertia.shape[0]):
            _inertia_group(g, X, centers, labels, group_inertia)

    @numba.njit(cache=True, nogil=True)
    def _inertia_groups_serial(X, centers, labels, group_inertia):
        for g in range(group_inertia.shape[0]):
            _inertia_group(g, X, centers, labels, group_inertia)


def inertia_compiled(X, centers, labels):
    """:func:`inertia_numpy` by a Numba kernel in one pass, without the N x D temporary:
    each of ``N_GROUPS`` fixed groups of rows sums its squared deviations in float64, and
    the groups are added in order, so the result does not depend on the number of threads.
    Call it inside :func:`one_blas_thread`, like the step.

    Raises
    ------
    RuntimeError
        If Numba is not installed.
    """
    if not HAVE_NUMBA:
        raise RuntimeError("the compiled inertia needs Numba: pip install numba, or use "
                           "inertia_numpy")
    group_inertia = np.zeros(N_GROUPS)
    kernel = (_inertia_groups_parallel if X.size >= PARALLEL_WORK
              else _inertia_groups_serial)
    kernel(np.ascontiguousarray(X), np.ascontiguousarray(centers, dtype=X.dtype),
           np.asarray(labels, dtype=np.intp), group_inertia)
    return float(group_inertia.sum())


def inertia(X, centers, labels):
    """The inertia of given labels: the compiled kernel if Numba is installed, else NumPy."""
    if HAVE_NUMBA:
        return inertia_compiled(X, centers, labels)
    return inertia_numpy(X, centers, labels)


def lloyd_step(X, centers, x_sq):
    """One Lloyd iteration: the compiled kernel if Numba is installed, else NumPy."""
    if HAVE_NUMBA:
        return lloyd_step_compiled(X, centers, x_sq)
    return lloyd_step_numpy(X, centers, x_sq)
