r"""Conjugate priors for Gaussian mixtures, their posterior modes and their log-densities.

MAP-EM replaces the maximum-likelihood M-step by the mode of the posterior given the
responsibilities. With a conjugate prior that mode is in closed form, and the objective
EM then climbs, the log-posterior, never decreases (the monotonicity argument of Dempster,
Laird and Rubin, 1977, holds for :math:`\log p(X \mid \theta) + \log p(\theta)` unchanged).
The prior also keeps every covariance positive definite, so no component can collapse onto
a point: the principled alternative to adding ``reg_covar`` to the diagonal, which maximises
no objective at all.

The priors are those of Fraley and Raftery (2007, "Bayesian regularization for normal
mixture estimation and model-based clustering", *Journal of Classification* 24, 155-181),
the ones of the R package mclust. With weights :math:`\pi \sim \mathrm{Dirichlet}(\alpha,
\dots, \alpha)` and, for every component,

* ``full``: :math:`\Sigma_k \sim \mathcal{W}^{-1}(\nu, \Psi)` (inverse-Wishart) and
  :math:`\mu_k \mid \Sigma_k \sim \mathcal{N}(\mu_0, \Sigma_k / \kappa)`;
* ``tied``: one :math:`\Sigma \sim \mathcal{W}^{-1}(\nu, \Psi)` and
  :math:`\mu_k \mid \Sigma \sim \mathcal{N}(\mu_0, \Sigma / \kappa)` for every :math:`k`;
* ``diag``: :math:`\sigma^2_{kd} \sim \mathrm{Inv\text{-}Gamma}(\nu/2, s_d/2)` and
  :math:`\mu_{kd} \mid \sigma^2_{kd} \sim \mathcal{N}(\mu_{0d}, \sigma^2_{kd} / \kappa)`,
  independently for every feature :math:`d`;
* ``spherical``: :math:`\sigma^2_k \sim \mathrm{Inv\text{-}Gamma}(\nu/2, s/2)` and
  :math:`\mu_k \mid \sigma^2_k \sim \mathcal{N}(\mu_0, \sigma^2_k I / \kappa)`.

The inverse-Wishart density is :math:`\propto |\Sigma|^{-(\nu + D + 1)/2}
\exp(-\tfrac12 \operatorname{tr} \Psi \Sigma^{-1})` and the inverse-gamma density of shape
:math:`a` and scale :math:`b` is :math:`\propto (\sigma^2)^{-(a + 1)} e^{-b / \sigma^2}`,
the conventions of :data:`scipy.stats.invwishart` and :data:`scipy.stats.invgamma`.
"""

import math
from dataclasses import dataclass, replace
from numbers import Real
from typing import NamedTuple

import numpy as np
from scipy.special import gammaln, multigammaln, xlogy

from .daskfit import compute, is_dask_array
from .moments import summed_scatter

__all__ = [
    "GaussianPrior",
    "PriorConstants",
    "resolve_prior",
    "map_gaussian_parameters",
    "map_parameters_from_moments",
    "prior_constants",
    "log_prior_density",
]

DEFAULT_SHRINKAGE = 0.01


def _positive_number(value, name, *, minimum=0.0, inclusive=False, hint=""):
    if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}.{hint}")
    if value < minimum or (value == minimum and not inclusive):
        bound = f"at least {minimum:g}" if inclusive else f"greater than {minimum:g}"
        raise ValueError(f"{name} must be {bound}, got {value!r}.{hint}")


def _finite_array(value, name):
    array = np.array(value, dtype=float)
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} must contain only finite numbers.")
    array.setflags(write=False)
    return array


@dataclass(frozen=True, eq=False)
class GaussianPrior:
    r"""Hyper-parameters of the conjugate prior of a Gaussian mixture (see :mod:`emlib.priors`).

    Pass one as ``GaussianMixture(prior=...)``. A field left at None takes the data-dependent
    default of ``prior="conjugate"`` (see :func:`resolve_prior`); shapes are checked against
    the data and the covariance type when the mixture is fitted.

    Parameters
    ----------
    mean : array-like of shape (n_features,), default=None
        Prior mean :math:`\mu_0` of every component mean; None: the mean of the data.
    shrinkage : float, default=0.01
        :math:`\kappa > 0`, the prior's weight on :math:`\mu_0` in data points: a component
        mean is pulled towards :math:`\mu_0` as if by :math:`\kappa` extra samples there.
    degrees_of_freedom : float, default=None
        :math:`\nu`; more than :math:`D - 1` for ``full`` and ``tied`` (inverse-Wishart),
        positive for ``diag`` and ``spherical`` (inverse-gamma of shape :math:`\nu/2`).
        None: :math:`D + 2`.
    scale : array-like, default=None
        The scale of the covariance prior: a symmetric positive definite (D, D) matrix
        :math:`\Psi` for ``full`` and ``tied``, positive variances :math:`s_d` of shape (D,)
        for ``diag``, one positive number :math:`s` for ``spherical``. None: from the data
        covariance, see :func:`resolve_prior`.
    weight_concentration : float, default=1.0
        :math:`\alpha \ge 1` of the symmetric Dirichlet prior on the weights; 1 is flat
        (the weights are then estimated by maximum likelihood).

    Raises
    ------
    ValueError
        If a hyper-parameter is not finite or out of its range.

    Examples
    --------
    >>> from emlib import GaussianPrior
    >>> GaussianPrior(shrinkage=0.1, weight_concentration=2.0).shrinkage
    0.1
    """

    mean: object = None
    shrinkage: float = DEFAULT_SHRINKAGE
    degrees_of_freedom: float | None = None
    scale: object = None
    weight_concentration: float = 1.0

    def __post_init__(self):
        _positive_number(
            self.shrinkage,
            "shrinkage",
            hint=" It counts the pseudo-samples at the prior mean; try 0.01.",
        )
        if self.degrees_of_freedom is not None:
            _positive_number(
                self.degrees_of_freedom,
                "degrees_of_freedom",
                hint=" Leave it at None for the default, n_features + 2.",
            )
        _positive_number(
            self.weight_concentration,
            "weight_concentration",
            minimum=1.0,
            inclusive=True,
            hint=" Below 1 the posterior has no mode inside the simplex; use 1 for a flat prior.",
        )
        if self.mean is not None:
            mean = _finite_array(self.mean, "mean")
            if mean.ndim != 1:
                raise ValueError(
                    f"mean must be 1-D, one value per feature, got shape {mean.shape}."
                )
            object.__setattr__(self, "mean", mean)
        if self.scale is not None:
            scale = _finite_array(self.scale, "scale")
            if scale.ndim > 2:
                raise ValueError(
                    f"scale must be a number, a vector or a matrix, got shape {scale.shape}."
                )
            if scale.ndim == 2:
                if scale.shape[0] != scale.shape[1] or not np.allclose(scale, scale.T):
                    raise ValueError("scale must be a symmetric positive definite matrix.")
                if np.linalg.eigvalsh(scale)[0] <= 0:
                    raise ValueError(
                        "scale must be a symmetric positive definite matrix; this one has an "
                        "eigenvalue <= 0. Add a small multiple of the identity."
                    )
            elif np.any(scale <= 0):
                raise ValueError(
                    "scale must be positive: it holds prior variances (one per feature for "
                    "diag, one number for spherical)."
                )
            object.__setattr__(self, "scale", scale)


def _data_mean(X):
    if is_dask_array(X):
        return compute(X.mean(axis=0, dtype=np.float64))[0]
    return X.mean(axis=0, dtype=np.float64)


def _data_covariance(X):
    if is_dask_array(X):
        import dask.array as da

        return compute(da.cov(X.astype(np.float64), rowvar=False))[0]
    return np.cov(X.astype(np.float64), rowvar=False)


def resolve_prior(prior, X, n_components, covariance_type):
    r"""The prior with every hyper-parameter set, checked against the data.

    The defaults follow Fraley and Raftery (2007): :math:`\mu_0 = \bar x`, the
    data mean; :math:`\kappa = 0.01`; :math:`\nu = D + 2`; and a scale from the unbiased
    data covariance :math:`C = \frac{1}{N-1} \sum_n (x_n - \bar x)(x_n - \bar x)^\top`
    divided by :math:`K^{2/D}` (so that :math:`K` components of that size fill the volume
    of the data): :math:`\Psi = C / K^{2/D}` for ``full`` and ``tied``,
    :math:`s_d = C_{dd} / K^{2/D}` for ``diag`` and :math:`s = \operatorname{tr}(C) / (D
    K^{2/D})` for ``spherical``. The weights prior is flat, :math:`\alpha = 1`. These are
    mclust's defaults (``priorControl()``) except for ``diag``, where mclust's model VVI
    uses the one number of ``spherical`` for every feature; pass that as ``scale`` to
    reproduce it (``tests/test_mclust_agreement.py`` does).

    Parameters
    ----------
    prior : "conjugate" or GaussianPrior
    X : ndarray or dask.array.Array of shape (n_samples, n_features)
        The defaults' data mean and covariance of a Dask array are computed by Dask.
    n_components : int
    covariance_type : {"full", "tied", "diag", "spherical"}

    Returns
    -------
    GaussianPrior
        Every field set: ``mean`` (D,), ``scale`` (D, D), (D,) or () as float64 arrays.

    Raises
    ------
    ValueError
        If ``prior`` is neither, if a shape does not fit the data, if ``degrees_of_freedom``
        is too small for an inverse-Wishart, or if the default scale is singular.
    """
    if isinstance(prior, str) and prior == "conjugate":
        prior = GaussianPrior()
    elif not isinstance(prior, GaussianPrior):
        raise ValueError(
            f"prior must be None, 'conjugate' or an emlib.GaussianPrior, got {prior!r}."
        )
    D = X.shape[1]
    mean, scale, nu = prior.mean, prior.scale, prior.degrees_of_freedom
    if mean is None:
        mean = _data_mean(X)
    elif mean.shape != (D,):
        raise ValueError(f"prior mean has shape {mean.shape}; the data need ({D},).")
    if nu is None:
        nu = D + 2.0
    elif covariance_type in ("full", "tied") and nu <= D - 1:
        raise ValueError(
            f"degrees_of_freedom={nu:g} is too small for an inverse-Wishart prior in {D} "
            f"dimensions: it must exceed n_features - 1 = {D - 1}."
        )
    expected = {"full": (D, D), "tied": (D, D), "diag": (D,), "spherical": ()}[covariance_type]
    if scale is None:
        covariance = np.atleast_2d(_data_covariance(X))
        scale = covariance / n_components ** (2.0 / D)
        if covariance_type == "diag":
            scale = np.diag(scale).copy()
        elif covariance_type == "spherical":
            scale = np.array(np.trace(scale) / D)
        singular = (
            np.linalg.eigvalsh(np.atleast_2d(scale))[0] <= 0
            if covariance_type in ("full", "tied")
            else np.any(scale <= 0)
        )
        if singular:
            raise ValueError(
                "The data covariance is singular (a feature is constant or a linear "
                "combination of others), so the default prior scale is not positive "
                "definite; pass an emlib.GaussianPrior with an explicit scale."
            )
    elif scale.shape != expected:
        raise ValueError(
            f"prior scale has shape {scale.shape}; covariance_type={covariance_type!r} with "
            f"{D} features needs {expected}."
        )
    return replace(prior, mean=mean, scale=scale, degrees_of_freedom=float(nu))


def map_gaussian_parameters(X, resp, prior, covariance_type, *, centred=None):
    r"""MAP M-step: the posterior mode of weights, means and covariances given ``resp``.

    With :math:`N_k = \sum_n r_{nk}`, :math:`\bar x_k = \sum_n r_{nk} x_n / N_k`, the
    scatter :math:`W_k = \sum_n r_{nk} (x_n - \bar x_k)(x_n - \bar x_k)^\top`,
    :math:`\delta_k = \bar x_k - \mu_0` and :math:`c_k = \kappa N_k / (N_k + \kappa)`,

    .. math::

        \pi_k = \frac{N_k + \alpha - 1}{N + K(\alpha - 1)}, \qquad
        \mu_k = \frac{N_k \bar x_k + \kappa \mu_0}{N_k + \kappa},

    and the covariances (Fraley and Raftery, 2007, give the same for mclust's models VVV,
    EEE, VVI and VII)

    .. math::

        \text{full:}\quad \Sigma_k &= \frac{\Psi + W_k + c_k \delta_k \delta_k^\top}
                                          {\nu + N_k + D + 2}, \\
        \text{tied:}\quad \Sigma &= \frac{\Psi + \sum_k (W_k + c_k \delta_k \delta_k^\top)}
                                        {\nu + N + K + D + 1}, \\
        \text{diag:}\quad \sigma^2_{kd} &= \frac{s_d + (W_k)_{dd} + c_k \delta_{kd}^2}
                                               {\nu + N_k + 3}, \\
        \text{spherical:}\quad \sigma^2_k &= \frac{s + \operatorname{tr} W_k
                                                 + c_k \lVert\delta_k\rVert^2}
                                                {\nu + N_k D + D + 2}.

    Each is the joint maximiser of the expected complete-data log-likelihood plus the log
    prior: for fixed covariances the mean maximises a sum of quadratics, whatever the
    covariance; substituting it, the terms in :math:`\Sigma` are
    :math:`-\tfrac{m}{2} \log|\Sigma| - \tfrac12 \operatorname{tr}(B \Sigma^{-1})`, maximised
    at :math:`B / m`. The exponent :math:`m` collects :math:`N_k` from the likelihood, one
    from the normal prior on each mean that shares the covariance (:math:`K` for ``tied``,
    :math:`D` for ``spherical``), and :math:`\nu + D + 1` (inverse-Wishart) or
    :math:`\nu + 2` per variance (inverse-gamma of shape :math:`\nu/2`).

    The scatters come from :mod:`emlib.moments`, applied to the data centred at
    :math:`\mu_0`, so they keep their digits far from the origin even in ``float32``; the
    arithmetic is in the dtype of ``X``. Nothing is added to the diagonal: the
    prior scale already makes every covariance positive definite, even for a component with
    one point or none (which sits at :math:`\mu_0` with the covariance of the prior mode).

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    resp : ndarray of shape (n_samples, n_components)
    prior : GaussianPrior
        Every field set, as returned by :func:`resolve_prior`.
    covariance_type : {"full", "tied", "diag", "spherical"}
    centred : tuple of (ndarray, ndarray), optional
        ``(origin, X - origin)`` with ``origin = prior.mean.astype(X.dtype)``, for a caller
        that calls this function with the same ``X`` many times; computed here when not given.

    Returns
    -------
    weights : ndarray of shape (n_components,)
    means : ndarray of shape (n_components, n_features)
    covariances : ndarray
        Shape (K, D, D), (D, D), (K, D) or (K,) for full, tied, diag and spherical.
    """
    dtype = X.dtype
    # Everything is computed about mu_0 (rounded to the dtype): a mean far from the origin
    # is stored only to eps |mu|, and a scatter taken about such a rounded mean is off by
    # about 2 eps |mu| |mu - c| in float32 -- percents of a small variance at 1e4.
    if centred is None:
        origin = prior.mean.astype(dtype)
        centred = origin, X - origin
    origin, Xc = centred
    mu0 = (prior.mean - origin).astype(dtype)
    nk = resp.sum(axis=0)
    # As in emlib.gaussian: an empty component keeps a finite (zero) sample mean.
    divisor = np.maximum(nk, np.finfo(dtype).tiny)
    xbar = (resp.T @ Xc) / divisor[:, np.newaxis]
    scatter = summed_scatter(covariance_type, Xc, resp, nk, divisor, xbar, origin=origin)
    return map_parameters_from_moments(
        nk, xbar, scatter, prior, covariance_type, mu0=mu0, origin=origin
    )


def map_parameters_from_moments(nk, xbar, scatter, prior, covariance_type, *, mu0, origin):
    r"""The posterior mode of :func:`map_gaussian_parameters`, from the components' moments.

    The M-step needs the data only through :math:`N_k`, :math:`\bar x_k` and the scatters
    :math:`W_k` about :math:`\bar x_k` (summed over components for ``tied``, diagonals only
    for ``diag`` and ``spherical``); the formulas are those of
    :func:`map_gaussian_parameters`. Online and out-of-core EM (:mod:`emlib.online`,
    :mod:`emlib.daskfit`) accumulate these moments in pieces and call this.

    Parameters
    ----------
    nk : ndarray of shape (n_components,)
    xbar : ndarray of shape (n_components, n_features)
        The component means, measured from ``origin``.
    scatter : ndarray
        :math:`W_k`: shape (K, D, D) for ``full``, (D, D) summed over components for
        ``tied``, (K, D) diagonals for ``diag`` and ``spherical``.
    prior : GaussianPrior
        Every field set.
    covariance_type : {"full", "tied", "diag", "spherical"}
    mu0 : ndarray of shape (n_features,)
        The prior mean measured from ``origin``.
    origin : ndarray of shape (n_features,)

    Returns
    -------
    weights, means, covariances
        In the dtype of ``xbar``.
    """
    dtype = xbar.dtype
    K, D = xbar.shape
    kappa, nu, alpha = prior.shrinkage, prior.degrees_of_freedom, prior.weight_concentration
    scale = prior.scale.astype(dtype, copy=False)
    delta = xbar - mu0
    # Written as a step from xbar_k towards mu_0, exact for an empty component (mean mu_0).
    nk_kappa = nk + kappa
    means = xbar - (kappa / nk_kappa)[:, np.newaxis] * delta + origin
    c = kappa * nk / nk_kappa

    if covariance_type == "full":
        scatter = scatter + c[:, None, None] * delta[:, :, None] * delta[:, None, :]
        covariances = (scale + scatter) / (nu + nk + D + 2)[:, None, None]
    elif covariance_type == "tied":
        n = nk.sum()
        scatter = scatter + (c * delta.T) @ delta
        covariances = (scale + scatter) / (nu + n + K + D + 1)
        covariances = (covariances + covariances.T) / 2
    else:
        scatter = scatter + c[:, None] * delta**2
        if covariance_type == "diag":
            covariances = (scale + scatter) / (nu + nk + 3)[:, None]
        else:
            covariances = (scale + scatter.sum(axis=1)) / (nu + nk * D + D + 2)
    weights = (nk + (alpha - 1)) / (nk.sum() + K * (alpha - 1))
    return (
        weights.astype(dtype, copy=False),
        means.astype(dtype, copy=False),
        covariances.astype(dtype, copy=False),
    )


class PriorConstants(NamedTuple):
    r"""The parts of :func:`log_prior_density` that depend on the prior and the shapes only.

    Attributes
    ----------
    log_dirichlet : float
        :math:`\log \Gamma(K\alpha) - K \log \Gamma(\alpha)`.
    log_normal : float
        :math:`\tfrac{D}{2} (\log \kappa - \log 2\pi)`.
    log_covariance : float or ndarray
        ``full``, ``tied``: :math:`\tfrac{\nu}{2} \log|\Psi| - \tfrac{\nu D}{2} \log 2
        - \log \Gamma_D(\nu/2)`; ``diag``, ``spherical``: :math:`a \log b - \log
        \Gamma(a)` with :math:`a = \nu/2` and :math:`b` half the scale.
    scale_cholesky : ndarray or None
        The lower Cholesky factor of :math:`\Psi` (``full`` and ``tied``).
    """

    log_dirichlet: float
    log_normal: float
    log_covariance: object
    scale_cholesky: object


def prior_constants(prior, n_components, covariance_type):
    """The terms of the prior's log-density that no parameter changes (:class:`PriorConstants`).

    EM evaluates :func:`log_prior_density` once per iteration; computing these once per fit
    spares a Cholesky factorisation and a multivariate gamma function in every iteration.

    Parameters
    ----------
    prior : GaussianPrior
        Every field set, as returned by :func:`resolve_prior`.
    n_components : int
    covariance_type : {"full", "tied", "diag", "spherical"}

    Returns
    -------
    PriorConstants
    """
    K, D = n_components, prior.mean.shape[0]
    nu, alpha = prior.degrees_of_freedom, prior.weight_concentration
    log_dirichlet = gammaln(K * alpha) - K * gammaln(alpha)
    log_normal = 0.5 * D * (math.log(prior.shrinkage) - math.log(2 * math.pi))
    if covariance_type in ("full", "tied"):
        psi_chol = np.linalg.cholesky(prior.scale)
        log_wishart = (
            nu * np.log(np.diag(psi_chol)).sum()
            - 0.5 * nu * D * math.log(2)
            - multigammaln(0.5 * nu, D)
        )
        return PriorConstants(log_dirichlet, log_normal, log_wishart, psi_chol)
    shape = 0.5 * nu
    log_gamma = shape * np.log(0.5 * prior.scale) - gammaln(shape)
    return PriorConstants(log_dirichlet, log_normal, log_gamma, None)


def log_prior_density(
    prior, weights, means, covariances, precisions_cholesky, covariance_type, *, constants=None
):
    r"""Log-density of the prior at the parameters, normalising constants included.

    The sum of :math:`\log \mathrm{Dirichlet}(\pi \mid \alpha)` and, for every component,
    the log-densities of its covariance (inverse-Wishart or inverse-gamma) and of its mean
    given the covariance (normal), each a proper density as in :mod:`scipy.stats`; for
    ``tied`` the inverse-Wishart term appears once. Computed in float64.

    Parameters
    ----------
    prior : GaussianPrior
        Every field set, as returned by :func:`resolve_prior`.
    weights, means, covariances, precisions_cholesky : ndarray
        The parameters in the layout of :class:`emlib.GaussianMixture`.
    covariance_type : {"full", "tied", "diag", "spherical"}
    constants : PriorConstants, optional
        :func:`prior_constants` of this prior, number of components and covariance type,
        for a caller that evaluates the density many times; computed here when not given.

    Returns
    -------
    float
    """
    weights = np.asarray(weights, dtype=np.float64)
    means = np.asarray(means, dtype=np.float64)
    covariances = np.asarray(covariances, dtype=np.float64)
    U = np.asarray(precisions_cholesky, dtype=np.float64)
    K, D = means.shape
    if constants is None:
        constants = prior_constants(prior, K, covariance_type)
    kappa, nu, alpha = prior.shrinkage, prior.degrees_of_freedom, prior.weight_concentration
    offsets = means - prior.mean

    log_dirichlet = constants.log_dirichlet
    if alpha != 1:  # with the default alpha = 1 every term (alpha - 1) log pi_k is zero
        log_dirichlet += float(xlogy(alpha - 1, weights).sum())
    if covariance_type in ("full", "tied"):
        stack = U if covariance_type == "full" else U[np.newaxis]
        # log |Sigma^{-1}| = 2 sum log diag U; tr(Psi Sigma^{-1}) = ||L_Psi^T U||_F^2.
        log_det_precision = 2 * np.log(stack.diagonal(0, 1, 2)).sum(axis=1)
        trace = np.square(stack.swapaxes(1, 2) @ constants.scale_cholesky)
        log_wishart = (
            constants.log_covariance
            + 0.5 * (nu + D + 1) * log_det_precision
            - 0.5 * trace.sum(axis=(1, 2))
        )
        if covariance_type == "tied":  # the log-determinant broadcasts below by itself
            stack = np.broadcast_to(stack, (K, D, D))
        projected = np.einsum("ki,kij->kj", offsets, stack)
        log_normal = (
            constants.log_normal
            + 0.5 * log_det_precision
            - 0.5 * kappa * np.square(projected).sum(axis=1)
        )
        return float(log_dirichlet + log_wishart.sum() + log_normal.sum())
    variances = covariances if covariance_type == "diag" else covariances[:, np.newaxis]
    log_variances = np.log(variances)
    # Inverse-gamma densities of shape nu / 2 and scale s / 2.
    log_gamma = (
        constants.log_covariance
        - (0.5 * nu + 1) * log_variances
        - 0.5 * prior.scale / variances
    )
    # log |Sigma_k| = sum_d log sigma_kd^2; a spherical variance repeated D times, since
    # D log sigma_k^2 would round differently from the sum.
    if covariance_type != "diag":
        log_variances = log_variances.repeat(D, axis=1)
    log_normal = (
        constants.log_normal
        - 0.5 * log_variances.sum(axis=1)
        - 0.5 * kappa * (np.square(offsets) / variances).sum(axis=1)
    )
    return float(log_dirichlet + log_gamma.sum() + log_normal.sum())
