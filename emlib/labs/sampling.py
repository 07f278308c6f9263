r"""The check of a sample drawn from a Gaussian mixture (lab 1)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from emlib.labs.checks import Case, _as_array, _call, _fail

__all__ = ["COVARIANCE_MIN_POINTS", "SAMPLE_Z_LIMIT", "check_gaussian_sample"]

# How many standard errors a sample statistic may stray before a check fails. A label
# frequency (binomial, expected count 1,000 or more) or a component's mean (exactly
# normal) of a correct sampler strays beyond 6 with probability about 2e-9; a wrong
# sampler strays by tens or hundreds.
SAMPLE_Z_LIMIT = 6.0
# A sample covariance is skewed (a variance is a scaled chi-square), so its tail at 6
# standard errors is heavier than the normal's: probability 1.5e-8 with 1,000 points,
# but 6e-7 with 100 and 5e-4 with 6. Components with fewer points are not checked.
COVARIANCE_MIN_POINTS = 1000



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
