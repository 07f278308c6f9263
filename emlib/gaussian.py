r"""Gaussian mixture models fitted by EM.

The model (Bishop, 2006, Section 9.2) is

.. math::

    p(x \mid \theta) = \sum_{k=1}^{K} \pi_k\, \mathcal{N}(x \mid \mu_k, \Sigma_k).

Given responsibilities :math:`r_{nk}`, the M-step sets

.. math::

    N_k = \sum_n r_{nk}, \qquad
    \pi_k = \frac{N_k}{N}, \qquad
    \mu_k = \frac{1}{N_k} \sum_n r_{nk}\, x_n, \qquad
    \Sigma_k = \frac{1}{N_k} \sum_n r_{nk} (x_n - \mu_k)(x_n - \mu_k)^\top + \epsilon I,

where :math:`\epsilon` is ``reg_covar``. The four covariance types constrain
:math:`\Sigma_k`: ``full`` (any), ``tied`` (one matrix shared by all components), ``diag``
(diagonal) and ``spherical`` (:math:`\sigma_k^2 I`).

Densities are evaluated through the Cholesky factor of each precision matrix,
:math:`\Sigma_k^{-1} = U_k U_k^\top`, so that

.. math::

    \log \mathcal{N}(x \mid \mu_k, \Sigma_k) = -\tfrac{D}{2} \log 2\pi
    + \log \det U_k - \tfrac12 \lVert (x - \mu_k)^\top U_k \rVert^2 .

With ``prior="conjugate"`` or an :class:`emlib.GaussianPrior`, the M-step is instead the
posterior mode under a conjugate prior (MAP-EM, see :mod:`emlib.priors`), nothing is added to
the diagonal, and the objective recorded is the log-posterior per sample.

On small data (:func:`emlib.compiled_gaussian.applies`) every E-step and M-step of a fit is
one compiled kernel (:mod:`emlib.compiled_gaussian`) that computes the same quantities, up to
rounding, from the deviations of the data from each mean and from an anchor point of each
component.

The shapes and conventions of every fitted attribute are scikit-learn's, so the two libraries
can be compared parameter by parameter.
"""

import math
from numbers import Real

import numpy as np
from scipy.linalg import get_blas_funcs, get_lapack_funcs
from sklearn.utils import check_scalar
from sklearn.utils.validation import check_is_fitted

from . import compiled_gaussian
from .em import MixtureEM, check_positive_int, check_weights
from .moments import (
    WIDE_FEATURES,
    diagonal_scatter,
    full_scatter,
    pooled_scatter,
    row_blocks,
    spread_limit,
    summed_scatter,
)
from .online import OnlineEMMixin
from .priors import (
    log_prior_density,
    map_gaussian_parameters,
    map_parameters_from_moments,
    prior_constants,
    resolve_prior,
)

__all__ = [
    "GaussianMixture",
    "estimate_gaussian_parameters",
    "precision_cholesky",
    "log_gaussian_density",
    "mahalanobis_and_log_det",
    "n_parameters",
    "full_covariances",
    "check_covariance_type",
    "precisions_from_cholesky",
    "initial_covariances",
]

COVARIANCE_TYPES = ("full", "tied", "diag", "spherical")

DEFAULT_REG_COVAR = 1e-6


def check_covariance_type(covariance_type):
    """Raise a ValueError naming the four choices unless ``covariance_type`` is one."""
    if covariance_type not in COVARIANCE_TYPES:
        raise ValueError(
            f"covariance_type={covariance_type!r} is not supported; "
            f"choose one of {', '.join(map(repr, COVARIANCE_TYPES))}."
        )


def precisions_from_cholesky(precisions_cholesky, covariance_type):
    r"""The precision matrices :math:`U_k U_k^\top` from their factors (the layout of
    ``precisions_``: squared entries for ``diag`` and ``spherical``)."""
    U = precisions_cholesky
    if covariance_type == "full":
        return U @ np.swapaxes(U, 1, 2)
    if covariance_type == "tied":
        return U @ U.T
    return U**2


def initial_covariances(covariances, precisions_init, covariance_type, dtype):
    """The covariances of a start: ``covariances`` (from the initial responsibilities), or
    the inverses of ``precisions_init`` when given, in ``dtype``."""
    if precisions_init is None:
        return covariances
    precisions = np.asarray(precisions_init, dtype=dtype)
    if covariance_type in ("full", "tied"):
        return np.linalg.inv(precisions)
    return 1.0 / precisions


def _collapse_error(reg_covar):
    return ValueError(
        "A component's covariance matrix is no longer positive definite: it has collapsed onto "
        "a single point or a lower-dimensional subspace, where the likelihood is unbounded. "
        f"Increase reg_covar (now {reg_covar:g}), use fewer components, or remove duplicated "
        "points."
    )


def _full_mahalanobis(X, means, U):
    r""":math:`\lVert (x_n - \mu_k)^\top U_k \rVert^2` for all samples and components.

    With a centre :math:`c` (the mean of the means), :math:`(x_n - \mu_k)^\top U_k =
    (x_n - c)^\top U_k - (\mu_k - c)^\top U_k`: one product of the stacked, transposed
    factors :math:`[U_1 \cdots U_K]^\top` with the centred data, minus a column of offsets,
    gives every component's transformed data at once; squaring it and summing each
    component's block of rows gives the distances. The rows of ``X`` are processed in blocks
    to bound memory.

    Centring makes the result independent of where the origin is. What remains is the
    rounding of :math:`x_n - c`, an error of about :math:`\epsilon` times the length of the
    offset :math:`(\mu_k - c)^\top U_k` (the distance from the centre to :math:`\mu_k` in
    the component's own units); a component farther than
    :func:`emlib.moments.spread_limit` such units is evaluated from
    :math:`x_n - \mu_k` directly.
    """
    n_components, n_features = means.shape
    width = n_components * n_features
    # The sum and division of means.mean(axis=0), without its overhead (small data).
    centre = np.add.reduce(means, axis=0) / n_components
    offsets = np.einsum("ki,kij->kj", means - centre, U)
    # Feature-major blocks, (K D, n) and (K, n): every elementwise step and the sum over
    # each component's rows then runs along a block's length (the output is column-major,
    # so its transpose takes whole rows), where an (n, K D) layout summed its blocks with a
    # product by an indicator matrix. 22 -> 15 ms in float64 and 12 -> 8 ms in float32 on
    # 100,000 x 10 data with K = 10.
    out_T = np.empty((n_components, X.shape[0]), dtype=X.dtype)
    if n_features >= TRIANGULAR_FULL_FEATURES:
        _wide_mahalanobis(X, centre, U, offsets, out_T)
    else:
        # Row (k, j) is column j of U_k.
        factors = U.transpose(0, 2, 1).reshape(width, n_features)
        column = offsets.reshape(width, 1)
        for rows in row_blocks(X.shape[0], width, min_rows=n_features):
            Y = factors @ np.subtract(X[rows].T, centre[:, np.newaxis], order="C")
            Y -= column
            Y *= Y
            np.add.reduce(Y.reshape(n_components, n_features, -1), axis=1,
                          out=out_T[:, rows])
    out = out_T.T
    for k in _far_from_centre(offsets):
        _direct_mahalanobis(X, means[k], U[k], out[:, k])
    return out


# Features from which full components' distances take one triangular product each
# (_wide_mahalanobis) rather than the stacked general product. The product alone gains
# from 32 features, but the per-component passes over rows of D numbers cost more than it
# saves below about 64 (one thread, K = 10, whole distance computation: 1.22x the stacked
# path's time at 32 features, 1.06x at 48, 0.85x at 64, 0.59x at 784 with K = 2). Tied
# components take one product for all, which gains from WIDE_FEATURES on.
TRIANGULAR_FULL_FEATURES = 64


def _times_upper(A, U):
    r""":math:`A U` for an upper-triangular :math:`U`, in place in the C-ordered ``A``.

    BLAS's triangular product (``trmm``) skips the zeros below the diagonal, half the
    multiply-adds of a general product: on one core, 1,990 x 784 rows times two 784 x 784
    factors took 57 ms against 99 ms, and at 32 features (4,096 rows, ten factors) 2.2
    against 2.5 ms (but see :data:`TRIANGULAR_FULL_FEATURES` for what the passes around
    it cost). ``trmm`` multiplies a column-major matrix from the left, so it is given
    :math:`A^\top` and computes :math:`U^\top A^\top`; it reads only the upper triangle
    of ``U``, and works in place only when ``A`` is in ``U``'s dtype (the callers pass
    arrays of their own).
    """
    trmm = get_blas_funcs("trmm", (U, A))
    return trmm(1.0, U, A.T, side=0, lower=0, trans_a=1, overwrite_b=1).T


def _wide_mahalanobis(X, centre, U, offsets, out_T):
    r"""``out_T[k]`` :math:`\leftarrow \lVert (x_n - c)^\top U_k - o_k \rVert^2`, one
    component at a time by triangular products (:func:`_times_upper`), for data of at
    least :data:`TRIANGULAR_FULL_FEATURES` features; ``offsets`` are the rows
    :math:`o_k = (\mu_k - c)^\top U_k`."""
    n_components, n_features = offsets.shape
    for rows in row_blocks(X.shape[0], n_features, min_rows=n_features):
        centred = np.subtract(X[rows], centre, order="C")
        for k in range(n_components):
            last = k == n_components - 1
            Y = _times_upper(centred if last else centred.copy(), U[k])
            Y -= offsets[k]
            Y *= Y
            np.add.reduce(Y, axis=1, out=out_T[k, rows])


def _far_from_centre(offsets):
    """Components whose mean lies more than ``spread_limit`` of their own standard units
    from the centre, given the offsets (mu_k - c)^T U_k, one row per component."""
    lengths = np.square(offsets).sum(axis=1)
    return (lengths > spread_limit(offsets.dtype) ** 2).nonzero()[0]


def _direct_mahalanobis(X, mean, U, out):
    r"""``out`` :math:`\leftarrow \lVert (x_n - \mu)^\top U \rVert^2`, deviations first."""
    for rows in row_blocks(X.shape[0], X.shape[1]):
        Y = (X[rows] - mean) @ U
        out[rows] = np.einsum("ij,ij->i", Y, Y)


def _diagonal_mahalanobis(X, means, precisions):
    r""":math:`\sum_d P_{kd} (x_{nd} - \mu_{kd})^2` for diagonal precisions :math:`P_{kd}`.

    Expanded about the centre :math:`c` of the means, the sum is
    :math:`\sum_d P_{kd} (\mu_{kd} - c_d)^2 - 2 \sum_d P_{kd} (\mu_{kd} - c_d)(x_{nd} - c_d)
    + \sum_d P_{kd} (x_{nd} - c_d)^2`: a constant per component plus one matrix product of
    :math:`[-2 P_{k\cdot} \odot (\mu_k - c),\ P_{k\cdot}]` with the stacked
    :math:`(x_n - c,\ (x_n - c)^2)`. Near :math:`\mu_k` the terms are about
    :math:`P_{kd} (\mu_{kd} - c_d)^2` while the result is about one per feature, so a
    component for which that ratio exceeds :func:`emlib.moments.spread_limit` (far from the
    others relative to its spread) is recomputed from the deviations themselves. The output
    is column-major, the layout the E-step wants (see :class:`emlib.em.MixtureEM`).
    """
    n_components = means.shape[0]
    centre = np.add.reduce(means, axis=0) / n_components  # means.mean(axis=0)
    shifted = means - centre
    # P_kd (mu_kd - c_d)^2: the constant term, and the ratio tested below.
    ratios = np.square(shifted)
    ratios *= precisions
    constant = ratios.sum(axis=1)
    n_features = X.shape[1]
    # Feature-major blocks, written into the transpose of the
    # column-major output: 5.8 -> 3.1 ms in float64 and 3.7 -> 1.8 ms in float32 on
    # 100,000 x 10 data with K = 10, against an (n, D) layout.
    weights = np.concatenate([-2.0 * shifted * precisions, precisions], axis=1)
    # Found before the products, so that each block, still in cache, serves them too. On
    # 100,000 x 10 float32 blobs with K = 10, one component past float32's limit of about
    # 200, a separate pass over all of X added about 2.1 ms to the 2.5 ms of these
    # distances; inside the blocks it adds about 1.1 ms (medians of 30).
    # The expansion runs in X's dtype (Z below): the limit is that of the less precise of
    # it and the parameters', as when a float64 fit scores float32 data.
    limit = min(spread_limit(X.dtype), spread_limit(ratios.dtype))
    far = np.flatnonzero((ratios > limit).any(axis=1))
    constant[far] = 0  # their sums are whole
    out_T = np.empty((n_components, X.shape[0]), dtype=X.dtype)
    for rows in row_blocks(X.shape[0], 8 * n_features):
        block = X[rows].T
        Z = np.empty((2 * n_features, block.shape[1]), dtype=X.dtype)
        np.subtract(block, centre[:, np.newaxis], out=Z[:n_features])
        np.square(Z[:n_features], out=Z[n_features:])
        np.matmul(weights, Z, out=out_T[:, rows])
        for k in far:
            # From the deviations themselves, overwriting the expansion's value.
            deviations = np.subtract(block, means[k][:, np.newaxis], out=Z[:n_features])
            np.square(deviations, out=deviations)
            np.matmul(precisions[k], deviations, out=out_T[k, rows])
    out_T += constant[:, np.newaxis]
    return out_T.T


def n_parameters(n_components, n_features, covariance_type="full"):
    """Number of free parameters of a Gaussian mixture.

    With :math:`K` components in :math:`d` dimensions, the count is :math:`K - 1` weights (they
    sum to one), :math:`K d` means and the covariance parameters: :math:`K d(d+1)/2` for
    ``"full"``, :math:`K d` for ``"diag"``, :math:`d(d+1)/2` for ``"tied"`` (one matrix shared
    by all components) and :math:`K` for ``"spherical"``.

    Parameters
    ----------
    n_components : int
        Number of components :math:`K`.
    n_features : int
        Dimension :math:`d` of the data.
    covariance_type : {"full", "diag", "tied", "spherical"}
        Covariance structure.

    Returns
    -------
    int
        The parameter count :math:`p` used by BIC and AIC.
    """
    check_positive_int(n_components, "n_components")
    check_positive_int(n_features, "n_features")
    k, d = int(n_components), int(n_features)
    covariance_counts = {
        "full": k * d * (d + 1) // 2,
        "diag": k * d,
        "tied": d * (d + 1) // 2,
        "spherical": k,
    }
    if covariance_type not in covariance_counts:
        raise ValueError(
            f"covariance_type must be one of {COVARIANCE_TYPES}, got {covariance_type!r}."
        )
    return covariance_counts[covariance_type] + k * d + k - 1


def full_covariances(covariances, covariance_type, n_components, n_features):
    r"""Expand any of the four covariance layouts to one matrix per component.

    The layouts are those of scikit-learn: ``"full"`` stores :math:`\Sigma_k` with shape
    (K, d, d), ``"tied"`` one shared :math:`\Sigma` with shape (d, d), ``"diag"`` the
    variances :math:`\sigma_{kj}^2` with shape (K, d) and ``"spherical"`` one variance
    :math:`\sigma_k^2` per component with shape (K,). The expansion is
    :math:`\Sigma_k = \Sigma`, :math:`\operatorname{diag}(\sigma_{k1}^2, \dots, \sigma_{kd}^2)`
    and :math:`\sigma_k^2 \mathbf{I}` respectively.

    Parameters
    ----------
    covariances : array-like
        Covariances in the layout of ``covariance_type``.
    covariance_type : {"full", "tied", "diag", "spherical"}
    n_components, n_features : int
        Number of components :math:`K` and dimension :math:`d`.

    Returns
    -------
    ndarray of shape (n_components, n_features, n_features)
        A read-only broadcast view for ``"tied"``.

    Raises
    ------
    ValueError
        If ``covariance_type`` is unknown or the array does not have its shape.

    Examples
    --------
    >>> full_covariances([1.0, 4.0], "spherical", 2, 2).tolist()
    [[[1.0, 0.0], [0.0, 1.0]], [[4.0, 0.0], [0.0, 4.0]]]
    """
    if covariance_type not in COVARIANCE_TYPES:
        raise ValueError(
            f"covariance_type must be one of {COVARIANCE_TYPES}, got {covariance_type!r}."
        )
    covariances = np.asarray(covariances, dtype=float)
    k, d = n_components, n_features
    expected = {"full": (k, d, d), "tied": (d, d), "diag": (k, d), "spherical": (k,)}
    if covariances.shape != expected[covariance_type]:
        raise ValueError(
            f"For covariance_type={covariance_type!r} with {k} components in {d} dimensions "
            f"the covariances must have shape {expected[covariance_type]}, got "
            f"{covariances.shape}; check that covariance_type matches the array."
        )
    if covariance_type == "full":
        return covariances
    if covariance_type == "tied":
        return np.broadcast_to(covariances, (k, d, d))
    variances = covariances if covariance_type == "diag" else covariances[:, None] * np.ones(d)
    return variances[:, :, None] * np.eye(d)


def estimate_gaussian_parameters(X, resp, reg_covar, covariance_type, *, centred=None):
    r"""M-step of a Gaussian mixture: soft counts, means and covariances.

    Implements :math:`N_k = \sum_n r_{nk}`, :math:`\mu_k = \sum_n r_{nk} x_n / N_k` and the
    covariance update of the chosen type, with ``reg_covar`` added to every diagonal. Means
    and scatters are computed from the data measured from their mean, and the scatter about
    each mean comes from :mod:`emlib.moments`, so both keep their digits however far the
    data lie from the origin or the components from each other.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    resp : ndarray of shape (n_samples, n_components)
    reg_covar : float
    covariance_type : {"full", "tied", "diag", "spherical"}
    centred : tuple of (ndarray, ndarray), optional
        ``(origin, X - origin)`` with ``origin = X.mean(axis=0)``, for a caller that calls
        this function with the same ``X`` many times (EM does, in every iteration); computed
        here when not given.

    Returns
    -------
    nk : ndarray of shape (n_components,)
    means : ndarray of shape (n_components, n_features)
    covariances : ndarray
        Shape (K, D, D), (D, D), (K, D) or (K,) for full, tied, diag and spherical.
    """
    # An empty component would divide by zero; it keeps a finite mean (and weight zero).
    # scikit-learn adds 10 eps to every count instead, which moves every mean by a relative
    # 10 eps: in float32 (1e-6) enough to make a one-point component's covariance indefinite.
    nk = resp.sum(axis=0)
    divisor = np.maximum(nk, np.finfo(resp.dtype).tiny)
    # The moments are taken about the data's mean. A component mean far from the origin is
    # stored only to eps |mu|, and a scatter about such a rounded mean is off by about
    # 2 eps |mu| |mu - c| (c the centre of emlib.moments): in float32 at 1e3, about 1e-3 of
    # a unit variance. Measured from a point inside the data, the mean keeps its digits.
    if centred is None:
        origin = X.mean(axis=0)
        centred = origin, X - origin
    origin, Xc = centred
    offsets = (resp.T @ Xc) / divisor[:, np.newaxis]

    if covariance_type == "full":
        covariances = full_scatter(Xc, resp, divisor, offsets, reg_covar, origin)
    elif covariance_type == "tied":
        covariances = pooled_scatter(Xc, resp, divisor, offsets, reg_covar, origin)
    else:
        covariances = diagonal_scatter(Xc, resp, divisor, offsets, reg_covar, origin)
    return nk, offsets + origin, _regularised(covariances, reg_covar, covariance_type)


def _regularised(covariances, reg_covar, covariance_type):
    """``reg_covar`` added to every variance of the ML scatters (full and tied in place;
    the per-feature variances of ``diag`` averaged for ``spherical``)."""
    if covariance_type == "full":
        # The diagonals as a strided view of the contiguous stack: indexing with ranges
        # builds index arrays.
        covariances = np.ascontiguousarray(covariances)
        n_features = covariances.shape[-1]
        covariances.reshape(len(covariances), -1)[:, :: n_features + 1] += reg_covar
        return covariances
    if covariance_type == "tied":
        covariances.flat[:: covariances.shape[0] + 1] += reg_covar
        return covariances
    covariances = covariances + reg_covar
    return covariances.mean(axis=1) if covariance_type == "spherical" else covariances


def precision_cholesky(covariances, covariance_type, reg_covar=0.0):
    r"""Upper-triangular factors :math:`U_k` with :math:`\Sigma_k^{-1} = U_k U_k^\top`.

    For full and tied covariances :math:`U_k = L_k^{-\top}` where
    :math:`\Sigma_k = L_k L_k^\top` is the Cholesky factorisation; for diag and spherical,
    :math:`U_k = 1/\sqrt{\sigma^2}` elementwise.

    Raises
    ------
    ValueError
        If a covariance is not positive definite (a collapsed component); ``reg_covar`` is
        only used in the message.
    """
    if covariance_type in ("full", "tied"):
        stack = covariances if covariance_type == "full" else covariances[np.newaxis]
        # NumPy's batched routine factors all components in one call. SciPy's BLAS is a
        # separate copy: its solve_triangular waited 2.5 ms per 10 x 10 call for NumPy's busy
        # threads, but the triangular inverses below, also SciPy's, took 0.16 to 0.19 ms for
        # the ten of a blobs iteration with two threads (benchmarks/README.md, seventh record).
        try:
            cov_chol = np.linalg.cholesky(stack)
        except np.linalg.LinAlgError:
            raise _collapse_error(reg_covar) from None
        # L_ii^2 / Sigma_ii is the share of feature i's variance not explained by the
        # features before it; at rounding level the matrix is singular in all but name
        # (a component flattened onto a line or plane), whatever the units of the data.
        explained = np.square(cov_chol.diagonal(0, 1, 2))
        explained /= stack.diagonal(0, 1, 2)
        # Written so that a nan covariance (from a sample of zero probability under every
        # component) fails too.
        if not explained.min() > 16 * np.finfo(stack.dtype).eps:
            raise _collapse_error(reg_covar)
        factors = _lower_triangular_inverse(cov_chol).swapaxes(1, 2)
        return factors if covariance_type == "full" else factors[0]
    if not covariances.min() > 0:  # also false for a nan
        raise _collapse_error(reg_covar)
    return 1.0 / np.sqrt(covariances)


def _lower_triangular_inverse(factors):
    r"""The inverses :math:`L_k^{-1}` of a stack of lower-triangular Cholesky factors.

    LAPACK's triangular inverse (``?trtri``) takes about :math:`D^3/3` floating-point
    operations, where ``numpy.linalg.inv`` treats the factor as a general matrix, factoring it
    by LU and solving for the identity's :math:`D` columns (about :math:`8D^3/3`): for two
    784 x 784 factors, 25 against 175 ms with two BLAS threads, and faster even for
    10 x 10 ones (34 against 73 microseconds for ten, SciPy's calls one by one against
    NumPy's batched one). Only the lower triangles are read; the upper ones are copied from
    ``factors``, whose zeros (``numpy.linalg.cholesky`` writes them) are the inverses' too.

    Parameters
    ----------
    factors : ndarray of shape (n_components, n_features, n_features)
        Lower-triangular with a positive diagonal.

    Returns
    -------
    ndarray of the same shape and dtype
    """
    (trtri,) = get_lapack_funcs(("trtri",), (factors,))
    inverses = np.empty_like(factors)
    for k, factor in enumerate(factors):
        # LAPACK's status is non-zero only for a zero on the diagonal, which
        # precision_cholesky's test of the factors has already excluded.
        inverses[k] = trtri(factor, lower=1)[0]
    return inverses


def log_gaussian_density(X, means, precisions_cholesky, covariance_type):
    r""":math:`\log \mathcal{N}(x_n \mid \mu_k, \Sigma_k)` for every sample and component.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    means : ndarray of shape (n_components, n_features)
    precisions_cholesky : ndarray
        The factors returned by :func:`precision_cholesky`.
    covariance_type : {"full", "tied", "diag", "spherical"}

    Returns
    -------
    ndarray of shape (n_samples, n_components)
    """
    mahalanobis, log_det = mahalanobis_and_log_det(X, means, precisions_cholesky, covariance_type)
    # math.log keeps a Python float, which does not promote float32 arrays to float64.
    # In place, in the order of -0.5 (D log 2 pi + delta) + log det U.
    mahalanobis += X.shape[1] * math.log(2 * math.pi)
    mahalanobis *= -0.5
    mahalanobis += log_det
    return mahalanobis


def mahalanobis_and_log_det(X, means, precisions_cholesky, covariance_type):
    r"""Squared Mahalanobis distances :math:`\delta_{nk} = \lVert (x_n - \mu_k)^\top U_k
    \rVert^2` and :math:`\log \det U_k = -\tfrac12 \log \det \Sigma_k`.

    The two terms of every elliptical log-density that depend on the parameters: the
    Gaussian's (:func:`log_gaussian_density`) and the Student t's (:mod:`emlib.student`).
    The distances are taken about the centre of the means, so that they keep their digits
    far from the origin.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    means : ndarray of shape (n_components, n_features)
    precisions_cholesky : ndarray
        The factors returned by :func:`precision_cholesky`: for full and tied components,
        upper-triangular :math:`U_k`, of which only the upper triangle is read (a lower
        factor of the same precision gives wrong distances).
    covariance_type : {"full", "tied", "diag", "spherical"}

    Returns
    -------
    mahalanobis : ndarray of shape (n_samples, n_components)
        Column-major (see :class:`emlib.em.MixtureEM`).
    log_det : ndarray of shape (n_components,), or a scalar for ``"tied"``
    """
    n_samples, n_features = X.shape
    n_components = means.shape[0]
    U = precisions_cholesky

    if covariance_type == "full":
        log_det = np.log(np.diagonal(U, axis1=1, axis2=2)).sum(axis=1)
        mahalanobis = _full_mahalanobis(X, means, U)
    elif covariance_type == "tied":
        log_det = np.log(U.diagonal()).sum()
        # One factor for all components: transform the centred data once. Column-major
        # output, so that each component's column is contiguous (see MixtureEM).
        # Far components are then evaluated directly, as in the full case.
        centre = np.add.reduce(means, axis=0) / n_components  # means.mean(axis=0)
        mahalanobis = np.empty((n_components, n_samples), dtype=X.dtype).T
        XU = np.subtract(X, centre, order="C")
        XU = _times_upper(XU, U) if n_features >= WIDE_FEATURES else XU @ U
        MU = (means - centre) @ U
        # All components of a block of rows at once: the rows of y_nk = x_n U - mu_k U
        # stacked into one contiguous (n K, D) array, each summed as its own row.
        for rows in row_blocks(n_samples, n_components * n_features):
            y = (XU[rows, np.newaxis, :] - MU).reshape(-1, n_features)
            mahalanobis[rows] = np.einsum("ij,ij->i", y, y).reshape(-1, n_components)
        for k in _far_from_centre(MU):
            _direct_mahalanobis(X, means[k], U, mahalanobis[:, k])
    else:
        # A spherical precision is a diagonal one with equal entries.
        precisions = np.broadcast_to(
            (U**2).reshape(n_components, -1), (n_components, n_features)
        )
        log_det = np.log(U).sum(axis=1) if covariance_type == "diag" else n_features * np.log(U)
        mahalanobis = _diagonal_mahalanobis(X, means, precisions)
    return mahalanobis, log_det


class GaussianMixture(OnlineEMMixin, MixtureEM):
    r"""Gaussian mixture model fitted by expectation-maximisation.

    Parameters
    ----------
    n_components : int, default=1
        Number of Gaussian components :math:`K`.
    covariance_type : {"full", "tied", "diag", "spherical"}, default="full"
        Constraint on the covariance matrices.
    tol : float, default=1e-3
        Convergence threshold on the change of the objective per sample (the mean
        log-likelihood, or the mean log-posterior with a prior).
    reg_covar : float, default=1e-6
        Added to the diagonal of every covariance in every M-step, so that a component cannot
        collapse onto a point (where the likelihood is unbounded). Not used with a prior,
        which keeps the covariances positive definite itself: adding it would make the
        M-step miss the posterior mode and the log-posterior could fall. A ``reg_covar``
        other than the default together with a prior raises a ValueError.
    prior : None, "conjugate" or GaussianPrior, default=None
        None: maximum likelihood. ``"conjugate"``: MAP-EM with the conjugate prior of
        Fraley and Raftery (2007) and its data-dependent defaults; a
        :class:`emlib.GaussianPrior` sets the hyper-parameters. See :mod:`emlib.priors` for
        the priors, the defaults and the M-step of each covariance type.
    max_iter : int, default=100
        Maximum number of EM iterations per initialisation.
    n_init : int, default=1
        Number of initialisations; the best run is kept.
    init_params : {"kmeans", "k-means++", "random", "random_from_data"}, default="kmeans"
        How initial responsibilities are chosen (see :class:`emlib.em.MixtureEM`).
    weights_init : array-like of shape (n_components,), default=None
        Initial weights; overrides ``init_params`` for the weights.
    means_init : array-like of shape (n_components, n_features), default=None
        Initial means.
    precisions_init : array-like, default=None
        Initial precision matrices (inverse covariances), in the shape of ``precisions_``.
    random_state : int, RandomState instance or None, default=None
        Seed of the start that ``init_params`` computes, of a Dask array's sample of rows
        for it, and of :meth:`sample`. :meth:`fit` computes no start, and so does not use
        the seed, when ``weights_init``, ``means_init`` and ``precisions_init`` fix the
        whole start; the first :meth:`partial_fit` always computes one, for its running
        statistics.
    warm_start : bool, default=False
    verbose : int, default=0
    keep_history : bool, default=False
        Store the starting parameters and those after every M-step in ``params_history_``.
    progress : bool, default=False
        Show a progress bar of the EM iterations (tqdm), with the current objective.
    learning_decay : float, default=0.7
        :math:`\kappa \in (0, 1]` of the step :math:`\rho_t = (t + \tau)^{-\kappa}` of
        :meth:`partial_fit` (online EM, :mod:`emlib.online`); convergence is proved for
        :math:`\kappa \in (0.5, 1]`.
    learning_offset : float, default=0.0
        :math:`\tau \ge 0` of that step; a larger offset damps the first steps.

    Attributes
    ----------
    weights_ : ndarray of shape (n_components,)
    means_ : ndarray of shape (n_components, n_features)
    covariances_ : ndarray
        (K, D, D) full, (D, D) tied, (K, D) diag, (K,) spherical.
    precisions_ : ndarray
        Inverses of ``covariances_``, same shape.
    precisions_cholesky_ : ndarray
        Upper-triangular :math:`U_k` with ``precisions_[k] == U_k @ U_k.T``.
    converged_ : bool
    n_iter_ : int
        Iterations (E-step then M-step) of the best run.
    lower_bound_ : float
        Objective at the last E-step of the best run: the mean log-likelihood per sample,
        or with a prior the mean log-posterior, :math:`(\log p(X \mid \theta) +
        \log p(\theta)) / N`, with the prior's normalising constants included (see
        :func:`emlib.priors.log_prior_density`). Always a Python float, and
        ``log_likelihood_history_`` holds the same values as ``float64``; for ``float32``
        data they come from ``float32`` log-densities and carry about seven digits.
        :meth:`score` stays the mean log-likelihood.
    log_likelihood_history_ : ndarray of shape (n_iter_,)
        The objective at every E-step of the best run. With a prior, or with
        ``reg_covar=0``, every step is an exact EM step and the values never decrease (up to
        rounding); the ridge makes the covariance update differ from the maximiser of the
        expected complete-data log-likelihood, and a large ``reg_covar`` can make them fall.
    prior_ : GaussianPrior or None
        With a prior, its hyper-parameters as used, defaults filled in from the data.
    params_history_ : list of dict
        With ``keep_history=True``: the parameters after 0, 1, ..., ``n_iter_`` M-steps.
    n_features_in_ : int

    Examples
    --------
    >>> import numpy as np
    >>> from emlib import GaussianMixture
    >>> X = np.r_[np.random.default_rng(0).normal(-3, 1, (100, 2)),
    ...           np.random.default_rng(1).normal(3, 1, (100, 2))]
    >>> gm = GaussianMixture(2, random_state=0).fit(X)
    >>> np.sort(gm.means_[:, 0]).round(0).tolist()
    [-3.0, 3.0]
    """

    def __init__(
        self,
        n_components=1,
        *,
        covariance_type="full",
        tol=1e-3,
        reg_covar=DEFAULT_REG_COVAR,
        prior=None,
        max_iter=100,
        n_init=1,
        init_params="kmeans",
        weights_init=None,
        means_init=None,
        precisions_init=None,
        random_state=None,
        warm_start=False,
        verbose=0,
        keep_history=False,
        progress=False,
        learning_decay=0.7,
        learning_offset=0.0,
    ):
        super().__init__(
            n_components,
            tol=tol,
            max_iter=max_iter,
            n_init=n_init,
            init_params=init_params,
            random_state=random_state,
            warm_start=warm_start,
            verbose=verbose,
            keep_history=keep_history,
            progress=progress,
        )
        self.learning_decay = learning_decay
        self.learning_offset = learning_offset
        self.covariance_type = covariance_type
        self.reg_covar = reg_covar
        self.prior = prior
        self.weights_init = weights_init
        self.means_init = means_init
        self.precisions_init = precisions_init

    @classmethod
    def from_parameters(cls, weights, means, covariances, *, covariance_type="full", **params):
        """A mixture with known parameters, ready to use without fitting.

        Useful for the true model behind synthetic data, or for any parameters of interest
        (for example an entry of ``params_history_``): ``predict_proba``, ``score``,
        ``sample`` and the plotting helpers then work as after ``fit``.

        Parameters
        ----------
        weights : array-like of shape (n_components,)
            Non-negative, summing to one.
        means : array-like of shape (n_components, n_features)
        covariances : array-like
            In the shape of ``covariances_`` for ``covariance_type``.
        covariance_type : {"full", "tied", "diag", "spherical"}, default="full"
        **params
            Any other constructor parameter (for example ``random_state`` for ``sample``).

        Returns
        -------
        GaussianMixture

        Examples
        --------
        >>> from emlib import GaussianMixture
        >>> gm = GaussianMixture.from_parameters([0.5, 0.5], [[0.0], [4.0]], [[[1.0]], [[1.0]]])
        >>> gm.predict([[0.5], [3.9]]).tolist()
        [0, 1]
        """
        means = np.asarray(means, dtype=float)
        if means.ndim != 2:
            raise ValueError(f"means must be 2-D (n_components, n_features); got {means.shape}.")
        K, D = means.shape
        if "n_components" in params:
            raise ValueError("n_components is not a parameter here: it is len(means).")
        model = cls(n_components=K, covariance_type=covariance_type, **params)
        covariances = np.asarray(covariances, dtype=float)
        expected = {"full": (K, D, D), "tied": (D, D), "diag": (K, D), "spherical": (K,)}
        check_covariance_type(covariance_type)
        if covariances.shape != expected[covariance_type]:
            raise ValueError(
                f"covariances has shape {covariances.shape}; covariance_type="
                f"{covariance_type!r} with means of shape {means.shape} expects "
                f"{expected[covariance_type]}."
            )
        weights = check_weights(weights, K)
        if covariance_type in ("full", "tied") and not np.allclose(
            covariances, np.swapaxes(covariances, -1, -2)
        ):
            raise ValueError("covariances must be symmetric positive definite.")
        try:
            factors = precision_cholesky(covariances, covariance_type)
        except ValueError:
            raise ValueError("covariances must be symmetric positive definite.") from None
        model._set_parameters(
            {
                "weights": weights,
                "means": means,
                "covariances": covariances,
                "precisions_cholesky": factors,
            }
        )
        model.n_features_in_ = D
        return model

    def _check_family_parameters(self, X):
        check_covariance_type(self.covariance_type)
        check_scalar(self.reg_covar, "reg_covar", Real, min_val=0.0)
        K, D = self.n_components, X.shape[1]
        if self.prior is None:
            self.prior_ = None
        else:
            if self.reg_covar != DEFAULT_REG_COVAR:
                raise ValueError(
                    f"reg_covar={self.reg_covar!r} cannot be combined with a prior: the prior "
                    "already keeps every covariance positive definite, and adding reg_covar "
                    "would make the M-step miss the posterior mode, so that the log-posterior "
                    "could decrease. Leave reg_covar at its default, or set prior=None."
                )
            self.prior_ = resolve_prior(self.prior, X, K, self.covariance_type)
        if self.precisions_init is not None:
            p = np.asarray(self.precisions_init, dtype=float)
            expected = {"full": (K, D, D), "tied": (D, D), "diag": (K, D), "spherical": (K,)}
            shape = expected[self.covariance_type]
            if p.shape != shape:
                raise ValueError(
                    f"precisions_init has shape {p.shape}; covariance_type="
                    f"{self.covariance_type!r} expects {shape}."
                )
            if self.covariance_type in ("full", "tied"):
                mats = p.reshape(-1, D, D)
                if not np.allclose(mats, np.swapaxes(mats, 1, 2)) or np.any(
                    np.linalg.eigvalsh(mats) <= 0
                ):
                    raise ValueError("precisions_init must be symmetric positive definite.")
            elif np.any(p <= 0):
                raise ValueError("precisions_init must be positive.")

    def _start_is_given(self):
        return super()._start_is_given() and self.precisions_init is not None

    def _centred(self, X):
        """``(origin, X - origin)``, the point the M-step measures the data from (the prior
        mean, or the data mean) and the data measured from it, kept for the length of a fit."""
        # Outside fit (there is no scratch then), the centred copy is made for this call only.
        scratch = getattr(self, "_fit_scratch", {})
        if "centred" not in scratch:
            origin = (
                X.mean(axis=0) if self.prior_ is None else self.prior_.mean.astype(X.dtype)
            )
            scratch["centred"] = origin, X - origin
        return scratch["centred"]

    def _parameters_from(self, X, resp):
        """Weights, means and covariances of the M-step (ML, or MAP with a prior)."""
        if self.prior_ is not None:
            return map_gaussian_parameters(
                X, resp, self.prior_, self.covariance_type, centred=self._centred(X)
            )
        nk, means, covariances = estimate_gaussian_parameters(
            X, resp, self.reg_covar, self.covariance_type, centred=self._centred(X)
        )
        # nk / nk.sum() rather than nk / N: with one-hot rows at K seeds ("k-means++",
        # "random_from_data") only K samples carry responsibility.
        return nk / nk.sum(), means, covariances

    def _parameters_and_factors(self, X, resp):
        """The M-step's weights, means and covariances, and the covariances' precision
        factors: by the compiled iteration on small data (:mod:`emlib.compiled_gaussian`),
        else by NumPy."""
        if not compiled_gaussian.applies(X.shape, self.n_components, X.dtype, resp):
            weights, means, covariances = self._parameters_from(X, resp)
            return weights, means, covariances, precision_cholesky(
                covariances, self.covariance_type, self.reg_covar)
        origin, Xc = self._centred(X)
        parameters = compiled_gaussian.m_step(Xc, origin, resp, self.covariance_type,
                                              self.reg_covar, self.prior_)
        if parameters is None:
            raise _collapse_error(self.reg_covar)
        return parameters

    def _initialize(self, X, resp):
        # A tied start from one-hot seeds ("k-means++", "random_from_data": rows of resp
        # that do not sum to one) keeps the NumPy path's pooled scatter, scikit-learn's: the
        # data's scatter less the seeds' spread, not the seeds' own zero scatter, which the
        # compiled M-step would compute.
        if self.precisions_init is None and self.covariance_type != "tied":
            weights, means, self.covariances_, self.precisions_cholesky_ = (
                self._parameters_and_factors(X, resp))
            # Initial arrays take the dtype of X, so that float32 data are fitted in float32.
            self.weights_, self.means_ = self._start_weights_and_means(X, weights, means)
            return
        weights = means = covariances = None
        if resp is not None:
            weights, means, covariances = self._parameters_from(X, resp)
        self.weights_, self.means_ = self._start_weights_and_means(X, weights, means)
        self.covariances_ = initial_covariances(
            covariances, self.precisions_init, self.covariance_type, X.dtype
        )
        self.precisions_cholesky_ = precision_cholesky(
            self.covariances_, self.covariance_type, self.reg_covar
        )

    def _m_step(self, X, resp):
        (self.weights_, self.means_, self.covariances_,
         self.precisions_cholesky_) = self._parameters_and_factors(X, resp)

    def _compiled_e_step(self, X):
        """Whether the E-step on ``X`` runs compiled (:func:`emlib.compiled_gaussian.applies`)."""
        return compiled_gaussian.applies(X.shape, self.n_components, X.dtype, self.weights_,
                                         self.means_, self.precisions_cholesky_)

    def _e_step(self, X):
        if self._compiled_e_step(X):
            return compiled_gaussian.e_step(
                X, self.weights_, self.means_, self.precisions_cholesky_, self.covariance_type)
        return super()._e_step(X)

    def _responsibilities(self, X):
        if self._compiled_e_step(X):
            return compiled_gaussian.responsibilities(
                X, self.weights_, self.means_, self.precisions_cholesky_, self.covariance_type)
        return super()._responsibilities(X)

    def _log_normalisers(self, X):
        if self._compiled_e_step(X):
            # The compiled E-step's log-normalisers: SciPy's logsumexp took about 0.4 ms,
            # as long as ten compiled iterations, on 200 points.
            return compiled_gaussian.responsibilities(
                X, self.weights_, self.means_, self.precisions_cholesky_,
                self.covariance_type)[0]
        return super()._log_normalisers(X)

    def _estimate_weighted_log_prob(self, X):
        if self._compiled_e_step(X):
            return compiled_gaussian.weighted_log_prob(
                X, self.weights_, self.means_, self.precisions_cholesky_, self.covariance_type)
        return super()._estimate_weighted_log_prob(X)

    def _moments(self, X, resp):
        r"""Soft counts, means and scatters of the components on ``X`` (one chunk or batch).

        :math:`N_k = \sum_n r_{nk}`, :math:`m_k = \sum_n r_{nk} x_n / N_k` and
        :math:`W_k = \sum_n r_{nk} (x_n - m_k)(x_n - m_k)^\top` (summed over components for
        ``tied``, diagonals for ``diag`` and ``spherical``), computed about the chunk's own
        mean by :mod:`emlib.moments` and returned in ``float64`` for pooling with
        :func:`emlib.moments.pool_moments`. An empty component's mean is the mean of
        ``X`` (as in :func:`estimate_gaussian_parameters`), and ``"size"``, the number of
        rows, lets the pooling keep it so.
        """
        origin = X.mean(axis=0)
        Xc = X - origin
        nk = resp.sum(axis=0)
        divisor = np.maximum(nk, np.finfo(X.dtype).tiny)
        offsets = (resp.T @ Xc) / divisor[:, np.newaxis]
        floor = self.reg_covar if getattr(self, "prior_", None) is None else 0.0
        scatter = summed_scatter(self.covariance_type, Xc, resp, nk, divisor, offsets, floor,
                                 origin)
        f64 = np.float64
        return {
            "count": nk.astype(f64),
            "mean": offsets.astype(f64) + origin.astype(f64),
            "tied_scatter" if self.covariance_type == "tied" else "scatter": scatter.astype(f64),
            "size": f64(X.shape[0]),
        }

    def _m_step_from_moments(self, moments):
        """The M-step (ML, or MAP with a prior) from pooled moments (see :meth:`_moments`);
        the arithmetic is in ``float64``, the parameters in the dtype of the fit."""
        dtype = self.means_.dtype
        nk, means = moments["count"], moments["mean"]
        scatter = moments["tied_scatter" if self.covariance_type == "tied" else "scatter"]
        prior = getattr(self, "prior_", None)
        if prior is not None:
            weights, means, covariances = map_parameters_from_moments(
                nk, means - prior.mean, scatter, prior, self.covariance_type,
                mu0=np.zeros_like(prior.mean), origin=prior.mean,
            )
        else:
            weights = nk / nk.sum()
            divisor = np.maximum(nk, np.finfo(np.float64).tiny)
            if self.covariance_type == "tied":
                covariances = scatter / nk.sum()
            else:
                covariances = scatter / divisor.reshape((-1,) + (1,) * (scatter.ndim - 1))
            covariances = _regularised(covariances, self.reg_covar, self.covariance_type)
        covariances = covariances.astype(dtype)
        # _set_parameters also sets precisions_, which partial_fit (ending here) needs.
        self._set_parameters({
            "weights": weights.astype(dtype),
            "means": means.astype(dtype),
            "covariances": covariances,
            "precisions_cholesky": precision_cholesky(
                covariances, self.covariance_type, self.reg_covar),
        })

    def _log_prior(self):
        """Log-density of the prior at the current parameters, constants included; zero
        for maximum likelihood. See :func:`emlib.priors.log_prior_density`."""
        if getattr(self, "prior_", None) is None:
            return 0.0
        scratch = getattr(self, "_fit_scratch", {})
        if "prior_constants" not in scratch:
            scratch["prior_constants"] = prior_constants(
                self.prior_, self.n_components, self.covariance_type
            )
        if compiled_gaussian.applies((1, self.means_.shape[1]), self.n_components,
                                     self.means_.dtype, self.weights_, self.covariances_,
                                     self.precisions_cholesky_):
            return compiled_gaussian.log_prior(
                self.prior_, scratch["prior_constants"], self.weights_, self.means_,
                self.covariances_, self.precisions_cholesky_, self.covariance_type)
        return log_prior_density(
            self.prior_,
            self.weights_,
            self.means_,
            self.covariances_,
            self.precisions_cholesky_,
            self.covariance_type,
            constants=scratch["prior_constants"],
        )

    def _estimate_log_prob(self, X):
        return log_gaussian_density(
            X, self.means_, self.precisions_cholesky_, self.covariance_type
        )

    def _get_parameters(self):
        return {
            "weights": self.weights_.copy(),
            "means": self.means_.copy(),
            "covariances": self.covariances_.copy(),
            "precisions_cholesky": self.precisions_cholesky_.copy(),
        }

    def _set_parameters(self, params):
        self.weights_ = params["weights"]
        self.means_ = params["means"]
        self.covariances_ = params["covariances"]
        self.precisions_cholesky_ = params["precisions_cholesky"]
        self.precisions_ = precisions_from_cholesky(
            self.precisions_cholesky_, self.covariance_type
        )

    def n_parameters(self):
        """Free parameters of the fitted model; see the function :func:`n_parameters`.

        The same count with or without a prior: as in mclust, BIC and AIC of a MAP fit are
        computed from the log-likelihood (not the log-posterior) at the MAP estimate.
        """
        check_is_fitted(self)
        return n_parameters(self.n_components, self.means_.shape[1], self.covariance_type)

    def full_covariances(self):
        """The fitted covariances as one (d, d) matrix per component, whatever
        ``covariance_type``; see the function :func:`full_covariances`."""
        check_is_fitted(self)
        return full_covariances(self.covariances_, self.covariance_type, *self.means_.shape)

    def _sample_component(self, k, n_samples, rng):
        cov = self.covariances_
        if self.covariance_type == "full":
            return rng.multivariate_normal(self.means_[k], cov[k], n_samples)
        if self.covariance_type == "tied":
            return rng.multivariate_normal(self.means_[k], cov, n_samples)
        scale = np.sqrt(cov[k])
        return self.means_[k] + scale * rng.standard_normal((n_samples, self.means_.shape[1]))
