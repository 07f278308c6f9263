r"""The EM engine shared by every mixture model in emlib, and the ELBO/KL decomposition.

A finite mixture with weights :math:`\pi_k` and component densities :math:`p(x \mid \theta_k)`
has the marginal log-likelihood

.. math::

    \log p(X \mid \theta) = \sum_{n=1}^{N} \log \sum_{k=1}^{K} \pi_k\, p(x_n \mid \theta_k).

EM alternates two steps (Dempster, Laird and Rubin, 1977; Bishop, 2006, Section 9.2.2):

* **E-step** -- the responsibilities, computed in log space with log-sum-exp,

  .. math::

      \log r_{nk} = \log \pi_k + \log p(x_n \mid \theta_k)
                    - \operatorname{logsumexp}_j
                      \bigl(\log \pi_j + \log p(x_n \mid \theta_j)\bigr);

* **M-step** -- each family maximises the expected complete-data log-likelihood (plus its
  log-prior, for MAP estimation) given the responsibilities.

:class:`MixtureEM` runs that loop once for every family. A family only says how to
initialise from responsibilities, its per-component log-density, its M-step, its number of
free parameters and how to draw from one component.
"""

import contextlib
import contextvars
import functools
import hashlib
import math
import warnings
from abc import ABCMeta, abstractmethod
from dataclasses import dataclass, field
from numbers import Integral, Real

import numpy as np
from scipy.special import logsumexp, xlogy
from sklearn.base import BaseEstimator, DensityMixin
from sklearn.cluster import kmeans_plusplus
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state, check_scalar
from sklearn.utils.validation import check_is_fitted, validate_data
from tqdm import tqdm

from . import compiled_normalize, daskfit
from ._restore import restored_on_failure
from ._stacklevel import user_stacklevel
from .kmeans import KMeans
from .seeding import binary_kmeans_plusplus_centers, kmeans_plusplus_centers

__all__ = [
    "MixtureEM",
    "aic",
    "bic",
    "elbo",
    "flush_limit",
    "icl",
    "kl_divergence",
    "log_normalize",
    "shared_kmeans_starts",
]

_INIT_METHODS = ("kmeans", "k-means++", "random", "random_from_data")

# The k-means starts of the active shared_kmeans_starts block, or None outside one.
_KMEANS_STARTS = contextvars.ContextVar("emlib_kmeans_starts", default=None)


@contextlib.contextmanager
def shared_kmeans_starts():
    """Inside the block, every k-means start is computed once and then reused.

    The default start of every mixture (``init_params="kmeans"``) is a k-means partition
    that depends only on the data, the number of components and the state of the random
    generator, not on the family, the covariance type or a prior. A grid over covariance
    types with ``n_init`` restarts therefore computes the same partitions once per type.
    Inside this block a partition is kept, keyed by the data's bytes, ``n_components``
    and the generator's state, and a later request with the same key gets it back with
    the generator advanced exactly as the computation would have advanced it: every fit
    gives the result it gives outside the block, bit for bit, only faster.
    :func:`emlib.selection.select_mixture` uses it for its whole grid.

    Yields
    ------
    dict
        The stored partitions (for inspection; the block owns them).
    """
    if _KMEANS_STARTS.get() is not None:  # nested: the outer block's store serves
        yield _KMEANS_STARTS.get()
        return
    token = _KMEANS_STARTS.set({})
    try:
        yield _KMEANS_STARTS.get()
    finally:
        _KMEANS_STARTS.reset(token)


def _kmeans_labels(X, n_components, rng, max_iter=300, n_local_trials=None, binary=False):
    """The k-means partition of a default start, from the shared store when one is active.

    ``max_iter`` caps Lloyd's iterations; 300 is scikit-learn's default, which its
    GaussianMixture uses for its own start. ``n_local_trials`` is the number of candidates
    the k-means++ seeding draws for each centre, keeping the one that lowers the inertia
    most: ``None`` is scikit-learn's greedy default, ``2 + int(log(K))``;
    1 is the plain D² sampling of Arthur and Vassilvitskii (2007). ``binary=True`` says
    that X holds only 0 and 1: a seeding with ``n_local_trials`` then counts its
    distances from bits, with the same result
    (:func:`emlib.seeding.binary_kmeans_plusplus_centers`).
    """
    store = _KMEANS_STARTS.get()

    def partition():
        init = "k-means++"
        if n_local_trials is not None:
            seeding = binary_kmeans_plusplus_centers if binary else kmeans_plusplus_centers
            init = seeding(X, n_components, rng, n_local_trials)
        return KMeans(n_clusters=n_components, init=init, n_init=1, max_iter=max_iter,
                      random_state=rng).fit(X).labels_

    if store is None:
        return partition()
    _, keys, position, has_gauss, cached = rng.get_state()
    data = np.ascontiguousarray(X)
    key = (
        hashlib.blake2b(data.tobytes(), digest_size=16).hexdigest(),
        data.shape,
        data.dtype.str,
        n_components,
        max_iter,
        n_local_trials,
        keys.tobytes(),
        position,
        has_gauss,
        cached,
    )
    if key not in store:
        store[key] = (partition(), rng.get_state())
    labels, state_after = store[key]
    rng.set_state(state_after)
    return labels


@functools.cache
def flush_limit(dtype, n_components):
    r"""The shifted log-weight :math:`a_{nk} - m_n` below which :func:`log_normalize` with
    ``flush=True`` sets a probability to zero: :math:`\log(e K \, \text{tiny})`, with
    ``tiny`` the smallest normal number of ``dtype``, rounded down to the dtype.

    A row's sum :math:`\sum_j e^{a_{nj} - m_n}` lies between 1 and :math:`K`, so every
    probability whose weight :math:`e^{a_{nk} - m_n}` is below :math:`e K \, \text{tiny}`
    (about :math:`3 \cdot 10^{-38} K` in ``float32``, :math:`6 \cdot 10^{-308} K` in
    ``float64``) is dropped: all those below :math:`e \, \text{tiny}`, none at or above
    :math:`e K \, \text{tiny}`, and between the two it depends on the row's sum. Every
    probability kept is a normal number; the factor :math:`e` absorbs the rounding of
    ``exp`` and of the division.
    """
    exact = np.log(np.e * n_components * float(np.finfo(dtype).tiny))
    limit = np.asarray(exact, dtype=dtype)[()]
    # Rounded down, so that nothing at or above e K tiny is dropped.
    return np.nextafter(limit, limit.dtype.type(-np.inf)) if limit > exact else limit


def log_normalize(weighted, flush=False):
    r"""Normalise log-weights row by row: log-sum-exp and the normalised probabilities.

    For every row :math:`a_{n\cdot}`, with :math:`m_n = \max_k a_{nk}`,

    .. math::

        \operatorname{logsumexp}_k a_{nk} = m_n + \log \sum_k e^{a_{nk} - m_n},
        \qquad r_{nk} = e^{a_{nk} - m_n} \Big/ \sum_j e^{a_{nj} - m_n}.

    Shifting by the largest term makes the biggest exponential exactly 1, so the sum neither
    underflows nor overflows. The log-sum-exp equals :func:`scipy.special.logsumexp`; it is
    written out because the E-step needs the shifted exponentials as well (they *are* the
    responsibilities, once divided by their sum), and reusing them avoids a second pass of
    ``exp`` over the whole array, which dominates the E-step of simple models.

    Parameters
    ----------
    weighted : ndarray of shape (n_samples, n_components)
        :math:`\log \pi_k + \log p(x_n \mid \theta_k)`. Overwritten.
    flush : bool, default=False
        Set to zero the probabilities whose shifted log-weight lies below
        :func:`flush_limit`, before ``exp``, so that no subnormal number is ever made (see
        :meth:`MixtureEM._e_step`). The log-sum-exp is unchanged: what is dropped is below
        the rounding of a sum that is at least 1. With Numba installed, a Fortran-ordered
        ``weighted`` of at least two rows and columns (as every E-step makes it; see
        :func:`emlib.compiled_normalize.applies`) is then normalised in two compiled passes
        around NumPy's ``exp``, to the same bits.

    Returns
    -------
    log_norm : ndarray of shape (n_samples,)
        :math:`\log p(x_n \mid \theta)`.
    resp : ndarray of shape (n_samples, n_components)
        The responsibilities (the same memory as ``weighted``).
    """
    shift = weighted.max(axis=1, keepdims=True)
    # A row where every component has probability zero would give nan = -inf - (-inf).
    # One sum tells whether any row is such (a sum of finite shifts that overflows only
    # takes the exact path needlessly); the test costs less than the masked assignment.
    all_finite = math.isfinite(shift.sum())
    if not all_finite:
        shift[~np.isfinite(shift)] = 0.0
    if flush and compiled_normalize.applies(weighted):
        resp, total = _flushed_compiled(weighted, shift[:, 0])
    else:
        resp, total = _normalized_numpy(weighted, shift, flush)
    if all_finite:  # every total is at least exp(0) = 1: its logarithm is finite
        return (shift + np.log(total))[:, 0], resp
    with np.errstate(divide="ignore"):
        return (shift + np.log(total))[:, 0], resp


def _flushed_compiled(weighted, shift):
    """:func:`log_normalize`'s weights, flushed, and row sums, in two compiled passes and
    NumPy's ``exp`` (:mod:`emlib.compiled_normalize`); ``shift`` is finite."""
    limit = flush_limit(weighted.dtype, weighted.shape[1])
    weights_t = weighted.T  # C-ordered: each component's column contiguous
    keep = np.empty(weights_t.shape, dtype=bool)
    raised = compiled_normalize.shift_and_raise(weights_t, shift, limit, keep)
    resp = np.exp(weighted, out=weighted)
    if raised:
        total = np.empty_like(shift)
        compiled_normalize.zero_and_sum(weights_t, keep, total)
        total = total[:, None]
    else:
        total = resp.sum(axis=1, keepdims=True)
    resp /= total
    return resp, total


def _normalized_numpy(weighted, shift, flush):
    """:func:`log_normalize`'s weights, flushed if ``flush``, and row sums, in NumPy;
    ``shift`` (n_samples, 1) is finite."""
    shifted = np.subtract(weighted, shift, out=weighted)
    keep = None
    if flush:
        limit = flush_limit(shifted.dtype, shifted.shape[1])
        # Written so that nan (from nan data) fails the test, as -inf does (an empty
        # component, or a row of zero probability everywhere); the masked path keeps both.
        if not shifted.min() >= limit:
            # exp of such a number, and any arithmetic on the subnormal result, takes a
            # slow microcode path on Intel processors (float32 on 100,000 x 10 blobs, a
            # Skylake Xeon: exp 7.5 ms, 1.9 once it made no subnormal; the division 8.3
            # and 4.4 ms). Raised to the limit first, whose exp is normal, and multiplied
            # by 0 after.
            keep = np.greater_equal(shifted, limit, out=np.empty_like(shifted))
            np.maximum(shifted, limit, out=shifted)
    resp = np.exp(shifted, out=shifted)
    if keep is not None:
        resp *= keep
    total = resp.sum(axis=1, keepdims=True)
    resp /= total
    return resp, total


def check_positive_int(value, name):
    """Raise a ValueError unless ``value`` is an integer of at least 1 (booleans excluded)."""
    if not isinstance(value, Integral) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}.")


def check_weights(weights, n_components, name="weights"):
    """Return ``weights`` as an array after checking it is a probability vector of length K."""
    weights = np.asarray(weights, dtype=float)
    if weights.shape != (n_components,):
        raise ValueError(f"{name} has shape {weights.shape}; expected ({n_components},).")
    if np.any(weights < 0) or not np.isclose(weights.sum(), 1.0, rtol=0, atol=1e-6):
        raise ValueError(f"{name} must be non-negative and sum to 1.")
    return weights


def check_means(means, n_components, n_features, name="means_init"):
    """Return ``means`` as an array after checking its shape, (n_components, n_features)."""
    means = np.asarray(means, dtype=float)
    if means.shape != (n_components, n_features):
        raise ValueError(
            f"{name} has shape {means.shape}; expected ({n_components}, {n_features})."
        )
    return means


def bic(log_likelihood, n_params, n_samples):
    r"""Bayesian information criterion :math:`-2 \log L + p \log N` (lower is better).

    Schwarz (1978): the penalty grows with the sample size.

    Parameters
    ----------
    log_likelihood : float
        Total (not per-sample) log-likelihood :math:`\log L` of the training data.
    n_params : int
        Number of free parameters :math:`p`.
    n_samples : int
        Number of training samples :math:`N`.

    Returns
    -------
    float
    """
    return float(-2.0 * log_likelihood + n_params * np.log(n_samples))


def aic(log_likelihood, n_params):
    r"""Akaike information criterion :math:`-2 \log L + 2 p` (lower is better).

    Akaike (1974): a fixed penalty of two per parameter.

    Parameters
    ----------
    log_likelihood : float
        Total (not per-sample) log-likelihood :math:`\log L` of the training data.
    n_params : int
        Number of free parameters :math:`p`.

    Returns
    -------
    float
    """
    return float(-2.0 * log_likelihood + 2.0 * n_params)


def icl(log_likelihood, n_params, resp):
    r"""Integrated completed likelihood criterion, BIC plus twice the entropy (lower is better).

    .. math::

        \mathrm{ICL} = -2 \log L + p \log N + 2\,\mathrm{EN}(r), \qquad
        \mathrm{EN}(r) = -\sum_{n=1}^{N} \sum_{k=1}^{K} r_{nk} \log r_{nk} \;\ge\; 0,

    with :math:`0 \log 0 = 0`, in the sign convention of :func:`bic`. Biernacki, Celeux and
    Govaert (2000, "Assessing a mixture model for clustering with the integrated completed
    likelihood", *IEEE TPAMI* 22, 719-725) penalise BIC by how uncertain the clustering is:
    a model whose components overlap pays for it, so ICL prefers well-separated clusters
    where BIC prefers a good density. This is the entropy form of McLachlan and Peel
    (2000, Section 6.10.3); Biernacki et al. use the hard labels
    :math:`-\sum_n \log r_{n \hat z_n}` in place of the entropy, which agrees when the
    responsibilities are nearly 0 or 1.

    Parameters
    ----------
    log_likelihood : float
        Total (not per-sample) log-likelihood :math:`\log L` of the training data.
    n_params : int
        Number of free parameters :math:`p`.
    resp : array-like of shape (n_samples, n_components)
        Responsibilities :math:`r_{nk}` of the training samples; :math:`N` is their number.

    Returns
    -------
    float

    Examples
    --------
    >>> round(icl(-10.0, 2, [[1.0, 0.0], [0.5, 0.5]]), 6)  # 20 + 2 log 2 + 2 log 2
    22.772589
    """
    resp = np.asarray(resp, dtype=np.float64)
    entropy = -float(xlogy(resp, resp).sum())
    return bic(log_likelihood, n_params, resp.shape[0]) + 2.0 * entropy


@dataclass
class _Run:
    """What one EM run from one initialisation leaves behind."""

    objective: float
    params: dict
    n_iter: int
    converged: bool
    history: list = field(default_factory=list)
    params_history: list | None = None


class MixtureEM(DensityMixin, BaseEstimator, metaclass=ABCMeta):
    """Base class of the EM-fitted mixtures: the fit loop, the E-step and scoring.

    A family subclasses it, implements the abstract hooks, and stores the constructor
    parameters ``weights_init`` and ``means_init`` (checked here, used by its
    ``_initialize``) besides its own. While ``fit`` runs, its hooks may keep in the dict
    ``self._fit_scratch`` what they derive from the training data alone, to compute it once
    per fit instead of once per iteration; the dict is gone when ``fit`` returns.

    Parameters
    ----------
    n_components : int
        Number of mixture components :math:`K`.
    tol : float
        Stop when the objective (mean log-likelihood per sample, or mean log-posterior for
        MAP fits) changes by less than ``tol`` between two iterations.
    max_iter : int
        Maximum number of EM iterations per initialisation (at least 1).
    n_init : int
        Number of initialisations; the run with the highest final objective is kept. One
        run is made when the ``*_init`` arrays fix the start (see ``init_params``).
    init_params : {"kmeans", "k-means++", "random", "random_from_data"}
        How the initial responsibilities are chosen: hard k-means labels, one-hot rows at
        k-means++ seeds, uniform random responsibilities, or one-hot rows at random data points.
        Explicit ``*_init`` arrays override what these give. When they fix every parameter
        of the start (``weights_init`` and ``means_init``, and ``precisions_init`` for the
        Gaussian families), no responsibilities are computed, and one run is made whatever
        ``n_init``: every run would repeat it. (scikit-learn's ``GaussianMixture`` also
        computes no start then, but repeats the identical run ``n_init`` times; the fitted
        parameters are the same.)
    random_state : int, RandomState instance or None
        Seed of the initialisation and of :meth:`sample`.
    warm_start : bool
        If true, ``fit`` continues from the parameters the model already holds (from an
        earlier fit or from ``from_parameters``) instead of initialising; ``n_init`` is then
        ignored.
    verbose : int
        If positive, print the objective after every iteration.
    keep_history : bool
        If true, store the starting parameters and those after every M-step in
        ``params_history_``.
    progress : bool
        If true, show a progress bar of the iterations (:mod:`tqdm`) with the objective.

    Notes
    -----
    A family that defines the hooks ``_moments`` (the counts, means and any scatters of a
    piece of data, see :func:`emlib.moments.pool_moments`) and ``_m_step_from_moments``
    can also be fitted to a Dask array, chunk by chunk (:mod:`emlib.daskfit`), and online
    (:class:`emlib.online.OnlineEMMixin`).
    """

    # The default k-means start ("kmeans"): scikit-learn's greedy seeding and at most 300
    # Lloyd iterations, so that GaussianMixture starts where scikit-learn's does. A family
    # may choose a cheaper start (arguments of _kmeans_labels).
    _kmeans_start = {"max_iter": 300, "n_local_trials": None}

    def __init__(
        self,
        n_components,
        *,
        tol,
        max_iter,
        n_init,
        init_params,
        random_state,
        warm_start,
        verbose,
        keep_history,
        progress,
    ):
        self.n_components = n_components
        self.tol = tol
        self.max_iter = max_iter
        self.n_init = n_init
        self.init_params = init_params
        self.random_state = random_state
        self.warm_start = warm_start
        self.verbose = verbose
        self.keep_history = keep_history
        self.progress = progress

    # ------------------------------------------------------------------ family hooks
    @abstractmethod
    def _check_family_parameters(self, X):
        """Validate the parameters specific to the family, given the training data."""

    @abstractmethod
    def _initialize(self, X, resp):
        """Set the initial parameters from responsibilities (then apply ``*_init``); ``resp``
        is None when the ``*_init`` arrays fix the whole start (:meth:`_start_is_given`)."""

    @abstractmethod
    def _estimate_log_prob(self, X):
        r"""Return :math:`\log p(x_n \mid \theta_k)`, shape (n_samples, n_components).

        A column-major (Fortran-ordered) array makes the row-wise reductions of the E-step
        several times faster, because each row then has only ``n_components`` entries.
        """

    @abstractmethod
    def _m_step(self, X, resp):
        """Update the parameters from the responsibilities ``resp``."""

    @abstractmethod
    def _get_parameters(self):
        """Return a dict of copies of the fitted parameters."""

    @abstractmethod
    def _set_parameters(self, params):
        """Set the parameters from a dict made by :meth:`_get_parameters`."""

    @abstractmethod
    def n_parameters(self):
        """Number of free parameters :math:`p` of the fitted model, as counted by BIC and AIC."""

    def _n_parameters(self):
        # scikit-learn's private name for the count: emlib.selection.select_mixture calls it
        # so that scikit-learn's own mixtures can be selected alongside emlib's.
        return self.n_parameters()

    @abstractmethod
    def _sample_component(self, k, n_samples, rng):
        """Draw ``n_samples`` points from component ``k``."""

    def _start_weights_and_means(self, X, weights, means):
        """The weights and means of a start: those a family computed from the initial
        responsibilities, each replaced by ``weights_init`` or ``means_init`` when given
        (in the dtype of X, so that float32 data are fitted in float32)."""
        if self.weights_init is not None:
            weights = np.asarray(self.weights_init, dtype=X.dtype)
        if self.means_init is not None:
            means = np.asarray(self.means_init, dtype=X.dtype)
        return weights, means

    def _start_is_given(self):
        """Whether the ``*_init`` arrays fix every parameter of a start (then the data of the
        start only have to be valid)."""
        return self.weights_init is not None and self.means_init is not None

    def _validate_input(self, X, *, reset):
        """Validate X the way the family needs; the default accepts any finite floats."""
        return validate_data(
            self, X, reset=reset, dtype=[np.float64, np.float32], ensure_min_samples=1 + reset
        )

    def _log_prior(self):
        """Log-prior of the parameters (up to a constant); zero for maximum likelihood."""
        return 0.0

    # ------------------------------------------------------------------ fitting
    def _check_parameters(self, X):
        check_scalar(self.n_components, "n_components", Integral, min_val=1)
        check_scalar(self.tol, "tol", Real, min_val=0.0)
        check_scalar(self.max_iter, "max_iter", Integral, min_val=1)
        check_scalar(self.n_init, "n_init", Integral, min_val=1)
        check_scalar(self.verbose, "verbose", Integral, min_val=0)
        if self.init_params not in _INIT_METHODS:
            raise ValueError(
                f"init_params={self.init_params!r} is not supported; "
                f"choose one of {', '.join(map(repr, _INIT_METHODS))}."
            )
        n_samples = X.shape[0]
        if self.n_components > n_samples:
            raise ValueError(
                f"n_components={self.n_components} is larger than the number of samples "
                f"({n_samples}): a mixture needs at least one sample per component. "
                "Use fewer components or more data."
            )
        if self.weights_init is not None:
            check_weights(self.weights_init, self.n_components, "weights_init")
        if self.means_init is not None:
            check_means(self.means_init, self.n_components, X.shape[1])
        self._check_family_parameters(X)

    def _initial_responsibilities(self, X, rng):
        n_samples, K = X.shape[0], self.n_components
        resp = np.zeros((n_samples, K), dtype=X.dtype)
        if self.init_params == "kmeans":
            labels = _kmeans_labels(X, K, rng, **self._kmeans_start)
            resp[np.arange(n_samples), labels] = 1.0
        elif self.init_params == "k-means++":
            _, indices = kmeans_plusplus(X, K, random_state=rng)
            resp[indices, np.arange(K)] = 1.0
        elif self.init_params == "random":
            resp = rng.uniform(size=(n_samples, K)).astype(X.dtype)
            resp /= resp.sum(axis=1, keepdims=True)
        else:  # "random_from_data"
            indices = rng.choice(n_samples, size=K, replace=False)
            resp[indices, np.arange(K)] = 1.0
        return resp

    def _forget_partial_fit(self):
        """Drop what ``partial_fit`` accumulated, so that a new fit starts afresh; families
        without online EM have nothing to drop (:class:`emlib.online.OnlineEMMixin` does)."""

    def _e_step(self, X):
        r"""E-step: mean log-likelihood per sample and the responsibilities.

        Implements :math:`r_{nk} = \exp\bigl(\log \pi_k + \log p(x_n\mid\theta_k) -
        \log p(x_n \mid \theta)\bigr)` with the normaliser from log-sum-exp (see
        :func:`log_normalize`), so nothing underflows even when every
        :math:`p(x_n\mid\theta_k)` is far below the smallest float.

        Responsibilities whose weight :math:`e^{a_{nk} - m_n}` (before division by the
        row's sum) is below :math:`e K` times the smallest normal number of the dtype
        (``tiny``: about :math:`e^{-708}` in ``float64``, :math:`e^{-87}` in ``float32``;
        :func:`flush_limit`) are set to zero before ``exp`` is taken, so that no subnormal
        number is ever made: every responsibility below :math:`e` tiny goes (up to the
        rounding of the limit), none whose weight is at or above :math:`e K` tiny. They
        change no sum they enter by more than :math:`3 N K` times ``tiny``, far below the
        rounding of any soft count, mean or covariance that matters; but ``exp``, division
        and matrix products with subnormal results or inputs run several times slower on
        Intel processors (on a Sapphire Rapids, a product 5 to 7 times, with about 9% of
        the float32 responsibilities of a 784-dimensional Bernoulli mixture subnormal; on a
        Skylake Xeon, where 15% of the float32 responsibilities on 100,000 x 10 blobs were
        subnormal, their normalisation took 19 ms, 7 ms once it made none, and 9 ms in
        float64).

        Returns
        -------
        mean_log_likelihood : float
        resp : ndarray of shape (n_samples, n_components)
            No entry is subnormal.
        """
        log_norm, resp = self._responsibilities(X)
        return float(np.mean(log_norm)), resp

    def _responsibilities(self, X):
        """The log-normaliser of every sample and the responsibilities (see :meth:`_e_step`)."""
        return log_normalize(self._estimate_weighted_log_prob(X), flush=True)

    def _estimate_weighted_log_prob(self, X):
        log_prob = self._estimate_log_prob(X)
        weights = self.weights_
        if weights.min() > 0:
            log_prob += np.log(weights)
            return log_prob
        with np.errstate(divide="ignore"):  # an empty component has log-weight -inf
            log_prob += np.log(weights)
        return log_prob

    def _em_step(self, X):
        """One E-step and M-step on data in memory; returns the objective of the E-step's
        parameters (mean log-likelihood plus log-prior per sample)."""
        mean_log_lik, resp = self._e_step(X)
        objective = mean_log_lik + self._log_prior() / X.shape[0]
        self._m_step(X, resp)
        return objective

    def _run_em(self, step, objective):
        """Iterate ``step`` (an E-step and an M-step, returning the objective) until the
        objective changes by less than ``tol`` or ``max_iter`` steps were taken."""
        history = []
        params_history = [self._get_parameters()] if self.keep_history else None
        converged = False
        # No bar at all without progress: a disabled tqdm still formats the postfix of
        # every iteration, a tenth of an iteration's time on small data.
        bar = (tqdm(total=self.max_iter, desc=type(self).__name__, unit="iteration",
                    leave=False) if self.progress else None)
        with bar if bar is not None else contextlib.nullcontext():
            for n_iter in range(1, self.max_iter + 1):
                previous = objective
                objective = step()
                history.append(objective)
                if self.keep_history:
                    params_history.append(self._get_parameters())
                if self.verbose:
                    print(f"iteration {n_iter:4d}  objective {objective:.6f}")
                if bar is not None:
                    bar.set_postfix(objective=f"{objective:.6g}", refresh=False)
                    bar.update()
                if abs(objective - previous) < self.tol:
                    converged = True
                    break
        return _Run(objective, self._get_parameters(), n_iter, converged, history, params_history)

    def fit(self, X, y=None):
        """Fit the mixture with EM, keeping the best of ``n_init`` runs.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : ignored

        Returns
        -------
        self
        """
        self.fit_predict(X, y)
        return self

    def fit_predict(self, X, y=None):
        """Fit the mixture and return the most probable component of every sample.

        A final E-step with the chosen parameters makes the labels equal to
        ``fit(X).predict(X)``. A fit that raises leaves the model as it was before: an
        unfitted model stays unfitted (``predict`` raises ``NotFittedError``, not an
        ``AttributeError`` about whichever attribute the failed fit had not yet set).

        X may also be a Dask array, for the families that support it
        (:mod:`emlib.daskfit`): the fit then passes over the chunks once per iteration,
        and the labels returned are a lazy Dask array.
        """
        with restored_on_failure(self):
            self._forget_partial_fit()
            # What a family derives from the training data alone (a centred copy, constants
            # of a prior) is kept here for the length of this fit rather than recomputed in
            # every iteration; it is dropped on return, so that no later fit can see stale
            # values (validate_data passes a float64 array through uncopied, and its owner
            # may change it in place between fits).
            self._fit_scratch = {}
            if daskfit.is_dask_array(X):
                return daskfit.fit(self, X)
            X = self._validate_input(X, reset=True)
            self._check_parameters(X)
            return self._fit_predict(X)

    def _fit_predict(self, X):
        rng = check_random_state(self.random_state)
        self._fit_runs(X, rng, lambda: self._em_step(X))
        return self._e_step(X)[1].argmax(axis=1)

    def _fit_runs(self, X, rng, step):
        """Run EM from ``n_init`` starts computed on ``X`` and keep the best run; run once
        from the ``*_init`` arrays when they fix the start (:meth:`_start_is_given`).

        ``step`` performs one iteration over the training data, which ``X`` is, or (for a
        fit out of core) a sample of.
        """
        # A warm start continues from whatever parameters the model holds: those of an
        # earlier fit, or those given to ``from_parameters``.
        do_init = not (self.warm_start and hasattr(self, "weights_"))
        given = do_init and self._start_is_given()
        n_init = self.n_init if do_init and not given else 1
        best = None
        tried = set()
        for _ in range(n_init):
            if given:
                # A computed start would be thrown away, and runs from one start are
                # identical, EM being deterministic.
                self._initialize(X, None)
            elif do_init:
                resp = self._initial_responsibilities(X, rng)
                # EM is deterministic: a start met before would repeat its run exactly
                # (k-means often returns one partition for several seeds).
                start = hashlib.blake2b(resp.tobytes(), digest_size=16).digest()
                if start in tried:
                    continue
                tried.add(start)
                self._initialize(X, resp)
            previous = -np.inf if do_init else getattr(self, "lower_bound_", -np.inf)
            run = self._run_em(step, previous)
            if best is None or run.objective > best.objective:
                best = run

        self._set_parameters(best.params)
        self.converged_ = best.converged
        self.n_iter_ = best.n_iter
        self.lower_bound_ = best.objective
        self.log_likelihood_history_ = np.asarray(best.history)
        if self.keep_history:
            self.params_history_ = best.params_history
        if not best.converged:
            warnings.warn(
                f"EM did not converge within max_iter={self.max_iter} iterations "
                f"(tol={self.tol}) in the best of {n_init} initialisation(s). "
                "Increase max_iter, loosen tol, or check the data for degenerate points.",
                ConvergenceWarning,
                stacklevel=user_stacklevel(),
            )

    # ------------------------------------------------------------------ using a fit
    def _check_fitted_input(self, X):
        check_is_fitted(self)
        return self._validate_input(X, reset=False)

    def score_samples(self, X):
        r"""Log-density :math:`\log p(x_n \mid \theta)` of every sample, shape (n_samples,).

        For a Dask array, a lazy Dask array (likewise :meth:`predict` and
        :meth:`predict_proba`)."""
        if daskfit.is_dask_array(X):
            return daskfit.map_rows(self, "score_samples", X)
        return self._log_normalisers(self._check_fitted_input(X))

    def _log_normalisers(self, X):
        r""":math:`\log p(x_n \mid \theta)` of validated data: log-sum-exp over the
        components."""
        return logsumexp(self._estimate_weighted_log_prob(X), axis=1)

    def score(self, X, y=None):
        r"""Mean log-likelihood per sample, :math:`\frac1N \log p(X \mid \theta)`."""
        if daskfit.is_dask_array(X):
            return float(daskfit.compute(self.score_samples(X).mean(dtype=np.float64))[0])
        return float(np.mean(self.score_samples(X)))

    def predict_proba(self, X):
        r"""Responsibilities :math:`r_{nk} = p(z_n = k \mid x_n, \theta)`."""
        if daskfit.is_dask_array(X):
            return daskfit.map_rows(self, "predict_proba", X)
        X = self._check_fitted_input(X)
        return self._e_step(X)[1]

    def predict(self, X):
        """Most probable component of every sample."""
        if daskfit.is_dask_array(X):
            return daskfit.map_rows(self, "predict", X)
        X = self._check_fitted_input(X)
        return self._estimate_weighted_log_prob(X).argmax(axis=1)

    def sample(self, n_samples=1):
        """Draw samples by ancestral sampling: a component from the weights, then a point.

        Returns
        -------
        X : ndarray of shape (n_samples, n_features)
        labels : ndarray of shape (n_samples,)
            The component each sample was drawn from (sorted by component).
        """
        check_is_fitted(self)
        check_scalar(n_samples, "n_samples", Integral, min_val=1)
        rng = check_random_state(self.random_state)
        counts = rng.multinomial(n_samples, self.weights_)
        X = np.vstack([self._sample_component(k, c, rng) for k, c in enumerate(counts)])
        labels = np.repeat(np.arange(self.n_components), counts)
        return X, labels

    def bic(self, X):
        r"""Bayesian information criterion of the model on X; see :func:`bic`."""
        n = np.shape(X)[0]
        return bic(self.score(X) * n, self.n_parameters(), n)

    def aic(self, X):
        r"""Akaike information criterion of the model on X; see :func:`aic`."""
        return aic(self.score(X) * np.shape(X)[0], self.n_parameters())

    def icl(self, X):
        r"""Integrated completed likelihood criterion of the model on X; see :func:`icl`."""
        return icl(self.score(X) * np.shape(X)[0], self.n_parameters(), self.predict_proba(X))


def _checked_responsibilities(model, X, resp):
    X = model._check_fitted_input(X)
    resp = np.asarray(resp, dtype=np.float64)
    if resp.shape != (X.shape[0], model.n_components):
        raise ValueError(
            f"resp has shape {resp.shape}; expected (n_samples, n_components) = "
            f"({X.shape[0]}, {model.n_components})."
        )
    if np.any(resp < 0) or not np.allclose(resp.sum(axis=1), 1.0):
        raise ValueError("every row of resp must be a probability vector (non-negative, sum 1).")
    return X, resp


def elbo(model, X, resp):
    r"""Evidence lower bound per sample for responsibilities ``q = resp``.

    .. math::

        \mathcal{L}(q, \theta) = \frac1N \sum_{n,k} q_{nk}
        \bigl(\log \pi_k + \log p(x_n \mid \theta_k) - \log q_{nk}\bigr),

    with :math:`0 \log 0 = 0`. It equals ``model.score(X)`` minus :func:`kl_divergence`
    (Bishop, 2006, eq. 9.70; Neal and Hinton, 1998).

    Parameters
    ----------
    model : fitted MixtureEM
    X : array-like of shape (n_samples, n_features)
    resp : array-like of shape (n_samples, n_components)
        Any distribution :math:`q(z_n)` per sample.
    """
    X, resp = _checked_responsibilities(model, X, resp)
    weighted = model._estimate_weighted_log_prob(X)
    # Where q is zero the term is zero, even if the log-density is -inf.
    expected = np.where(resp > 0, resp * weighted, 0.0)
    return float((expected.sum() - xlogy(resp, resp).sum()) / X.shape[0])


def kl_divergence(model, X, resp):
    r"""Mean Kullback-Leibler divergence from ``resp`` to the posterior over components.

    .. math::

        \frac1N \sum_{n,k} q_{nk} \bigl(\log q_{nk} - \log p(z_n = k \mid x_n, \theta)\bigr)
        \;\ge\; 0,

    zero exactly when ``resp`` is the posterior (the E-step). Together with :func:`elbo`:
    ``model.score(X) == elbo(model, X, resp) + kl_divergence(model, X, resp)``.
    """
    X, resp = _checked_responsibilities(model, X, resp)
    weighted = model._estimate_weighted_log_prob(X)
    log_post = weighted - logsumexp(weighted, axis=1, keepdims=True)
    cross = np.where(resp > 0, resp * log_post, 0.0)
    return float((xlogy(resp, resp).sum() - cross.sum()) / X.shape[0])
