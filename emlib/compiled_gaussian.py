r"""A Gaussian EM iteration on small data, compiled: the E-step in one call, the M-step in one.

On a few hundred points an iteration of :class:`emlib.GaussianMixture` in NumPy is about
sixty calls of a few microseconds each, on arrays of a few thousand numbers: the calls,
not the arithmetic, take the time. Here each step is one Numba kernel that loops over the
samples and components as the equations do.

**E-step** (:func:`e_step`). For every sample and component, with the
upper-triangular factor :math:`U_k` of the precision (:math:`\Sigma_k^{-1} = U_k U_k^\top`),

.. math::

    a_{nk} = \log \pi_k + \log \det U_k - \tfrac{D}{2} \log 2\pi
             - \tfrac12 \lVert (x_n - \mu_k)^\top U_k \rVert^2,

the distance computed from the deviations :math:`x_n - \mu_k` themselves, which lose no
digits wherever the data lie (the NumPy path expands the distance about a centre and must
test for components far from it). Then, row by row, the log-normaliser
:math:`\log p(x_n) = m_n + \log \sum_k e^{a_{nk} - m_n}` with :math:`m_n = \max_k a_{nk}`
(:func:`emlib.em.log_normalize`) and the responsibilities :math:`r_{nk} = e^{a_{nk} - m_n}
/ \sum_j e^{a_{nj} - m_n}`, those whose shifted log-weight is below
:func:`emlib.em.flush_limit` (:math:`\log(e K \, \text{tiny})`) set to zero, as
:meth:`emlib.em.MixtureEM._e_step` does.

**M-step** (:func:`m_step`). For every component, the soft count :math:`N_k = \sum_n r_{nk}`,
and the deviations :math:`d_n = x_n - a_k` from an anchor :math:`a_k`, the sample of largest
responsibility,

.. math::

    m_k = \frac{1}{N_k} \sum_n r_{nk} d_n, \qquad \mu_k = a_k + m_k, \qquad
    S_k = \frac{1}{N_k} \sum_n r_{nk} d_n d_n^\top - m_k m_k^\top .

The anchor lies within the component's spread, so little cancels: with the anchor two
standard deviations from the mean, :math:`m_k m_k^\top` is four fifths of the term before it,
a loss of less than one of the sixteen digits these ``float64`` sums carry (in the data's
dtype, :func:`emlib.moments._anchored_rows` moves its anchor on to the mean). Copies of one
point give a scatter of exactly zero; a variance below the data's resolution
is set to zero with its row and column (:func:`emlib.moments.zero_below_resolution`'s
rule). An empty component (:math:`N_k = 0`) keeps the mean of the data (the origin of the
centred data) and a zero scatter, as in :func:`emlib.gaussian.estimate_gaussian_parameters`.
The covariances are then those of maximum likelihood, :math:`S_k + \epsilon I`
(:mod:`emlib.gaussian`), or the posterior modes of the conjugate prior
(:func:`emlib.priors.map_parameters_from_moments`, with :math:`W_k = N_k S_k`), and each is
factored as :func:`emlib.gaussian.precision_cholesky` does: :math:`\Sigma_k = L_k L_k^\top`,
:math:`U_k = L_k^{-\top}`, with the same test of collapse (a pivot :math:`L_{ii}^2` at most
:math:`16 \epsilon\, \Sigma_{ii}`, or not positive).

The kernels compute in ``float64``, for ``float32`` data too, and store their results in
the data's dtype (the E-step rounds each :math:`a_{nk}` to it before normalising, as the
NumPy E-step holds them: a ``float32`` log-density below the ``float32`` range is
:math:`-\infty` in both). Both paths compute the same quantities; they differ by
rounding (the tests compare them, ``tests/test_compiled_gaussian.py``).
:func:`applies` decides where this path is used: with Numba installed, for data of at most
``SMALL_WORK`` multiply-adds :math:`N K D^2` per iteration, in the parameters' dtype.
"""

import functools
import math

import numpy as np

from .em import flush_limit

try:
    import numba
except ImportError:  # The package works without Numba, with the NumPy iteration.
    numba = None

__all__ = ["ENABLED", "HAVE_NUMBA", "SMALL_WORK", "applies", "e_step", "log_prior", "m_step",
           "responsibilities", "weighted_log_prob"]

HAVE_NUMBA = numba is not None
# Set to False to run every fit through the NumPy iteration (the tests compare the two).
ENABLED = HAVE_NUMBA
# N K D^2 at or below which the compiled iteration is used (see applies). Measured per
# iteration against the NumPy one (one thread, 2-core AMD EPYC): the two took the same time
# at about 2^15 for D = 2 (K = 3, N = 3,000), 2^17 for D = 4 (K = 8, N = 1,000) and 2^18.5
# for D = 10 (K = 10, N = 400, full); at 2^14.6 (iris-sized, K = 8) the compiled took 0.4
# of the time, at 2^11 (200 points, D = 2, K = 3) 0.2.
SMALL_WORK = 2**15

_LOG_2PI = math.log(2 * math.pi)


def applies(shape, n_components, dtype, *arrays):
    """Whether the compiled kernels run on data of ``shape`` (n_samples, n_features) and
    ``dtype``: Numba installed and :data:`ENABLED`, at most :data:`SMALL_WORK`
    multiply-adds :math:`N K D^2`, and ``arrays`` (the parameters or responsibilities used
    with the data) in ``dtype``.

    Above that size the NumPy iteration's matrix products are faster than the kernels'
    scalar loops; below it the calls of the NumPy iteration cost more than its arithmetic.
    The prior's log-density, whose cost does not grow with N, asks with ``n_samples=1``.
    """
    n_samples, n_features = shape
    return (HAVE_NUMBA and ENABLED
            and n_samples * n_components * n_features * n_features <= SMALL_WORK
            and all(array.dtype == dtype for array in arrays))


if HAVE_NUMBA:
    # IEEE arithmetic, as in NumPy: 0 / 0 is nan (a row of zero probability), not an error.
    _kernel = functools.partial(numba.njit, cache=True, nogil=True, error_model="numpy")

    # The kernels index whole arrays rather than taking row views (x = X[n]): a view made
    # in an inner loop cost more than the arithmetic (21 against 9 us for an E-step of
    # 200 points, K = 3, D = 2).

    @_kernel(inline="always")
    def _triangular_distance(X, n, means, k, factors, j, deviation):
        r""":math:`\lVert (x_n - \mu_k)^\top U_j \rVert^2` for an upper-triangular
        :math:`U_j`, whose column :math:`b` has entries in rows :math:`a \le b` only;
        ``deviation`` is scratch of length D."""
        n_features = X.shape[1]
        for a in range(n_features):
            deviation[a] = np.float64(X[n, a]) - means[k, a]
        total = 0.0
        for b in range(n_features):
            y = 0.0
            for a in range(b + 1):
                y += deviation[a] * factors[j, a, b]
            total += y * y
        return total

    @_kernel(inline="always")
    def _diagonal_distance(X, n, means, k, factors):
        r""":math:`\sum_d \bigl((x_{nd} - \mu_{kd})\, u_{kd}\bigr)^2`, with ``factors``
        (K, D), or (K, 1) for a spherical :math:`u_k`."""
        spherical = factors.shape[1] == 1
        total = 0.0
        for d in range(X.shape[1]):
            y = (np.float64(X[n, d]) - means[k, d]) * factors[k, 0 if spherical else d]
            total += y * y
        return total

    @_kernel(inline="always")
    def _finish_row(weighted, normalise, limit, resp, log_norm, n):
        r"""Row n of the E-step's output from :math:`a_{n\cdot}` (``weighted``, which it
        overwrites). With ``normalise``, the log-sum-exp :math:`\log p(x_n)` (returned, in
        float64, and stored in ``log_norm``) and the responsibilities, those whose shifted
        log-weight is below ``limit`` set to zero, as :func:`emlib.em.log_normalize` does
        with ``flush=True`` (a row of
        zero probability under every component gives :math:`-\infty` and nan, as there);
        else :math:`a_{n\cdot}` itself."""
        n_components = weighted.shape[0]
        if not normalise:
            for k in range(n_components):
                resp[n, k] = weighted[k]
            return 0.0
        shift = weighted[0]
        for k in range(1, n_components):
            shift = max(shift, weighted[k])
        if not math.isfinite(shift):
            shift = 0.0
        total = 0.0
        for k in range(n_components):
            # Stored first, so that the difference is rounded to the dtype, as NumPy's is,
            # before it is compared with the limit: both paths drop the same entries.
            weighted[k] = weighted[k] - shift
            weighted[k] = 0.0 if weighted[k] < limit else np.exp(weighted[k])  # nan stays
            total += weighted[k]
        for k in range(n_components):
            resp[n, k] = weighted[k] / total
        value = shift + np.log(total)
        log_norm[n] = value
        return value

    @_kernel
    def _triangular_e_step(X, weights, means, factors, normalise, limit, resp, log_norm):
        r"""The E-step of ``full`` (``factors`` (K, D, D)) and ``tied`` ((1, D, D)) models:
        :math:`a_{nk}`, or with ``normalise`` the responsibilities and log-normalisers,
        into ``resp`` and ``log_norm``; returns :math:`\sum_n \log p(x_n)`."""
        n_samples, n_features = X.shape
        n_components = means.shape[0]
        shared = factors.shape[0] == 1
        # log pi_k + log det U_k - D/2 log 2 pi; an empty component's log 0 is -inf.
        constant = np.empty(n_components)
        for k in range(n_components):
            log_det = 0.0
            for d in range(n_features):
                log_det += np.log(np.float64(factors[0 if shared else k, d, d]))
            constant[k] = np.log(np.float64(weights[k])) + log_det - 0.5 * n_features * _LOG_2PI
        # a_nk in the dtype of the data, as the NumPy E-step holds them: a float32 fit's
        # log-density below the float32 range is -inf there, and its row has probability zero.
        weighted = np.empty(n_components, dtype=resp.dtype)
        deviation = np.empty(n_features)
        total = 0.0
        for n in range(n_samples):
            for k in range(n_components):
                distance = _triangular_distance(X, n, means, k, factors, 0 if shared else k,
                                                deviation)
                weighted[k] = constant[k] - 0.5 * distance
            total += _finish_row(weighted, normalise, limit, resp, log_norm, n)
        return total

    @_kernel
    def _diagonal_e_step(X, weights, means, factors, normalise, limit, resp, log_norm):
        r"""The E-step of ``diag`` (``factors`` (K, D)) and ``spherical`` ((K, 1)) models,
        as :func:`_triangular_e_step`."""
        n_samples, n_features = X.shape
        n_components = means.shape[0]
        spherical = factors.shape[1] == 1
        constant = np.empty(n_components)
        for k in range(n_components):
            log_det = 0.0
            for d in range(n_features):
                log_det += np.log(np.float64(factors[k, 0 if spherical else d]))
            constant[k] = np.log(np.float64(weights[k])) + log_det - 0.5 * n_features * _LOG_2PI
        # a_nk in the dtype of the data, as the NumPy E-step holds them: a float32 fit's
        # log-density below the float32 range is -inf there, and its row has probability zero.
        weighted = np.empty(n_components, dtype=resp.dtype)
        total = 0.0
        for n in range(n_samples):
            for k in range(n_components):
                weighted[k] = constant[k] - 0.5 * _diagonal_distance(X, n, means, k, factors)
            total += _finish_row(weighted, normalise, limit, resp, log_norm, n)
        return total

    @_kernel
    def _count_and_anchor(resp, k):
        """:math:`N_k` and the sample of largest responsibility (the first of equals)."""
        count = 0.0
        anchor = 0
        for n in range(resp.shape[0]):
            count += resp[n, k]
            if resp[n, k] > resp[anchor, k]:
                anchor = n
        return count, anchor

    @_kernel
    def _anchored_mean(Xc, resp, k, count, anchor, offset):
        r""":math:`m_k = \sum_n r_{nk} (x_n - a_k) / N_k`, returned, and the mean
        :math:`a_k + m_k` (measured from the origin of ``Xc``) into ``offset``."""
        n_samples, n_features = Xc.shape
        mean = np.zeros(n_features)
        for n in range(n_samples):
            r = np.float64(resp[n, k])
            for i in range(n_features):
                mean[i] += r * (np.float64(Xc[n, i]) - Xc[anchor, i])
        for i in range(n_features):
            mean[i] /= count
            offset[i] = Xc[anchor, i] + mean[i]
        return mean

    @_kernel
    def _below_resolution(variance, location, eps):
        r"""Whether a variance is at most :math:`(16 \epsilon \lvert \mu \rvert)^2`, noise
        about a component on one point (:func:`emlib.moments.zero_below_resolution`)."""
        resolution = 16 * eps * abs(location)
        return variance <= resolution * resolution

    @_kernel
    def _anchored_scatter(Xc, resp, k, eps, origin, offset, scatter):
        r"""Component ``k``'s count :math:`N_k` (returned), its mean measured from the
        origin of ``Xc`` into ``offset`` and its scatter :math:`S_k = \sum_n r_{nk} d_n
        d_n^\top / N_k - m_k m_k^\top` (:math:`d_n = x_n - a_k`) into ``scatter``, (D, D);
        a variance below the resolution is set to zero with its row and column."""
        n_samples, n_features = Xc.shape
        offset[:] = 0.0
        scatter[:] = 0.0
        count, anchor = _count_and_anchor(resp, k)
        if count == 0.0:  # an empty component: the origin, with no spread
            return count
        mean = _anchored_mean(Xc, resp, k, count, anchor, offset)
        deviation = np.empty(n_features)
        for n in range(n_samples):
            r = np.float64(resp[n, k])
            if r == 0.0:
                continue
            for i in range(n_features):
                deviation[i] = np.float64(Xc[n, i]) - Xc[anchor, i]
            for i in range(n_features):
                for j in range(i, n_features):
                    scatter[i, j] += r * deviation[i] * deviation[j]
        for i in range(n_features):
            for j in range(i, n_features):
                scatter[i, j] = scatter[i, j] / count - mean[i] * mean[j]
                scatter[j, i] = scatter[i, j]
        for i in range(n_features):
            if _below_resolution(scatter[i, i], origin[i] + offset[i], eps):
                for j in range(n_features):
                    scatter[i, j] = scatter[j, i] = 0.0
        return count

    @_kernel
    def _anchored_variances(Xc, resp, k, eps, origin, offset, variances):
        r"""The diagonal of :func:`_anchored_scatter` alone, :math:`(S_k)_{dd} = \sum_n
        r_{nk} d_{nd}^2 / N_k - m_{kd}^2`, into ``variances``; returns :math:`N_k`."""
        n_samples, n_features = Xc.shape
        offset[:] = 0.0
        variances[:] = 0.0
        count, anchor = _count_and_anchor(resp, k)
        if count == 0.0:
            return count
        mean = _anchored_mean(Xc, resp, k, count, anchor, offset)
        for n in range(n_samples):
            r = np.float64(resp[n, k])
            for d in range(n_features):
                deviation = np.float64(Xc[n, d]) - Xc[anchor, d]
                variances[d] += r * deviation * deviation
        for d in range(n_features):
            variances[d] = variances[d] / count - mean[d] * mean[d]
            if _below_resolution(variances[d], origin[d] + offset[d], eps):
                variances[d] = 0.0
        return count

    @_kernel
    def _precision_factor(covariance, factor, eps):
        r"""``factor`` :math:`\leftarrow U = L^{-\top}` from :math:`\Sigma = L L^\top`;
        False if :math:`\Sigma` is not positive definite or a pivot :math:`L_{jj}^2` is at
        most :math:`16 \epsilon \Sigma_{jj}` (the test of
        :func:`emlib.gaussian.precision_cholesky`)."""
        n_features = covariance.shape[0]
        L = np.zeros((n_features, n_features))
        for j in range(n_features):
            pivot = np.float64(covariance[j, j])
            for p in range(j):
                pivot -= L[j, p] * L[j, p]
            if not pivot > 16 * eps * covariance[j, j]:  # also for a nan
                return False
            L[j, j] = math.sqrt(pivot)
            for i in range(j + 1, n_features):
                value = np.float64(covariance[i, j])
                for p in range(j):
                    value -= L[i, p] * L[j, p]
                L[i, j] = value / L[j, j]
        # The inverse M = L^{-1}, lower triangular, column by column; U = M^T.
        M = np.zeros((n_features, n_features))
        for j in range(n_features):
            M[j, j] = 1.0 / L[j, j]
            for i in range(j + 1, n_features):
                value = 0.0
                for p in range(j, i):
                    value -= L[i, p] * M[p, j]
                M[i, j] = value / L[i, i]
        for i in range(n_features):
            for j in range(n_features):
                factor[i, j] = M[j, i]
        return True

    @_kernel
    def _covariance(within, with_prior, scale, divisor, reg_covar, out):
        r"""``out`` :math:`\leftarrow (\Psi + W) / m` with a prior, else :math:`W / m +
        \epsilon I`."""
        n_features = within.shape[0]
        for i in range(n_features):
            for j in range(n_features):
                if with_prior:
                    out[i, j] = (scale[i, j] + within[i, j]) / divisor
                else:
                    out[i, j] = within[i, j] / divisor + (reg_covar if i == j else 0.0)

    @_kernel
    def _full_m_step(Xc, origin, resp, tied, reg_covar, eps, with_prior, mu0, scale, kappa,
                     nu, alpha, weights, means, covariances, factors):
        r"""The M-step of ``full`` and (``tied``) models into ``weights``, ``means``,
        ``covariances`` (K, D, D) (or (1, D, D)) and their ``factors``; False if a
        covariance collapsed.

        Maximum likelihood: :math:`\pi_k = N_k / N`, :math:`\Sigma_k = S_k + \epsilon I`
        (tied: :math:`\sum_k N_k S_k / N + \epsilon I`). With a prior, for
        :math:`\delta_k = \bar x_k - \mu_0` and :math:`c_k = \kappa N_k / (N_k + \kappa)`:
        :math:`\pi_k = (N_k + \alpha - 1) / (N + K(\alpha - 1))`, :math:`\mu_k = \bar x_k
        - \kappa \delta_k / (N_k + \kappa)` and :math:`\Sigma_k = (\Psi + N_k S_k + c_k
        \delta_k \delta_k^\top) / (\nu + N_k + D + 2)` (tied: :math:`(\Psi + \sum_k (N_k
        S_k + c_k \delta_k \delta_k^\top)) / (\nu + N + K + D + 1)`).
        """
        n_features = Xc.shape[1]
        n_components = resp.shape[1]
        counts = np.empty(n_components)
        offsets = np.empty((n_components, n_features))
        scatters = np.empty((n_components, n_features, n_features))
        for k in range(n_components):
            counts[k] = _anchored_scatter(Xc, resp, k, eps, origin, offsets[k], scatters[k])
        total = counts.sum()
        delta = np.empty(n_features)
        # The numerator of a covariance (the prior's scale aside): S_k for maximum
        # likelihood, N_k S_k + c_k delta_k delta_k^T with a prior; summed over k for tied.
        within = np.zeros((n_features, n_features))
        for k in range(n_components):
            count = counts[k]
            if with_prior:
                weights[k] = (count + (alpha - 1)) / (total + n_components * (alpha - 1))
                shrink, c = kappa / (count + kappa), kappa * count / (count + kappa)
            else:
                weights[k] = count / total
                shrink = c = 0.0
            for i in range(n_features):
                delta[i] = offsets[k, i] - mu0[i]
                means[k, i] = offsets[k, i] - shrink * delta[i] + origin[i]
            if not tied:
                within[:] = 0.0
            weight = count if with_prior or tied else 1.0
            for i in range(n_features):
                for j in range(n_features):
                    within[i, j] += weight * scatters[k, i, j] + c * delta[i] * delta[j]
            if not tied:
                divisor = nu + count + n_features + 2 if with_prior else 1.0
                _covariance(within, with_prior, scale, divisor, reg_covar, covariances[k])
        if tied:
            divisor = nu + total + n_components + n_features + 1 if with_prior else total
            _covariance(within, with_prior, scale, divisor, reg_covar, covariances[0])
        for k in range(covariances.shape[0]):
            if not _precision_factor(covariances[k], factors[k], eps):
                return False
        return True

    @_kernel
    def _diagonal_m_step(Xc, origin, resp, reg_covar, eps, with_prior, mu0, scale, kappa, nu,
                         alpha, weights, means, covariances, factors):
        r"""The M-step of ``diag`` (``covariances`` and ``factors`` (K, D)) and
        ``spherical`` ((K, 1)) models; False if a variance is not positive.

        Maximum likelihood: :math:`\sigma^2_{kd} = (S_k)_{dd} + \epsilon`, spherical the
        mean over :math:`d`. With a prior (:math:`\delta_k`, :math:`c_k` as in
        :func:`_full_m_step`): :math:`\sigma^2_{kd} = (s_d + N_k (S_k)_{dd} + c_k
        \delta_{kd}^2) / (\nu + N_k + 3)`, spherical :math:`\sigma^2_k = (s + \sum_d (N_k
        (S_k)_{dd} + c_k \delta_{kd}^2)) / (\nu + N_k D + D + 2)`. The factors are
        :math:`1 / \sigma`.
        """
        n_features = Xc.shape[1]
        n_components = resp.shape[1]
        spherical = covariances.shape[1] == 1
        offset = np.empty(n_features)
        variances = np.empty(n_features)
        counts = np.empty(n_components)
        for k in range(n_components):
            count = _anchored_variances(Xc, resp, k, eps, origin, offset, variances)
            counts[k] = count
            shrink = kappa / (count + kappa) if with_prior else 0.0
            c = kappa * count / (count + kappa) if with_prior else 0.0
            weight = count if with_prior else 1.0
            summed = 0.0
            for d in range(n_features):
                delta = offset[d] - mu0[d]
                means[k, d] = offset[d] - shrink * delta + origin[d]
                # (S_k)_dd + epsilon, or N_k (S_k)_dd + c_k delta_kd^2 with a prior
                within = weight * variances[d] + c * delta * delta
                if not with_prior:
                    within += reg_covar
                if spherical:
                    summed += within
                elif with_prior:
                    covariances[k, d] = (scale[d] + within) / (nu + count + 3)
                else:
                    covariances[k, d] = within
            if spherical and with_prior:
                covariances[k, 0] = (scale[0] + summed) / (
                    nu + count * n_features + n_features + 2)
            elif spherical:
                covariances[k, 0] = summed / n_features
        total = counts.sum()
        for k in range(n_components):
            if with_prior:
                weights[k] = (counts[k] + (alpha - 1)) / (total + n_components * (alpha - 1))
            else:
                weights[k] = counts[k] / total
            for d in range(covariances.shape[1]):
                if not covariances[k, d] > 0:  # also for a nan
                    return False
                factors[k, d] = 1.0 / math.sqrt(covariances[k, d])
        return True

    @_kernel
    def _triangular_log_prior(weights, means, factors, prior_mean, scale_cholesky, kappa, nu,
                              alpha, log_dirichlet, log_normal, log_wishart):
        r"""The log-density of :func:`emlib.priors.log_prior_density` for ``full``
        (``factors`` (K, D, D)) and ``tied`` ((1, D, D)) models, in float64:
        :math:`\log \mathrm{Dirichlet}(\pi)`, plus for each factor the inverse-Wishart term
        :math:`\tfrac{\nu + D + 1}{2} \log \lvert \Sigma^{-1} \rvert
        - \tfrac12 \lVert L_\Psi^\top U \rVert_F^2`, plus for each component the normal
        term :math:`\tfrac12 \log \lvert \Sigma_k^{-1} \rvert - \tfrac{\kappa}{2}
        \lVert (\mu_k - \mu_0)^\top U_k \rVert^2`, with the constants given; ``prior_mean``
        is (1, D)."""
        n_components, n_features = means.shape
        shared = factors.shape[0] == 1
        total = log_dirichlet
        if alpha != 1:
            for k in range(n_components):
                total += (alpha - 1) * np.log(weights[k])
        log_det_precision = np.zeros(factors.shape[0])
        deviation = np.empty(n_features)
        for j in range(factors.shape[0]):
            U = factors[j]
            trace = 0.0
            for d in range(n_features):
                log_det_precision[j] += 2 * np.log(U[d, d])
            for a in range(n_features):
                for b in range(n_features):
                    # (U^T L_Psi)_ab, U upper triangular
                    entry = 0.0
                    for i in range(a + 1):
                        entry += U[i, a] * scale_cholesky[i, b]
                    trace += entry * entry
            total += log_wishart + 0.5 * (nu + n_features + 1) * log_det_precision[j]
            total -= 0.5 * trace
        for k in range(n_components):
            distance = _triangular_distance(means, k, prior_mean, 0, factors,
                                            0 if shared else k, deviation)
            total += (log_normal + 0.5 * log_det_precision[0 if shared else k]
                      - 0.5 * kappa * distance)
        return total

    @_kernel
    def _diagonal_log_prior(weights, means, variances, prior_mean, scale, kappa, nu, alpha,
                            log_dirichlet, log_normal, log_gamma):
        r"""The log-density of :func:`emlib.priors.log_prior_density` for ``diag``
        (``variances``, ``scale`` and ``log_gamma`` with D columns) and ``spherical`` (one):
        :math:`\log \mathrm{Dirichlet}(\pi)`, plus the inverse-gamma terms
        :math:`-(\tfrac{\nu}{2} + 1) \log \sigma^2 - \tfrac{s}{2 \sigma^2}` of every
        variance, plus for each component the normal term :math:`-\tfrac12 \sum_d \log
        \sigma^2_{kd} - \tfrac{\kappa}{2} \sum_d (\mu_{kd} - \mu_{0d})^2 / \sigma^2_{kd}`,
        with the constants given."""
        n_components, n_features = means.shape
        spherical = variances.shape[1] == 1
        total = log_dirichlet
        if alpha != 1:
            for k in range(n_components):
                total += (alpha - 1) * np.log(weights[k])
        for k in range(n_components):
            for j in range(variances.shape[1]):
                variance = variances[k, j]
                total += (log_gamma[j] - (0.5 * nu + 1) * np.log(variance)
                          - 0.5 * scale[j] / variance)
            total += log_normal
            for d in range(n_features):
                variance = variances[k, 0 if spherical else d]
                offset = means[k, d] - prior_mean[d]
                total -= 0.5 * np.log(variance) + 0.5 * kappa * offset * offset / variance
        return total


@functools.cache
def _limits(dtype, n_components):
    """Machine epsilon of ``dtype`` and the E-step's :func:`emlib.em.flush_limit`, as
    Python floats (built once: ``np.finfo`` costs microseconds, a small fit's iteration
    about twenty)."""
    return float(np.finfo(dtype).eps), float(flush_limit(dtype, n_components))


def _e_step(X, weights, means, precisions_cholesky, covariance_type, normalise):
    n_samples, n_features = X.shape
    n_components = means.shape[0]
    resp = np.empty((n_samples, n_components), dtype=X.dtype)
    log_norm = np.empty(n_samples, dtype=X.dtype)
    arrays = (np.ascontiguousarray(X), np.ascontiguousarray(weights),
              np.ascontiguousarray(means))
    factors = np.ascontiguousarray(precisions_cholesky)
    if covariance_type in ("full", "tied"):
        kernel, factors = _triangular_e_step, factors.reshape(-1, n_features, n_features)
    else:
        kernel, factors = _diagonal_e_step, factors.reshape(n_components, -1)
    total = kernel(*arrays, factors, normalise, _limits(X.dtype, n_components)[1],
                   resp, log_norm)
    return total, log_norm, resp


def e_step(X, weights, means, precisions_cholesky, covariance_type):
    r"""The E-step: the mean log-likelihood :math:`\frac1N \sum_n \log p(x_n \mid \theta)`
    and the responsibilities :math:`r_{nk}`, none subnormal (what
    :meth:`emlib.em.MixtureEM._e_step` returns), in the dtype of ``X``.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    weights, means, precisions_cholesky : ndarray
        The parameters, in the layout of :class:`emlib.GaussianMixture` and the dtype of X.
    covariance_type : {"full", "tied", "diag", "spherical"}

    Returns
    -------
    mean_log_likelihood : float
        Summed in float64 (for float32 data, from the unrounded log-normalisers).
    resp : ndarray of shape (n_samples, n_components)
    """
    total, _, resp = _e_step(X, weights, means, precisions_cholesky, covariance_type, True)
    return total / X.shape[0], resp


def responsibilities(X, weights, means, precisions_cholesky, covariance_type):
    r""":math:`\log p(x_n \mid \theta)` of every sample, shape (n_samples,), and the
    responsibilities, as :meth:`emlib.em.MixtureEM._responsibilities` returns them; the
    parameters are those of :func:`e_step`."""
    return _e_step(X, weights, means, precisions_cholesky, covariance_type, True)[1:]


def weighted_log_prob(X, weights, means, precisions_cholesky, covariance_type):
    r""":math:`a_{nk} = \log \pi_k + \log \mathcal{N}(x_n \mid \mu_k, \Sigma_k)`, shape
    (n_samples, n_components), before normalising; the parameters are those of
    :func:`e_step`."""
    return _e_step(X, weights, means, precisions_cholesky, covariance_type, False)[2]


def m_step(Xc, origin, resp, covariance_type, reg_covar, prior=None):
    r"""The M-step: weights, means, covariances and precision factors, in the dtype of ``Xc``.

    Parameters
    ----------
    Xc : ndarray of shape (n_samples, n_features)
        The data measured from ``origin``.
    origin : ndarray of shape (n_features,)
        The data mean (maximum likelihood) or the prior mean rounded to the dtype (MAP), as
        in :meth:`emlib.GaussianMixture._parameters_from`.
    resp : ndarray of shape (n_samples, n_components)
    covariance_type : {"full", "tied", "diag", "spherical"}
    reg_covar : float
        Added to every variance of maximum likelihood; not used with a prior.
    prior : GaussianPrior, optional
        Every field set (:func:`emlib.priors.resolve_prior`): the M-step is then the
        posterior mode of :func:`emlib.priors.map_parameters_from_moments`.

    Returns
    -------
    tuple of (weights, means, covariances, precisions_cholesky), or None
        None if a covariance collapsed (not positive definite, or a pivot of its Cholesky
        factorisation at rounding level); the layouts are those of
        :class:`emlib.GaussianMixture`.
    """
    n_features = Xc.shape[1]
    n_components = resp.shape[1]
    dtype = Xc.dtype
    eps = _limits(dtype, n_components)[0]
    triangular = covariance_type in ("full", "tied")
    if prior is None:
        hyper = (False, np.zeros(n_features),
                 np.zeros((n_features,) * 2 if triangular else 1), 0.0, 0.0, 0.0)
    else:
        # The prior mean measured from the origin, exactly (origin is it rounded to dtype).
        # A writable copy of the (read-only) scale, which Numba would compile for apart.
        hyper = (True, prior.mean - origin, np.array(prior.scale.reshape(
                 (n_features,) * 2 if triangular else -1)), float(prior.shrinkage),
                 float(prior.degrees_of_freedom), float(prior.weight_concentration))
    weights = np.empty(n_components, dtype=dtype)
    means = np.empty((n_components, n_features), dtype=dtype)
    arrays = (np.ascontiguousarray(Xc), np.ascontiguousarray(origin),
              np.ascontiguousarray(resp))
    if triangular:
        tied = covariance_type == "tied"
        shape = (1 if tied else n_components, n_features, n_features)
        covariances, factors = np.empty(shape, dtype=dtype), np.empty(shape, dtype=dtype)
        ok = _full_m_step(*arrays, tied, float(reg_covar), eps, *hyper, weights, means,
                          covariances, factors)
        if tied:
            covariances, factors = covariances[0], factors[0]
    else:
        shape = (n_components, n_features if covariance_type == "diag" else 1)
        covariances, factors = np.empty(shape, dtype=dtype), np.empty(shape, dtype=dtype)
        ok = _diagonal_m_step(*arrays, float(reg_covar), eps, *hyper, weights, means,
                              covariances, factors)
        if covariance_type == "spherical":
            covariances, factors = covariances.reshape(-1), factors.reshape(-1)
    return (weights, means, covariances, factors) if ok else None


def _as_float64(array):
    """A C-contiguous float64 array of the values (the array itself if it is one)."""
    return np.ascontiguousarray(array, dtype=np.float64)


def log_prior(prior, constants, weights, means, covariances, precisions_cholesky,
              covariance_type):
    r"""The log-density of the prior at the parameters, normalising constants included:
    :func:`emlib.priors.log_prior_density` (see there for the terms), in float64.

    Parameters
    ----------
    prior : GaussianPrior
        Every field set.
    constants : PriorConstants
        :func:`emlib.priors.prior_constants` of the prior, K and the covariance type.
    weights, means, covariances, precisions_cholesky : ndarray
        The parameters, in the layout of :class:`emlib.GaussianMixture`.
    covariance_type : {"full", "tied", "diag", "spherical"}

    Returns
    -------
    float
    """
    n_components, n_features = means.shape
    terms = (float(prior.shrinkage), float(prior.degrees_of_freedom),
             float(prior.weight_concentration),
             float(constants.log_dirichlet), float(constants.log_normal))
    # In float64 whatever the fit's dtype, as emlib.priors computes it; one compiled
    # version instead of two (each takes seconds to compile, once).
    weights, means = _as_float64(weights), _as_float64(means)
    if covariance_type in ("full", "tied"):
        factors = _as_float64(precisions_cholesky).reshape(-1, n_features, n_features)
        return _triangular_log_prior(weights, means, factors, prior.mean.reshape(1, -1),
                                     constants.scale_cholesky, *terms,
                                     float(constants.log_covariance))
    variances = _as_float64(covariances).reshape(n_components, -1)
    return _diagonal_log_prior(weights, means, variances, prior.mean,
                               np.asarray(prior.scale).reshape(-1), *terms,
                               np.asarray(constants.log_covariance).reshape(-1))
