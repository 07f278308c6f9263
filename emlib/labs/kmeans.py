r"""The checks of lab 2: the k-means update step, Lloyd's loop and k-means++ seeding.

Each check runs the student's function on a :class:`~emlib.labs.checks.Case` and raises an
:class:`AssertionError` that names the case, says what differs and what to look at.

* :func:`check_centre_update` checks an M-step :math:`\mu_k = \frac{1}{N_k}
  \sum_{n: r_{nk} = 1} x_n` that gives every empty cluster a point by the rule of
  scikit-learn and :class:`emlib.KMeans`: with :math:`m` empty clusters, the :math:`m`
  points farthest from the centres they were assigned to each leave their cluster and
  become the only point of one empty cluster. Any pairing of those points with the empty
  clusters passes, and so does any of the points tied at the :math:`m`-th largest
  distance.
* :func:`check_lloyd_matches` compares a whole run of Lloyd's algorithm (final centres,
  labels, number of iterations, inertia after each assignment) with a reference run from
  the same initial centres, such as scikit-learn's ``KMeans(init=centres, n_init=1,
  tol=0)``; :func:`check_lloyd_fixed_point` checks what any correct run ends with: an
  inertia that never increased, and centres and labels that reproduce each other.
* :func:`check_seeding_distribution` compares the centres a k-means++ seeding draws with
  the exact probabilities of :math:`D^2` sampling (:func:`d2_sampling_probabilities`),
  cell by cell with exact binomial tests; :func:`check_seeding_distinct` checks that no
  seeding picks a point twice or a copy of a point already chosen, and
  :func:`check_seeding_repeatable` that it draws from the generator it is given.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Callable

import numpy as np
from scipy.spatial.distance import cdist
from scipy.stats import binom

from emlib.labs.checks import Case, _as_array, _call, _fail, compare_arrays

__all__ = [
    "SEEDING_FALSE_FAILURE",
    "check_centre_update",
    "check_lloyd_fixed_point",
    "check_lloyd_matches",
    "check_seeding_distinct",
    "check_seeding_distribution",
    "check_seeding_repeatable",
    "d2_sampling_probabilities",
]

# The probability that a correct seeding fails check_seeding_distribution, whatever the
# seed: each of the C cells of its tables (the first index, the first two, ...) is tested
# with an exact binomial test at level SEEDING_FALSE_FAILURE / C, and by the union bound
# the C tests together fail a correct seeding with probability at most
# SEEDING_FALSE_FAILURE (Bonferroni).
SEEDING_FALSE_FAILURE = 1e-8


def _rows(array: np.ndarray) -> str:
    """A short vector in full; a long one (an image, say) by its size and first entries."""
    values = np.ravel(array)
    if values.size <= 6:
        return "[" + ", ".join(f"{value:.6g}" for value in values) + "]"
    head = ", ".join(f"{value:.6g}" for value in values[:3])
    return f"a vector of {values.size} numbers, [{head}, ...]"


def _close_rows(a: np.ndarray, b: np.ndarray, rtol: float, atol: float) -> np.ndarray:
    """Which rows of ``b`` equal the vector ``a`` up to :func:`numpy.isclose`."""
    return np.isclose(b, a, rtol=rtol, atol=atol).all(axis=1)


def check_centre_update(update: Callable, case: Case, *, rtol: float = 1e-7,
                        atol: float = 1e-9) -> None:
    r"""Check an M-step of k-means that handles empty clusters by relocation.

    ``case.args`` are ``(X, labels, centres)``: the data, the labels of the assignment
    step and the centres that assignment was made with; ``update`` returns the new
    centres, shape ``(K, D)``. With :math:`N_k` points in cluster :math:`k`, the expected
    centre of a non-empty cluster is the mean

    .. math:: \mu_k = \frac{1}{N_k} \sum_{n:\, l_n = k} x_n ,

    and an empty cluster (:math:`N_k = 0`, whose mean would be :math:`0/0`) receives a
    point: with :math:`m` empty clusters, the :math:`m` points with the largest
    :math:`d_n = \lVert x_n - \mu_{l_n} \rVert^2` (old centres) each leave their cluster,
    whose mean is then taken without them, and become the centre of one empty cluster.
    Any pairing of these points with the empty clusters is accepted, and any choice among
    points tied at the :math:`m`-th largest :math:`d_n`.

    Raises
    ------
    AssertionError
        If a centre is ``nan``, an empty cluster is left in place or given another point,
        a cluster that gave a point away kept it in its mean, or a mean is off.
    ValueError
        If the case is one the rule does not cover: a cluster that gives its only point
        away, which would leave it empty again.
    """
    X, labels, centres = (np.asarray(a) for a in case.args)
    X = X.astype(float)
    centres = centres.astype(float)
    labels = labels.astype(int)
    n_clusters = len(centres)
    got = _as_array(_call(update, case, "student"), case, "your centres")
    if got.shape != centres.shape:
        raise _fail(case, f"your centres have shape {got.shape}, expected {centres.shape} "
                          "(one row per cluster, empty clusters included)")
    counts = np.bincount(labels, minlength=n_clusters)
    for k in np.flatnonzero(~np.isfinite(got).all(axis=1)):
        if counts[k] == 0:
            raise _fail(case, f"centre {k} is {_rows(got[k])}: cluster {k} has no point, "
                              "and the mean of no points is 0/0 = nan; an empty cluster "
                              "must receive the point farthest from its own centre")
        raise _fail(case, f"centre {k} is {_rows(got[k])}, though cluster {k} has "
                          f"{counts[k]} point(s)")
    empty = np.flatnonzero(counts == 0)
    d2 = ((X - centres[labels]) ** 2).sum(axis=1)
    expected = centres.copy()
    keep = np.ones(len(X), dtype=bool)
    if empty.size:
        # Every point at least as far as the m-th farthest may move: ties are all valid.
        threshold = np.sort(d2)[-empty.size]
        free = d2 >= threshold
        order = np.argsort(d2)[::-1][:empty.size]
        if empty.size == 1:
            rule = ("the rule gives an empty cluster the point farthest from the centre "
                    "it was assigned to, among the centres passed in (here point "
                    f"{order[0]}, at squared distance {d2[order[0]]:.6g})")
        else:
            rule = (f"with {empty.size} empty clusters, the rule moves the "
                    f"{empty.size} points farthest from the centres they were assigned "
                    "to, among the centres passed in, one into each empty cluster "
                    f"(here points {', '.join(map(str, order))}, at squared distances "
                    f"{', '.join(f'{d2[i]:.6g}' for i in order)})")
        given = {}
        for k in empty:
            match = np.flatnonzero(_close_rows(got[k], X, rtol, atol) & free)
            if match.size == 0:
                on_point = np.flatnonzero(_close_rows(got[k], X, rtol, atol))
                if np.allclose(got[k], centres[k], rtol=rtol, atol=atol):
                    what = "is still where it was"
                elif on_point.size and int(on_point[0]) in given:
                    i = int(on_point[0])
                    what = f"is point {i}, which you also gave to cluster {given[i]}"
                elif on_point.size:
                    i = int(on_point[0])
                    what = (f"is point {i}, at squared distance {d2[i]:.6g} from the "
                            "centre it was assigned to")
                else:
                    what = f"is {_rows(got[k])}, which is no data point"
                raise _fail(case, f"cluster {k} has no point, and its new centre {what}; "
                                  f"{rule}")
            i = int(match[0])
            given[i] = int(k)
            free[i] = False
            keep[i] = False
            expected[k] = X[i]
        donors = sorted(set(labels[~keep]))
        left = np.bincount(labels[keep], minlength=n_clusters)
        if (left[donors] == 0).any():
            raise ValueError(f"case '{case.name}': a cluster gives away its only point; "
                             "the rule does not say what then, so the check cannot")
    else:
        donors = []
    filled = counts > 0
    sums = np.zeros_like(centres)
    np.add.at(sums, labels[keep], X[keep])
    left = np.bincount(labels[keep], minlength=n_clusters)
    expected[filled] = sums[filled] / left[filled, np.newaxis]
    for k in donors:
        if not np.allclose(got[k], expected[k], rtol=rtol, atol=atol):
            moved = np.flatnonzero(~keep & (labels == k))
            i = int(np.argmax(np.abs(got[k] - expected[k])))
            raise _fail(case, f"centre {k} is off by up to "
                              f"{abs(got[k, i] - expected[k, i]):.6g} (coordinate {i}: "
                              f"you have {got[k, i]:.10g}, expected {expected[k, i]:.10g}); "
                              f"cluster {k} gave point(s) {', '.join(map(str, moved))} to "
                              "an empty cluster, so its mean is taken over the points it "
                              "has left")
    compare_arrays(got, expected, case, rtol=rtol, atol=atol, what="your centres")


def _lloyd_output(out, case: Case, n_samples: int, shape: tuple[int, int]):
    if not isinstance(out, tuple) or len(out) != 3:
        raise _fail(case, "return a tuple (centres, labels, history): the final centres, "
                          "the final labels and the inertia after each assignment step")
    centres = _as_array(out[0], case, "your centres")
    labels = _as_array(out[1], case, "your labels")
    history = _as_array(out[2], case, "your inertia history")
    if centres.shape != shape:
        raise _fail(case, f"your centres have shape {centres.shape}, expected {shape}")
    if labels.shape != (n_samples,):
        raise _fail(case, f"your labels have shape {labels.shape}, expected ({n_samples},)")
    if history.ndim != 1 or history.size == 0:
        raise _fail(case, f"your inertia history has shape {history.shape}: expected one "
                          "number per iteration, the inertia after its assignment step")
    return centres, labels.astype(int), history


def check_lloyd_matches(lloyd: Callable, reference: Callable, case: Case, *,
                        name: str = "the reference", rtol: float = 1e-7,
                        atol: float = 1e-9) -> None:
    r"""Check that a run of Lloyd's algorithm follows a reference run from the same start.

    ``case.args`` are ``(X, centres)``. ``lloyd`` returns ``(centres, labels, history)``,
    the final centres and labels and the inertia :math:`J` after each assignment step (so
    that ``len(history)`` is the number of iterations); ``reference`` returns a dict with
    ``"centres"``, ``"labels"``, ``"n_iter"`` and, optionally, ``"history"``. Checked in
    order: the labels (equal), the centres (to ``rtol``), the number of iterations
    (equal), and the history (to ``rtol``).

    Raises
    ------
    AssertionError
        At the first difference, naming the case and ``name`` (the reference).
    """
    X = np.asarray(case.args[0])
    ref = _call(reference, case, "reference")
    ref_centres = np.asarray(ref["centres"], dtype=float)
    centres, labels, history = _lloyd_output(_call(lloyd, case, "student"), case,
                                             len(X), ref_centres.shape)
    ref_labels = np.asarray(ref["labels"])
    differ = np.flatnonzero(labels != ref_labels)
    if differ.size:
        n = int(differ[0])
        raise _fail(case, f"your final labels differ from {name}'s for {differ.size} of "
                          f"{len(X)} points (first: point {n}, yours {labels[n]}, "
                          f"{name}'s {ref_labels[n]})")
    compare_arrays(centres, ref_centres, case, rtol=rtol, atol=atol,
                   what="your final centres")
    if len(history) != ref["n_iter"]:
        raise _fail(case, f"your loop ran {len(history)} iteration(s), {name}'s "
                          f"{ref['n_iter']}, from the same start and to the same result: "
                          "stop after the first iteration whose assignment equals the one "
                          "before (that iteration counts)")
    if "history" in ref:
        compare_arrays(history, ref["history"], case, rtol=rtol, atol=atol,
                       what="your inertia history")


def check_lloyd_fixed_point(lloyd: Callable, case: Case, *, rtol: float = 1e-7,
                            atol: float = 1e-9) -> None:
    r"""Check that a run of Lloyd's algorithm never raised the inertia and ended at a
    fixed point.

    ``case.args`` are ``(X, centres)`` and ``lloyd`` returns ``(centres, labels,
    history)``. Checked: the history is non-increasing, :math:`J_{t+1} \le J_t (1 +
    10^{-10})` (the slack allows rounding when two iterations share a partition); the
    final labels are the nearest centres of the final centres (SciPy's
    :func:`~scipy.spatial.distance.cdist`, smallest index on a tie); every non-empty
    cluster's centre is the mean of its points; and the last entry of the history is the
    inertia of the final labels and centres.

    Raises
    ------
    AssertionError
        At the first property that fails.
    """
    X, start = (np.asarray(a, dtype=float) for a in case.args)
    centres, labels, history = _lloyd_output(_call(lloyd, case, "student"), case, len(X),
                                             start.shape)
    rises = np.flatnonzero(history[1:] > history[:-1] * (1 + 1e-10))
    if rises.size:
        t = int(rises[0])
        raise _fail(case, f"the inertia rose from {history[t]:.10g} after assignment "
                          f"{t + 1} to {history[t + 1]:.10g} after assignment {t + 2}; "
                          "neither step of Lloyd's algorithm can increase it")
    d2 = cdist(X, centres, "sqeuclidean")
    nearest = d2.argmin(axis=1)
    moved = np.flatnonzero(nearest != labels)
    if moved.size:
        n = int(moved[0])
        raise _fail(case, f"not a fixed point: {moved.size} point(s) are not with their "
                          f"nearest final centre (first: point {n} has label {labels[n]}, "
                          f"but centre {nearest[n]} is nearer); the loop must stop only "
                          "when a new assignment changes no label")
    counts = np.bincount(labels, minlength=len(centres))
    filled = counts > 0
    means = np.zeros_like(centres)
    np.add.at(means, labels, X)
    means[filled] /= counts[filled, np.newaxis]
    compare_arrays(centres[filled], means[filled], case, rtol=rtol, atol=atol,
                   what="your final centres (non-empty clusters, in order)")
    final = d2[np.arange(len(X)), labels].sum()
    compare_arrays(history[-1:], [final], case, rtol=rtol, atol=atol,
                   what="the last entry of your inertia history")


def d2_sampling_probabilities(X, depth: int) -> dict[tuple[int, ...], float]:
    r"""Exact probabilities of the first ``depth`` indices drawn by k-means++ seeding.

    The first index is uniform over the :math:`N` points; given the indices chosen so far,
    the next is :math:`n` with probability

    .. math:: \frac{D(x_n)^2}{\sum_m D(x_m)^2}, \qquad
        D(x_n) = \min_{\text{chosen } j} \lVert x_n - x_j \rVert

    (Arthur and Vassilvitskii, 2007). Only sequences of positive probability are listed.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    depth : int
        How many centres (at least 1) the sequences hold.

    Returns
    -------
    dict
        ``{(i_1, ..., i_depth): probability}``; the probabilities sum to one.

    Raises
    ------
    ValueError
        If at some step every remaining point is at distance 0 from a chosen one.
    """
    X = np.asarray(X, dtype=float)
    d2 = cdist(X, X, "sqeuclidean")
    table = {(i,): 1.0 / len(X) for i in range(len(X))}
    for _ in range(depth - 1):
        grown = {}
        for chosen, p in table.items():
            nearest = d2[list(chosen)].min(axis=0)
            total = nearest.sum()
            if total == 0:
                raise ValueError("every point is at distance 0 from a chosen centre")
            for j in np.flatnonzero(nearest > 0):
                grown[(*chosen, int(j))] = p * nearest[j] / total
        table = grown
    return table


def _seeding_indices(out, case: Case, n_samples: int, n_clusters: int) -> np.ndarray:
    idx = _as_array(out, case, "your result")
    if idx.shape != (n_clusters,):
        extra = (" (return the indices of the chosen points, not the points)"
                 if idx.ndim == 2 else "")
        raise _fail(case, f"your result has shape {idx.shape}, expected ({n_clusters},): "
                          f"one index per centre{extra}")
    if not (np.all(idx == np.round(idx)) and idx.min() >= 0 and idx.max() < n_samples):
        raise _fail(case, f"your result {_rows(idx)} must hold row indices of X, integers "
                          f"from 0 to {n_samples - 1}")
    return idx.astype(int)


def _draw(seeding: Callable, args: tuple, kwargs: dict, case: Case, n_samples: int,
          n_clusters: int) -> np.ndarray:
    # The same arguments at every call, unlike _call's fresh copies: the generator in them
    # must advance from one draw to the next.
    try:
        out = seeding(*args, **kwargs)
    except Exception as error:
        raise _fail(case, f"your function raised {type(error).__name__}: {error}") from None
    return _seeding_indices(out, case, n_samples, n_clusters)


def _prefix_table(table: dict, length: int) -> dict:
    """Sum a table of sequences over everything after their first ``length`` indices."""
    out: dict = {}
    for seq, value in table.items():
        out[seq[:length]] = out.get(seq[:length], 0) + value
    return out


def _p_text(pvalue: float) -> str:
    # binom's tails underflow to 0 far out; "0.0e+00" would read as "impossible".
    return f"{pvalue:.1e}" if pvalue > 0 else "below 1e-300"


def check_seeding_distribution(seeding: Callable, case: Case, *, depth: int,
                               n_draws: int) -> None:
    r"""Compare the first ``depth`` centres of many seedings with :math:`D^2` sampling.

    ``case.args`` are ``(X, n_clusters, rng)``; ``seeding`` is called ``n_draws`` times
    with the same generator (so every call draws new numbers) and returns the indices of
    the chosen points. A sequence of probability 0 (a point chosen twice, or a copy of a
    chosen point) fails at once. Then the draws are tested level by level: the first
    index (uniform over the :math:`N` points), then the first two indices, and so on up
    to the first ``depth``. At every level, the count of each sequence is compared with
    its exact probability (:func:`d2_sampling_probabilities`) by an exact two-sided
    binomial test (twice the smaller tail), at level ``SEEDING_FALSE_FAILURE / C``, where
    :math:`C` is the number of sequences of positive probability at all levels together.
    By the union bound, a correct seeding fails with probability below
    ``SEEDING_FALSE_FAILURE`` (1e-8), whatever the seed. The first level that fails is
    reported, so that a seeding whose first centre is not uniform is told so, and not
    through the conditional frequencies of the next centre, which may look right.

    Raises
    ------
    AssertionError
        Naming, at the first level that fails, the sequence whose frequency is furthest
        from its probability, with the conditional frequency of its last index and the
        probability it should have.
    """
    X, n_clusters, _ = case.args
    X = np.asarray(X, dtype=float)
    exact = d2_sampling_probabilities(X, depth)
    args, kwargs = case.fresh()
    counts = Counter()
    for _ in range(n_draws):
        idx = _draw(seeding, args, kwargs, case, len(X), n_clusters)
        counts[tuple(int(i) for i in idx[:depth])] += 1
    for seq, count in counts.items():
        if seq not in exact:
            raise _fail(case, f"your seeding drew the points {seq} as its first centres "
                              f"({count} of {n_draws} draws), which has probability 0: "
                              "a point chosen already, or a copy of one, is at distance 0 "
                              "from the chosen centres")
    levels = [(_prefix_table(exact, d), _prefix_table(counts, d))
              for d in range(1, depth + 1)]
    level = SEEDING_FALSE_FAILURE / sum(len(table) for table, _ in levels)
    for exact_d, counts_d in levels:
        cells = list(exact_d)
        observed = np.array([counts_d.get(seq, 0) for seq in cells])
        p_cells = np.array([exact_d[seq] for seq in cells])
        # Two-sided p-value: twice the smaller tail, a valid (conservative) exact test.
        pvalues = np.minimum(1.0, 2.0 * np.minimum(
            binom.cdf(observed, n_draws, p_cells), binom.sf(observed - 1, n_draws, p_cells)))
        if pvalues.min() < level:
            break
    else:
        return
    worst = cells[int(np.argmin(pvalues))]
    worst_p = float(pvalues.min())
    prefix, last = worst[:-1], worst[-1]
    p_seq = exact_d[worst]
    count = counts_d.get(worst, 0)
    if prefix:
        n_prefix = sum(c for s, c in counts_d.items() if s[:-1] == prefix)
        p_prefix = sum(p for s, p in exact_d.items() if s[:-1] == prefix)
        given = f"after the centres {prefix}, " if len(prefix) > 1 else (
            f"after the first centre {prefix[0]}, ")
        detail = (f"{given}your seeding chose point {last} in {count} of "
                  f"{n_prefix} draws ({count / max(n_prefix, 1):.4f}); D^2 "
                  f"sampling chooses it with probability {p_seq / p_prefix:.4f}")
    else:
        detail = (f"your seeding chose point {last} as the first centre in "
                  f"{count} of {n_draws} draws; the first centre is uniform over the "
                  f"{len(X)} points, probability {p_seq:.4f} each")
    raise _fail(case, f"{detail} (over {n_draws} draws, a gap this large has probability "
                      f"{_p_text(worst_p)} for a correct seeding)")


def check_seeding_repeatable(seeding: Callable, case: Case) -> None:
    r"""Check that a seeding draws its random numbers from the generator it is given.

    ``case.args`` are ``(X, n_clusters, rng)``. ``seeding`` is called twice, each time
    with its own copy of the generator in the same state: the two results must be equal.
    A seeding that draws from NumPy's global generator (``np.random.choice``), from the
    module ``random`` or from a generator it makes itself (``np.random.default_rng()``)
    gives different results, and no seed can then make a run repeatable; its draws may
    still have the right distribution, which :func:`check_seeding_distribution` cannot
    tell apart.

    Raises
    ------
    AssertionError
        If the two results differ, with both.
    """
    X, n_clusters, _ = case.args
    # _call hands each call deep copies of the arguments: two generators in one state.
    first, second = (_seeding_indices(_call(seeding, case, "student"), case, len(X),
                                      n_clusters) for _ in range(2))
    if not np.array_equal(first, second):
        raise _fail(case, f"two calls with generators in the same state chose "
                          f"{_rows(first)} and {_rows(second)}: your seeding draws "
                          "random numbers from somewhere other than the generator rng "
                          "it receives (np.random.*, the module random, or a new "
                          "np.random.default_rng()), so no seed makes it repeatable")


def check_seeding_distinct(seeding: Callable, case: Case, *, n_draws: int) -> None:
    r"""Check that a seeding never picks a point twice, nor a copy of a chosen point.

    ``case.args`` are ``(X, n_clusters, rng)``; ``seeding`` is called ``n_draws`` times
    with the same generator. Under :math:`D^2` sampling a point at distance 0 from a
    chosen centre has probability 0, so the chosen points must all differ as points (and
    not only as indices) whenever X has at least ``n_clusters`` distinct points.

    Raises
    ------
    AssertionError
        At the first draw that holds a repeated point, naming the two centres.
    """
    X, n_clusters, _ = case.args
    X = np.asarray(X, dtype=float)
    args, kwargs = case.fresh()
    for draw in range(n_draws):
        idx = _draw(seeding, args, kwargs, case, len(X), n_clusters)
        for s, t in itertools.combinations(range(n_clusters), 2):
            if np.array_equal(X[idx[s]], X[idx[t]]):
                same = ("the same point" if idx[s] == idx[t]
                        else f"points {idx[s]} and {idx[t]}, copies of one point")
                raise _fail(case, f"in draw {draw + 1}, centres {s} and {t} are {same}: "
                                  "a point at distance 0 from a chosen centre has D = 0, "
                                  "so D^2 sampling never picks it")
