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

The checks live in modules named for what they check, and are all importable from
``emlib.labs``:

* :mod:`emlib.labs.checks`, for any lab: :func:`check_matches` compares the student's
  output with a reference function's, entry by entry, with a relative and an absolute
  tolerance (:math:`|a - b| \le \mathrm{atol} + \mathrm{rtol}\,|b|`, as
  :func:`numpy.isclose`); :func:`check_probability_rows` checks that every row of a
  matrix is a probability vector, :math:`r_{nk} \ge 0` and :math:`\sum_k r_{nk} = 1`,
  the defining property of responsibilities;
* :mod:`emlib.labs.sampling`, for lab 1: :func:`check_gaussian_sample` checks a sample
  drawn by the student against the mixture it should follow, with tolerances of a few
  standard errors, so that a correct sampler passes whatever random numbers it draws
  and a sampler that ignores the weights or the covariances does not.
"""

from emlib.labs.checks import Case, check_matches, check_probability_rows, compare_arrays
from emlib.labs.sampling import check_gaussian_sample

__all__ = [
    "Case",
    "check_gaussian_sample",
    "check_matches",
    "check_probability_rows",
    "compare_arrays",
]
