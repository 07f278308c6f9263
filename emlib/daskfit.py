r"""EM on Dask arrays: data larger than memory, chunk by chunk, on one machine or a cluster.

The M-step of a Gaussian or Bernoulli mixture needs the data only through sums over the
samples: for every component the soft count, the mean and (Gaussian) the scatter about it,

.. math::

    N_k = \sum_n r_{nk}, \qquad m_k = \frac{1}{N_k} \sum_n r_{nk}\, x_n, \qquad
    W_k = \sum_n r_{nk} (x_n - m_k)(x_n - m_k)^\top .

Each chunk of rows gives its own counts, means and scatters (taken about its own means, by
the accurate formulas of :mod:`emlib.moments`), and :func:`emlib.moments.pool_moments`
merges two such summaries exactly, with no cancellation. One iteration of EM on a Dask
array is therefore one pass: every chunk's E-step and moments are computed where the chunk
lives, from the current parameters (sent once per iteration, as one small object), the
summaries are merged pairwise up a tree, and only the merged summary, a few kilobytes,
comes back for the M-step. The data are never collected: they can be generated or read
chunk by chunk, as large as the disk or the cluster allows. The same code runs on Dask's
local threads or on a :class:`dask.distributed.Client`, whichever is active.

The start needs responsibilities, which a Dask array cannot give without a pass per
k-means iteration. The fit therefore draws :data:`INIT_SAMPLE_SIZE` distinct rows uniformly
at random (all of them for smaller data, which makes the start, and so the whole fit, the
same as the fit of the array in memory) and starts from them by ``init_params``, as the
in-memory fit does from all rows; ``means_init``, ``weights_init``, ``precisions_init``
and ``warm_start`` work as usual. Drawing the sample costs a pass over the data, which a
start fixed by ``warm_start`` or by every ``*_init`` array does without.

On a ``dask.distributed`` cluster, start the workers without the
``MALLOC_TRIM_THRESHOLD_=65536`` that Dask's nanny gives them by default:
``dask.config.set({"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None})``
before the first cluster of the process starts (the nanny also sets the variable in the
process that starts it). With the variable, the C allocator returns every chunk's
temporaries to the system and each chunk faults them in again: a worker's E-step and
moments of a chunk took 2.5 times the CPU time (``benchmarks/README.md``).

Dask is an optional dependency: ``pip install "emlib-course[dask]"``. The rest of emlib
works without it.
"""

import copy
from numbers import Integral

import numpy as np
from sklearn.utils import check_random_state, check_scalar
from threadpoolctl import threadpool_limits

from .moments import pool_moments

__all__ = [
    "INIT_SAMPLE_SIZE",
    "compute",
    "em_pass",
    "fit",
    "is_dask_array",
    "lazy_sample",
    "map_rows",
]

#: Rows drawn for the start of a fit on a Dask array (k-means runs on them, in memory).
INIT_SAMPLE_SIZE = 20_000

_INSTALL_HINT = (
    'This needs Dask, an optional dependency of emlib: pip install "emlib-course[dask]" '
    '(or pip install "dask[array,distributed]").'
)


def is_dask_array(X):
    """Whether ``X`` is a Dask array (tested without importing Dask)."""
    return type(X).__module__.split(".")[0] == "dask" and hasattr(X, "chunks")


def require_dask():
    """Import and return :mod:`dask`, or raise an ImportError that says what to install."""
    try:
        import dask
        import dask.array  # noqa: F401  (the submodule must be importable too)
    except ImportError as error:
        raise ImportError(_INSTALL_HINT) from error
    return dask


def compute(*collections):
    """:func:`dask.compute` with BLAS on one thread in this process.

    Dask's local scheduler runs a thread per core, and BLAS threads inside each of them
    oversubscribe the cores: passes measured 3 to 12 times slower (benchmarks/README.md).
    Workers of a distributed cluster already run BLAS on one thread.
    """
    dask = require_dask()
    with threadpool_limits(limits=1, user_api="blas"):
        return dask.compute(*collections)


def _checked(X):
    """X as a 2-D Dask array chunked along rows only, with known chunk sizes."""
    if X.ndim != 2:
        raise ValueError(f"Expected a 2-D Dask array (n_samples, n_features); got {X.ndim}-D.")
    if any(np.isnan(size) for size in X.chunks[0]):
        raise ValueError(
            "The Dask array's chunk sizes are unknown (it was filtered or read without "
            "them); call X.compute_chunk_sizes() first."
        )
    if X.numblocks[1] != 1:
        X = X.rechunk({1: -1})
    return X


def _snapshot(model):
    """A shallow copy of the model with its parameters and without per-fit state: what
    every chunk needs, small enough to send to every worker once per iteration."""
    frozen = copy.copy(model)
    for name in ("_fit_scratch", "_running_moments"):
        vars(frozen).pop(name, None)
    return frozen


def _chunk_statistics(model, block):
    """E-step of one chunk: its log-likelihood and the moments of its responsibilities."""
    block = model._validate_input(block, reset=False)
    log_norm, resp = model._responsibilities(block)
    statistics = model._moments(block, resp)
    statistics["log_likelihood"] = float(log_norm.sum(dtype=np.float64))
    return statistics


def em_pass(model, X):
    r"""One pass over a Dask array: the total log-likelihood under the model's current
    parameters and the pooled moments of the responsibilities (the E-step of every chunk).

    Parameters
    ----------
    model : MixtureEM
        A family with the ``_moments`` hook, holding parameters.
    X : dask.array.Array of shape (n_samples, n_features)

    Returns
    -------
    log_likelihood : float
        :math:`\sum_n \log p(x_n \mid \theta)`.
    moments : dict
        What the family's ``_m_step_from_moments`` takes.
    """
    dask = require_dask()
    X = _checked(X)
    frozen = dask.delayed(_snapshot(model), traverse=False)
    blocks = X.to_delayed()[:, 0]
    parts = [
        dask.delayed(_chunk_statistics)(frozen, block)
        for block, size in zip(blocks, X.chunks[0], strict=True)
        if size > 0
    ]
    # A binary tree, so that no worker merges more than two summaries at a time.
    while len(parts) > 1:
        pairs = [parts[i : i + 2] for i in range(0, len(parts), 2)]
        parts = [dask.delayed(pool_moments)(*pair) if len(pair) == 2 else pair[0]
                 for pair in pairs]
    (total,) = compute(parts[0])
    return total.pop("log_likelihood"), total


def _sample_rows(X, rng, *, first=False):
    """INIT_SAMPLE_SIZE distinct rows of X drawn uniformly (all rows of a smaller X), in
    memory; with ``first``, the first INIT_SAMPLE_SIZE rows, which costs no pass over the data.
    """
    n_samples, size = X.shape[0], INIT_SAMPLE_SIZE
    if n_samples <= size:
        return compute(X)[0]
    if first:
        return compute(X[:size])[0]
    if n_samples <= 2 * size:
        rows = rng.permutation(n_samples)[:size]
    else:
        # A permutation of all N indices would need memory in proportion to N. Drawing with
        # replacement until `size` distinct indices are found gives a uniform subset too
        # (every index is alike), and each round finds at least half of those it draws.
        rows = np.empty(0, dtype=np.intp)
        while len(rows) < size:
            rows = np.unique(np.r_[rows, rng.randint(0, n_samples, size=size - len(rows))])
    return compute(X[np.sort(rows)])[0]


def _dask_step(model, X, n_samples):
    log_likelihood, moments = em_pass(model, X)
    objective = (log_likelihood + model._log_prior()) / n_samples
    model._m_step_from_moments(moments)
    return objective


def fit(model, X):
    """Fit ``model`` to the Dask array ``X`` by EM, one pass over the chunks per iteration.

    Called by ``model.fit(X)``; see the module's description. The parameters and fitted
    attributes are those of an in-memory fit.

    Returns
    -------
    dask.array.Array of shape (n_samples,)
        The labels, lazily: ``model.predict`` on every chunk.
    """
    if not hasattr(model, "_moments"):
        raise TypeError(
            f"{type(model).__name__} cannot fit a Dask array: fitting chunk by chunk is "
            "available for GaussianMixture and BernoulliMixture. If the data fit in memory, "
            "pass X.compute()."
        )
    require_dask()
    X = _checked(X)
    n_samples, n_features = X.shape
    if n_samples < 2:
        raise ValueError(
            f"The Dask array has {n_samples} row(s); a fit needs at least 2. Pass more data."
        )
    model.n_features_in_ = n_features
    # A Dask array has no column names: those of an earlier fit to a DataFrame must go, or
    # every chunk would be checked against them.
    vars(model).pop("feature_names_in_", None)
    rng = check_random_state(model.random_state)
    model._check_parameters(X)
    if model.warm_start and hasattr(model, "weights_"):
        # No start is computed, so no sample is drawn (drawing one costs a pass).
        start = None
    else:
        # When the *_init arrays fix every parameter of the start, the rows only have to be
        # valid data: a random sample would cost a whole pass (26% of a two-pass fit of
        # 64 GB, benchmarks/README.md).
        rows = _sample_rows(X, rng, first=model._start_is_given())
        start = model._validate_input(rows, reset=False)
    model._fit_runs(start, rng, lambda: _dask_step(model, X, n_samples))
    return map_rows(model, "predict", X)


def map_rows(model, method, X):
    """``getattr(model, method)`` applied to every chunk of rows of X, lazily.

    Parameters
    ----------
    model : fitted MixtureEM
    method : {"predict", "predict_proba", "score_samples"}
    X : dask.array.Array of shape (n_samples, n_features)

    Returns
    -------
    dask.array.Array
        Shape (n_samples,) or (n_samples, n_components) for ``predict_proba``.
    """
    X = _checked(X)
    frozen = _snapshot(model)
    function = getattr(frozen, method)
    # One row of zeros of X's dtype, now: an unfitted model or a wrong number of columns
    # fails here rather than when the result is computed; and the dtype of the result
    # (a model fitted in float32 gives float64 results for float64 data, a Bernoulli
    # mixture its own dtype whatever the data's) is the one the chunks will give.
    dtype = function(np.zeros((1, X.shape[1]), dtype=X.dtype)).dtype
    if method == "predict":
        return X.map_blocks(function, drop_axis=1, dtype=dtype)
    if method == "predict_proba":
        return X.map_blocks(function, chunks=(X.chunks[0], (frozen.n_components,)), dtype=dtype)
    return X.map_blocks(function, drop_axis=1, dtype=dtype)


def _sample_chunk(model, size, seed):
    rng = np.random.RandomState(seed)  # what the families' _sample_component expect
    counts = rng.multinomial(size, model.weights_)
    points = np.vstack([model._sample_component(k, c, rng) for k, c in enumerate(counts)])
    labels = np.repeat(np.arange(model.n_components), counts)
    # Shuffled, so that any run of rows is a fair sample of the mixture (for online EM).
    order = rng.permutation(size)
    return points[order], labels[order]


def lazy_sample(model, n_samples, *, chunk_size=1_000_000, random_state=None):
    """Draw a sample from a mixture as a Dask array, each chunk generated only when needed.

    Nothing is drawn until a chunk is computed, so the sample can be far larger than
    memory. Chunk ``i`` is drawn from its own generator, seeded by ``random_state`` and
    ``i`` through :class:`numpy.random.SeedSequence`: every chunk is the same whenever and
    wherever it is computed, and chunks are independent. Within a chunk the rows are in
    random order.

    Parameters
    ----------
    model : fitted MixtureEM
        The mixture to draw from (for example from ``from_parameters``).
    n_samples : int
    chunk_size : int, default=1_000_000
        Rows per chunk (the last chunk may be shorter).
    random_state : int or None
        Seed of the whole sample.

    Returns
    -------
    X : dask.array.Array of shape (n_samples, n_features)
    labels : dask.array.Array of shape (n_samples,)
        The component each row was drawn from.
    """
    dask = require_dask()
    import dask.array as da

    check_scalar(n_samples, "n_samples", Integral, min_val=1)
    check_scalar(chunk_size, "chunk_size", Integral, min_val=1)
    entropy = np.random.SeedSequence(random_state).entropy
    frozen = _snapshot(model)
    n_features = frozen.n_features_in_
    dtype = frozen._sample_component(0, 1, np.random.RandomState(0)).dtype
    columns, labels = [], []
    for i, start in enumerate(range(0, n_samples, chunk_size)):
        size = min(chunk_size, n_samples - start)
        seed = np.random.SeedSequence(entropy, spawn_key=(i,)).generate_state(4)
        chunk = dask.delayed(_sample_chunk, nout=2)(frozen, size, seed)
        columns.append(da.from_delayed(chunk[0], (size, n_features), dtype=dtype))
        labels.append(da.from_delayed(chunk[1], (size,), dtype=np.intp))
    return da.concatenate(columns), da.concatenate(labels)
