r"""Mixtures of multivariate Student t distributions, fitted by EM.

The model (Peel and McLachlan, 2000; McLachlan and Peel, 2000, Chapter 7) is

.. math::

    p(x \mid \theta) = \sum_{k=1}^{K} \pi_k\, t_{\nu_k}(x \mid \mu_k, \Sigma_k),

    \log t_\nu(x \mid \mu, \Sigma) = \log\Gamma\bigl(\tfrac{\nu + D}{2}\bigr)
    - \log\Gamma\bigl(\tfrac{\nu}{2}\bigr) - \tfrac{D}{2} \log(\nu\pi)
    - \tfrac12 \log\det\Sigma - \tfrac{\nu + D}{2} \log\Bigl(1 + \frac{\delta}{\nu}\Bigr),

with :math:`\delta = (x - \mu)^\top \Sigma^{-1} (x - \mu)` the squared Mahalanobis distance.
A t distribution is a Gaussian whose precision is scaled by a Gamma variable: if
:math:`u \sim \mathrm{Gamma}(\nu/2, \text{rate } \nu/2)` and
:math:`x \mid u \sim \mathcal{N}(\mu, \Sigma / u)`, then :math:`x \sim t_\nu(\mu, \Sigma)`.
EM treats both the component :math:`z_n` and the scale :math:`u_n` of every point as missing.

**E-step.** The responsibilities :math:`r_{nk}` come from the t log-densities (log-sum-exp,
as for every family, see :mod:`emlib.em`), and the posterior of :math:`u_n` given
:math:`x_n` and :math:`z_n = k` is :math:`\mathrm{Gamma}\bigl((\nu_k + D)/2,\,
(\nu_k + \delta_{nk})/2\bigr)`, whose moments are

.. math::

    u_{nk} = E[u_n \mid x_n, z_n = k] = \frac{\nu_k + D}{\nu_k + \delta_{nk}}, \qquad
    E[\log u_n \mid x_n, z_n = k] = \log u_{nk} + \psi\Bigl(\frac{\nu_k + D}{2}\Bigr)
    - \log\frac{\nu_k + D}{2}.

A point far from :math:`\mu_k` in the component's own units gets a small weight
:math:`u_{nk}`: this is what makes the fit robust to outliers.

**M-step.** With :math:`N_k = \sum_n r_{nk}`,

.. math::

    \pi_k = \frac{N_k}{N}, \qquad
    \mu_k = \frac{\sum_n r_{nk} u_{nk}\, x_n}{\sum_n r_{nk} u_{nk}}, \qquad
    \Sigma_k = \frac{1}{N_k} \sum_n r_{nk} u_{nk} (x_n - \mu_k)(x_n - \mu_k)^\top
    + \epsilon I,

(the scatter divided by the soft count :math:`N_k`, not by :math:`\sum_n r_{nk} u_{nk}`:
Peel and McLachlan, 2000; McLachlan and Peel, 2000, Chapter 7), with :math:`\epsilon` =
``reg_covar`` and the four covariance types of :class:`emlib.GaussianMixture` (``tied``
divides the pooled scatter by :math:`N`). Each degree of freedom :math:`\nu_k`, when
estimated, is the root of

.. math::

    \log\frac{\nu_k}{2} - \psi\Bigl(\frac{\nu_k}{2}\Bigr) = b_k, \qquad
    b_k = \frac{1}{N_k} \sum_n r_{nk} \bigl(u_{nk} - 1 - \log u_{nk}\bigr)
    + \log\frac{\nu_k^{\mathrm{old}} + D}{2} - \psi\Bigl(\frac{\nu_k^{\mathrm{old}} + D}{2}\Bigr),

which is Peel and McLachlan's equation for the CM-step on :math:`\nu_k`, rearranged so that
:math:`b_k` is a sum of non-negative terms (:math:`u - 1 - \log u \ge 0` and
:math:`\log a - \psi(a) > 0`) that rounding cannot cancel, however close to Gaussian the
component is. Given the E-step's expectations, the expected complete-data
log-likelihood splits into a term in the weights, one in each :math:`(\mu_k, \Sigma_k)` and
one in each :math:`\nu_k` (the Gamma density of :math:`u`), so these updates maximise it
jointly: Peel and McLachlan present them as ECM (Meng and Rubin, 1993), and every
iteration is an exact EM step whose log-likelihood never decreases (with ``reg_covar=0``).
"""

import math
from numbers import Real

import numpy as np
from scipy.optimize import brentq
from scipy.special import betaln, digamma, gammaln
from sklearn.utils import check_scalar
from sklearn.utils.validation import check_is_fitted

from .em import MixtureEM
from .gaussian import (
    DEFAULT_REG_COVAR,
    GaussianMixture,
    check_covariance_type,
    estimate_gaussian_parameters,
    full_covariances,
    initial_covariances,
    mahalanobis_and_log_det,
    n_parameters,
    precision_cholesky,
    precisions_from_cholesky,
)

__all__ = [
    "DOF_BOUNDS",
    "StudentTMixture",
    "expected_scales",
    "log_student_t_density",
    "log_student_t_from_distances",
    "update_dof",
]

DOF_BOUNDS = (1.0, 200.0)
"""Range of the estimated degrees of freedom, ``(floor, cap)``; see :func:`update_dof`."""

# Where an estimated nu starts: tails a little heavier than Gaussian, so that the first
# E-step already down-weights far points; the first CM-step moves it to the data's value.
_DOF_START = 50.0


def log_student_t_density(X, means, precisions_cholesky, covariance_type, dof):
    r""":math:`\log t_{\nu_k}(x_n \mid \mu_k, \Sigma_k)` for every sample and component.

    Written as

    .. math::

        \log t_\nu = c_D(\nu) - \tfrac{D}{2} \log 2\pi + \log\det U
        - \tfrac{\nu + D}{2} \log\Bigl(1 + \frac{\delta}{\nu}\Bigr), \qquad
        c_D(\nu) = \log\Gamma\bigl(\tfrac{\nu + D}{2}\bigr) - \log\Gamma\bigl(\tfrac{\nu}{2}\bigr)
        - \tfrac{D}{2} \log\tfrac{\nu}{2},

    so that each term tends to its Gaussian counterpart as :math:`\nu \to \infty`
    (:math:`c_D \to 0` and the last term to :math:`\delta / 2`). The difference of
    log-gamma functions is taken as :math:`\log\Gamma(D/2) - \log B(\nu/2, D/2)`, which SciPy
    evaluates without cancellation for large :math:`\nu`; the two log-gammas themselves are
    of size :math:`\nu \log \nu` and would leave :math:`c_D` an absolute error of about
    :math:`\epsilon\, \nu \log \nu`. The density is that of Peel and McLachlan (2000) and
    of :func:`scipy.stats.multivariate_t`.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    means : ndarray of shape (n_components, n_features)
    precisions_cholesky : ndarray
        The factors :math:`U_k` of :func:`emlib.gaussian.precision_cholesky`, with
        :math:`\Sigma_k^{-1} = U_k U_k^\top`.
    covariance_type : {"full", "tied", "diag", "spherical"}
    dof : ndarray of shape (n_components,)
        Positive, finite degrees of freedom :math:`\nu_k`.

    Returns
    -------
    ndarray of shape (n_samples, n_components)
        Column-major, in the dtype of ``X``.
    """
    mahalanobis, log_det = mahalanobis_and_log_det(
        X, means, precisions_cholesky, covariance_type
    )
    return log_student_t_from_distances(mahalanobis, log_det, dof, X.shape[1])


def log_student_t_from_distances(mahalanobis, log_det, dof, n_features):
    r"""The t log-density of :func:`log_student_t_density` from its two parameter-dependent
    terms, the squared distances :math:`\delta_{nk}` and :math:`\log\det U_k` (those of
    :func:`emlib.gaussian.mahalanobis_and_log_det`).

    Parameters
    ----------
    mahalanobis : ndarray of shape (n_samples, n_components)
        Not modified.
    log_det : ndarray of shape (n_components,), or a scalar
    dof : ndarray of shape (n_components,)
    n_features : int

    Returns
    -------
    ndarray of shape (n_samples, n_components)
        In the layout and dtype of ``mahalanobis``.
    """
    nu = np.asarray(dof, dtype=np.float64)
    half_d = n_features / 2
    constant = (
        gammaln(half_d) - betaln(nu / 2, half_d) - half_d * np.log(nu / 2)
        - half_d * math.log(2 * math.pi)
    )
    # The per-component coefficients in the data's dtype, so that float32 stays float32.
    dtype = mahalanobis.dtype
    log_prob = np.log1p(mahalanobis / nu.astype(dtype))
    log_prob *= -((nu + n_features) / 2).astype(dtype)
    log_prob += (constant + log_det).astype(dtype)
    return log_prob


def expected_scales(mahalanobis, dof, n_features):
    r"""E-step weights :math:`u_{nk} = E[u_n \mid x_n, z_n = k] = (\nu_k + D) /
    (\nu_k + \delta_{nk})`.

    The posterior of the scale :math:`u_n` of a point of component :math:`k` is
    :math:`\mathrm{Gamma}\bigl((\nu_k + D)/2, (\nu_k + \delta_{nk})/2\bigr)` (shape, rate);
    this is its mean (Peel and McLachlan, 2000; McLachlan and Peel, 2000, Chapter 7).

    Parameters
    ----------
    mahalanobis : ndarray of shape (n_samples, n_components)
        Squared Mahalanobis distances :math:`\delta_{nk}`.
    dof : ndarray of shape (n_components,)
    n_features : int
        The dimension :math:`D`.

    Returns
    -------
    ndarray of shape (n_samples, n_components), float64
    """
    nu = np.asarray(dof, dtype=np.float64)
    return (nu + n_features) / (nu + mahalanobis.astype(np.float64))


def update_dof(resp, scales, dof, n_features, bounds=DOF_BOUNDS):
    r"""The CM-step on the degrees of freedom: for every component, the root in
    :math:`\nu` of :math:`\log(\nu/2) - \psi(\nu/2) = b_k` (see :mod:`emlib.student`).

    The left side, :math:`g(\nu) = \log(\nu/2) - \psi(\nu/2)`, falls strictly from
    :math:`+\infty` at :math:`\nu \to 0` to 0 as :math:`\nu \to \infty` (it behaves like
    :math:`1/\nu`), and :math:`b_k > 0`, so the root exists and is unique; the part of the
    expected complete-data log-likelihood that depends on :math:`\nu_k`,
    :math:`\tfrac{N_k}{2} [\nu \log\tfrac{\nu}{2} - 2 \log\Gamma(\tfrac{\nu}{2})
    - \nu\, b_k - \nu]` up to a constant, has derivative :math:`\tfrac{N_k}{2}
    (g(\nu) - b_k)` and is concave. Within ``bounds = (floor, cap)`` the maximiser is
    therefore the root when :math:`g(\text{floor}) > b_k > g(\text{cap})`, found by
    :func:`scipy.optimize.brentq` on the bracket ``[floor, cap]`` (where :math:`g - b_k`
    changes sign), and otherwise the bound on the root's side: the clipped root is the
    constrained maximiser, so the objective still never decreases.

    The cap, 200 by default as in EMMIXskew's ``mvt.dof``, stands for "Gaussian": a t
    with 200 degrees of freedom has excess kurtosis :math:`6/196 \approx 0.03`, and data
    with no heavy tails drive the root to infinity. The floor, 1 (the Cauchy distribution),
    keeps away from :math:`\nu \to 0`, where a mixture's likelihood is unbounded for
    :math:`D \ge 3`: a component centred on a data point has a density there that grows
    like :math:`\nu^{1 - D/2}`, while the other components hold the other points.

    Parameters
    ----------
    resp : ndarray of shape (n_samples, n_components)
        Responsibilities :math:`r_{nk}`.
    scales : ndarray of shape (n_samples, n_components)
        E-step weights :math:`u_{nk}` at the current degrees of freedom
        (:func:`expected_scales`).
    dof : ndarray of shape (n_components,)
        The current degrees of freedom, :math:`\nu_k^{\mathrm{old}}`.
    n_features : int
    bounds : tuple of two floats, default=DOF_BOUNDS

    Returns
    -------
    ndarray of shape (n_components,), float64
    """
    floor, cap = bounds
    # u - 1 - log u >= 0, computed without cancellation near u = 1: there (1/2 <= u <= 2)
    # u - 1 is exact and log1p keeps the digits of log u. Elsewhere log u itself is
    # accurate, and log1p(u - 1) is not: for an outlier's u below eps, u - 1 rounds to -1
    # and the term became infinite (nan once multiplied by a zero responsibility), and for
    # u = 1e-10 it was off by about eps / u = 2e-6. An infinite distance (float32 overflow)
    # gives u = 0, kept at the smallest normal number so that log u stays finite.
    scales = np.maximum(scales, np.finfo(np.float64).tiny)
    shortfall = scales - 1.0
    near = (scales >= 0.5) & (scales <= 2.0)
    log_scales = np.log(scales)
    log_scales[near] = np.log1p(shortfall[near])
    shortfall -= log_scales
    nk = np.maximum(resp.sum(axis=0, dtype=np.float64), np.finfo(np.float64).tiny)
    half = (np.asarray(dof, dtype=np.float64) + n_features) / 2
    targets = np.einsum("nk,nk->k", resp, shortfall, dtype=np.float64) / nk
    targets += np.log(half) - digamma(half)

    def excess(nu, target):
        return math.log(nu / 2) - digamma(nu / 2) - target

    updated = np.empty_like(targets)
    for k, target in enumerate(targets):
        if excess(cap, target) >= 0:
            updated[k] = cap
        elif excess(floor, target) <= 0:
            updated[k] = floor
        else:
            updated[k] = brentq(excess, floor, cap, args=(target,), xtol=1e-12, rtol=1e-14)
    return updated


class StudentTMixture(MixtureEM):
    r"""Mixture of multivariate Student t distributions fitted by EM.

    Heavy-tailed components: points far from a component's centre are down-weighted in its
    mean and scatter by the E-step weights :math:`u_{nk}` (see :meth:`scale_weights`), so a
    few outliers do not drag the fit as they drag a Gaussian mixture's. The formulas are
    in :mod:`emlib.student`.

    Parameters
    ----------
    n_components : int, default=1
        Number of components :math:`K`.
    covariance_type : {"full", "tied", "diag", "spherical"}, default="full"
        Constraint on the scale matrices :math:`\Sigma_k`, as in
        :class:`emlib.GaussianMixture`.
    dof : "estimate" or float, default="estimate"
        Degrees of freedom :math:`\nu_k`. ``"estimate"``: one per component, by
        maximum likelihood (the CM-step of :func:`update_dof`), kept within
        :data:`DOF_BOUNDS`, and counted as free parameters by :meth:`n_parameters`.
        A positive finite number: fixed, the same for every component, and not bounded by
        :data:`DOF_BOUNDS` (McLachlan and Peel, 2000, Chapter 7, treat both; a small fixed
        value such as 4 gives robust clustering, a very large one approaches
        :class:`emlib.GaussianMixture`).
    tol : float, default=1e-3
        Convergence threshold on the change of the mean log-likelihood per sample.
    reg_covar : float, default=1e-6
        Added to the diagonal of every :math:`\Sigma_k` in every M-step, as in
        :class:`emlib.GaussianMixture`. With ``reg_covar=0`` every step is an exact EM step
        and the log-likelihood never decreases.
    max_iter : int, default=100
    n_init : int, default=1
    init_params : {"kmeans", "k-means++", "random", "random_from_data"}, default="kmeans"
        How initial responsibilities are chosen (see :class:`emlib.em.MixtureEM`); the
        first parameters are then those of a Gaussian M-step (all :math:`u_{nk} = 1`), with
        :math:`\nu_k` = ``dof``, or 50 when estimated.
    weights_init : array-like of shape (n_components,), default=None
    means_init : array-like of shape (n_components, n_features), default=None
    precisions_init : array-like, default=None
        Initial :math:`\Sigma_k^{-1}`, in the shape of ``precisions_``.
    random_state : int, RandomState instance or None, default=None
        Seed of the start that ``init_params`` computes and of :meth:`sample`. No start is
        computed, and the seed is not used in fitting, when ``weights_init``, ``means_init``
        and ``precisions_init`` fix the whole start.
    warm_start : bool, default=False
    verbose : int, default=0
    keep_history : bool, default=False
        Store the starting parameters and those after every M-step in ``params_history_``.
    progress : bool, default=False
        Show a progress bar of the EM iterations (tqdm), with the current objective.

    Attributes
    ----------
    weights_ : ndarray of shape (n_components,)
    means_ : ndarray of shape (n_components, n_features)
        The locations :math:`\mu_k` (the component means when :math:`\nu_k > 1`).
    covariances_ : ndarray
        The scale matrices :math:`\Sigma_k`, in the layouts of
        :class:`emlib.GaussianMixture`: (K, D, D) full, (D, D) tied, (K, D) diag, (K,)
        spherical. A component's covariance is :math:`\nu_k / (\nu_k - 2)\, \Sigma_k` when
        :math:`\nu_k > 2` and infinite otherwise; its density's contours are the ellipses
        of :math:`\Sigma_k`.
    precisions_ : ndarray
        Inverses of ``covariances_``.
    precisions_cholesky_ : ndarray
        Upper-triangular :math:`U_k` with ``precisions_[k] == U_k @ U_k.T``.
    dof_ : ndarray of shape (n_components,)
        Degrees of freedom :math:`\nu_k` (all equal to ``dof`` when it is fixed).
    converged_ : bool
    n_iter_ : int
    lower_bound_ : float
        Mean log-likelihood per sample at the last E-step of the best run, every constant
        included (the log-density is that of :func:`scipy.stats.multivariate_t`).
    log_likelihood_history_ : ndarray of shape (n_iter_,)
        The same at every E-step; never decreasing with ``reg_covar=0`` (up to rounding).
    params_history_ : list of dict
        With ``keep_history=True``: the parameters after 0, 1, ..., ``n_iter_`` M-steps.
    n_features_in_ : int

    Notes
    -----
    The start matters as for any mixture, and outliers can mislead it: the default k-means
    start may give a group of far outliers a centre of its own, after which EM can stay in
    a local maximum with one component on the outliers and another across two clusters.
    More k-means starts do not help, since they isolate the same outliers; several starts
    of another kind (``init_params="random"`` with ``n_init=10`` finds the better maximum
    in the example of the tests) or a start given through ``means_init`` do. Compare the
    fits' ``lower_bound_``.

    The scatter is divided by :math:`N_k`: in the expected complete-data log-likelihood the
    weights :math:`u_{nk}` multiply the quadratic form but not :math:`\log\det\Sigma_k`,
    whose coefficient is :math:`N_k / 2`. Dividing by :math:`\sum_n r_{nk} u_{nk}`
    instead, a variant met for a single t, is not this M-step, so EM's guarantee that the
    log-likelihood never decreases does not cover it. The two agree at every stationary
    point, where :math:`\sum_n r_{nk} u_{nk} = N_k` (the derivative of the log-likelihood
    along :math:`\Sigma_k \to c\, \Sigma_k` at :math:`c = 1` is :math:`\tfrac{\nu_k}{2}
    \sum_n r_{nk} (1 - u_{nk})`), so converged fits cannot tell them apart; one step can.

    Examples
    --------
    >>> import numpy as np
    >>> from emlib import StudentTMixture
    >>> rng = np.random.default_rng(0)
    >>> X = np.r_[rng.standard_t(3, (300, 2)) - 4, rng.standard_t(3, (300, 2)) + 4]
    >>> tm = StudentTMixture(2, random_state=0).fit(X)
    >>> np.sort(tm.means_[:, 0]).round(0).tolist()
    [-4.0, 4.0]
    """

    def __init__(
        self,
        n_components=1,
        *,
        covariance_type="full",
        dof="estimate",
        tol=1e-3,
        reg_covar=DEFAULT_REG_COVAR,
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
        self.covariance_type = covariance_type
        self.dof = dof
        self.reg_covar = reg_covar
        self.weights_init = weights_init
        self.means_init = means_init
        self.precisions_init = precisions_init

    @classmethod
    def from_parameters(
        cls, weights, means, covariances, degrees_of_freedom, *, covariance_type="full",
        **params,
    ):
        r"""A t mixture with known parameters, ready to use without fitting.

        Parameters
        ----------
        weights : array-like of shape (n_components,)
            Non-negative, summing to one.
        means : array-like of shape (n_components, n_features)
        covariances : array-like
            The scale matrices :math:`\Sigma_k`, in the shape of ``covariances_`` for
            ``covariance_type``.
        degrees_of_freedom : float or array-like of shape (n_components,)
            :math:`\nu_k`, positive and finite; a number is used for every component.
        covariance_type : {"full", "tied", "diag", "spherical"}, default="full"
        **params
            Any other constructor parameter (for example ``random_state`` for ``sample``,
            or ``dof`` for how a later warm-started fit treats the degrees of freedom).

        Returns
        -------
        StudentTMixture

        Examples
        --------
        >>> from emlib import StudentTMixture
        >>> tm = StudentTMixture.from_parameters([1.0], [[0.0]], [[[1.0]]], 3.0)
        >>> round(float(tm.score_samples([[0.0]])[0]), 6)  # log of 2 / (pi sqrt(3))
        -1.000889
        """
        # The Gaussian parameters are checked as GaussianMixture checks them.
        gaussian = GaussianMixture.from_parameters(
            weights, means, covariances, covariance_type=covariance_type
        )
        K = gaussian.n_components
        dof = np.broadcast_to(np.asarray(degrees_of_freedom, dtype=float), (K,)).copy()
        if not np.all(np.isfinite(dof) & (dof > 0)):
            raise ValueError(
                f"degrees_of_freedom must be positive and finite, got {degrees_of_freedom!r}."
            )
        if "n_components" in params:
            raise ValueError("n_components is not a parameter here: it is len(means).")
        model = cls(n_components=K, covariance_type=covariance_type, **params)
        parameters = gaussian._get_parameters()
        parameters["dof"] = dof
        model._set_parameters(parameters)
        model.n_features_in_ = gaussian.n_features_in_
        return model

    # ------------------------------------------------------------------ family hooks
    def _check_family_parameters(self, X):
        check_covariance_type(self.covariance_type)
        check_scalar(self.reg_covar, "reg_covar", Real, min_val=0.0)
        if isinstance(self.dof, str):
            if self.dof != "estimate":
                raise ValueError(
                    f"dof={self.dof!r} is not supported: use dof='estimate' to estimate "
                    "one per component, or a positive number to fix them all."
                )
        else:
            check_scalar(self.dof, "dof", Real, min_val=0.0, include_boundaries="neither")
            if not math.isfinite(self.dof):
                raise ValueError(
                    f"dof={self.dof!r}: the degrees of freedom must be finite. Infinitely "
                    "many make every component Gaussian: use emlib.GaussianMixture."
                )
        # The initial precisions are checked as GaussianMixture checks them.
        GaussianMixture(
            self.n_components,
            covariance_type=self.covariance_type,
            precisions_init=self.precisions_init,
        )._check_family_parameters(X)

    def _parameters_from(self, X, resp, weighted):
        r"""Weights, locations and scale matrices of the M-step, given the responsibilities
        and ``weighted`` :math:`= r_{nk} u_{nk}`.

        :func:`emlib.gaussian.estimate_gaussian_parameters` with the weights
        :math:`r_{nk} u_{nk}` gives the locations and the scatters divided by
        :math:`\sum_n r_{nk} u_{nk}`; scaling them by :math:`\sum_n r_{nk} u_{nk} / N_k`
        makes the divisor :math:`N_k`. Its moments are taken about the coordinate-wise
        median of the data, computed once per fit (see :mod:`emlib.moments`), so nothing
        depends on where the origin is, nor on a few gross outliers: about the mean, one
        point at 1e20 moved the centre to 5e17, where every other point lost its digits to
        the subtraction (multiples of 64 in float64). ``reg_covar`` is
        added after the scaling, so that it is the same ridge as GaussianMixture's.

        A ``tied`` matrix is the sum of the full scatters divided by :math:`N`: the pooled
        shortcut of :func:`emlib.moments.pooled_scatter` subtracts the between-component
        scatter from the total, which holds only when every sample's weights sum to one,
        and :math:`\sum_k r_{nk} u_{nk}` does not.
        """
        tiny = np.finfo(X.dtype).tiny
        nk = resp.sum(axis=0)
        tied = self.covariance_type == "tied"
        scratch = getattr(self, "_fit_scratch", {})
        if "centred" not in scratch:
            origin = np.median(X, axis=0).astype(X.dtype, copy=False)
            scratch["centred"] = origin, X - origin
        mass, means, covariances = estimate_gaussian_parameters(
            X, weighted, 0.0, "full" if tied else self.covariance_type,
            centred=scratch["centred"],
        )
        mass = np.maximum(mass, tiny)
        ratio = mass / np.maximum(nk, tiny)
        if tied:
            covariances = np.einsum("k,kij->ij", mass, covariances) / nk.sum()
            covariances.flat[:: X.shape[1] + 1] += self.reg_covar
        elif self.covariance_type == "full":
            covariances *= ratio[:, np.newaxis, np.newaxis]
            np.einsum("kii->ki", covariances)[...] += self.reg_covar
        else:
            covariances *= ratio if self.covariance_type == "spherical" else ratio[:, None]
            covariances += self.reg_covar
        # nk / nk.sum() rather than nk / N: with one-hot rows at K seeds ("k-means++",
        # "random_from_data") only K samples carry responsibility.
        return nk / nk.sum(), means, covariances

    def _start_is_given(self):
        return super()._start_is_given() and self.precisions_init is not None

    def _initialize(self, X, resp):
        weights = means = covariances = None
        if resp is not None:
            # A Gaussian M-step: every u_nk = 1 before the first E-step.
            weights, means, covariances = self._parameters_from(X, resp, resp)
        start = _DOF_START if isinstance(self.dof, str) else self.dof
        self.dof_ = np.full(self.n_components, start, dtype=X.dtype)
        self.weights_, self.means_ = self._start_weights_and_means(X, weights, means)
        self.covariances_ = initial_covariances(
            covariances, self.precisions_init, self.covariance_type, X.dtype
        )
        self.precisions_cholesky_ = precision_cholesky(
            self.covariances_, self.covariance_type, self.reg_covar
        )

    def _m_step(self, X, resp):
        # The weights u_nk of the E-step that produced resp, i.e. at the current parameters:
        # from the distances that E-step computed (see _estimate_log_prob) when they are at
        # these very parameters, as they always are within fit.
        scratch = getattr(self, "_fit_scratch", {})
        means, factors, mahalanobis = scratch.get("distances", (None, None, None))
        if means is not self.means_ or factors is not self.precisions_cholesky_:
            mahalanobis, _ = mahalanobis_and_log_det(
                X, self.means_, self.precisions_cholesky_, self.covariance_type
            )
        scales = expected_scales(mahalanobis, self.dof_, X.shape[1])
        if isinstance(self.dof, str):
            self.dof_ = update_dof(resp, scales, self.dof_, X.shape[1]).astype(X.dtype)
        weighted = (resp * scales).astype(X.dtype, copy=False)
        self.weights_, self.means_, self.covariances_ = self._parameters_from(X, resp, weighted)
        self.precisions_cholesky_ = precision_cholesky(
            self.covariances_, self.covariance_type, self.reg_covar
        )

    def _estimate_log_prob(self, X):
        mahalanobis, log_det = mahalanobis_and_log_det(
            X, self.means_, self.precisions_cholesky_, self.covariance_type
        )
        scratch = getattr(self, "_fit_scratch", None)
        if scratch is not None:
            # Within fit, the M-step that follows needs the same distances for its weights
            # u_nk; they are kept with the parameters they belong to (MixtureEM drops the
            # dict when fit returns, so predict and score leave the estimator unchanged).
            scratch["distances"] = self.means_, self.precisions_cholesky_, mahalanobis
        return log_student_t_from_distances(mahalanobis, log_det, self.dof_, X.shape[1])

    def _get_parameters(self):
        return {
            "weights": self.weights_.copy(),
            "means": self.means_.copy(),
            "covariances": self.covariances_.copy(),
            "precisions_cholesky": self.precisions_cholesky_.copy(),
            "dof": self.dof_.copy(),
        }

    def _set_parameters(self, params):
        self.weights_ = params["weights"]
        self.means_ = params["means"]
        self.covariances_ = params["covariances"]
        self.precisions_cholesky_ = params["precisions_cholesky"]
        self.dof_ = params["dof"]
        self.precisions_ = precisions_from_cholesky(
            self.precisions_cholesky_, self.covariance_type
        )

    def n_parameters(self):
        """Free parameters of the fitted model: those of a Gaussian mixture with the same
        covariance type (:func:`emlib.gaussian.n_parameters`), plus one degree of freedom
        per component when ``dof="estimate"``."""
        check_is_fitted(self)
        count = n_parameters(self.n_components, self.means_.shape[1], self.covariance_type)
        return count + (self.n_components if isinstance(self.dof, str) else 0)

    def _sample_component(self, k, n_samples, rng):
        # x = mu + z / sqrt(u) with z ~ N(0, Sigma) and u ~ Gamma(nu/2, rate nu/2).
        nu = float(self.dof_[k])
        scales = rng.gamma(nu / 2, 2 / nu, size=n_samples)
        n_features = self.means_.shape[1]
        cov = self.covariances_
        if self.covariance_type in ("full", "tied"):
            matrix = cov[k] if self.covariance_type == "full" else cov
            z = rng.multivariate_normal(np.zeros(n_features), matrix, n_samples)
        else:
            z = np.sqrt(cov[k]) * rng.standard_normal((n_samples, n_features))
        return self.means_[k] + z / np.sqrt(scales)[:, np.newaxis]

    # ------------------------------------------------------------------ the scale weights
    def scale_weights(self, X, *, by_component=False):
        r"""The E-step's weights of the samples: how much each counts in the M-step.

        By default :math:`E[u_n \mid x_n] = \sum_k r_{nk} u_{nk}`, the expected scale of
        each sample under its responsibilities: about 1 for a typical point and near 0 for
        an outlier, whose contribution to the locations and scatters is multiplied by it
        (relative to a Gaussian mixture's, where every weight is 1).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        by_component : bool, default=False
            If true, return :math:`u_{nk} = E[u_n \mid x_n, z_n = k] = (\nu_k + D) /
            (\nu_k + \delta_{nk})` for every component instead (:func:`expected_scales`).

        Returns
        -------
        ndarray of shape (n_samples,), or (n_samples, n_components) with ``by_component``
            In the dtype of ``X`` (float32 or float64).
        """
        X = self._check_fitted_input(X)
        mahalanobis, _ = mahalanobis_and_log_det(
            X, self.means_, self.precisions_cholesky_, self.covariance_type
        )
        scales = expected_scales(mahalanobis, self.dof_, X.shape[1]).astype(X.dtype)
        if by_component:
            return scales
        return (self._e_step(X)[1] * scales).sum(axis=1)

    def full_covariances(self):
        """The fitted scale matrices as one (d, d) matrix per component, whatever
        ``covariance_type``; see :func:`emlib.gaussian.full_covariances`."""
        check_is_fitted(self)
        return full_covariances(self.covariances_, self.covariance_type, *self.means_.shape)
