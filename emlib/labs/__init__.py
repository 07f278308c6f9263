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
  and a sampler that ignores the weights or the covariances does not;
* :mod:`emlib.labs.kmeans`, for lab 2: the update step with empty clusters, Lloyd's loop
  against scikit-learn's and emlib's from the same centres, and k-means++ seeding
  against the exact :math:`D^2` probabilities by binomial tests;
* :mod:`emlib.labs.gaussian_em`, for lab 3: the E- and M-steps against SciPy and NumPy,
  and the whole EM against scikit-learn's iterates from the same initial parameters;
* :mod:`emlib.labs.coins`, for lab 4: a mixture of two binomials, with its maximum found
  by :func:`scipy.optimize.minimize` and a check that a log-likelihood never decreases;
* :mod:`emlib.labs.selection`, for lab 5: parameter counts, BIC and AIC, random folds and
  the held-out log-likelihood against scikit-learn;
* :mod:`emlib.labs.maximisation`, for lab 6: the M-step of a Bernoulli mixture found by
  numerical maximisation, to check a student's closed form against.
"""

from emlib.labs.checks import (
    Case,
    check_matches,
    check_probability_rows,
    compare_arrays,
)
from emlib.labs.coins import (
    binomial_mixture_log_joint,
    binomial_mixture_log_likelihood,
    binomial_mixture_m_step_by_optimisation,
    binomial_mixture_mle,
    binomial_mixture_negative_log_likelihood,
    binomial_mixture_responsibilities,
    check_nondecreasing,
    check_same_maximum,
)
from emlib.labs.gaussian_em import (
    check_em_convergence,
    check_em_iterates,
    check_history_never_decreases,
    check_moved_data,
    check_ridge,
    check_scaled_responsibilities,
    element,
    emlib_fit,
    numpy_m_step,
    reference_steps,
    scipy_e_step,
    sklearn_fit,
)
from emlib.labs.kmeans import (
    SEEDING_FALSE_FAILURE,
    check_centre_update,
    check_lloyd_fixed_point,
    check_lloyd_matches,
    check_seeding_distinct,
    check_seeding_distribution,
    check_seeding_repeatable,
    d2_sampling_probabilities,
)
from emlib.labs.maximisation import (
    numerical_bernoulli_m_step,
)
from emlib.labs.sampling import (
    check_gaussian_sample,
)
from emlib.labs.selection import (
    check_criteria,
    check_folds,
    check_heldout,
    check_parameter_counts,
    check_random_folds,
    heldout_by_cross_validate,
    kfold_test_folds,
    sklearn_n_parameters,
)

__all__ = [
    "Case",
    "SEEDING_FALSE_FAILURE",
    "binomial_mixture_log_joint",
    "binomial_mixture_log_likelihood",
    "binomial_mixture_m_step_by_optimisation",
    "binomial_mixture_mle",
    "binomial_mixture_negative_log_likelihood",
    "binomial_mixture_responsibilities",
    "check_centre_update",
    "check_criteria",
    "check_em_convergence",
    "check_em_iterates",
    "check_folds",
    "check_gaussian_sample",
    "check_heldout",
    "check_history_never_decreases",
    "check_lloyd_fixed_point",
    "check_lloyd_matches",
    "check_matches",
    "check_moved_data",
    "check_nondecreasing",
    "check_parameter_counts",
    "check_probability_rows",
    "check_random_folds",
    "check_ridge",
    "check_same_maximum",
    "check_scaled_responsibilities",
    "check_seeding_distinct",
    "check_seeding_distribution",
    "check_seeding_repeatable",
    "compare_arrays",
    "d2_sampling_probabilities",
    "element",
    "emlib_fit",
    "heldout_by_cross_validate",
    "kfold_test_folds",
    "numerical_bernoulli_m_step",
    "numpy_m_step",
    "reference_steps",
    "scipy_e_step",
    "sklearn_fit",
    "sklearn_n_parameters",
]
