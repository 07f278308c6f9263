r"""Weighted second moments about each component's mean, accurate wherever the data lie.

The M-step of a Gaussian mixture needs, for every component :math:`k`, the weighted scatter

.. math::

    S_k = \frac{1}{N_k} \sum_n r_{nk} (x_n - \mu_k)(x_n - \mu_k)^\top .

Written as it stands it takes two passes (first :math:`\mu_k`, then the deviations) and, for
``K`` components, ``K`` passes over the data. Expanded about one centre :math:`c` shared by all
components,

.. math::
    :label: shifted-scatter

    S_k = \frac{1}{N_k} \sum_n r_{nk} (x_n - c)(x_n - c)^\top - (\mu_k - c)(\mu_k - c)^\top ,

every component comes from one matrix product, but the subtraction cancels. Each entry of
the first term is rounded to a few units of :math:`\epsilon` (the machine epsilon of the data's
dtype) relative to its size, :math:`\sigma_{kd}^2 + (\mu_{kd} - c_d)^2`, so a variance
:math:`\sigma_{kd}^2` keeps a relative error of about

.. math::

    \epsilon\,(1 + \rho_{kd}), \qquad \rho_{kd} = (\mu_{kd} - c_d)^2 / \sigma_{kd}^2 .

With :math:`c = 0` (the textbook formula :math:`E[x x^\top] - \mu\mu^\top`) the ratio grows with
the distance of the data from the origin: 500 points from :math:`N(1000, 1)` in ``float32`` have
:math:`\rho = 10^6 > 1/\epsilon`, and every digit is lost. Chan, Golub and LeVeque (1983,
"Algorithms for computing the sample variance", *The American Statistician* 37, 242-247)
analyse these formulas. Here

* :math:`c` is the weighted mean of the component means, which is the mean of the data when
  the responsibilities sum to one per sample, so no result depends on where the origin is;
* an entry whose :math:`\rho_{kd}` exceeds :func:`spread_limit` (a component far from the
  others relative to its own spread, or one sitting on a single point) is recomputed from
  the deviations from one of the component's own samples, so no variance loses more than
  about a third of its significant digits to the shortcut, and the common case keeps the
  speed of one product. Since ``reg_covar`` is added to every variance afterwards, the
  ratio is taken against the regularised variance: an error far below ``reg_covar``
  changes nothing. Variances at rounding level are recomputed the same way, which makes
  the scatter of any number of copies of one point exactly zero.
"""

import functools

import numpy as np

__all__ = [
    "pool_moments",
    "scale_moments",
    "spread_limit",
    "full_scatter",
    "diagonal_scatter",
    "pooled_scatter",
    "summed_scatter",
    "zero_below_resolution",
]

@functools.lru_cache(maxsize=16)
def spread_limit(dtype):
    r"""Largest :math:`\rho` for which a formula expanded about a common centre is used.

    The expansion loses about :math:`\log_{10} \rho` significant digits; the limit
    :math:`\epsilon^{-1/3}` lets it lose at most a third of them: about :math:`1.7 \times
    10^5` for ``float64`` (ten of sixteen digits kept) and 200 for ``float32`` (five of
    seven).
    """
    return float(np.finfo(dtype).eps) ** (-1 / 3)


# Rows per block in products over all components: the (rows x K*D) intermediate then stays
# near 1 MiB, small enough to stay in cache, which measured about twice as fast as
# whole-array products on 100,000 x 10 data.
_BLOCK_ELEMENTS = 1 << 17


def row_blocks(n_samples, width, min_rows=64):
    """Slices of about ``_BLOCK_ELEMENTS / width`` rows covering ``range(n_samples)``; a
    single ``slice(None)`` when one block holds them all.

    Blocks have at least 64 rows, so that wide data do not cost a Python step per handful of
    rows. Callers whose blocks feed a product over the features ask for ``min_rows`` equal
    to the number of features, below which the BLAS runs far from its rate (on one core,
    for 1,990 x 784 images with K = 2, the full scatter took 366 ms in blocks of 64 rows,
    278 in blocks of 512 and 267 in blocks of 1,024); that request is granted up to eight
    times the usual block, so that memory stays bounded when K is large too.
    """
    usual = _BLOCK_ELEMENTS // max(width, 1)
    step = max(64, usual, min(min_rows, 8 * usual))
    if n_samples <= step:  # small data: one block, without building a range
        return _ALL_ROWS
    return [slice(start, start + step) for start in range(0, n_samples, step)]


_ALL_ROWS = (slice(None),)

# Data with this many features are "wide": a row is long enough for NumPy's loops and the
# products over the features dominate. full_scatter then weights both factors of its
# product by the square root of the responsibilities, so that the product is symmetric and
# BLAS computes half of it (on one core, random data: 73 against 126 ms for K = 2 and
# 1,990 x 784 in one block; for K = 5, 0.94 against 0.96 ms with 32 features, 0.85 against
# 0.79 ms with 24 and 0.66 against 0.48 ms with 10, where the square roots cost more than
# the product saves), and diagonal_scatter squares samples-major blocks instead of
# transposed ones (4.9 against 11.9 ms for 1,990 x 784, 0.42 against 0.69 ms for
# 5,000 x 32; 7.9 against 7.3 ms for 100,000 x 10).
WIDE_FEATURES = 32


def weighted_centre(nk, means):
    r"""The centre :math:`c = \sum_k N_k \mu_k / \sum_k N_k` of the shifted formulas."""
    return (nk @ means) / nk.sum()


def zero_below_resolution(variances, means):
    r"""Set to zero the variances that rounding cannot tell from zero.

    A data set stored with machine epsilon :math:`\epsilon` resolves differences of about
    :math:`\epsilon \lvert x \rvert`, and a component mean is itself rounded at that level, so
    a variance :math:`\sigma_{kd}^2 \le (16\, \epsilon\, \lvert \mu_{kd} \rvert)^2` is noise
    about a component sitting on one point (or on copies of one point). Setting it to exactly
    zero lets ``reg_covar=0`` fits recognise the collapse instead of returning a variance of
    rounding noise.

    Parameters
    ----------
    variances : ndarray of shape (n_components, n_features)
        Modified in place.
    means : ndarray of shape (n_components, n_features)

    Returns
    -------
    ndarray of bool, shape (n_components, n_features)
        Where a variance was set to zero.
    """
    resolution = np.abs(means)
    resolution *= 16 * np.finfo(variances.dtype).eps
    flat = variances <= np.square(resolution, out=resolution)
    if np.count_nonzero(flat):  # the masked assignment costs more than the test on small data
        variances[flat] = 0.0
    return flat


def _located(points, origin):
    """Where ``points``, measured from ``origin``, really lie."""
    return points if origin is None else points + origin


def _inexact(shift_sq, variances, nk, means, floor):
    r"""Entries the shifted formula cannot be trusted with, shape (K, D).

    Those where it loses more digits than :func:`spread_limit` allows, given that ``floor``
    (``reg_covar``) will be added; and those no larger than the rounding error of a mean
    of :math:`N_k` numbers, :math:`(16\, \epsilon N_k |\mu_{kd}|)^2`, where only an exact
    computation can tell a tiny spread from copies of one point.

    A variance computed as exactly zero about a mean exactly at the centre, in a component
    of soft count :math:`N_k \ge 1`, is not among them. Its second moment about the centre
    is a sum of non-negative terms :math:`r_n (x_n - c)^2` (responsibilities are never
    negative), zero only if each term is zero or underflows. So every point of weight lies
    at the centre in that feature, and the feature's covariances are zero too, unless terms
    underflowed: then the true variance is below :math:`N` times the smallest subnormal
    number divided by :math:`N_k` (the reason for :math:`N_k \ge 1`), and the exact
    computation would round to zero as well. In images these are the pixels blank in every
    image of the component, a quarter of the pixels in chapter 4's twos and sixes.
    """
    eps = np.finfo(variances.dtype).eps
    # (16 eps max(N_k, 1) |mu|)^2 and max(variance, 0) + floor, with no more temporaries
    # than needed: on small data each costs as much as its arithmetic.
    noise = np.abs(means)
    noise *= (16 * eps * np.maximum(nk, 1))[..., np.newaxis]
    np.square(noise, out=noise)
    scale = np.maximum(variances, 0.0)
    scale += floor
    scale *= spread_limit(variances.dtype)
    with np.errstate(invalid="ignore"):
        inexact = ~(shift_sq <= scale) | (variances <= noise)
    inexact &= (variances != 0) | (shift_sq != 0) | (np.asarray(nk) < 1)[..., np.newaxis]
    return inexact


def _anchored_deviations(X, weights, nk, features):
    r"""Deviations :math:`d_n = x_n - a` from the anchor :math:`a` in the columns
    ``features``, and their weighted mean :math:`m = \sum_n r_n d_n / N_k`, for
    :func:`_anchored_rows` and :func:`_anchored_variances`.

    The anchor is found in two steps: from the sample of largest weight :math:`x_*`, the
    mean deviation :math:`m_*` gives :math:`a = x_* + m_*`, the component's mean. The
    sample alone can lie two standard deviations from the mean, and then :math:`m m^\top`
    takes away four fifths of the sum before it: on two components of 150,000 ``float32``
    points each, about 1,000 from the origin with spreads of 0.5 to 2, the covariances
    anchored at such a sample had relative errors up to :math:`1.8 \times 10^{-5}`; anchored
    at :math:`a`, :math:`3.5 \times 10^{-7}` (the centred two-pass formula of scikit-learn,
    :math:`4.9 \times 10^{-7}`). Copies of one point still give exact zeros: their
    :math:`m_*` is zero, so :math:`a = x_*`.
    """
    columns = X[:, features]
    sample = columns[np.argmax(weights)]
    deviations = columns - sample
    anchor = sample + weights @ deviations / nk
    np.subtract(columns, anchor, out=deviations)
    return deviations, weights @ deviations / nk


def _anchored_rows(X, weights, nk, features):
    r"""Rows ``features`` of the weighted scatter about the weighted mean, computed from
    deviations from an anchor, shape (len(features), D).

    With :math:`a` the anchor of :func:`_anchored_deviations` (the component's mean, found
    from its sample of largest weight), :math:`d_n = x_n - a` and :math:`m = \sum_n r_n d_n /
    N_k`, the scatter is :math:`\sum_n r_n d_n d_n^\top / N_k - m m^\top`. With the anchor
    at the mean nothing cancels, and a component holding only copies of one point has
    scatter exactly zero however many copies there are (a mean computed by summing many
    copies can miss the point by several rounding steps). Only the rows asked for are
    computed, at :math:`O(N \lvert F \rvert D)` instead of :math:`O(N D^2)`: in images, the
    flagged features are often the constant border pixels, a quarter of them or more.
    """
    deviations, offset = _anchored_deviations(X, weights, nk, slice(None))
    rows = (weights * deviations[:, features].T) @ deviations / nk
    return rows - np.outer(offset[features], offset)


def _anchored_variances(X, weights, nk, features):
    r"""The diagonal of :func:`_anchored_rows` for ``features`` alone,
    :math:`\sum_n r_n d_{nf}^2 / N_k - m_f^2`, at :math:`O(N \lvert F \rvert)`."""
    deviations, offset = _anchored_deviations(X, weights, nk, features)
    return weights @ (deviations * deviations) / nk - offset**2


def full_scatter(X, resp, nk, means, floor=0.0, origin=None):
    r"""Full weighted covariances :math:`S_k` of every component, shape (K, D, D).

    One batched product of the responsibility-weighted, centred data with the centred data,
    :math:`\bigl(r_{\cdot k} \odot (X - c)\bigr)^\top (X - c)` for every :math:`k`, gives
    the first term of :eq:`shifted-scatter` for all components at once; components with a large
    :math:`\rho_{kd}`, or with a variance at rounding level, are then recomputed from
    deviations within the component (:func:`_anchored_rows`), in the rows and columns of the
    features that need it.
    Variances below the data's resolution (:func:`zero_below_resolution`) are set to zero
    with their row and column.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    resp : ndarray of shape (n_samples, n_components)
        Non-negative weights (responsibilities, possibly times other weights): with 32
        features or more the product takes their square roots.
    nk : ndarray of shape (n_components,)
        Positive divisors (soft counts, kept away from zero).
    means : ndarray of shape (n_components, n_features)
    floor : float, default=0.0
        What will be added to every variance (``reg_covar``); errors far below it are
        tolerated.
    origin : ndarray of shape (n_features,), optional
        The point that ``X`` and ``means`` are measured from, when the caller has moved the
        data (see :func:`emlib.gaussian.estimate_gaussian_parameters`). Only the tests of
        resolution use it, since the data's resolution is set by where they really lie.
    """
    n_components, n_features = means.shape
    centre = weighted_centre(nk, means)
    scatter = np.zeros((n_components, n_features, n_features), dtype=X.dtype)
    symmetric = n_features >= WIDE_FEATURES
    for rows in row_blocks(X.shape[0], n_components * n_features, min_rows=n_features):
        # Feature-major (D, n) copies: the weighting then multiplies rows of a block's length
        # (resp is column-major, so each component's weights are contiguous too), where a
        # (K, n, D) buffer multiplied runs of D, a loop step per ten numbers. On 100,000 x 10
        # data with K = 10 this took the scatter from 15 to 11 ms in float64 and 10 to 6 ms
        # in float32.
        Xc_T = np.subtract(X[rows].T, centre[:, np.newaxis], order="C")
        weighted = np.empty((n_components,) + Xc_T.shape, dtype=X.dtype)
        if symmetric:
            # (sqrt(r) (x - c)) (sqrt(r) (x - c))^T: NumPy hands a product of an array with
            # its own transpose to BLAS's syrk, which computes one triangle.
            np.multiply(np.sqrt(resp[rows].T)[:, np.newaxis, :], Xc_T[np.newaxis],
                        out=weighted)
            scatter += np.matmul(weighted, weighted.swapaxes(1, 2))
        else:
            np.multiply(resp[rows].T[:, np.newaxis, :], Xc_T[np.newaxis], out=weighted)
            scatter += np.matmul(weighted, Xc_T.T)
    shifted = means - centre
    covariances = np.divide(scatter, nk[:, None, None], out=scatter)
    covariances -= shifted[:, :, np.newaxis] * shifted[:, np.newaxis, :]
    located = _located(means, origin)
    inexact = _inexact(np.square(shifted, out=shifted), covariances.diagonal(0, 1, 2), nk,
                       located, floor)
    # The guards test first: on small data the loops' index arrays cost as much as the check.
    anchored = np.count_nonzero(inexact) > 0
    if anchored:
        for k in np.flatnonzero(inexact.any(axis=1)):
            # An entry (i, j) is as accurate as its less accurate variance (Cauchy-Schwarz
            # bounds both terms of the shifted formula), so only rows and columns of
            # flagged features need the exact computation.
            features = np.flatnonzero(inexact[k])
            rows = _anchored_rows(X, resp[:, k], nk[k], features)
            covariances[k, features, :] = rows
            covariances[k, :, features] = rows
    # (S + S^T) / 2, in one buffer: NumPy copies the transposed operand that overlaps it.
    covariances += covariances.swapaxes(1, 2)
    covariances /= 2
    # A variance below the resolution is also below the rounding level that _inexact tests
    # (that bound is max(N_k, 1) >= 1 times larger, and rounding is monotone), so when no
    # entry was inexact the diagonal is the one tested (symmetrising leaves it exact) and
    # none is below the resolution but the exact zeros that _inexact lets through, whose
    # rows and columns are zero already.
    if anchored:
        variances = covariances.diagonal(0, 1, 2).copy()
        flat = zero_below_resolution(variances, located)
        for k, j in zip(*np.nonzero(flat), strict=True):
            covariances[k, j, :] = 0.0
            covariances[k, :, j] = 0.0
    return covariances


def diagonal_scatter(X, resp, nk, means, floor=0.0, origin=None):
    r"""Weighted variances :math:`(S_k)_{dd}` of every component and feature, shape (K, D).

    The diagonal of :eq:`shifted-scatter`: one product of the responsibilities with the
    squared centred data, in row blocks so that the centred copy stays in cache; entries with
    a large :math:`\rho_{kd}`, or at rounding level, are recomputed from deviations within
    the component (:func:`_anchored_variances`), and variances below the data's resolution
    are set to zero.

    The parameters are those of :func:`full_scatter`.
    """
    centre = weighted_centre(nk, means)
    if means.shape[1] >= WIDE_FEATURES:
        # Samples-major: rows of D numbers are long enough for NumPy's loops, and no
        # transposed copy is made (see WIDE_FEATURES).
        second = np.zeros(means.shape, dtype=means.dtype)
        for rows in row_blocks(X.shape[0], 4 * X.shape[1]):
            Xc = np.subtract(X[rows], centre)
            Xc *= Xc
            second += resp[rows].T @ Xc
    else:
        # Transposed, (D, K): the squares run along a feature-major block's rows (as in
        # full_scatter), and the column-major resp enters the product as it is stored.
        second = np.zeros(means.shape[::-1], dtype=means.dtype)
        for rows in row_blocks(X.shape[0], 4 * X.shape[1]):
            Xc_T = np.subtract(X[rows].T, centre[:, np.newaxis], order="C")
            Xc_T *= Xc_T
            second += Xc_T @ resp[rows]
        second = second.T
    shift_sq = np.square(means - centre)
    variances = np.divide(second, nk[:, np.newaxis], order="C")
    variances -= shift_sq
    located = _located(means, origin)
    inexact = _inexact(shift_sq, variances, nk, located, floor)
    # As in full_scatter: the test first, and with no inexact entry none is below the
    # resolution either but exact zeros.
    if np.count_nonzero(inexact):
        for k in np.flatnonzero(inexact.any(axis=1)):
            # Only the features that need it: in images most features of most components
            # are fine.
            features = np.flatnonzero(inexact[k])
            variances[k, features] = _anchored_variances(X, resp[:, k], nk[k], features)
        zero_below_resolution(variances, located)
    return variances


def pooled_scatter(X, resp, nk, means, floor=0.0, origin=None):
    r"""The within-component scatter shared by a ``tied`` model, :math:`\sum_k N_k S_k / N`.

    About the centre :math:`c`, the total scatter splits into within and between parts,
    :math:`\sum_n (x_n - c)(x_n - c)^\top = \sum_k N_k S_k + \sum_k N_k (\mu_k - c)(\mu_k -
    c)^\top`, so the pooled matrix is one product minus a small correction. The subtraction
    cancels when the components are far apart relative to their spread; if any feature's
    between-part exceeds :func:`spread_limit` times its pooled (regularised) variance, the
    component scatters of :func:`full_scatter` are summed instead.

    The parameters are those of :func:`full_scatter`.
    """
    centre = weighted_centre(nk, means)
    total = np.zeros((X.shape[1], X.shape[1]), dtype=X.dtype)
    for rows in row_blocks(X.shape[0], X.shape[1]):
        Xc = X[rows] - centre
        total += Xc.T @ Xc
    shifted = means - centre
    between = (nk * shifted.T) @ shifted
    pooled = (total - between) / nk.sum()
    spread = between.diagonal() / nk.sum()
    if np.count_nonzero(
        _inexact(spread, pooled.diagonal(), nk.sum(), _located(centre, origin), floor)
    ):
        pooled = np.einsum(
            "k,kij->ij", nk, full_scatter(X, resp, nk, means, floor, origin)
        ) / nk.sum()
    return (pooled + pooled.T) / 2


def summed_scatter(covariance_type, X, resp, nk, divisor, means, floor=0.0, origin=None):
    r"""The weighted scatter of every component summed over the samples, by covariance type.

    :math:`N_k S_k = \sum_n r_{nk} (x_n - \mu_k)(x_n - \mu_k)^\top` for ``full`` (the
    diagonals alone for ``diag`` and ``spherical``), and :math:`\sum_k N_k S_k` for ``tied``:
    the scatters of :func:`full_scatter`, :func:`diagonal_scatter` and
    :func:`pooled_scatter`, multiplied back by the counts, as the M-steps with a prior and
    the pooled moments of :mod:`emlib.daskfit` need them.

    Parameters
    ----------
    covariance_type : {"full", "tied", "diag", "spherical"}
    nk : ndarray of shape (n_components,)
        The soft counts :math:`N_k`.
    divisor : ndarray of shape (n_components,)
        The counts kept away from zero, which ``means`` were computed with.
    X, resp, means, floor, origin
        As for :func:`full_scatter`.
    """
    if covariance_type == "full":
        return nk[:, None, None] * full_scatter(X, resp, divisor, means, floor, origin)
    if covariance_type == "tied":
        return nk.sum() * pooled_scatter(X, resp, divisor, means, floor, origin)
    return nk[:, None] * diagonal_scatter(X, resp, divisor, means, floor, origin)


def pool_moments(a, b):
    r"""The moments of two pieces of data together, from the moments of each.

    Each argument is a dict with the (soft) counts ``"count"`` :math:`n_k`, shape (K,), the
    means ``"mean"`` :math:`m_k`, shape (K, D), and optionally the scatters ``"scatter"``
    :math:`W_k = \sum_n r_{nk} (x_n - m_k)(x_n - m_k)^\top` about those means, shape
    (K, D, D), or (K, D) for their diagonals; a ``tied`` model's one matrix
    :math:`\sum_k W_k`, shape (D, D), is the entry ``"tied_scatter"``. Any other entry (a
    log-likelihood, say) is a plain sum. With :math:`\delta_k = m^b_k - m^a_k` and
    :math:`n_k = n^a_k + n^b_k` (the pairwise update of Chan, Golub and LeVeque, 1983),

    .. math::

        m_k = m^a_k + \frac{n^b_k}{n_k} \delta_k, \qquad
        W_k = W^a_k + W^b_k + \frac{n^a_k n^b_k}{n_k} \delta_k \delta_k^\top .

    Nothing cancels: each piece's scatter is taken about its own mean, and the correction
    is a sum of non-negative terms in the difference of two means of one component, so the
    pooled moments keep the digits of the pieces wherever the data lie. A component with
    no weight in either piece gets zero scatter and, as its mean, the two means weighted
    by the optional entry ``"size"`` (the number of samples of each piece, which the
    Gaussian ``_moments`` hook sets and gives an empty component the mean of the piece's
    data): pooled over all pieces, that is the mean of all the data, where the M-step in
    memory puts an empty component. Without ``"size"``, the midpoint.

    Parameters
    ----------
    a, b : dict
        Moments with the same keys and shapes, as float64 arrays.

    Returns
    -------
    dict
    """
    pooled = {key: a[key] + b[key] for key in a if key not in ("mean", "scatter", "tied_scatter")}
    na, nb = a["count"], b["count"]
    n = na + nb
    delta = b["mean"] - a["mean"]
    empty = n <= 0
    if "size" in a and a["size"] + b["size"] > 0:
        share_empty = b["size"] / (a["size"] + b["size"])
    else:
        share_empty = 0.5
    share = np.divide(nb, n, out=np.full_like(n, share_empty), where=~empty)
    pooled["mean"] = a["mean"] + share[:, np.newaxis] * delta
    weight = np.divide(na * nb, n, out=np.zeros_like(n), where=~empty)
    if "scatter" in a:
        if a["scatter"].ndim == 3:
            correction = weight[:, None, None] * delta[:, :, None] * delta[:, None, :]
        else:
            correction = weight[:, None] * delta**2
        pooled["scatter"] = a["scatter"] + b["scatter"] + correction
    if "tied_scatter" in a:
        pooled["tied_scatter"] = a["tied_scatter"] + b["tied_scatter"] + (weight * delta.T) @ delta
    return pooled


def scale_moments(moments, factor):
    r"""Moments of the same data with every weight multiplied by ``factor``.

    Counts, scatters and any summed entry scale; means do not. Stepwise EM mixes a running
    summary with a new batch as ``pool_moments(scale_moments(s, 1 - rho),
    scale_moments(batch, rho))``.
    """
    return {key: value if key == "mean" else value * factor for key, value in moments.items()}
