r"""Checks for the labs: run a student's function on named cases and explain any failure.

A lab asks the student to write the core of an algorithm in plain NumPy; its tests call
the functions below, which compare the student's result with a reference (emlib, SciPy or
scikit-learn) case by case. A failure is an :class:`AssertionError` whose message names
the case, says what was wrong (an exception, a wrong shape, a ``nan``, the largest
difference and where it is) and what to look at, so that a student learns from it what
to fix. The labs' autograder (otter-grader) shows that message under the failed check.

Every case is a :class:`Case`: a name a student can recognise ("points far from every
mean, 784 dimensions"), the arguments, and a hint. The arrays of a case are copied
before every call, so a student's function that modifies its input cannot change what
the reference sees.

Three checks are provided:

* :func:`check_matches` compares the student's output with a reference function's,
  entry by entry, with a relative and an absolute tolerance
  (:math:`|a - b| \le \mathrm{atol} + \mathrm{rtol}\,|b|`, as :func:`numpy.isclose`);
* :func:`check_probability_rows` checks that every row of a matrix is a probability
  vector, :math:`r_{nk} \ge 0` and :math:`\sum_k r_{nk} = 1`, the defining property of
  responsibilities;
* :func:`check_gaussian_sample` checks a sample drawn by the student against the mixture
  it should follow, with tolerances of a few standard errors, so that a correct sampler
  passes whatever random numbers it draws and a sampler that ignores the weights or the
  covariances does not.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

__all__ = [
    "Case",
    "check_gaussian_sample",
    "check_matches",
    "check_probability_rows",
    "compare_arrays",
]

# How many standard errors a sample statistic may stray before a check fails. A label
# frequency (binomial, expected count 1,000 or more) or a component's mean (exactly
# normal) of a correct sampler strays beyond 6 with probability about 2e-9; a wrong
# sampler strays by tens or hundreds.
SAMPLE_Z_LIMIT = 6.0
# A sample covariance is skewed (a variance is a scaled chi-square), so its tail at 6
# standard errors is heavier than the normal's: probability 1.5e-8 with 1,000 points,
# but 6e-7 with 100 and 5e-4 with 6. Components with fewer points are not checked.
COVARIANCE_MIN_POINTS = 1000


@dataclass(frozen=True)
class Case:
    """One named input of a check.

    Parameters
    ----------
    name : str
        What the case is, in the student's words ("two components in 2-D").
    args : tuple
        Positional arguments passed to the student's function and to the reference.
    hint : str
        What to look at when this case fails.
    kwargs : dict
        Keyword arguments, passed to both.
    """

    name: str
    args: tuple
    hint: str = ""
    kwargs: dict = field(default_factory=dict)

    def fresh(self) -> tuple[tuple, dict]:
        """Deep copies of the arguments, so that no call sees another's changes."""
        return copy.deepcopy(self.args), copy.deepcopy(self.kwargs)


def _fail(case: Case, what: str) -> AssertionError:
    hint = f"\n  Look at: {case.hint}" if case.hint else ""
    return AssertionError(f"case '{case.name}': {what}{hint}")


def _call(function: Callable, case: Case, role: str):
    args, kwargs = case.fresh()
    try:
        return function(*args, **kwargs)
    except Exception as error:
        if role == "reference":
            raise
        raise _fail(case, f"your function raised {type(error).__name__}: {error}") from None


def _as_array(value, case: Case, what: str) -> np.ndarray:
    if value is None:
        raise _fail(case, f"{what} is None: the function returns nothing; replace its "
                          "... with your code and return the result")
    if value is Ellipsis:
        raise _fail(case, f"{what} is '...': replace the ... with your code")
    try:
        return np.asarray(value, dtype=float)
    except (TypeError, ValueError) as error:
        raise _fail(case, f"{what} is not an array of numbers ({error})") from None


def _where(index: tuple) -> str:
    return "[" + ", ".join(str(int(i)) for i in index) + "]" if index else "the value"


def compare_arrays(got, expected, case: Case, *, rtol: float = 1e-7, atol: float = 1e-9,
                   what: str = "your result") -> None:
    """Raise an AssertionError that explains how ``got`` differs from ``expected``.

    Checked in order: the shape; a ``nan`` where the reference is a number (usually
    ``0 / 0`` after an ``exp`` underflowed, or ``inf - inf``); an infinity where the
    reference is finite; then the entries, with :func:`numpy.isclose`'s rule
    :math:`|a - b| \\le \\mathrm{atol} + \\mathrm{rtol}\\,|b|`. Infinities of the same
    sign in both arrays count as equal.

    Parameters
    ----------
    got : array-like
        What the student's function returned.
    expected : array-like
        The reference result.
    case : Case
        The case both were computed on, named in the message.
    rtol, atol : float
        Relative and absolute tolerances.
    what : str
        How to call ``got`` in the message.

    Raises
    ------
    AssertionError
        At the first of the problems above, naming the case.
    """
    got = _as_array(got, case, what)
    expected = np.asarray(expected, dtype=float)
    if got.shape != expected.shape:
        raise _fail(case, f"{what} has shape {got.shape}, expected {expected.shape}")
    bad_nan = np.isnan(got) & ~np.isnan(expected)
    if bad_nan.any():
        first = tuple(np.argwhere(bad_nan)[0])
        raise _fail(case, f"{what} holds {int(bad_nan.sum())} nan value(s) where the "
                          f"answer is a number (first at {_where(first)}, expected "
                          f"{expected[first]:.6g}); nan comes from 0/0 or inf - inf, "
                          "typically after exp() underflowed to 0 or overflowed to inf")
    bad_inf = np.isinf(got) & np.isfinite(expected)
    if bad_inf.any():
        first = tuple(np.argwhere(bad_inf)[0])
        if got[first] < 0:
            cause = ("log(0) = -inf, so a product or sum of probabilities underflowed "
                     "to 0 before the logarithm")
        else:
            cause = ("inf comes from exp() of a large number, or from subtracting a "
                     "log(0) = -inf: a product or sum (a determinant, say) underflowed "
                     "to 0 before its logarithm")
        raise _fail(case, f"{what} is {got[first]} at {_where(first)} where the answer "
                          f"is {expected[first]:.6g}; {cause}")
    close = np.isclose(got, expected, rtol=rtol, atol=atol, equal_nan=True)
    if not close.all():
        error = np.where(close, 0.0, np.abs(got - expected))
        error[np.isnan(error)] = np.inf
        worst = np.unravel_index(np.argmax(error), error.shape)
        raise _fail(case, f"{what} differs from the reference at "
                          f"{int((~close).sum())} of {close.size} entries; the largest "
                          f"difference is at {_where(worst)}: you have {got[worst]:.10g}, "
                          f"expected {expected[worst]:.10g}")


def check_matches(function: Callable, reference: Callable, cases: Sequence[Case], *,
                  rtol: float = 1e-7, atol: float = 1e-9,
                  output: Callable | None = None) -> None:
    """Check that ``function`` agrees with ``reference`` on every case.

    Parameters
    ----------
    function : callable
        The student's function.
    reference : callable
        A trusted implementation with the same signature and output.
    cases : sequence of Case
        The inputs, each called with fresh copies of its arguments.
    rtol, atol : float
        Tolerances of :func:`numpy.isclose` (entry ``a`` of the student's output passes
        when :math:`|a - b| \\le \\mathrm{atol} + \\mathrm{rtol}\\,|b|`).
    output : callable, optional
        Picks the array to compare from what the functions return (for example
        ``lambda out: out[0]`` for the first of a tuple).

    Raises
    ------
    AssertionError
        At the first case that fails, naming it, saying what differs and what to look at.
    """
    if not callable(function):
        raise AssertionError(f"expected a function, got {type(function).__name__}; "
                             "run the cell that defines it first")
    pick = output or (lambda out: out)
    for case in cases:
        got = _call(function, case, "student")
        expected = _call(reference, case, "reference")
        compare_arrays(pick(got), pick(expected), case, rtol=rtol, atol=atol)


def check_probability_rows(function: Callable, cases: Sequence[Case], *,
                           output: Callable | None = None, atol: float = 1e-10) -> None:
    r"""Check that every row of ``function``'s output is a probability vector.

    Each row :math:`r_{n\cdot}` must satisfy :math:`r_{nk} \ge 0`, no ``nan``, and
    :math:`|\sum_k r_{nk} - 1| \le \mathrm{atol}`: responsibilities are a distribution
    over the components for each sample, so they are normalised along a row.

    Raises
    ------
    AssertionError
        At the first case that fails, naming the case and the first bad row.
    """
    pick = output or (lambda out: out)
    for case in cases:
        resp = _as_array(pick(_call(function, case, "student")), case, "your result")
        if resp.ndim != 2:
            raise _fail(case, f"expected a matrix (n_samples, n_components), got shape "
                              f"{resp.shape}")
        bad = np.isnan(resp).any(axis=1)
        if bad.any():
            raise _fail(case, f"{int(bad.sum())} row(s) contain nan (first: row "
                              f"{int(np.argmax(bad))}); 0/0 appears when every term of a "
                              "row underflowed to 0 before normalising")
        if (resp < 0).any():
            row, col = np.argwhere(resp < 0)[0]
            raise _fail(case, f"row {row} has a negative entry, {resp[row, col]:.6g}; "
                              "probabilities are >= 0 (a log-responsibility is <= 0: "
                              "exponentiate it)")
        sums = resp.sum(axis=1)
        off = np.abs(sums - 1.0) > atol
        if off.any():
            row = int(np.argmax(off))
            raise _fail(case, f"row {row} sums to {sums[row]:.6g}, not 1 ({int(off.sum())} "
                              f"of {len(sums)} rows are off); each sample's "
                              "responsibilities must sum to one over the components, "
                              "so normalise along axis=1")


def _standard_errors(counts, expected_share, n):
    return (counts / n - expected_share) / np.sqrt(expected_share * (1 - expected_share) / n)


def check_gaussian_sample(sampler: Callable, case: Case, *, check: str) -> None:
    r"""Check a Gaussian mixture sample drawn by ``sampler`` against the mixture.

    ``case.args`` are ``(n_samples, weights, means, covariances, rng)`` and the sampler
    returns ``(X, z)``, the points and the index of the component that drew each. Means
    are checked for the components that drew at least :math:`2D + 2` points, covariances
    for those that drew at least ``COVARIANCE_MIN_POINTS`` (1,000; with fewer, the skew
    of a sample variance makes 6 standard errors far more likely). The statistics are
    compared with their expectations in units of their standard error, and fail beyond
    ``SAMPLE_Z_LIMIT`` (6) standard errors, which a correct sampler reaches with
    probability below about :math:`2 \times 10^{-8}` per statistic (a label frequency
    with an expected count of 1,000 or more, a mean, a covariance entry):

    * ``check="labels"``: shapes, and the frequency of each label against
      :math:`\pi_k`, with standard error :math:`\sqrt{\pi_k (1 - \pi_k) / N}`;
    * ``check="means"``: the mean of the points of each component against
      :math:`\mu_k`, each coordinate with standard error :math:`\sqrt{\Sigma_{k,ii} / N_k}`;
    * ``check="covariances"``: the sample covariance of each component against
      :math:`\Sigma_k`, entry :math:`(i, j)` with the standard error
      :math:`\sqrt{(\Sigma_{ii}\Sigma_{jj} + \Sigma_{ij}^2) / N_k}` of a Gaussian sample.

    Parameters
    ----------
    sampler : callable
        The student's sampler.
    case : Case
        The mixture and the sample size, as above.
    check : {"labels", "means", "covariances"}
        The statistic to check.

    Raises
    ------
    AssertionError
        Naming the case, the component and the statistic that is off.
    """
    if check not in ("labels", "means", "covariances"):
        raise ValueError(f"check must be 'labels', 'means' or 'covariances', got {check!r}")
    n, weights, means, covariances, _ = case.args
    weights, means = np.asarray(weights, float), np.asarray(means, float)
    covariances = np.asarray(covariances, float)
    out = _call(sampler, case, "student")
    if not isinstance(out, tuple) or len(out) != 2:
        raise _fail(case, "return a pair (X, z): the points and their component labels")
    X = _as_array(out[0], case, "X")
    z = _as_array(out[1], case, "z")
    K, D = means.shape
    if X.shape != (n, D) or z.shape != (n,):
        raise _fail(case, f"X has shape {X.shape} and z {z.shape}; expected ({n}, {D}) "
                          f"and ({n},)")
    if not np.isin(z, np.arange(K)).all():
        raise _fail(case, f"z must hold component indices 0..{K - 1}")
    z = z.astype(int)
    counts = np.bincount(z, minlength=K)
    if check == "labels":
        zero = (weights == 0) & (counts > 0)
        if zero.any():
            k = int(np.argmax(zero))
            raise _fail(case, f"component {k} has weight 0 but drew {counts[k]} points")
        live = weights > 0
        scores = np.zeros(K)
        scores[live] = _standard_errors(counts[live], weights[live], n)
        k = int(np.argmax(np.abs(scores)))
        if abs(scores[k]) > SAMPLE_Z_LIMIT:
            raise _fail(case, f"component {k} drew {counts[k] / n:.4f} of the points, but "
                              f"its weight is {weights[k]:.4f} ({abs(scores[k]):.0f} "
                              "standard errors away); the label of each point must be "
                              "drawn with probabilities equal to the weights")
        return
    least = 2 * D + 2 if check == "means" else COVARIANCE_MIN_POINTS
    for k in np.flatnonzero(counts >= least):
        Xk = X[z == k]
        nk = len(Xk)
        if check == "means":
            se = np.sqrt(np.diag(covariances[k]) / nk)
            score = np.abs(Xk.mean(axis=0) - means[k]) / se
            if score.max() > SAMPLE_Z_LIMIT:
                i = int(np.argmax(score))
                raise _fail(case, f"the points of component {k} have mean "
                                  f"{Xk.mean(axis=0)[i]:.4g} in coordinate {i}, but "
                                  f"mu_{k} = {means[k][i]:.4g} ({score[i]:.0f} standard "
                                  "errors away); is every point centred on the mean of "
                                  "its own component?")
        else:
            var = np.diag(covariances[k])
            se = np.sqrt((np.outer(var, var) + covariances[k] ** 2) / nk)
            sample = np.atleast_2d(np.cov(Xk.T))
            score = np.abs(sample - covariances[k]) / se
            if score.max() > SAMPLE_Z_LIMIT:
                i, j = np.unravel_index(np.argmax(score), score.shape)
                raise _fail(case, f"the points of component {k} have covariance "
                                  f"{sample[i, j]:.4g} at entry ({i}, {j}), but "
                                  f"Sigma_{k} has {covariances[k][i, j]:.4g} there "
                                  f"({score[i, j]:.0f} standard errors away); "
                                  "mu + A xi has covariance A A^T, so A must be the "
                                  "lower Cholesky factor L of Sigma = L L^T: not Sigma "
                                  "itself, not L^T (xi @ L computes L^T xi), not the "
                                  "square roots of Sigma's diagonal")
