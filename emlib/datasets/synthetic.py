"""Synthetic data sets drawn from mixture models whose parameters are known.

Every generator takes ``random_state`` (``None``, an ``int`` seed or a
:class:`numpy.random.Generator`) and returns plain NumPy arrays, so that a
chapter can compare what EM estimates with the parameters that produced the
data.
"""

import numbers

import numpy as np
from sklearn.utils.validation import check_array, check_scalar

__all__ = [
    "BINARY_PATTERN_NAMES",
    "make_binary_patterns",
    "make_gaussian_mixture",
    "three_blobs_2d",
    "three_blobs_2d_params",
    "three_clusters_1d",
    "three_clusters_1d_params",
]

BINARY_PATTERN_NAMES = ("vertical bars", "horizontal bars", "checkerboard")


def _as_generator(random_state):
    """Turn ``None``, an integer seed or a Generator into a Generator."""
    if random_state is None or isinstance(random_state, (numbers.Integral, np.random.Generator)):
        return np.random.default_rng(random_state)
    raise TypeError(
        "random_state must be None, an int seed or a numpy.random.Generator; "
        f"got an object of type {type(random_state).__name__}."
    )


def _check_mixture_parameters(weights, means, covariances):
    """Validate Gaussian-mixture parameters and return them as float arrays."""
    weights = check_array(weights, ensure_2d=False, input_name="weights")
    if weights.ndim != 1:
        raise ValueError(
            f"weights must be a 1-D array of K mixing proportions; got shape {weights.shape}."
        )
    if np.any(weights < 0) or not np.isclose(weights.sum(), 1.0, rtol=0.0, atol=1e-8):
        raise ValueError(
            "weights must be a probability vector (non-negative entries summing to 1); "
            f"got {weights.tolist()} with sum {weights.sum():.6g}."
        )
    n_components = weights.shape[0]

    means = check_array(means, ensure_2d=False, input_name="means")
    if means.ndim != 2 or means.shape[0] != n_components:
        raise ValueError(
            f"means must have shape (K, D) = ({n_components}, D) to match the {n_components} "
            f"weights; got shape {means.shape}."
        )
    n_features = means.shape[1]

    covariances = check_array(
        covariances, ensure_2d=False, allow_nd=True, input_name="covariances"
    )
    expected = (n_components, n_features, n_features)
    if covariances.shape != expected:
        raise ValueError(
            f"covariances must have shape (K, D, D) = {expected}; got shape {covariances.shape}."
        )
    for k, cov in enumerate(covariances):
        if not np.allclose(cov, cov.T):
            raise ValueError(
                f"covariances[{k}] is not symmetric; a covariance matrix must equal its transpose."
            )
        smallest = np.linalg.eigvalsh(cov)[0]
        if smallest <= 0:
            raise ValueError(
                f"covariances[{k}] is not positive definite (smallest eigenvalue "
                f"{smallest:.3g}); every covariance matrix needs strictly positive eigenvalues."
            )
    return weights, means, covariances


def make_gaussian_mixture(n_samples, weights, means, covariances, random_state=None):
    r"""Draw points from a Gaussian mixture by ancestral sampling.

    The density sampled is the mixture
    :math:`p(x) = \sum_k \pi_k \, \mathcal{N}(x \mid \mu_k, \Sigma_k)`. Ancestral
    sampling follows its generative story: first a component label
    :math:`z_n \sim \mathrm{Categorical}(\pi)`, then
    :math:`x_n \mid z_n = k \sim \mathcal{N}(\mu_k, \Sigma_k)`.

    Parameters
    ----------
    n_samples : int
        Number of points, at least 1.
    weights : array-like of shape (K,)
        Mixing proportions :math:`\pi_k`; non-negative and summing to one.
    means : array-like of shape (K, D)
        Component means :math:`\mu_k`.
    covariances : array-like of shape (K, D, D)
        Component covariance matrices :math:`\Sigma_k`; symmetric positive definite.
    random_state : None, int or numpy.random.Generator, default=None
        Source of randomness; an int gives reproducible draws.

    Returns
    -------
    X : ndarray of shape (n_samples, D), float64
        The sampled points.
    y : ndarray of shape (n_samples,), int64
        The component label :math:`z_n` of each point.

    Raises
    ------
    ValueError
        If the parameter shapes disagree, the weights are not a probability
        vector or a covariance matrix is not symmetric positive definite.
    """
    n_samples = check_scalar(n_samples, "n_samples", numbers.Integral, min_val=1)
    weights, means, covariances = _check_mixture_parameters(weights, means, covariances)
    rng = _as_generator(random_state)

    y = rng.choice(weights.shape[0], size=n_samples, p=weights).astype(np.int64)
    X = np.empty((n_samples, means.shape[1]))
    for k, (mean, cov) in enumerate(zip(means, covariances, strict=True)):
        members = y == k
        X[members] = rng.multivariate_normal(mean, cov, size=members.sum(), method="cholesky")
    return X, y


def three_blobs_2d_params():
    """Return the true parameters of the course's standard 2-D example.

    Three components of unequal weight: a wide axis-aligned ellipse, a
    strongly tilted ellipse (correlation about 0.73) and a smaller ellipse
    tilted the other way. Their overlap is modest: the Bayes classifier built
    from these parameters mislabels roughly 3% of the points.

    Returns
    -------
    dict
        ``weights`` of shape (3,), ``means`` of shape (3, 2) and
        ``covariances`` of shape (3, 2, 2); fresh arrays on every call.
    """
    return {
        "weights": np.array([0.5, 0.3, 0.2]),
        "means": np.array([[0.0, 0.0], [3.5, 2.0], [0.5, 4.0]]),
        "covariances": np.array(
            [
                [[1.0, 0.0], [0.0, 0.6]],
                [[1.2, 0.8], [0.8, 1.0]],
                [[0.5, -0.15], [-0.15, 0.8]],
            ]
        ),
    }


def three_blobs_2d(n_samples=500, random_state=0):
    """Sample the course's standard 2-D three-component Gaussian mixture.

    Ancestral sampling (see :func:`make_gaussian_mixture`) from the
    parameters returned by :func:`three_blobs_2d_params`.

    Parameters
    ----------
    n_samples : int, default=500
        Number of points.
    random_state : None, int or numpy.random.Generator, default=0
        Source of randomness.

    Returns
    -------
    X : ndarray of shape (n_samples, 2), float64
        The points.
    y : ndarray of shape (n_samples,), int64
        The component that generated each point.
    """
    return make_gaussian_mixture(n_samples, **three_blobs_2d_params(), random_state=random_state)


def _check_sizes(sizes):
    """Validate three cluster sizes and return them as an int64 array."""
    sizes = np.asarray(sizes)
    if sizes.shape != (3,) or not np.issubdtype(sizes.dtype, np.integer) or np.any(sizes < 1):
        raise ValueError(
            "sizes must be three positive integers, one per cluster, e.g. (30, 40, 20); "
            f"got {sizes.tolist()}."
        )
    return sizes.astype(np.int64)


def three_clusters_1d_params(sizes=(30, 40, 20)):
    """Return the true parameters of the 1-D three-cluster example.

    Parameters
    ----------
    sizes : sequence of three int, default=(30, 40, 20)
        Cluster sizes; the weights are their proportions.

    Returns
    -------
    dict
        ``weights`` of shape (3,) equal to ``sizes / sum(sizes)``, ``means``
        of shape (3, 1) and ``covariances`` (variances) of shape (3, 1, 1),
        laid out as for a D = 1 Gaussian mixture.
    """
    sizes = _check_sizes(sizes)
    return {
        "weights": sizes / sizes.sum(),
        "means": np.array([[-2.0], [1.0], [3.5]]),
        "covariances": np.array([0.8, 1.2, 0.5]).reshape(3, 1, 1) ** 2,
    }


def three_clusters_1d(sizes=(30, 40, 20), random_state=0):
    r"""Sample three overlapping 1-D Gaussian clusters of fixed sizes.

    Cluster :math:`k` contributes exactly ``sizes[k]`` points
    :math:`x \sim \mathcal{N}(\mu_k, \sigma_k^2)` with the parameters of
    :func:`three_clusters_1d_params`; the points are returned in random order.

    Parameters
    ----------
    sizes : sequence of three int, default=(30, 40, 20)
        Number of points in each cluster.
    random_state : None, int or numpy.random.Generator, default=0
        Source of randomness.

    Returns
    -------
    X : ndarray of shape (sum(sizes), 1), float64
        The points, as a one-feature design matrix.
    y : ndarray of shape (sum(sizes),), int64
        The cluster of each point.
    """
    params = three_clusters_1d_params(sizes)
    rng = _as_generator(random_state)
    y = np.repeat(np.arange(3, dtype=np.int64), _check_sizes(sizes))
    # Shuffled so that nothing downstream can exploit the label order.
    rng.shuffle(y)
    sd = np.sqrt(params["covariances"][y, 0, 0])
    X = params["means"][y, 0] + sd * rng.standard_normal(y.shape[0])
    return X[:, np.newaxis], y


def make_binary_patterns(n_samples=600, flip_prob=0.05, random_state=0):
    r"""Sample noisy 8x8 binary images from three prototype patterns.

    The prototypes are vertical bars (even columns on), horizontal bars (even
    rows on) and a checkerboard (pixels with even row + column on); any two
    differ in exactly 32 of the 64 pixels. Each image picks a class uniformly
    at random and flips every pixel of its prototype independently with
    probability ``flip_prob``. This is a Bernoulli mixture with weights 1/3
    and pixel means :math:`\mu_{kd} = (1 - f)\,t_{kd} + f\,(1 - t_{kd})` for
    prototype pixels :math:`t_{kd}` and flip probability :math:`f`.

    Parameters
    ----------
    n_samples : int, default=600
        Number of images.
    flip_prob : float, default=0.05
        Probability that a pixel is flipped, in [0, 0.5].
    random_state : None, int or numpy.random.Generator, default=0
        Source of randomness.

    Returns
    -------
    X : ndarray of shape (n_samples, 64), uint8
        Flattened images (row-major), entries 0 or 1.
    y : ndarray of shape (n_samples,), int64
        Class of each image, indexing :data:`BINARY_PATTERN_NAMES`.
    prototypes : ndarray of shape (3, 64), uint8
        The noise-free pattern of each class.
    """
    n_samples = check_scalar(n_samples, "n_samples", numbers.Integral, min_val=1)
    flip_prob = check_scalar(flip_prob, "flip_prob", numbers.Real, min_val=0.0, max_val=0.5)
    rng = _as_generator(random_state)

    rows, cols = np.indices((8, 8))
    prototypes = np.stack([cols % 2 == 0, rows % 2 == 0, (rows + cols) % 2 == 0])
    prototypes = prototypes.reshape(3, 64).astype(np.uint8)

    y = rng.integers(3, size=n_samples, dtype=np.int64)
    flips = (rng.random((n_samples, 64)) < flip_prob).astype(np.uint8)
    return prototypes[y] ^ flips, y, prototypes
