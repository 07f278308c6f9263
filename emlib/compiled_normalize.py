r"""The flushed normalisation of :func:`emlib.em.log_normalize` in two compiled passes.

With ``flush=True``, every row :math:`a_{n\cdot}` of log-weights, shifted by its largest
entry :math:`m_n`, gives the weights

.. math::

    w_{nk} = \begin{cases} e^{a_{nk} - m_n} & a_{nk} - m_n \ge \ell, \\
                           0 & \text{otherwise,} \end{cases}
    \qquad s_n = \sum_k w_{nk},

with :math:`\ell` from :func:`emlib.em.flush_limit`; the responsibilities are
:math:`w_{nk} / s_n`. In NumPy that is seven passes over the :math:`N K` numbers: subtract,
find the minimum, compare with :math:`\ell`, raise to :math:`\ell` (so that ``exp`` makes
no subnormal number), ``exp``, multiply by the comparison, sum the rows. Apart from
``exp``, several passes cost about what they cost in ``float64``: on 100,000 x 10
``float32`` log-weights, ``np.maximum`` with a scalar took 0.40 ms against ``exp``'s 0.45,
and on a ``diag`` fit's log-weights the whole normalisation took 1.98 ms against 2.39 in
``float64``.

Here :func:`shift_and_raise` subtracts, compares and raises in one pass, and
:func:`zero_and_sum` zeroes the raised entries and sums the rows in another; ``exp``
stays NumPy's, whose vectorised code a scalar loop does not match. The operations are
NumPy's (the zeroing computes :math:`w - w`, which equals NumPy's :math:`0 \cdot w` for
every :math:`w`, ``nan`` and ``inf`` included), in the same order (each row summed from
the first component to the last, as NumPy 2 reduces over the columns of an array that is
Fortran-ordered and not also C-ordered: not a documented promise, so ``tests/test_em.py``
compares the two paths), so the results are the same to the bit, the sign of a ``nan``
aside. A ``nan`` (from ``nan`` data) stays ``nan``, as both paths keep it.

The kernels take the log-weights as the E-step of every family makes them, Fortran-ordered
(:func:`applies`); other arrays take NumPy's passes. An array of one row (or one column)
is C-ordered as well, and NumPy sums a row of eight or more entries pairwise: it too takes
NumPy's passes.
"""

import functools

import numpy as np

try:
    import numba
except ImportError:  # The package works without Numba, with NumPy's passes.
    numba = None

__all__ = ["ENABLED", "HAVE_NUMBA", "applies", "shift_and_raise", "zero_and_sum"]

HAVE_NUMBA = numba is not None
# Set to False to normalise with NumPy's passes only (the tests compare the two).
ENABLED = HAVE_NUMBA


def applies(weighted):
    """Whether the kernels normalise ``weighted``: Numba installed and :data:`ENABLED`, a
    writeable array of ``float32`` or ``float64``, Fortran-ordered and not C-ordered (so
    with at least two rows and two columns)."""
    flags = weighted.flags
    return (HAVE_NUMBA and ENABLED and flags.f_contiguous and not flags.c_contiguous
            and flags.writeable and weighted.dtype in (np.float32, np.float64))


if HAVE_NUMBA:
    # No threads: the E-step also runs inside Dask's worker threads, and a pass over N K
    # numbers is too short to share.
    _kernel = functools.partial(numba.njit, cache=True, nogil=True, error_model="numpy")

    @_kernel
    def shift_and_raise(weights_t, shift, limit, keep):
        r"""In place, :math:`a_{nk} \leftarrow \max(a_{nk} - m_n, \ell)`, and
        ``keep[k, n]`` :math:`= (a_{nk} - m_n \ge \ell)`.

        Parameters
        ----------
        weights_t : ndarray of shape (n_components, n_samples), C-ordered
            The transpose of the Fortran-ordered log-weights: each component's column is
            contiguous, so the inner loop over samples is vectorised.
        shift : ndarray of shape (n_samples,)
            :math:`m_n`, finite.
        limit : float
            :math:`\ell`, in the dtype of ``weights_t``.
        keep : ndarray of bool, of shape (n_components, n_samples)
            Overwritten.

        Returns
        -------
        raised : bool
            Whether any entry was below :math:`\ell` (or ``nan``): without one,
            ``keep`` is all true and the multiplication can be skipped.
        """
        n_components, n_samples = weights_t.shape
        raised = False
        for k in range(n_components):
            for n in range(n_samples):
                shifted = weights_t[k, n] - shift[n]
                kept = shifted >= limit
                keep[k, n] = kept
                # Written so that nan stays nan, as np.maximum keeps it.
                weights_t[k, n] = limit if shifted < limit else shifted
                raised |= not kept
        return raised

    @_kernel
    def zero_and_sum(weights_t, keep, total):
        r"""In place, :math:`w_{nk} \leftarrow 0 \cdot w_{nk}` where ``keep[k, n]`` is false, and
        ``total[n]`` :math:`= \sum_k w_{nk}`, from the first component to the last.

        Parameters
        ----------
        weights_t : ndarray of shape (n_components, n_samples), C-ordered
            :math:`e^{\max(a_{nk} - m_n, \ell)}`, transposed as in :func:`shift_and_raise`.
        keep : ndarray of bool, of shape (n_components, n_samples)
            From :func:`shift_and_raise`.
        total : ndarray of shape (n_samples,)
            Overwritten with the row sums :math:`s_n`.
        """
        n_components, n_samples = weights_t.shape
        for n in range(n_samples):
            total[n] = 0
        for k in range(n_components):
            for n in range(n_samples):
                weight = weights_t[k, n]
                if not keep[k, n]:
                    # Zero, as NumPy's multiplication by the comparison gives it; nan
                    # stays nan.
                    weight -= weight
                    weights_t[k, n] = weight
                total[n] += weight
