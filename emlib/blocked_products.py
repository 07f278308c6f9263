r"""The two matrix products of a Bernoulli EM iteration in small blocks of rows, on Numba's
threads.

The E-step needs :math:`X W^\top` (:math:`N \times K`, with :math:`W` the log-odds) and
the M-step :math:`R^\top X` (:math:`K \times D`). With :math:`K` much smaller than
:math:`D`, both are thin products that OpenBLAS's general kernels run well below their
rate. In blocks of rows small enough for OpenBLAS's small-matrix kernels
(:func:`emlib.lloyd.small_block_rows`), the E-step's product took about half the time:
on 60,000 binary images with K = 20 (AMD EPYC, SkylakeX kernels, two threads, medians of
15) 27 to 28 against 46 to 47 ms in float64 and 14 against 28 to 31 ms in float32. The
M-step's, which reads X from memory as the E-step's does and adds a (K, D) block sum per
block, gained little: 48 to 52 against 43 to 56 ms in float64, 26 to 27 against 30 ms in
float32. It moves all the same, since both products must run on the same threads: with
only the E-step's on Numba's, an iteration got slower (112 against 100 ms in float64), as
Numba's OpenMP threads, still spinning after it, competed with OpenBLAS's own threads in
the M-step's product. On one Numba thread no team spins, and the M-step's product runs
whole, which is then faster (:func:`m_step_block_rows`).

Each of ``N_GROUPS`` fixed groups of blocks is one parallel task; every block has the same
number of rows (the last padded with zeros) and the M-step's group sums are added in group
order, so the results do not depend on the number of threads.
"""

import threading

import numpy as np

from .lloyd import HAVE_NUMBA, N_GROUPS, PARALLEL_WORK, one_blas_thread, small_block_rows

if HAVE_NUMBA:
    import numba

__all__ = ["block_rows_for", "log_odds_products", "m_step_block_rows", "weighted_sums"]

# The M-step's product was timed in blocks of 56 and 120 rows (K = 20 and 10 on 784
# pixels), not in fewer: with fewer (K of 40 or more on 784 pixels) both products stay
# whole.
_MIN_ROWS = 32


def block_rows_for(X, n_components):
    """Rows per block for dense X and ``n_components`` columns, or ``None`` when the two
    products should run whole: sparse, non-float or not C-contiguous X (the kernels would
    copy it in every step), no Numba, a call from a thread other than the main one, too
    little work to share between threads (:data:`emlib.lloyd.PARALLEL_WORK`), no
    small-matrix kernels, or blocks of fewer than 32 rows (not timed).

    Other threads get the whole products because Dask's threaded scheduler fits one chunk
    per thread: parallel kernels started from several threads at once would each wake a
    team of threads on the same cores (and abort under Numba's workqueue layer), and the
    BLAS limit of :func:`emlib.lloyd.one_blas_thread` is process-wide.
    """
    if not (HAVE_NUMBA and isinstance(X, np.ndarray) and X.dtype in (np.float32, np.float64)
            and X.flags.c_contiguous):
        return None
    if threading.current_thread() is not threading.main_thread():
        return None
    n_samples, n_features = X.shape
    if n_samples * n_components * n_features < PARALLEL_WORK:
        return None
    rows = small_block_rows(n_components, n_features)
    return rows if rows is not None and rows >= _MIN_ROWS else None


def m_step_block_rows(X, n_components):
    """:func:`block_rows_for` for the M-step's product, or ``None`` when Numba runs on one
    thread.

    In blocks the M-step's product was never much faster than the whole one, and on one
    thread (one BLAS thread, one Numba thread, as the book's notebooks run) it was slower
    in float64: 62 against 53 ms on 60,000 binary images with K = 10, 97 against 66 ms
    with K = 20, 5.8 against 3.1 ms on 4,000 images (medians of 21). It runs in blocks
    only so that OpenBLAS's threads do not compete with Numba's team, still spinning after
    the E-step's product; a single Numba thread starts no team.
    """
    rows = block_rows_for(X, n_components)
    # Asked last: the first call of numba.get_num_threads starts Numba's threads, which a
    # sparse fit, or one in Dask's threads, never needs.
    return None if rows is None or numba.get_num_threads() == 1 else rows


if HAVE_NUMBA:
    # The number of groups is passed in, not read from lloyd's N_GROUPS inside the kernels:
    # Numba freezes a global into the cached machine code, and its cache notices changes
    # to this file only, so an edit of lloyd.py alone would have left them stale.

    @numba.njit(parallel=True, cache=True, nogil=True)
    def _log_odds_kernel(X, W_T, offsets, rows, n_groups, out_T):
        n_samples, n_features = X.shape
        n_columns = W_T.shape[1]
        n_blocks = (n_samples + rows - 1) // rows
        for g in numba.prange(n_groups):
            block_out = np.empty((rows, n_columns), dtype=X.dtype)
            for block in range(g * n_blocks // n_groups, (g + 1) * n_blocks // n_groups):
                start = block * rows
                stop = min(start + rows, n_samples)
                if stop - start == rows:
                    np.dot(X[start:stop], W_T, block_out)
                else:
                    # A full block for the last rows too, so that every row goes through
                    # the same kernel (one row alone would go to gemv).
                    padded = np.zeros((rows, n_features), dtype=X.dtype)
                    padded[: stop - start] = X[start:stop]
                    np.dot(padded, W_T, block_out)
                # Transposed while the block is in cache: the E-step wants the (N, K)
                # result column-major.
                for i in range(stop - start):
                    for k in range(n_columns):
                        out_T[k, start + i] = block_out[i, k] + offsets[k]

    @numba.njit(parallel=True, cache=True, nogil=True)
    def _weighted_sums_kernel(X, resp_T, rows, group_sums):
        n_samples, n_features = X.shape
        n_columns = resp_T.shape[0]
        n_blocks = (n_samples + rows - 1) // rows
        n_groups = group_sums.shape[0]
        for g in numba.prange(n_groups):
            block_resp = np.zeros((n_columns, rows), dtype=X.dtype)
            block_sums = np.empty((n_columns, n_features), dtype=X.dtype)
            sums = group_sums[g]
            sums[:] = 0.0
            for block in range(g * n_blocks // n_groups, (g + 1) * n_blocks // n_groups):
                start = block * rows
                stop = min(start + rows, n_samples)
                if stop - start == rows:
                    block_resp[:] = resp_T[:, start:stop]
                    np.dot(block_resp, X[start:stop], block_sums)
                else:
                    # Padded with zero weights and zero rows to a full block.
                    block_resp[:] = 0.0
                    block_resp[:, : stop - start] = resp_T[:, start:stop]
                    padded = np.zeros((rows, n_features), dtype=X.dtype)
                    padded[: stop - start] = X[start:stop]
                    np.dot(block_resp, padded, block_sums)
                sums += block_sums


def log_odds_products(X, log_odds, offsets, rows):
    r""":math:`X W^\top + \mathbf{1} b^\top`, the E-step's product, in blocks of ``rows``.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features), float32 or float64
    log_odds : ndarray of shape (n_components, n_features), X's dtype
        :math:`W`.
    offsets : ndarray of shape (n_components,)
        :math:`b`, added to every row.
    rows : int
        From :func:`block_rows_for`.

    Returns
    -------
    ndarray of shape (n_samples, n_components), column-major
    """
    out_T = np.empty((log_odds.shape[0], X.shape[0]), dtype=X.dtype)
    with one_blas_thread():
        _log_odds_kernel(np.ascontiguousarray(X), np.ascontiguousarray(log_odds.T),
                         np.asarray(offsets, dtype=X.dtype), rows, N_GROUPS, out_T)
    return out_T.T


def weighted_sums(X, resp, rows):
    r""":math:`\sum_n r_{nk} x_{nd}`, the M-step's product :math:`R^\top X`, in blocks of
    ``rows``; each group's blocks summed in X's dtype, the groups added in order.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features), float32 or float64
    resp : ndarray of shape (n_samples, n_components)
    rows : int
        From :func:`m_step_block_rows`.

    Returns
    -------
    ndarray of shape (n_components, n_features), row-major
    """
    group_sums = np.empty((N_GROUPS, resp.shape[1], X.shape[1]), dtype=X.dtype)
    with one_blas_thread():
        _weighted_sums_kernel(np.ascontiguousarray(X),
                              np.ascontiguousarray(resp.T, dtype=X.dtype), rows, group_sums)
    sums = group_sums[0].copy()
    for g in range(1, N_GROUPS):
        sums += group_sums[g]
    return sums
