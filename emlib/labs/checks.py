r"""The general checks of the labs: named cases, array comparison, probability rows.

A :class:`Case` is one named input of a check: a name a student can recognise ("points
far from every mean, 784 dimensions"), the arguments, and a hint. The arrays of a case
are copied before every call, so a student's function that modifies its input cannot
change what the reference sees. A failure is an :class:`AssertionError` whose message
names the case, says what was wrong (an exception, a wrong shape, a ``nan``, the largest
difference and where it is) and what to look at.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

__all__ = ["Case", "check_matches", "check_probability_rows", "compare_arrays"]


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
        if np.isneginf(expected[first]):
            cause = ("the answer there is -inf, the log of a probability that is exactly "
                     "0; nan comes from 0 * log(0) = 0 * -inf or from -inf - (-inf), so "
                     "treat the zero terms (or the shift of an all -inf row) separately")
        else:
            cause = ("nan comes from 0/0 or inf - inf, typically after exp() underflowed "
                     "to 0 or overflowed to inf")
        raise _fail(case, f"{what} holds {int(bad_nan.sum())} nan value(s) where the "
                          f"answer is a number (first at {_where(first)}, expected "
                          f"{expected[first]:.6g}); {cause}")
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
        # Only where they differ: elsewhere both may hold the same infinity, and inf - inf
        # would warn.
        error = np.zeros(close.shape)
        error[~close] = np.abs(got[~close] - expected[~close])
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
