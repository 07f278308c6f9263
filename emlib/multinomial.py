r"""Mixtures of multinomial distributions for count vectors (bags of words), fitted by EM.

A document is a vector of word counts :math:`x_n = (x_{n1}, \dots, x_{nD})` of length
:math:`L_n = \sum_d x_{nd}`. Given its length, component :math:`k` draws the words
independently from the word probabilities :math:`\theta_k`, the generative model of the
naive Bayes text classifier that Nigam et al. (2000) fit by EM:

.. math::

    p(x_n \mid \theta_k) = \frac{L_n!}{\prod_d x_{nd}!} \prod_{d=1}^{D} \theta_{kd}^{x_{nd}},
    \qquad \sum_d \theta_{kd} = 1.

The logarithm is one matrix product for all documents and components, plus the log of the
multinomial coefficient, which depends on the document only:

.. math::

    \log p(x_n \mid \theta_k) = \log L_n! - \sum_d \log x_{nd}!
    + \sum_d x_{nd} \log \theta_{kd}.

The coefficient cancels from the responsibilities; it is kept so that the log-likelihood is
that of the counts (``score_samples`` equals :func:`scipy.stats.multinomial.logpmf` summed
over the mixture), which BIC and AIC need to compare with other count models.

The M-step, with optional smoothing priors given as pseudo-counts (a symmetric
:math:`\mathrm{Dirichlet}(a+1)` prior on every :math:`\theta_k` and a symmetric
:math:`\mathrm{Dirichlet}(b+1)` prior on the weights; Nigam et al. smooth the word
probabilities with :math:`a = 1`, Laplace's rule), is

.. math::

    \theta_{kd} = \frac{\sum_n r_{nk} x_{nd} + a}{\sum_n r_{nk} L_n + D a}, \qquad
    \pi_k = \frac{N_k + b}{N + K b}.

With :math:`a = b = 0` this is maximum likelihood; otherwise it is MAP-EM, and the objective
recorded is the log-posterior per sample, which never decreases either.
"""

from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from scipy.special import gammaln
from sklearn.cluster import KMeans as SklearnKMeans
from sklearn.preprocessing import normalize
from sklearn.utils import check_random_state, check_scalar
from sklearn.utils.validation import check_is_fitted, validate_data

from .em import MixtureEM, check_positive_int, check_weights

__all__ = [
    "MultinomialMixture",
    "log_multinomial_coefficient",
    "log_multinomial_density",
    "n_parameters_multinomial",
]

# Values of X converted to float64 at a time (4 MB): blocks of rows that bound the memory of
# the conversion. Timed from 2^15 to 2^20 on float32 counts of four shapes (5,000 x 2,000
# with K = 10 and 50, 2,000 x 20,000, 50,000 x 200), on one and two BLAS threads, no size
# was fastest for all; 2^19 was within 16% of the fastest, but once 38% (K = 10, one
# thread, where 2^16 was fastest).
_BLOCK_VALUES = 2**19


def n_parameters_multinomial(n_components, n_features):
    """Number of free parameters of a mixture of multinomial distributions.

    Each of the :math:`K` components has :math:`D` word probabilities that sum to one,
    hence :math:`D - 1` free ones, and the weights add :math:`K - 1`:
    :math:`p = K (D - 1) + K - 1 = K D - 1`.

    Parameters
    ----------
    n_components : int
        Number of components :math:`K`.
    n_features : int
        Number of categories :math:`D` (the size of the vocabulary, for text).

    Returns
    -------
    int
        The parameter count :math:`p`.
    """
    check_positive_int(n_components, "n_components")
    check_positive_int(n_features, "n_features")
    return int(n_components) * int(n_features) - 1


def log_multinomial_coefficient(X):
    r""":math:`\log L_n! - \sum_d \log x_{nd}!` for every row of a count matrix, in float64.

    Only counts above one contribute to the sum (:math:`0! = 1! = 1`), so the cost is one
    pass over the non-zero entries; sparse input stays sparse.

    Parameters
    ----------
    X : ndarray or scipy.sparse matrix of shape (n_samples, n_features)
        Non-negative integer counts (of any numeric dtype).

    Returns
    -------
    ndarray of shape (n_samples,), float64
        The log of the number of orderings of each row's words. Always float64: for a
        document of a million words :math:`\log L!` is about :math:`1.3 \times 10^7`, whose
        float32 rounding (about 1) would swamp the log-likelihood's differences.
    """
    if sp.issparse(X):
        coo = sp.coo_array(X)
        counted = coo.data > 1
        rows, values = coo.row[counted], coo.data[counted]
    else:
        rows, cols = np.nonzero(X > 1)
        values = X[rows, cols]
    values = np.asarray(values, dtype=np.float64)
    lengths = np.asarray(X.sum(axis=1), dtype=np.float64).ravel()
    log_factorials = np.bincount(rows, weights=gammaln(values + 1.0), minlength=X.shape[0])
    return gammaln(lengths + 1.0) - log_factorials


def log_multinomial_density(X, means, log_coefficient=None):
    r""":math:`\log p(x_n \mid \theta_k)` for every document and component, in one product.

    .. math::

        \log p(x_n \mid \theta_k) = \log C_n + \sum_{d=1}^{D} x_{nd} \log \theta_{kd},
        \qquad \log C_n = \log L_n! - \sum_d \log x_{nd}!.

    The sum and the coefficient are carried in float64 and rounded to the dtype of
    ``means`` once, at the end. For a long document both are large and of opposite signs
    (for 100,000 words, of the order of :math:`\mp 10^6`) and the log-density is their much
    smaller difference, so the rounding errors of a float32 sum, a few units, shift it by as
    many nats, enough to change the responsibilities of close components. Summed in
    float32, the log-densities of documents of 100,000 words (vocabularies of 2,000 and
    20,000 words) were off by up to :math:`3.2 \times 10^{-5}` of their size for dense X
    and :math:`3.3 \times 10^{-4}` for CSR X, 270 and 2,700 times float32's machine
    epsilon; carried in float64, by at most half of it, the final rounding.

    A float64 X is multiplied whole. Any other dense or CSR X is converted to float64 a
    block of rows at a time (at most ``_BLOCK_VALUES`` values, stored ones if sparse), so
    that the conversion takes a few megabytes, not twice the memory of X (on 20,000 x 2,000
    float32 counts, a peak of 9 MB dense, 14 MB CSR, where X in float64 takes 320 MB); of
    other sparse formats, scipy converts all the stored values. Fits of float32 counts (5,000
    documents, 2,000 words, K = 10) took 0.95 to 1.6 times as long as with float32 sums
    dense, 1.0 to 1.3 times CSR (medians of runs on one or two BLAS threads; more on cores
    busy with other work).

    Parameters
    ----------
    X : ndarray or scipy.sparse matrix of shape (n_samples, n_features)
        Non-negative integer counts, of the dtype of ``means``.
    means : ndarray of shape (n_components, n_features)
        Word probabilities :math:`\theta_{kd} > 0`, each row summing to one.
    log_coefficient : ndarray of shape (n_samples,), default=None
        :func:`log_multinomial_coefficient` of ``X``, if already known.

    Returns
    -------
    ndarray of shape (n_samples, n_components)
        Column-major, in the dtype of ``means``.
    """
    if log_coefficient is None:
        log_coefficient = log_multinomial_coefficient(X)
    log_theta = np.log(means, dtype=np.float64)
    if X.dtype == np.float64 or (sp.issparse(X) and X.format != "csr"):
        # Computed as (K, N) and transposed: the column-major layout the E-step reduces
        # fastest. A sparse X stays sparse: the product visits its non-zero entries only,
        # but scipy returns it row-major, hence the copy.
        log_prob = np.asarray(log_theta @ X.T).T
        log_prob += log_coefficient[:, np.newaxis]
        return np.asfortranarray(log_prob, dtype=means.dtype)
    log_prob = np.empty((X.shape[0], means.shape[0]), dtype=means.dtype, order="F")
    for start, block in _float64_row_blocks(X, _BLOCK_VALUES):
        product = block @ log_theta.T
        stop = start + product.shape[0]
        product += log_coefficient[start:stop, np.newaxis]
        log_prob[start:stop] = product
    return log_prob


def _float64_row_blocks(X, values):
    """``(first row, block)`` for consecutive blocks of rows of a dense or CSR ``X``, each
    converted to float64 and holding at most ``values`` values (stored ones, if sparse),
    or one row if that row alone holds more."""
    n_samples, n_features = X.shape
    if not sp.issparse(X):
        rows = max(1, values // max(n_features, 1))
        for start in range(0, n_samples, rows):
            yield start, X[start : start + rows].astype(np.float64)
        return
    indptr = X.indptr
    start = 0
    while start < n_samples:
        # Cut where the stored values reach the budget, not at the average row's count:
        # long documents stored together would otherwise make one oversized block.
        last = np.searchsorted(indptr, indptr[start] + values, side="right") - 1
        stop = min(max(int(last), start + 1), n_samples)
        first, end = indptr[start], indptr[stop]
        # Views of the column indices: only the stored values are copied.
        yield start, sp.csr_array(
            (X.data[first:end].astype(np.float64), X.indices[first:end],
             indptr[start : stop + 1] - first),
            shape=(stop - start, n_features),
        )
        start = stop


def _expected_counts(X, resp):
    r""":math:`\sum_n r_{nk} x_{nd}`, of shape (n_components, n_features): in float64 for
    sparse X, in X's dtype for dense X.

    scipy's sparse products add the documents one at a time in the dtype of X: in float32,
    the counts of 5,000 documents of 100,000 words were off by up to 37 eps, against 3.5
    for the dense float32 product, whose blocks keep partial sums short. A CSR X of
    another dtype is converted in blocks of rows, as in :func:`log_multinomial_density`,
    but of at least as many stored values as the counts have entries: each block's
    product is a new (n_features, n_components) array added to the total, which then
    takes no more memory, nor time, than the product itself.
    """
    if not sp.issparse(X) or X.dtype == np.float64:
        return np.asarray(resp.T @ X)
    if X.format != "csr":
        # scipy converts all of X's stored values to the dtype of the float64 factor.
        return np.asarray(resp.T.astype(np.float64) @ X)
    counts_T = np.zeros((X.shape[1], resp.shape[1]))
    for start, block in _float64_row_blocks(X, max(_BLOCK_VALUES, counts_T.size)):
        counts_T += block.T @ resp[start : start + block.shape[0]].astype(np.float64)
    return counts_T.T


def _check_word_probabilities(means, name):
    if np.any(means <= 0) or not np.allclose(means.sum(axis=1), 1.0, rtol=0, atol=1e-6):
        raise ValueError(
            f"{name} must be positive, and each row (one component's word probabilities) "
            "must sum to 1."
        )


class MultinomialMixture(MixtureEM):
    r"""Mixture of multinomial distributions fitted by (MAP-)EM, for word-count vectors.

    Parameters
    ----------
    n_components : int, default=1
        Number of components :math:`K`.
    word_prior : float, default=0.0
        Pseudo-counts :math:`a` of a symmetric Dirichlet prior on every component's word
        probabilities :math:`\theta_k`: each component behaves as if it had seen every word
        ``a`` extra times. Zero gives maximum likelihood; 1 is the Laplace smoothing of
        Nigam et al. (2000).
    weight_prior : float, default=0.0
        Pseudo-counts :math:`b` of a symmetric Dirichlet prior on the weights.
    tol : float, default=1e-3
        Convergence threshold on the change of the objective per sample.
    max_iter : int, default=100
    n_init : int, default=1
    init_params : {"kmeans", "k-means++", "random", "random_from_data"}, default="kmeans"
        As for the other mixtures, but computed on the documents scaled to unit Euclidean
        length (see the Notes).
    weights_init : array-like of shape (n_components,), default=None
    means_init : array-like of shape (n_components, n_features), default=None
        Initial word probabilities :math:`\theta_{kd}`: positive, each row summing to 1.
    random_state : int, RandomState instance or None, default=None
        Seed of the start that ``init_params`` computes and of :meth:`sample`. No start is
        computed, and the seed is not used in fitting, when ``weights_init`` and
        ``means_init`` fix the whole start.
    warm_start : bool, default=False
    verbose : int, default=0
    keep_history : bool, default=False
        Store the starting parameters and those after every M-step in ``params_history_``.
    progress : bool, default=False
        Show a progress bar of the EM iterations (tqdm), with the current objective.
    dtype : {None, numpy.float64, numpy.float32}, default=None
        Floating type of the computation. ``None`` keeps float32 input in float32 and
        computes everything else (integer counts included) in float64.

    Attributes
    ----------
    weights_ : ndarray of shape (n_components,)
    means_ : ndarray of shape (n_components, n_features)
        Word probabilities :math:`\theta_{kd}`, each row summing to 1; the expected counts
        of a document of length :math:`L` drawn from component :math:`k` are
        :math:`L \theta_k`. Named as in the other mixtures.
    mean_length_ : float
        Mean number of words per training document, the mean length :meth:`sample` draws.
    converged_ : bool
    n_iter_ : int
    lower_bound_ : float
        Objective (log-likelihood, or log-posterior with priors, per sample) at the last
        E-step. Always a Python float; for float32 data it is accumulated in float32.
    log_likelihood_history_ : ndarray of shape (n_iter_,)
        The objective at every E-step of the best run; never decreasing.
    params_history_ : list of dict
        With ``keep_history=True``: parameters after 0, 1, ..., ``n_iter_`` M-steps.
    n_features_in_ : int

    Notes
    -----
    **Input.** ``X`` holds non-negative integer counts, dense or sparse (scipy.sparse CSR or
    CSC, kept sparse throughout: the E-step is ``log(means_) @ X.T`` and the M-step
    ``resp.T @ X``, which visit the non-zero entries only; other sparse formats are
    converted to CSR). A row of zeros, an empty
    document, is accepted: its probability is one under every component, so its
    responsibilities are the weights, and it counts towards the weights but not towards
    any word probability.

    **Probabilities never seen.** Without a prior, a word that no document of a component
    contains gets :math:`\theta_{kd} = 0`, and any document with that word would be
    impossible under the component. So that logarithms stay finite, probabilities are kept
    at least the smallest normal number of the dtype (about :math:`10^{-308}` in float64,
    :math:`10^{-38}` in float32), which is not a smoothing: such a word still makes a
    document all but impossible. Use ``word_prior > 0`` for a principled fix. A component
    that no document is assigned to keeps weight zero and uniform word probabilities.

    **Start.** The default start is k-means (scikit-learn's, which works on sparse
    matrices: converged, from greedy k-means++ seeds) on the documents scaled to unit
    Euclidean length, so that distances compare the directions of the count vectors, as
    cosine similarity does; the spherical k-means of Dhillon and Modha (2001) goes one step
    further and rescales each centre to unit length too. On raw counts, Euclidean distances
    are dominated by the documents' lengths, and on word proportions (rows scaled to sum
    to one) by the few most frequent words. Measured on :func:`emlib.datasets.load_passages`
    with ``K = 6``, ``word_prior=1`` and ``tol=1e-6`` over 10 seeds, the adjusted Rand index
    against the books averaged 0.93 from the unit-length start, 0.83 from proportions and
    0.80 from raw counts. The k-means partition is not shared through
    :func:`emlib.em.shared_kmeans_starts`.

    **Sampling.** The model describes the words given the length, not the length
    (Nigam et al. take it independent of the component), so :meth:`sample` draws each
    document's length from a Poisson distribution with mean ``mean_length_``,
    independently of the component, unless a fixed ``length`` is given.
    """

    def __init__(
        self,
        n_components=1,
        *,
        word_prior=0.0,
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
        dtype=None,
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
        self.word_prior = word_prior
        self.weight_prior = weight_prior
        self.weights_init = weights_init
        self.means_init = means_init
        self.dtype = dtype

    @classmethod
    def from_parameters(cls, weights, means, **params):
        """A multinomial mixture with known parameters, ready to use without fitting.

        Such a model has no ``mean_length_``: give :meth:`sample` a ``length``.

        Parameters
        ----------
        weights : array-like of shape (n_components,)
            Non-negative, summing to one.
        means : array-like of shape (n_components, n_features)
            Word probabilities: positive, each row summing to one.
        **params
            Any other constructor parameter (for example ``random_state`` for ``sample``).

        Returns
        -------
        MultinomialMixture
        """
        means = np.asarray(means, dtype=float)
        if means.ndim != 2:
            raise ValueError(f"means must be 2-D (n_components, n_features); got {means.shape}.")
        _check_word_probabilities(means, "means")
        K, D = means.shape
        weights = check_weights(weights, K)
        if "n_components" in params:
            raise ValueError("n_components is not a parameter here: it is len(means).")
        model = cls(n_components=K, **params)
        dtype = np.dtype(np.float64 if model.dtype is None else model.dtype)
        model._set_parameters({"weights": weights.astype(dtype), "means": means.astype(dtype)})
        model.n_features_in_ = D
        return model

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.input_tags.positive_only = True
        return tags

    def _validate_input(self, X, *, reset):
        if self.dtype is None:
            dtype = [np.float64, np.float32]
        elif np.dtype(self.dtype) in (np.float64, np.float32):
            dtype = self.dtype
        else:
            raise ValueError(
                f"dtype={self.dtype!r} is not supported; use None, numpy.float64 or float32."
            )
        X = validate_data(
            self,
            X,
            reset=reset,
            accept_sparse=("csr", "csc"),
            dtype=dtype,
            ensure_min_samples=1 + reset,
        )
        values = X.data if sp.issparse(X) else X
        negative = values[values < 0]
        if negative.size:
            raise ValueError(
                f"Negative values in data passed to MultinomialMixture (for example "
                f"{negative[0]:g}): it needs counts, how many times each word occurs in each "
                "document. Count words with sklearn.feature_extraction.text.CountVectorizer."
            )
        fractional = values[values != np.rint(values)]
        if fractional.size:
            raise ValueError(
                "MultinomialMixture needs counts (non-negative integers: how many times each "
                f"word occurs in each document), but X contains {fractional[0]:g}. Count words "
                "with sklearn.feature_extraction.text.CountVectorizer; do not pass frequencies "
                "or tf-idf weights."
            )
        return X

    def _check_family_parameters(self, X):
        check_scalar(self.word_prior, "word_prior", Real, min_val=0.0)
        check_scalar(self.weight_prior, "weight_prior", Real, min_val=0.0)
        if self.means_init is not None:
            _check_word_probabilities(np.asarray(self.means_init, dtype=float), "means_init")

    def _fit_predict(self, X):
        # The engine's fit on the validated X (validating it again here, as an override of
        # fit_predict did, ran the checks for counts twice), then the mean length.
        labels = super()._fit_predict(X)
        self.mean_length_ = float(X.sum()) / X.shape[0]
        return labels

    def _initial_responsibilities(self, X, rng):
        # Documents at unit length, so that k-means compares word use, not length (Notes).
        unit = normalize(X.tocsr() if sp.issparse(X) else X)
        if self.init_params != "kmeans":
            return super()._initial_responsibilities(unit, rng)
        labels = SklearnKMeans(self.n_components, n_init=1, random_state=rng).fit(unit).labels_
        resp = np.zeros((X.shape[0], self.n_components), dtype=X.dtype)
        resp[np.arange(X.shape[0]), labels] = 1.0
        return resp

    def _update(self, X, resp):
        """The MAP M-step; with zero pseudo-counts, the maximum-likelihood one."""
        a, b = self.word_prior, self.weight_prior
        eps = np.finfo(X.dtype).eps
        # As for the other families: an empty component must not divide zero by zero.
        nk = resp.sum(axis=0) + 10 * eps
        weights = (nk + b) / (X.shape[0] + self.n_components * b)
        counts = _expected_counts(X, resp) + a
        # Totals and quotients in float64, rounded once. In float32 the rows of theta summed
        # to 1 only within 0.5 eps (dense X) or 9 eps (CSR X), which moved log-densities of
        # 100,000 words by up to 0.007 and 0.12 nats; now within 0.01 eps, and 0.001 and
        # 0.0003 nats.
        totals = counts.sum(axis=1, keepdims=True, dtype=np.float64)
        # A component that has counted no word (possible only with a = 0) explains no
        # document's words either: uniform probabilities keep it finite and harmless.
        uniform = np.full(counts.shape, 1.0 / X.shape[1])
        means = np.divide(counts, totals, out=uniform, where=totals > 0)
        np.maximum(means, np.finfo(X.dtype).tiny, out=means)
        return weights / weights.sum(), means.astype(X.dtype, copy=False)

    def _initialize(self, X, resp):
        computed = (None, None) if resp is None else self._update(X, resp)
        self.weights_, self.means_ = self._start_weights_and_means(X, *computed)

    def _m_step(self, X, resp):
        self.weights_, self.means_ = self._update(X, resp)

    def _estimate_log_prob(self, X):
        # The multinomial coefficients depend on the documents alone; within a fit they are
        # computed once, not in every E-step (on the bundled passages they take 2.0 ms, the
        # matrix product of the E-step 1.2 ms).
        scratch = getattr(self, "_fit_scratch", None)
        if scratch is None:
            return log_multinomial_density(X, self.means_)
        if "log_coefficient" not in scratch:
            scratch["log_coefficient"] = log_multinomial_coefficient(X)
        return log_multinomial_density(X, self.means_, scratch["log_coefficient"])

    def _log_prior(self):
        r""":math:`a \sum_{kd} \log\theta_{kd} + b \sum_k \log\pi_k`."""
        a, b = self.word_prior, self.weight_prior
        log_prior = 0.0
        if a:
            log_prior += a * float(np.sum(np.log(self.means_)))
        if b:
            log_prior += b * float(np.sum(np.log(self.weights_)))
        return log_prior

    def _get_parameters(self):
        return {"weights": self.weights_.copy(), "means": self.means_.copy()}

    def _set_parameters(self, params):
        self.weights_ = params["weights"]
        self.means_ = params["means"]

    def n_parameters(self):
        """Free parameters of the fitted model, :math:`K D - 1`; see
        :func:`n_parameters_multinomial`."""
        check_is_fitted(self)
        return n_parameters_multinomial(*self.means_.shape)

    def sample(self, n_samples=1, *, length=None):
        """Draw documents by ancestral sampling: a component from the weights, then words.

        Parameters
        ----------
        n_samples : int, default=1
        length : int or None, default=None
            Number of words of every document. ``None`` draws each length from a Poisson
            distribution with mean ``mean_length_``, independently of the component.

        Returns
        -------
        X : ndarray of shape (n_samples, n_features), int64
            Word counts.
        labels : ndarray of shape (n_samples,)
            The component each document was drawn from (sorted by component).
        """
        check_is_fitted(self)
        check_scalar(n_samples, "n_samples", Integral, min_val=1)
        if length is None:
            if not hasattr(self, "mean_length_"):
                raise ValueError(
                    "This model was not fitted to documents, so it has no mean_length_; "
                    "pass the number of words per document as length=."
                )
        else:
            check_scalar(length, "length", Integral, min_val=0)
        rng = check_random_state(self.random_state)
        counts = rng.multinomial(n_samples, self.weights_.astype(np.float64))
        X = np.vstack(
            [self._sample_component(k, c, rng, length) for k, c in enumerate(counts)]
        )
        labels = np.repeat(np.arange(self.n_components), counts)
        return X, labels

    def _sample_component(self, k, n_samples, rng, length=None):
        # float64 and renormalised: numpy checks that the probabilities sum to at most 1.
        probabilities = self.means_[k].astype(np.float64)
        probabilities /= probabilities.sum()
        if length is not None:
            return rng.multinomial(length, probabilities, size=n_samples).astype(np.int64)
        X = np.empty((n_samples, probabilities.size), dtype=np.int64)
        for row, n in zip(X, rng.poisson(self.mean_length_, size=n_samples), strict=True):
            row[:] = rng.multinomial(n, probabilities)
        return X
