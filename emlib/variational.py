r"""Bayesian Gaussian mixtures fitted by variational inference (variational Bayes).

The model (Bishop, 2006, Section 10.2) puts priors on every parameter of a Gaussian
mixture: for each component :math:`k` a Gaussian-Wishart prior

.. math::

    \Lambda_k \sim \mathcal{W}(W_0, \nu_0), \qquad
    \mu_k \mid \Lambda_k \sim \mathcal{N}\bigl(m_0, (\beta_0 \Lambda_k)^{-1}\bigr),

and on the weights either a symmetric Dirichlet, :math:`\pi \sim \mathrm{Dir}(\alpha_0,
\dots, \alpha_0)`, or the stick-breaking prior of a Dirichlet process (Blei and Jordan,
2006), :math:`\pi_k = v_k \prod_{j<k} (1 - v_j)` with :math:`v_k \sim \mathrm{Beta}(1,
\gamma)`. Variational inference approximates the posterior by
:math:`q(Z)\, q(\pi)\, \prod_k q(\mu_k, \Lambda_k)` and maximises the evidence lower
bound (ELBO)

.. math::

    \mathcal{L}(q) = \mathbb{E}_q[\log p(X, Z, \pi, \mu, \Lambda)]
                     - \mathbb{E}_q[\log q(Z, \pi, \mu, \Lambda)]
                   \;\le\; \log p(X)

by coordinate ascent, the two steps of EM over distributions instead of points:

* **E-step** -- :math:`r_{nk} \propto \rho_{nk} = \exp\bigl(\mathbb{E}[\log \pi_k] +
  \mathbb{E}[\log \mathcal{N}(x_n \mid \mu_k, \Lambda_k^{-1})]\bigr)`
  (Bishop, 2006, eqs. 10.46-10.49 and 10.64-10.66);
* **M-step** -- the conjugate updates of :math:`q(\pi)` and :math:`q(\mu_k, \Lambda_k)` from
  the soft counts :math:`N_k`, means :math:`\bar x_k` and scatters :math:`S_k` (eqs.
  10.58-10.63).

Right after an E-step the ELBO takes a short form: the expected log-joint of the data and
labels minus the entropy of :math:`q(Z)` is :math:`\sum_n \log \sum_k \rho_{nk}`, so

.. math::

    \mathcal{L} = \sum_n \log \sum_k \rho_{nk}
                  - \mathrm{KL}\bigl(q(\pi, \mu, \Lambda) \,\|\, p(\pi, \mu, \Lambda)\bigr),

which is what :class:`VariationalGaussianMixture` records, per sample, at every E-step.
"""

import math
from numbers import Real

import numpy as np
from scipy.special import betaln, digamma, gammaln, logsumexp, multigammaln
from sklearn.utils import check_scalar
from sklearn.utils.validation import check_is_fitted

from .em import MixtureEM
from .gaussian import (
    check_covariance_type,
    log_gaussian_density,
    mahalanobis_and_log_det,
    n_parameters,
    precision_cholesky,
    precisions_from_cholesky,
)
from .moments import summed_scatter
from .student import log_student_t_from_distances

__all__ = ["VariationalGaussianMixture"]

PRIOR_TYPES = ("dirichlet_process", "dirichlet_distribution")


def _expected_log_det_offset(degrees_of_freedom, n_features):
    r""":math:`\sum_{i=0}^{D-1} \psi\bigl((\nu - i)/2\bigr) + D \log 2 - D \log \nu`, in float64.

    With :math:`W = (\nu \Sigma)^{-1}` this is :math:`\mathbb{E}[\log |\Lambda|] - \log
    |\Sigma^{-1}|` under :math:`\mathcal{W}(W, \nu)` (Bishop, 2006, eq. B.81): the digamma
    terms of the expected log-determinant, measured from the log-determinant of the mean
    precision :math:`\nu W` that the stored factors describe.
    """
    nu = np.asarray(degrees_of_freedom, dtype=np.float64)
    halves = 0.5 * (nu[..., np.newaxis] - np.arange(n_features))
    return digamma(halves).sum(axis=-1) + n_features * (math.log(2.0) - np.log(nu))


def _log_wishart_normaliser(log_det_scale, degrees_of_freedom, n_features):
    r""":math:`\log B(W, \nu) = -\tfrac{\nu}{2} \log|W| - \tfrac{\nu D}{2} \log 2 -
    \log \Gamma_D(\nu / 2)`, the normaliser of :math:`\mathcal{W}(\Lambda \mid W, \nu)`
    (Bishop, 2006, eq. B.79), with the multivariate gamma function of
    :func:`scipy.special.multigammaln`."""
    nu = np.asarray(degrees_of_freedom, dtype=np.float64)
    multigamma = np.vectorize(multigammaln, otypes=[np.float64])(0.5 * nu, n_features)
    return -0.5 * nu * (log_det_scale + n_features * math.log(2.0)) - multigamma


class VariationalGaussianMixture(MixtureEM):
    r"""Gaussian mixture with priors on all parameters, fitted by variational inference.

    scikit-learn's :class:`sklearn.mixture.BayesianGaussianMixture` under emlib's EM
    engine: the same model, hyper-parameters, defaults and fitted attributes, and, from
    the same responsibilities, the same updates (see the Notes for where the two differ).

    Parameters
    ----------
    n_components : int, default=1
        Largest number of components :math:`K`; surplus ones are left with (nearly) no
        weight, the more readily the smaller ``weight_concentration_prior``.
    covariance_type : {"full", "tied", "diag", "spherical"}, default="full"
        The form of the variational Wishart's scale matrices (see the Notes).
    tol : float, default=1e-3
        Convergence threshold on the change of the ELBO per sample.
    max_iter : int, default=100
        Maximum number of iterations (E-step then M-step) per initialisation.
    n_init : int, default=1
        Number of initialisations; the run with the highest final ELBO is kept.
    init_params : {"kmeans", "k-means++", "random", "random_from_data"}, default="kmeans"
        How the initial responsibilities are chosen (see :class:`emlib.em.MixtureEM`); the
        first M-step turns them into the initial :math:`q(\pi, \mu, \Lambda)`.
    weight_concentration_prior_type : {"dirichlet_process", "dirichlet_distribution"}, \
default="dirichlet_process"
        Stick-breaking prior with :math:`v_k \sim \mathrm{Beta}(1, \gamma)`, or a symmetric
        Dirichlet :math:`\mathrm{Dir}(\alpha_0, \dots, \alpha_0)`.
    weight_concentration_prior : float, default=None
        :math:`\gamma` or :math:`\alpha_0`, positive. None: :math:`1 / K`.
    mean_precision_prior : float, default=None
        :math:`\beta_0 > 0`, the prior's weight on ``mean_prior`` in data points. None: 1.
    mean_prior : array-like of shape (n_features,), default=None
        :math:`m_0`. None: the mean of the data.
    degrees_of_freedom_prior : float, default=None
        :math:`\nu_0 > D - 1`. None: :math:`D`.
    covariance_prior : float or array-like, default=None
        :math:`W_0^{-1}`: a symmetric positive definite (D, D) matrix for ``full`` and
        ``tied``, positive variances of shape (D,) for ``diag`` (the diagonal of
        :math:`W_0^{-1}`), one positive number for ``spherical`` (:math:`W_0^{-1} = c_0 I`).
        None: the unbiased covariance of the data, its diagonal, or the mean of that
        diagonal.
    random_state : int, RandomState instance or None, default=None
        Seed of the initialisation and of :meth:`sample`.
    warm_start : bool, default=False
        Continue from the fitted :math:`q` instead of initialising.
    verbose : int, default=0
    keep_history : bool, default=False
        Store the initial variational parameters and those after every M-step in
        ``params_history_``.
    progress : bool, default=False
        Show a progress bar of the EM iterations (tqdm), with the current objective.

    Attributes
    ----------
    weights_ : ndarray of shape (n_components,)
        Posterior mean weights :math:`\mathbb{E}_q[\pi_k]`, normalised to sum to one.
    weight_concentration_ : ndarray of shape (n_components,) or tuple of two
        :math:`\alpha_k = \alpha_0 + N_k` (Dirichlet), or the Beta parameters
        :math:`(1 + N_k,\; \gamma + \sum_{j > k} N_j)` of every stick (Dirichlet process).
    mean_precision_ : ndarray of shape (n_components,)
        :math:`\beta_k = \beta_0 + N_k`.
    means_ : ndarray of shape (n_components, n_features)
        :math:`m_k = (\beta_0 m_0 + N_k \bar x_k) / \beta_k`, the posterior mean of
        :math:`\mu_k`.
    degrees_of_freedom_ : ndarray of shape (n_components,), or a float for ``tied``
        :math:`\nu_k = \nu_0 + N_k` (``tied``: :math:`\nu_0 + N / K`).
    covariances_ : ndarray
        :math:`(\nu_k W_k)^{-1}`, the inverse of the posterior mean precision, in the
        layout of :class:`emlib.GaussianMixture`.
    precisions_ : ndarray
        :math:`\nu_k W_k = \mathbb{E}_q[\Lambda_k]`, same layout.
    precisions_cholesky_ : ndarray
        Upper-triangular factors of ``precisions_`` (see
        :func:`emlib.gaussian.precision_cholesky`).
    weight_concentration_prior_, mean_precision_prior_, mean_prior_, \
degrees_of_freedom_prior_, covariance_prior_
        The hyper-parameters as used, defaults filled in from the data (float64).
    converged_ : bool
    n_iter_ : int
    lower_bound_ : float
        The ELBO per sample, :math:`\mathcal{L} / N` with every constant included, at the
        last E-step of the best run (before its last M-step, as for every emlib mixture).
    log_likelihood_history_ : ndarray of shape (n_iter_,)
        The ELBO per sample at every E-step; it never decreases. (The name is the
        engine's: here every entry is a lower bound on :math:`\log p(X) / N`.)
    params_history_ : list of dict
        With ``keep_history=True``: the variational parameters after 0, 1, ...,
        ``n_iter_`` M-steps.
    n_features_in_ : int

    Notes
    -----
    **What each covariance type is.** All four are the Gaussian-Wishart model above with
    a full Wishart prior whose scale :math:`W_0` is the inverse of ``covariance_prior``
    (expanded to a matrix); they differ in the family of :math:`q(\Lambda_k)`, always a
    Wishart :math:`\mathcal{W}(W_k, \nu_k)`: ``full`` leaves :math:`W_k` free (Bishop's
    updates), ``diag`` restricts it to diagonal matrices and ``spherical`` to multiples of
    the identity, and ``tied`` gives every component its own :math:`\Lambda_k` and prior
    but one shared factor :math:`q(\Lambda)`. Each M-step is the exact maximiser of the
    ELBO within its family -- :math:`W_k^{-1}` is the full update's diagonal, or its
    trace over :math:`D` times the identity, or for ``tied`` the average over components,
    with :math:`\nu = \nu_0 + N / K` -- so the ELBO never decreases. These are
    scikit-learn's updates, and this is the model they optimise. It is not the model of
    independent gamma priors on each variance (where :math:`\mathbb{E}[\log \lambda_d]` would
    have :math:`\psi(\nu / 2)` for every feature instead of :math:`\psi((\nu - i) / 2)`),
    nor for ``tied`` one precision with one Wishart prior (:math:`\nu = \nu_0 + N`).

    **Dirichlet process.** As in scikit-learn, every one of the :math:`K` sticks has a
    Beta factor :math:`q(v_k) = \mathrm{Beta}(1 + N_k, \gamma + \sum_{j>k} N_j)`, the last
    one included; the stick left after :math:`K` breaks belongs to components that
    :math:`q(Z)` never uses (their factors stay at the prior and add nothing to the
    ELBO). Blei and Jordan (2006) instead truncate the model with :math:`v_K = 1`. So
    :math:`\sum_k \mathbb{E}[\pi_k] < 1`, and ``weights_`` is normalised to one. An
    emptied component placed before occupied ones keeps :math:`\mathbb{E}[v_k] = 1 / (1 +
    \gamma + \sum_{j>k} N_j)`, so its weight stays near :math:`1/N` however small
    :math:`\gamma`: its soft count :math:`N_k = \beta_k - \beta_0` is the better sign
    that it is empty.

    **Against scikit-learn** (1.9), started from the same responsibilities:

    * scikit-learn has ``reg_covar`` (default ``1e-6``), added to every scatter :math:`S_k`
      before the update, so that its :math:`W_k^{-1}` gains :math:`N_k` ``reg_covar``
      :math:`I`. The prior already keeps every :math:`W_k^{-1}` positive definite, and the
      ridge makes the update miss the ELBO's maximiser, so there is none here; the two
      agree with ``BayesianGaussianMixture(reg_covar=0)``.
    * scikit-learn's ``lower_bound_`` is a total over the samples, computed after the
      M-step, with the constants that do not change during the fit left out. With
      :math:`r` from an E-step and :math:`q(\pi, \mu, \Lambda)` from the M-step that
      follows, :meth:`elbo` times :math:`N` exceeds it by

      .. math::

          C = c_\pi + K \Bigl(\tfrac{\nu_0}{2} \log |W_0^{-1}|
              - \tfrac{\nu_0 D}{2} \log 2
              - \sum_{i=0}^{D-1} \log \Gamma\bigl(\tfrac{\nu_0 - i}{2}\bigr)
              + \tfrac{D}{2} \log \beta_0\Bigr)
              - \tfrac{N D}{2} \log 2\pi,

      with :math:`c_\pi = \log \Gamma(K \alpha_0) - K \log \Gamma(\alpha_0)` (Dirichlet)
      or :math:`K \log \gamma` (Dirichlet process). Its tolerance ``tol`` therefore
      applies to the total, ours to the mean per sample.
    * The ELBO recorded here at iteration :math:`t` is that of the E-step's :math:`q(Z)`
      with the previous :math:`q(\pi, \mu, \Lambda)`, scikit-learn's that of the same
      :math:`q(Z)` with the next one: the two sequences interleave,
      :math:`\mathcal{L}^{\text{ours}}_t \le (\mathcal{L}^{\text{sk}}_t + C) / N \le
      \mathcal{L}^{\text{ours}}_{t+1}`. Both count an iteration as one E-step and one
      M-step, so after ``max_iter`` iterations both hold the same :math:`q`.
    * scikit-learn's ``score_samples`` is :math:`\log \sum_k \rho_{nk}` -- not a density,
      and by Jensen's inequality below the log predictive density; :meth:`score_samples`
      here is the log predictive density itself (see there). ``predict`` and
      ``predict_proba`` are the same in both: the E-step for the new points.
    * :meth:`sample` draws from the predictive density (Student t components);
      scikit-learn's draws from Gaussians at ``means_`` and ``covariances_``.
    * Empty components: scikit-learn adds :math:`10 \epsilon` to every soft count;
      nothing is added here (an empty component's update is the prior's, exactly).
    * The default hyper-parameters are computed in float64 from float32 data too, and
      kept in float64; scikit-learn computes them in the data's dtype.

    Examples
    --------
    >>> import numpy as np
    >>> from emlib import VariationalGaussianMixture
    >>> rng = np.random.default_rng(0)
    >>> X = np.r_[rng.normal(-4, 1, (150, 2)), rng.normal(4, 1, (150, 2))]
    >>> vb = VariationalGaussianMixture(6, weight_concentration_prior=0.01,
    ...                                 random_state=0, max_iter=500).fit(X)
    >>> int((vb.weights_ > 0.01).sum())
    2
    """

    # No explicit starting parameters, as in scikit-learn: a start is a set of
    # responsibilities, turned into q(pi, mu, Lambda) by one M-step. The engine reads these.
    weights_init = None
    means_init = None

    def __init__(
        self,
        n_components=1,
        *,
        covariance_type="full",
        tol=1e-3,
        max_iter=100,
        n_init=1,
        init_params="kmeans",
        weight_concentration_prior_type="dirichlet_process",
        weight_concentration_prior=None,
        mean_precision_prior=None,
        mean_prior=None,
        degrees_of_freedom_prior=None,
        covariance_prior=None,
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
        self.weight_concentration_prior_type = weight_concentration_prior_type
        self.weight_concentration_prior = weight_concentration_prior
        self.mean_precision_prior = mean_precision_prior
        self.mean_prior = mean_prior
        self.degrees_of_freedom_prior = degrees_of_freedom_prior
        self.covariance_prior = covariance_prior

    # ------------------------------------------------------------------ hyper-parameters
    def _check_family_parameters(self, X):
        check_covariance_type(self.covariance_type)
        if self.weight_concentration_prior_type not in PRIOR_TYPES:
            raise ValueError(
                "weight_concentration_prior_type="
                f"{self.weight_concentration_prior_type!r} is not supported; "
                f"choose one of {', '.join(map(repr, PRIOR_TYPES))}."
            )
        D = X.shape[1]
        self.weight_concentration_prior_ = self._positive(
            self.weight_concentration_prior, "weight_concentration_prior", 1.0 / self.n_components
        )
        self.mean_precision_prior_ = self._positive(
            self.mean_precision_prior, "mean_precision_prior", 1.0
        )
        if self.degrees_of_freedom_prior is None:
            self.degrees_of_freedom_prior_ = float(D)
        else:
            check_scalar(self.degrees_of_freedom_prior, "degrees_of_freedom_prior", Real)
            if not math.isfinite(self.degrees_of_freedom_prior):
                raise ValueError(
                    f"degrees_of_freedom_prior must be finite, got "
                    f"{self.degrees_of_freedom_prior!r}."
                )
            if not self.degrees_of_freedom_prior > D - 1:
                raise ValueError(
                    f"degrees_of_freedom_prior={self.degrees_of_freedom_prior!r} is too small "
                    f"for a Wishart prior in {D} dimensions: it must exceed n_features - 1 = "
                    f"{D - 1}. Leave it at None for the default, n_features."
                )
            self.degrees_of_freedom_prior_ = float(self.degrees_of_freedom_prior)
        if self.mean_prior is None:
            self.mean_prior_ = X.mean(axis=0, dtype=np.float64)
        else:
            mean = np.asarray(self.mean_prior, dtype=np.float64)
            if mean.shape != (D,):
                raise ValueError(f"mean_prior has shape {mean.shape}; the data need ({D},).")
            if not np.all(np.isfinite(mean)):
                raise ValueError("mean_prior must contain only finite numbers.")
            self.mean_prior_ = mean
        self.covariance_prior_ = self._covariance_prior(X)

    @staticmethod
    def _positive(value, name, default):
        if value is None:
            return default
        check_scalar(value, name, Real, min_val=0.0, include_boundaries="neither")
        if not math.isfinite(value):
            raise ValueError(f"{name} must be finite, got {value!r}.")
        return float(value)

    def _covariance_prior(self, X):
        """W_0^{-1} in the layout of the covariance type, checked or defaulted, float64."""
        D = X.shape[1]
        kind = self.covariance_type
        if self.covariance_prior is None:
            # The unbiased data covariance, as scikit-learn; centred in float64, so that
            # data far from the origin keep their spread.
            X64 = X.astype(np.float64)
            variances = X64.var(axis=0, ddof=1)
            prior = {
                "full": lambda: np.atleast_2d(np.cov(X64, rowvar=False)),
                "tied": lambda: np.atleast_2d(np.cov(X64, rowvar=False)),
                "diag": lambda: variances,
                "spherical": lambda: np.float64(variances.mean()),
            }[kind]()
            advice = (
                "The data covariance is singular (a feature is constant or a linear "
                "combination of others), so the default covariance_prior is not positive "
                "definite; pass an explicit covariance_prior."
            )
        else:
            prior = np.asarray(self.covariance_prior, dtype=np.float64)
            expected = {"full": (D, D), "tied": (D, D), "diag": (D,), "spherical": ()}[kind]
            if prior.shape != expected:
                raise ValueError(
                    f"covariance_prior has shape {prior.shape}; covariance_type={kind!r} "
                    f"with {D} features needs {expected}."
                )
            if not np.all(np.isfinite(prior)):
                raise ValueError("covariance_prior must contain only finite numbers.")
            if kind in ("full", "tied") and not np.allclose(prior, prior.T):
                raise ValueError("covariance_prior must be a symmetric matrix.")
            advice = (
                "covariance_prior must be positive definite, and not singular up to rounding "
                "(a matrix for full and tied), or positive (variances for diag and "
                "spherical)."
            )
        # Positive definite to the working precision: every scale matrix W_k^{-1} is the
        # prior plus a scatter, and a prior singular up to rounding leaves W_k^{-1} singular
        # along the directions in which the data themselves are flat.
        eps = np.finfo(X.dtype).eps
        if kind in ("full", "tied"):
            eigenvalues = np.linalg.eigvalsh(prior)
            positive = eigenvalues[0] > D * eps * eigenvalues[-1]
        else:
            positive = np.all(prior.astype(X.dtype) > 0)
        if not positive:
            raise ValueError(advice)
        return prior

    # ------------------------------------------------------------------ the two steps
    def _m_step(self, X, resp):
        r"""The conjugate updates of :math:`q(\pi)` and :math:`q(\mu_k, \Lambda_k)`.

        With :math:`N_k`, :math:`\bar x_k`, :math:`S_k` the soft count, mean and scatter
        (divided by :math:`N_k`) of component :math:`k`, :math:`\delta_k = \bar x_k - m_0`
        and :math:`c_k = \beta_0 N_k / \beta_k` (Bishop, 2006, eqs. 10.58-10.63; Blei and
        Jordan, 2006, for the sticks):

        .. math::

            \alpha_k = \alpha_0 + N_k \ \text{or}\
            (a_k, b_k) = \Bigl(1 + N_k,\ \gamma + \sum_{j>k} N_j\Bigr), \qquad
            \beta_k = \beta_0 + N_k, \qquad
            m_k = \bar x_k - \frac{\beta_0}{\beta_k} \delta_k,

        .. math::

            \nu_k = \nu_0 + N_k, \qquad
            W_k^{-1} = W_0^{-1} + N_k S_k + c_k\, \delta_k \delta_k^\top,

        then for ``diag`` the diagonal of :math:`W_k^{-1}`, for ``spherical`` its trace over
        :math:`D`, and for ``tied`` :math:`\nu = \nu_0 + N / K` and
        :math:`W^{-1} = W_0^{-1} + \frac1K \sum_k (N_k S_k + c_k \delta_k \delta_k^\top)`.

        Everything is computed from the data measured from :math:`m_0`, with the scatters
        of :mod:`emlib.moments`, so the updates keep their digits far from the origin.
        """
        dtype = X.dtype
        K = self.n_components
        beta0, nu0 = self.mean_precision_prior_, self.degrees_of_freedom_prior_
        scratch = self._fit_scratch  # see MixtureEM: kept for the length of one fit
        if "centred" not in scratch:
            origin = self.mean_prior_.astype(dtype)
            scratch["centred"] = origin, X - origin
        origin, Xc = scratch["centred"]
        m0 = (self.mean_prior_ - origin).astype(dtype)  # the rounding of m_0, at most
        nk = resp.sum(axis=0)
        # An empty component must not divide zero by zero; its update is the prior's.
        divisor = np.maximum(nk, np.finfo(dtype).tiny)
        xbar = (resp.T @ Xc) / divisor[:, np.newaxis]
        delta = xbar - m0
        beta = beta0 + nk
        c = beta0 * nk / beta
        covariance_prior = self.covariance_prior_.astype(dtype)

        scale = summed_scatter(self.covariance_type, Xc, resp, nk, divisor, xbar,
                               origin=origin)
        if self.covariance_type == "full":
            scale += c[:, None, None] * delta[:, :, None] * delta[:, None, :]
            scale += covariance_prior
            nu = nu0 + nk
            covariances = scale / nu[:, None, None]
        elif self.covariance_type == "tied":
            scale += (c * delta.T) @ delta
            scale = covariance_prior + scale / K
            nu = dtype.type(nu0 + nk.sum() / K)
            covariances = (scale + scale.T) / (2 * nu)
        else:
            scale += c[:, None] * delta**2
            if self.covariance_type == "spherical":
                scale = scale.mean(axis=1)
            nu = nu0 + nk
            covariances = (covariance_prior + scale) / (nu if scale.ndim == 1 else nu[:, None])

        self.weight_concentration_ = self._weight_concentration(nk)
        self.mean_precision_ = beta.astype(dtype, copy=False)
        self.means_ = (xbar - (beta0 / beta)[:, np.newaxis] * delta + origin).astype(
            dtype, copy=False
        )
        self.degrees_of_freedom_ = nu if np.ndim(nu) == 0 else nu.astype(dtype, copy=False)
        self.covariances_ = covariances.astype(dtype, copy=False)
        try:
            self.precisions_cholesky_ = precision_cholesky(
                self.covariances_, self.covariance_type
            )
        except ValueError:
            # The prior passed its check, so the scatter made W_k^{-1} too ill-conditioned
            # for the dtype; emlib.gaussian's message (about reg_covar) does not apply.
            raise ValueError(
                "A component's scale matrix is singular to working precision: the data are "
                "(nearly) flat in some direction and covariance_prior is too small there to "
                "make up for it. Pass a larger or better-conditioned covariance_prior, fit in "
                "float64, or remove redundant features."
            ) from None
        self._set_derived()

    def _weight_concentration(self, nk):
        prior = self.weight_concentration_prior_
        if self.weight_concentration_prior_type == "dirichlet_distribution":
            return (prior + nk).astype(nk.dtype, copy=False)
        # sum_{j > k} N_j, as a reversed cumulative sum shifted by one.
        later = np.concatenate([np.cumsum(nk[::-1])[-2::-1], [0.0]]).astype(nk.dtype)
        return (1.0 + nk).astype(nk.dtype, copy=False), (prior + later).astype(nk.dtype)

    def _initialize(self, X, resp):
        self._m_step(X, resp)

    def _expected_log_weights(self):
        r""":math:`\mathbb{E}_q[\log \pi_k]`, float64 (Bishop, 2006, eq. 10.66; Blei and
        Jordan, 2006):

        .. math::

            \psi(\alpha_k) - \psi\Bigl(\sum_j \alpha_j\Bigr)
            \quad\text{or}\quad
            \psi(a_k) - \psi(a_k + b_k) + \sum_{j<k} \bigl(\psi(b_j) - \psi(a_j + b_j)\bigr).
        """
        if self.weight_concentration_prior_type == "dirichlet_distribution":
            alpha = self.weight_concentration_.astype(np.float64)
            return digamma(alpha) - digamma(alpha.sum())
        a, b = (v.astype(np.float64) for v in self.weight_concentration_)
        log_total = digamma(a + b)
        log_rest = digamma(b) - log_total
        return digamma(a) - log_total + np.concatenate([[0.0], np.cumsum(log_rest[:-1])])

    def _estimate_log_prob(self, X):
        r""":math:`\mathbb{E}_q[\log \mathcal{N}(x_n \mid \mu_k, \Lambda_k^{-1})]`, in the
        dtype of X (Bishop, 2006, eqs. 10.64-10.65):

        .. math::

            -\tfrac{D}{2} \log 2\pi + \tfrac12 \mathbb{E}[\log |\Lambda_k|]
            - \frac{D}{2 \beta_k} - \frac{\nu_k}{2} (x_n - m_k)^\top W_k (x_n - m_k),

        the Gaussian log-density at the mean precision :math:`\nu_k W_k` plus a constant
        per component (:func:`_expected_log_det_offset`).
        """
        D = X.shape[1]
        beta = self.mean_precision_.astype(np.float64)
        shift = 0.5 * _expected_log_det_offset(self.degrees_of_freedom_, D) - 0.5 * D / beta
        log_prob = log_gaussian_density(
            X, self.means_, self.precisions_cholesky_, self.covariance_type
        )
        log_prob += shift.astype(X.dtype)
        return log_prob

    def _estimate_weighted_log_prob(self, X):
        r""":math:`\log \rho_{nk}`: the expected log-weights
        (:meth:`_expected_log_weights`), not the logarithms of ``weights_``, plus
        :meth:`_estimate_log_prob`."""
        log_prob = self._estimate_log_prob(X)
        log_prob += self._expected_log_weights().astype(X.dtype)
        return log_prob

    # ------------------------------------------------------------------ the ELBO
    def _scale_log_det_and_traces(self):
        r"""For every component: :math:`\log |W_k|`, :math:`\operatorname{tr}(W_0^{-1}
        W_k)` and :math:`\nu_k (m_k - m_0)^\top W_k (m_k - m_0)`, in float64."""
        K, D = self.means_.shape
        U = self.precisions_cholesky_.astype(np.float64)
        nu = np.broadcast_to(np.asarray(self.degrees_of_freedom_, dtype=np.float64), (K,))
        offsets = self.means_.astype(np.float64) - self.mean_prior_
        if self.covariance_type in ("full", "tied"):
            stack = np.broadcast_to(U, (K, D, D))
            log_det_precision = 2 * np.log(np.diagonal(stack, axis1=1, axis2=2)).sum(axis=1)
            # tr(W_0^{-1} nu W) = ||L_0^T U||_F^2 with W_0^{-1} = L_0 L_0^T.
            prior_chol = np.linalg.cholesky(self.covariance_prior_)
            trace = ((np.swapaxes(stack, 1, 2) @ prior_chol) ** 2).sum(axis=(1, 2))
            quadratic = (np.einsum("ki,kij->kj", offsets, stack) ** 2).sum(axis=1)
        else:
            precisions = np.broadcast_to((U**2).reshape(K, -1), (K, D))
            log_det_precision = np.log(precisions).sum(axis=1)
            trace = precisions @ np.broadcast_to(self.covariance_prior_, (D,))
            quadratic = (offsets**2 * precisions).sum(axis=1)
        return log_det_precision - D * np.log(nu), trace / nu, quadratic

    def _kl_weights(self):
        r""":math:`\mathrm{KL}(q(\pi) \,\|\, p(\pi))`: between two Dirichlets, or summed
        over the sticks between :math:`\mathrm{Beta}(a_k, b_k)` and
        :math:`\mathrm{Beta}(1, \gamma)`."""
        prior = self.weight_concentration_prior_
        if self.weight_concentration_prior_type == "dirichlet_distribution":
            alpha = self.weight_concentration_.astype(np.float64)
            K, total = len(alpha), alpha.sum()
            log_norm = gammaln(total) - gammaln(alpha).sum()
            log_norm_prior = gammaln(K * prior) - K * gammaln(prior)
            return float(
                log_norm - log_norm_prior
                + ((alpha - prior) * (digamma(alpha) - digamma(total))).sum()
            )
        a, b = (v.astype(np.float64) for v in self.weight_concentration_)
        psi_total = digamma(a + b)
        kl = (
            betaln(1.0, prior) - betaln(a, b)
            + (a - 1.0) * (digamma(a) - psi_total)
            + (b - prior) * (digamma(b) - psi_total)
        )
        return float(kl.sum())

    def _kl_gaussian_wishart(self):
        r""":math:`\sum_k \mathrm{KL}(q(\mu_k, \Lambda_k) \,\|\, p(\mu_k, \Lambda_k))`.

        For each component the expected KL between the normals of :math:`\mu_k` given
        :math:`\Lambda_k` plus the KL between the Wisharts:

        .. math::

            \frac{D}{2} \Bigl(\frac{\beta_0}{\beta_k} - 1 + \log\frac{\beta_k}{\beta_0}\Bigr)
            + \frac{\beta_0 \nu_k}{2} (m_k - m_0)^\top W_k (m_k - m_0)
            + \log \frac{B(W_k, \nu_k)}{B(W_0, \nu_0)}
            + \frac{\nu_k - \nu_0}{2} \mathbb{E}[\log |\Lambda_k|]
            + \frac{\nu_k}{2} \bigl(\operatorname{tr}(W_0^{-1} W_k) - D\bigr),

        with :math:`\mathbb{E}[\log |\Lambda_k|]` and :math:`B` of Bishop (2006, eqs.
        B.79-B.81). For ``tied`` every component has its own copy of the shared factor.
        """
        K, D = self.means_.shape
        beta0, nu0 = self.mean_precision_prior_, self.degrees_of_freedom_prior_
        beta = self.mean_precision_.astype(np.float64)
        nu = np.broadcast_to(np.asarray(self.degrees_of_freedom_, dtype=np.float64), (K,))
        log_det_w, trace, quadratic = self._scale_log_det_and_traces()
        if self.covariance_type in ("full", "tied"):
            log_det_prior_scale = -np.linalg.slogdet(self.covariance_prior_)[1]
        else:
            log_det_prior_scale = -np.log(
                np.broadcast_to(self.covariance_prior_, (D,))
            ).sum()
        expected_log_det = _expected_log_det_offset(nu, D) + np.log(nu) * D + log_det_w
        kl_mean = 0.5 * D * (beta0 / beta - 1.0 + np.log(beta / beta0)) + 0.5 * beta0 * quadratic
        kl_wishart = (
            _log_wishart_normaliser(log_det_w, nu, D)
            - _log_wishart_normaliser(log_det_prior_scale, nu0, D)
            + 0.5 * (nu - nu0) * expected_log_det
            + 0.5 * nu * (trace - D)
        )
        return float((kl_mean + kl_wishart).sum())

    def _log_prior(self):
        r"""The part of the ELBO that the E-step does not give:
        :math:`-\mathrm{KL}(q(\pi, \mu, \Lambda) \,\|\, p(\pi, \mu, \Lambda))`.

        The engine records :math:`\frac1N \sum_n \log \sum_k \rho_{nk}` plus this over
        :math:`N`: the ELBO per sample (see the module's docstring). For a MAP fit the
        same slot holds :math:`\log p(\theta)`, the limit of the expected log-prior when
        :math:`q(\theta)` shrinks to a point, without the entropy.
        """
        return -(self._kl_weights() + self._kl_gaussian_wishart())

    def elbo(self, X, resp=None):
        r"""The ELBO per sample of the fitted :math:`q(\pi, \mu, \Lambda)` and a
        :math:`q(Z)`, every constant included.

        .. math::

            \frac{1}{N} \Bigl(\sum_{n,k} r_{nk} (\log \rho_{nk} - \log r_{nk})
            - \mathrm{KL}\bigl(q(\pi, \mu, \Lambda) \,\|\, p(\pi, \mu, \Lambda)\bigr)\Bigr),

        with :math:`0 \log 0 = 0` (Bishop, 2006, eqs. 10.70-10.77, regrouped).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        resp : array-like of shape (n_samples, n_components), default=None
            :math:`q(z_n = k) = r_{nk}`. None: the optimal :math:`q(Z)`, the next
            E-step's, for which the ELBO is the one the fit records.

        Returns
        -------
        float

        Notes
        -----
        :func:`emlib.em.elbo` applied to this model gives the first term only (over
        :math:`N`): there the parameters are points, and nothing is uncertain about them.
        """
        X = self._check_fitted_input(X)
        weighted = self._estimate_weighted_log_prob(X).astype(np.float64)
        if resp is None:
            data_term = float(logsumexp(weighted, axis=1).sum())
        else:
            resp = np.asarray(resp, dtype=np.float64)
            if resp.shape != weighted.shape:
                raise ValueError(
                    f"resp has shape {resp.shape}; expected (n_samples, n_components) = "
                    f"{weighted.shape}."
                )
            if np.any(resp < 0) or not np.allclose(resp.sum(axis=1), 1.0):
                raise ValueError(
                    "every row of resp must be a probability vector (non-negative, sum 1)."
                )
            positive = resp > 0
            data_term = float(
                (resp[positive] * (weighted[positive] - np.log(resp[positive]))).sum()
            )
        return (data_term + self._log_prior()) / X.shape[0]

    # ------------------------------------------------------------------ using a fit
    def _predictive_components(self):
        r"""Degrees of freedom :math:`f_k = \nu_k + 1 - D` of each component's Student t
        and the factor :math:`s_k = \beta_k f_k / ((1 + \beta_k) \nu_k)` that turns the
        stored precision :math:`\nu_k W_k` into the t's precision :math:`L_k = s_k \nu_k
        W_k` (float64)."""
        K, D = self.means_.shape
        nu = np.broadcast_to(np.asarray(self.degrees_of_freedom_, dtype=np.float64), (K,))
        beta = self.mean_precision_.astype(np.float64)
        dof = nu + 1.0 - D
        return dof, beta * dof / ((1.0 + beta) * nu)

    def score_samples(self, X):
        r"""Log predictive density :math:`\log p(x \mid X_{\text{train}})` under :math:`q`.

        Integrating the mixture density over :math:`q(\pi, \mu, \Lambda)` gives a mixture
        of Student t densities (Bishop, 2006, eqs. 10.80-10.82):

        .. math::

            p(x) = \sum_k \mathbb{E}[\pi_k]\,
                   \mathrm{St}\Bigl(x \Bigm| m_k,\ L_k = \frac{(\nu_k + 1 - D)\beta_k}
                   {1 + \beta_k} W_k,\ \nu_k + 1 - D\Bigr),

        with ``weights_`` as :math:`\mathbb{E}[\pi_k]`. This is a proper density, to be
        compared with :meth:`emlib.GaussianMixture.score_samples` on held-out data.
        scikit-learn's ``score_samples`` returns :math:`\log \sum_k \rho_{nk}` instead,
        a lower bound on this (Jensen's inequality inside each component).
        """
        X = self._check_fitted_input(X)
        dof, factor = self._predictive_components()
        # The squared distances and log-determinants under the mean precision nu_k W_k,
        # scaled by s_k to those of L_k; the t density is emlib.student's.
        mahalanobis, log_det = mahalanobis_and_log_det(
            X, self.means_, self.precisions_cholesky_, self.covariance_type
        )
        log_t = log_student_t_from_distances(
            mahalanobis.astype(np.float64) * factor,
            log_det + 0.5 * X.shape[1] * np.log(factor),
            dof,
            X.shape[1],
        )
        with np.errstate(divide="ignore"):
            log_t += np.log(self.weights_.astype(np.float64))
        # Evaluated in float64, returned in the dtype of X like every family's.
        return logsumexp(log_t, axis=1).astype(X.dtype, copy=False)

    def _sample_component(self, k, n_samples, rng):
        r"""Draws from component :math:`k` of the predictive density, a Student t:
        :math:`m_k + z / \sqrt{g}` with :math:`z \sim \mathcal{N}(0, L_k^{-1})` and
        :math:`g \sim \chi^2_{f_k} / f_k`."""
        dof, factor = self._predictive_components()
        D = self.means_.shape[1]
        if self.covariance_type == "full":
            cov = self.covariances_[k] / factor[k]
        elif self.covariance_type == "tied":
            cov = self.covariances_ / factor[k]
        else:
            cov = np.diag(np.broadcast_to(self.covariances_[k], (D,)) / factor[k])
        z = rng.multivariate_normal(np.zeros(D), cov, n_samples)
        g = rng.chisquare(dof[k], n_samples) / dof[k]
        return self.means_[k] + z / np.sqrt(g)[:, np.newaxis]

    def _set_derived(self):
        """weights_ and precisions_ from the variational parameters."""
        if self.weight_concentration_prior_type == "dirichlet_distribution":
            alpha = self.weight_concentration_
            weights = alpha / alpha.sum()
        else:
            a, b = self.weight_concentration_
            # E[1 - v_k] as b / (a + b), not 1 - E[v_k], which cancels when b << a.
            rest = b / (a + b)
            weights = a / (a + b) * np.concatenate([[1.0], np.cumprod(rest[:-1])])
            weights = weights / weights.sum()
        self.weights_ = weights.astype(self.means_.dtype, copy=False)
        self.precisions_ = precisions_from_cholesky(
            self.precisions_cholesky_, self.covariance_type
        )

    def _get_parameters(self):
        concentration = self.weight_concentration_
        return {
            "weight_concentration": (
                tuple(v.copy() for v in concentration)
                if isinstance(concentration, tuple)
                else concentration.copy()
            ),
            "mean_precision": self.mean_precision_.copy(),
            "means": self.means_.copy(),
            "degrees_of_freedom": np.copy(self.degrees_of_freedom_)[()],
            "covariances": self.covariances_.copy(),
            "precisions_cholesky": self.precisions_cholesky_.copy(),
        }

    def _set_parameters(self, params):
        self.weight_concentration_ = params["weight_concentration"]
        self.mean_precision_ = params["mean_precision"]
        self.means_ = params["means"]
        self.degrees_of_freedom_ = params["degrees_of_freedom"]
        self.covariances_ = params["covariances"]
        self.precisions_cholesky_ = params["precisions_cholesky"]
        self._set_derived()

    def n_parameters(self):
        """Free parameters of the Gaussian mixture with the same covariance type (as
        scikit-learn counts them); see :func:`emlib.gaussian.n_parameters`."""
        check_is_fitted(self)
        return n_parameters(self.n_components, self.means_.shape[1], self.covariance_type)
