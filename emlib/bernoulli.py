r"""Mixtures of multivariate Bernoulli distributions for binary data, fitted by EM.

Each component is a product of independent Bernoulli variables (Bishop, 2006, Section 9.3.3):

.. math::

    p(x \mid \mu_k) = \prod_{d=1}^{D} \mu_{kd}^{x_d} (1 - \mu_{kd})^{1 - x_d}.

With 784 pixels that product is far below the smallest float, so the E-step works with its
logarithm, which is one matrix product for all samples and components at once:

.. math::

    \log p(x_n \mid \mu_k) = \sum_d x_{nd} \log\frac{\mu_{kd}}{1 - \mu_{kd}}
    + \sum_d \log(1 - \mu_{kd}).

For an image that a component has collapsed onto, with its probabilities at 0 and 1 up to
rounding, the two sums cancel to nearly nothing; those few entries are summed again from
terms of one sign (:func:`log_bernoulli_density`).

The M-step, with optional smoothing priors given as pseudo-counts (a symmetric
:math:`\mathrm{Beta}(a+1, a+1)` prior on every :math:`\mu_{kd}` and a symmetric
:math:`\mathrm{Dirichlet}(b+1)` prior on the weights), is

.. math::

    \mu_{kd} = \frac{\sum_n r_{nk} x_{nd} + a}{N_k + 2a}, \qquad
    \pi_k = \frac{N_k + b}{N + K b}.

With :math:`a = b = 0` this is maximum likelihood; otherwise it is MAP-EM, and the objective
recorded is the log-posterior per sample, which never decreases either.
"""

from numbers import Real

import numpy as np
import scipy.sparse as sp
from sklearn.utils import check_scalar
from sklearn.utils.validation import check_is_fitted, validate_data

from .blocked_products import block_rows_for, log_odds_products, m_step_block_rows
from .blocked_products import weighted_sums as blocked_weighted_sums
from .em import MixtureEM, check_positive_int, check_weights
from .online import OnlineEMMixin

__all__ = ["SPREAD_LIMIT", "BernoulliMixture", "log_bernoulli_density",
           "n_parameters_bernoulli"]

# The spread beyond which log_bernoulli_density sums an entry again. The product's relative
# error is about (1 + rho) g eps, g the growth of the summation's rounding (up to 6 measured
# on dense MNIST images, D at worst; for sparse X, summed one stored value after another,
# it grows with the ones of a row: 1.03e-3 was seen in float32 at rho = 632 with 317 ones);
# rho <= 2**10 costs at most ten bits more than a sum without cancellation: under 1e-3 in
# float32 and 2e-12 in float64 for g up to 8 (dense). In fits to
# 10,000 MNIST images with K = 10 to 50, rho stays below 8 (the bound of each component
# below 10), on components of 3 to 7 images it reaches 131 (bound 185), while on a
# component collapsed onto one image it reaches 1e16. So ordinary fits keep every entry of
# the product, and the same results.
SPREAD_LIMIT = 2.0**10


def n_parameters_bernoulli(n_components, n_features):
    """Number of free parameters of a mixture of multivariate Bernoulli distributions.

    Each of the :math:`K` components has one success probability per binary feature
    (:math:`K D` in all) and the weights add :math:`K - 1`: :math:`p = K D + K - 1`.

    Parameters
    ----------
    n_components : int
        Number of components :math:`K`.
    n_features : int
        Number of binary features :math:`D` (pixels, for images).

    Returns
    -------
    int
        The parameter count :math:`p`.
    """
    check_positive_int(n_components, "n_components")
    check_positive_int(n_features, "n_features")
    return int(n_components) * int(n_features) + int(n_components) - 1


def log_bernoulli_density(X, means):
    r""":math:`\log p(x_n \mid \mu_k)` for every sample and component, in one product.

    With the log-odds :math:`L_{kd} = \log\mu_{kd} - \log(1 - \mu_{kd})` and the offsets
    :math:`b_k = \sum_d \log(1 - \mu_{kd})`,

    .. math::

        \log p(x_n \mid \mu_k) = \sum_d x_{nd} L_{kd} + b_k,

    one matrix product for all samples and components, whole or in blocks of rows on
    Numba's threads (:func:`emlib.blocked_products.block_rows_for`). Where that sum
    cancels (its spread :math:`\rho_{nk}`, below, exceeds :data:`SPREAD_LIMIT`), the entry
    is summed again from terms that are all negative or zero,

    .. math::

        \log p(x_n \mid \mu_k) = \sum_d x_{nd} \log\mu_{kd} + (1 - x_{nd}) \log(1 - \mu_{kd}),

    in float64, then rounded to the result's dtype. Every other entry is the product's.

    Parameters
    ----------
    X : ndarray or scipy.sparse matrix of shape (n_samples, n_features), entries 0 or 1
        A sparse X stays sparse: the product then visits its ones only.
    means : ndarray of shape (n_components, n_features), entries in (0, 1)

    Returns
    -------
    ndarray of shape (n_samples, n_components)
        Column-major.

    Notes
    -----
    As :math:`\log p \le 0`, the positive terms of the product, :math:`P_{nk} = \sum_d
    x_{nd} \max(L_{kd}, 0)`, are cancelled by negative ones of total :math:`P_{nk} +
    |\log p|`: the magnitudes of the terms add up to :math:`(1 + \rho_{nk}) |\log p|`, with
    the spread

    .. math::

        \rho_{nk} = \frac{2 P_{nk}}{|\log p(x_n \mid \mu_k)|},

    and the rounding error of the sum is about :math:`(1 + \rho_{nk})\,\epsilon` relative.
    In fits to MNIST :math:`\rho` stays below 10, and below 200 on components of a few
    images. A component collapsed onto one image has its :math:`\mu_{kd}` within
    :math:`\epsilon` of 0 or 1, so :math:`|L_{kd}|` near :math:`|\log\epsilon|` (36 in
    float64, 16 in float32), yet its own image has :math:`\log p` near :math:`-D \epsilon`:
    :math:`\rho` near :math:`10^{16}`. There the product left no correct digit: on 1,000
    MNIST images under 40 components collapsed onto one of them and 20 onto two (their
    probabilities within :math:`\epsilon` of 0 and 1, or at :math:`10^{-10}` and
    :math:`1 - 10^{-7}`), its relative errors reached 47 in float32 and 93 in float64
    (absolute, 1.5e-4 and 4e-12 nats), and 28 of those 40 images got a positive
    log-probability in float64.
    Summed again, those entries are off by 6e-8 and 3e-15 at most, and no entry of these
    components by more than 8e-6 and 3e-14 (some, under the limit, are the product's).

    Only the components that can exceed the limit are searched. Since :math:`P_{nk} \le
    S_k = \sum_d \max(L_{kd}, 0)`, and :math:`|\log p(x \mid \mu_k)|` is at least that of
    the component's most probable image, :math:`m_k = -\sum_d \log\max(\mu_{kd}, 1 -
    \mu_{kd}) = -b_k - S_k`, no entry of a component with :math:`2 S_k \le` ``SPREAD_LIMIT``
    :math:`\cdot\, m_k` can exceed it; that test takes :math:`K D` operations, against the
    product's :math:`N K D`. Of the other components' entries, those with :math:`2 S_k \le`
    ``SPREAD_LIMIT`` :math:`\cdot\, |\log p|` cannot either; only the rows left get their
    :math:`P_{nk}` computed, in dense blocks of float64.
    """
    log_off = np.log1p(-means)
    log_odds = np.log(means) - log_off
    offsets = log_off.sum(axis=1)
    rows = block_rows_for(X, means.shape[0]) if log_odds.dtype == X.dtype else None
    if rows:
        log_prob = log_odds_products(X, log_odds, offsets, rows)
    else:
        if _single_dense(X, log_odds):
            product = (X @ log_odds.T).T
        else:
            # np.asarray: SciPy's older sparse matrices return np.matrix from the product.
            product = np.asarray(log_odds @ X.T)
        # Summed into a row-major (K, N) array whose transpose is returned: the column-major
        # layout the E-step reduces fastest, for dense and sparse X alike.
        log_prob_T = np.empty(product.shape, dtype=product.dtype)
        np.add(product, offsets[:, np.newaxis], out=log_prob_T)
        log_prob = log_prob_T.T
    _sum_again_where_cancelled(X, means, log_odds, offsets, log_prob)
    return log_prob


def _sum_again_where_cancelled(X, means, log_odds, offsets, log_prob):
    r"""Overwrite the entries of ``log_prob`` whose spread :math:`\rho_{nk}` exceeds
    :data:`SPREAD_LIMIT` by sums of non-positive terms (see :func:`log_bernoulli_density`).

    ``log_odds`` and ``offsets`` are the product's :math:`L` and :math:`b`, which serve the
    two bounds only: their rounding in ``means``' dtype, about :math:`\epsilon S_k`, is far
    below the :math:`2 S_k /` ``SPREAD_LIMIT`` under which :math:`|\log p|` of an entry
    past the limit stays, so it cannot hide one.
    """
    positive = np.maximum(log_odds, 0).sum(axis=1)
    suspects = np.flatnonzero(2 * positive > SPREAD_LIMIT * (-offsets - positive))
    if not suspects.size:
        return
    magnitudes = np.abs(log_prob[:, suspects])
    rows = np.flatnonzero((2 * positive[suspects] > SPREAD_LIMIT * magnitudes).any(axis=1))
    if not rows.size:
        return
    # In float64 from the means themselves, so that the sums round once, to the result's
    # dtype.
    means = means[suspects].astype(np.float64)
    log_means, log_off = np.log(means), np.log1p(-means)
    gains = np.maximum(log_means - log_off, 0)
    if sp.issparse(X):
        X = X.tocsr()
    # Sparse rows must be expanded: subtracting the ones' terms from a full sum would
    # cancel as the product does. Blocks of at most 2**20 entries keep that expansion
    # small even if every row were to be summed again.
    block = max(1, 2**20 // X.shape[1])
    for start in range(0, rows.size, block):
        chunk = rows[start:start + block]
        x = X[chunk]
        x = np.asarray(x.toarray() if sp.issparse(x) else x, dtype=np.float64)
        spread = 2 * (x @ gains.T)
        n, k = np.nonzero(spread > SPREAD_LIMIT * np.abs(log_prob[np.ix_(chunk, suspects)]))
        if n.size:
            sums = x @ log_means.T + (1 - x) @ log_off.T
            log_prob[chunk[n], suspects[k]] = sums[n, k]


def _weighted_sums(X, resp):
    r""":math:`\sum_n r_{nk} x_{nd}` for every component and feature, shape (K, D): the
    M-step's product, which visits only the ones of a sparse X."""
    rows = m_step_block_rows(X, resp.shape[1]) if resp.dtype == X.dtype else None
    if rows:
        return blocked_weighted_sums(X, resp, rows)
    if _single_dense(X, resp):
        # Row-major, as the other orientation returns it, so that the means are.
        return np.ascontiguousarray((X.T @ resp).T)
    return np.asarray(resp.T @ X)


def _single_dense(X, other):
    """Whether the product of dense ``X`` with ``other`` runs in float32.

    The same product can be asked of the BLAS in two orientations, ``A @ B`` or
    ``(B.T @ A.T).T``, which differ only in the order of each sum, by rounding. On 60,000
    × 784 images with K = 20 (OpenBLAS's SkylakeX kernels, two series of runs), the
    E-step's product took 42–52 ms in float32 with the data on the left (``X @ W.T``)
    against 68–74 ms on the right; the M-step's 43–64 ms (``X.T @ R``) against 53–63 ms,
    clearly faster in one series (43–48 against 53–54 ms), within noise in the other. In
    float64 the E-step's took 91–118 ms with the data on the left against 81–104 ms on
    the right, and the M-step's 103–126 against 71–82 ms. So float32 takes the data on
    the left, float64 on the right. The Haswell kernels favour float32's E-step the same
    way (66–72 against 78–99 ms).
    """
    return not sp.issparse(X) and np.result_type(X, other) == np.float32


class BernoulliMixture(OnlineEMMixin, MixtureEM):
    r"""Mixture of multivariate Bernoulli distributions fitted by (MAP-)EM.

    Parameters
    ----------
    n_components : int, default=1
        Number of components :math:`K`.
    pixel_prior : float, default=0.0
        Pseudo-counts :math:`a` of a symmetric Beta prior on every :math:`\mu_{kd}`: each
        component behaves as if it had seen ``a`` extra "on" and ``a`` extra "off" values of
        every feature. Zero gives maximum likelihood.
    weight_prior : float, default=0.0
        Pseudo-counts :math:`b` of a symmetric Dirichlet prior on the weights.
    tol : float, default=1e-3
        Convergence threshold on the change of the objective per sample.
    max_iter : int, default=100
    n_init : int, default=1
    init_params : {"kmeans", "k-means++", "random", "random_from_data"}, default="kmeans"
    weights_init : array-like of shape (n_components,), default=None
    means_init : array-like of shape (n_components, n_features), default=None
        Initial :math:`\mu_{kd}`, strictly between 0 and 1.
    random_state : int, RandomState instance or None, default=None
        Seed of the start that ``init_params`` computes, of a Dask array's sample of rows
        for it, and of :meth:`sample`. :meth:`fit` computes no start, and so does not use
        the seed, when ``weights_init`` and ``means_init`` fix the whole start; the first
        :meth:`partial_fit` always computes one, for its running statistics.
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
    dtype : {numpy.float64, numpy.float32}, default=numpy.float64
        Floating type of the computation; ``float32`` halves memory traffic, and in
        the latest runs of ``benchmarks/bench.py`` on each of two processors (recorded in
        ``benchmarks/README.md``) an iteration on 60,000 MNIST-sized rows took about three
        fifths of the ``float64`` time (0.53 to 0.62 times).

    Attributes
    ----------
    weights_ : ndarray of shape (n_components,)
    means_ : ndarray of shape (n_components, n_features)
        Pixel probabilities, in the open interval (0, 1).
    converged_ : bool
    n_iter_ : int
    lower_bound_ : float
        Objective (log-likelihood, or log-posterior with priors, per sample) at the last E-step.
        Always a Python float, and ``log_likelihood_history_`` holds the same values as
        ``float64``; for ``float32`` data they are accumulated in ``float32`` (about 7 digits).
    log_likelihood_history_ : ndarray of shape (n_iter_,)
        The objective at every E-step of the best run; never decreasing.
    params_history_ : list of dict
        With ``keep_history=True``: parameters after 0, 1, ..., ``n_iter_`` M-steps.
    n_features_in_ : int

    Notes
    -----
    ``X`` holds 0/1 values (any numeric dtype, or bool), dense or sparse (scipy.sparse CSR
    or CSC, kept sparse throughout): the E-step's product :math:`X \log\frac{\mu}{1 - \mu}
    ^\top` and the M-step's :math:`R^\top X` then visit the ones alone, about :math:`K`
    operations per one instead of per entry. That pays when ones are rare: on 10,000
    binarised MNIST images, where about 13% of the pixels are on, an iteration took 0.42,
    0.53 and 0.61 times as long as with dense input for K = 10, 20 and 50 (one BLAS
    thread); on 3,000 binarised Fashion-MNIST images, about 32% on, it took 1.1 to 1.3
    times as long for K = 5 to 40. Every start gives the same fit for dense and sparse
    input up to rounding (the k-means start expands a sparse X to dense rows for itself),
    though rounding differences, as from any change in the order of a sum, can grow in a
    maximum-likelihood fit whose probabilities are pinned near 0 or 1.

    Without a prior, a pixel that is off in every image assigned to a component gets
    :math:`\mu_{kd} = 0`, and any new image with that pixel on would have probability zero. So
    that logarithms stay finite, probabilities are kept within machine epsilon of (0, 1); use
    ``pixel_prior > 0`` for a principled fix.

    The default start (``init_params="kmeans"``) is a short k-means, not scikit-learn's
    (which :class:`emlib.GaussianMixture` keeps: greedy k-means++ seeding with
    ``2 + int(log(K))`` candidates per centre, then Lloyd's iterations to convergence, 300
    at most). Here the seeding draws one candidate per centre (the D² sampling of Arthur
    and Vassilvitskii, 2007) and Lloyd stops after 10 iterations. On binary images k-means
    takes 60 to 90 iterations to converge, and the greedy seeding makes one distance pass
    per candidate (4 per centre for K = 20), so the full start took as long as the fit;
    its last iterations move a few boundary images, which EM reassigns anyway. Measured
    on 60,000 binary MNIST-like images with K = 20 over 10 seeds (``benchmarks/README.md``):
    a default fit takes about 45% less time, the start is about a quarter of it, and the
    final log-likelihood per image is 0.05 lower on average than from a converged greedy
    start, while it ranges over 0.5 to 0.9 between seeds.
    """

    # See the Notes: EM moves the means far more than the last k-means iterations would.
    # The data are 0/1 (checked by _validate_input), so the seeding counts bits.
    _kmeans_start = {"max_iter": 10, "n_local_trials": 1, "binary": True}

    def __init__(
        self,
        n_components=1,
        *,
        pixel_prior=0.0,
        weight_prior=0.0,
        tol=1e-3,
        max_iter=100,
        n_init=1,
        init_params="kmeans",
        weights_init=None,
        means_init=None,
        random_state=None,
        warm_start=False,
        verbose=0,
        keep_history=False,
        progress=False,
        learning_decay=0.7,
        learning_offset=0.0,
        dtype=np.float64,
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
        self.pixel_prior = pixel_prior
        self.weight_prior = weight_prior
        self.weights_init = weights_init
        self.means_init = means_init
        self.dtype = dtype

    @classmethod
    def from_parameters(cls, weights, means, **params):
        """A Bernoulli mixture with known parameters, ready to use without fitting.

        Parameters
        ----------
        weights : array-like of shape (n_components,)
            Non-negative, summing to one.
        means : array-like of shape (n_components, n_features)
            Pixel probabilities, strictly between 0 and 1.
        **params
            Any other constructor parameter (for example ``random_state`` for ``sample``).

        Returns
        -------
        BernoulliMixture
        """
        means = np.asarray(means, dtype=float)
        if means.ndim != 2:
            raise ValueError(f"means must be 2-D (n_components, n_features); got {means.shape}.")
        if np.any(means <= 0) or np.any(means >= 1):
            raise ValueError("means must lie strictly between 0 and 1.")
        K, D = means.shape
        weights = check_weights(weights, K)
        if "n_components" in params:
            raise ValueError("n_components is not a parameter here: it is len(means).")
        model = cls(n_components=K, **params)
        dtype = np.dtype(model.dtype)
        model._set_parameters({"weights": weights.astype(dtype), "means": means.astype(dtype)})
        model.n_features_in_ = D
        return model

    def _validate_input(self, X, *, reset):
        if np.dtype(self.dtype) not in (np.float64, np.float32):
            raise ValueError(
                f"dtype={self.dtype!r} is not supported; use numpy.float64 or float32."
            )
        X = validate_data(self, X, reset=reset, accept_sparse=("csr", "csc"), dtype=self.dtype,
                          ensure_min_samples=1 + reset)
        values = X.data if sp.issparse(X) else X
        if not np.all((values == 0) | (values == 1)):
            bad = values[(values != 0) & (values != 1)].flat[0]
            raise ValueError(
                "BernoulliMixture needs binary data (0/1 or bool), but X contains other values "
                f"(for example {bad:g}). Binarise it first, e.g. X = (X > 0.5).astype(np.uint8) "
                "for intensities in [0, 1], or use emlib.datasets.load_mnist(binarize=True)."
            )
        return X

    def _check_family_parameters(self, X):
        check_scalar(self.pixel_prior, "pixel_prior", Real, min_val=0.0)
        check_scalar(self.weight_prior, "weight_prior", Real, min_val=0.0)
        if self.means_init is not None:
            m = np.asarray(self.means_init, dtype=float)
            if np.any(m <= 0) or np.any(m >= 1):
                raise ValueError("means_init must lie strictly between 0 and 1.")

    def _update(self, X, resp):
        """The MAP M-step; with zero pseudo-counts, the maximum-likelihood one."""
        return self._parameters_from_sums(resp.sum(axis=0), _weighted_sums(X, resp), X.shape[0],
                                          X.dtype)

    def _parameters_from_sums(self, nk, sums, n_samples, dtype):
        r"""The MAP M-step from the soft counts :math:`N_k`, the sums
        :math:`\sum_n r_{nk} x_n` and :math:`N`: :math:`\mu_{kd} = (s_{kd} + a) / (N_k + 2a)`
        and :math:`\pi_k \propto N_k + b`, in the given dtype."""
        a, b = self.pixel_prior, self.weight_prior
        eps = np.finfo(dtype).eps
        # As for Gaussians: a component with no responsibility must not divide zero by zero.
        nk = nk + 10 * eps
        means = (sums + a) / (nk + 2 * a)[:, np.newaxis]
        weights = (nk + b) / (n_samples + self.n_components * b)
        weights /= weights.sum()
        return weights.astype(dtype, copy=False), np.clip(means, eps, 1 - eps).astype(
            dtype, copy=False)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags

    def _initial_responsibilities(self, X, rng):
        # The k-means start works on dense rows; a sparse X is expanded for it alone, so
        # that dense and sparse input start alike. The other starts take sparse X as it is.
        if sp.issparse(X) and self.init_params == "kmeans":
            X = X.toarray()
        return super()._initial_responsibilities(X, rng)

    def _initialize(self, X, resp):
        computed = (None, None) if resp is None else self._update(X, resp)
        weights, means = self._start_weights_and_means(X, *computed)
        # Kept within eps of (0, 1), as the M-step keeps them: a means_init checked in
        # float64 can round to 0 or 1 in float32 (1 - 1e-10 does), and log(1 - mu) with it.
        eps = np.finfo(X.dtype).eps
        self.weights_, self.means_ = weights, np.clip(means, eps, 1 - eps)

    def _m_step(self, X, resp):
        self.weights_, self.means_ = self._update(X, resp)

    def _moments(self, X, resp):
        r"""Soft counts :math:`N_k` and means :math:`\sum_n r_{nk} x_n / N_k` of the
        components on ``X`` (one chunk or batch), in ``float64`` for
        :func:`emlib.moments.pool_moments`."""
        nk = resp.sum(axis=0)
        divisor = np.maximum(nk, np.finfo(X.dtype).tiny)
        return {
            "count": nk.astype(np.float64),
            "mean": (_weighted_sums(X, resp) / divisor[:, np.newaxis]).astype(np.float64),
        }

    def _m_step_from_moments(self, moments):
        """The M-step of :meth:`_update` from pooled moments (see :meth:`_moments`)."""
        nk = moments["count"]
        self.weights_, self.means_ = self._parameters_from_sums(
            nk, nk[:, np.newaxis] * moments["mean"], nk.sum(), self.means_.dtype)

    def _estimate_log_prob(self, X):
        return log_bernoulli_density(X, self.means_)

    def _log_prior(self):
        r""":math:`a \sum_{kd} [\log\mu_{kd} + \log(1-\mu_{kd})] + b \sum_k \log\pi_k`."""
        a, b = self.pixel_prior, self.weight_prior
        log_prior = 0.0
        if a:
            log_prior += a * float(np.sum(np.log(self.means_) + np.log1p(-self.means_)))
        if b:
            log_prior += b * float(np.sum(np.log(self.weights_)))
        return log_prior

    def _get_parameters(self):
        return {"weights": self.weights_.copy(), "means": self.means_.copy()}

    def _set_parameters(self, params):
        self.weights_ = params["weights"]
        self.means_ = params["means"]

    def n_parameters(self):
        """Free parameters of the fitted model, :math:`K d + K - 1`; see
        :func:`n_parameters_bernoulli`."""
        check_is_fitted(self)
        return n_parameters_bernoulli(*self.means_.shape)

    def _sample_component(self, k, n_samples, rng):
        return (rng.random((n_samples, self.means_.shape[1])) < self.means_[k]).astype(np.uint8)
