"""Deliberately wrong answers to lab 1, each with one mistake that students make.

``tests/test_labs_grading.py`` puts each one in place of the right answer in the solved lab
(every other answer stays correct), grades the result with otter-grader and asserts
which checks fail: exactly those in ``MISTAKES``, no more and no fewer. A check that
passes one of these is too weak; a check that fails an answer it is not aimed at
punishes the student twice.

Each function is written as a student would write it in the notebook, with the
notebook's names (``np``, ``log_gaussian``) taken from the notebook's globals; the
test renames it to the function the question asks for.
"""

import numpy as np
from scipy.stats import multivariate_normal

log_gaussian = None  # the notebook's own log_gaussian, at grading time


def sample_gmm_ignores_weights(n_samples, weights, means, covariances, rng):
    # Mistake: every component is drawn equally often, whatever its weight.
    n_components, n_features = np.shape(means)
    z = rng.integers(n_components, size=n_samples)
    chol = np.linalg.cholesky(covariances)
    xi = rng.standard_normal((n_samples, n_features))
    X = np.asarray(means)[z] + np.einsum("nij,nj->ni", chol[z], xi)
    return X, z


def sample_gmm_scales_by_covariance(n_samples, weights, means, covariances, rng):
    # Mistake: x = mu + Sigma xi, whose covariance is Sigma^2, not Sigma.
    n_components, n_features = np.shape(means)
    z = rng.choice(n_components, size=n_samples, p=weights)
    xi = rng.standard_normal((n_samples, n_features))
    X = np.asarray(means)[z] + np.einsum("nij,nj->ni", covariances[z], xi)
    return X, z


def sample_gmm_fixed_counts(n_samples, weights, means, covariances, rng):
    # Mistake: weights * n_samples points of each component, so the labels are not
    # random (and with one point, round(0.5) = 0 points of any component).
    n_components, n_features = np.shape(means)
    counts = np.round(np.asarray(weights) * n_samples).astype(int)
    z = np.repeat(np.arange(n_components), counts)
    chol = np.linalg.cholesky(covariances)
    xi = rng.standard_normal((len(z), n_features))
    X = np.asarray(means)[z] + np.einsum("nij,nj->ni", chol[z], xi)
    return X, z


def log_gaussian_of_density(X, mean, covariance):
    # Mistake: the density first, then its logarithm; the density underflows to 0
    # (log gives -inf) or overflows to inf far from the mean and in 784 dimensions.
    with np.errstate(divide="ignore", over="ignore"):
        return np.log(multivariate_normal(mean, covariance).pdf(X))


def log_mixture_density_without_shift(X, weights, means, covariances):
    # Mistake: log(sum(exp(a))) without the shift of the log-sum-exp.
    with np.errstate(divide="ignore", over="ignore"):
        a = np.column_stack([np.log(weights[k])
                             + log_gaussian(X, means[k], covariances[k])
                             for k in range(len(weights))])
        return np.log(np.exp(a).sum(axis=1))


def e_step_normalised_over_samples(X, weights, means, covariances):
    # Mistake: each column (component) sums to one instead of each row (sample).
    a = np.column_stack([np.log(weights[k]) + log_gaussian(X, means[k], covariances[k])
                         for k in range(len(weights))])
    m = a.max(axis=0, keepdims=True)
    log_norm = m + np.log(np.exp(a - m).sum(axis=0, keepdims=True))
    return np.exp(a - log_norm)


def e_step_exp_before_normalising(X, weights, means, covariances):
    # Mistake: densities first, then divided by their sum: 0/0 = nan when every
    # density of a row underflows, inf/inf = nan when they overflow.
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        dens = np.column_stack([weights[k] * np.exp(log_gaussian(X, means[k],
                                                                 covariances[k]))
                                for k in range(len(weights))])
        return dens / dens.sum(axis=1, keepdims=True)


# For each wrong answer: the function it replaces, and the checks (test functions of the
# master notebook, by question) that must fail. Every check not listed must pass. The
# log-density mistake also fails the underflow checks of questions 3 and 4, because the
# right answers to those call the student's own log_gaussian: those checks are aimed at
# exactly this mistake.
MISTAKES = {
    "sample_gmm_ignores_weights": (
        "sample_gmm", {"q1": {"test_labels", "test_unequal_weights", "test_zero_weight",
                              "test_one_point_at_a_time"}}),
    "sample_gmm_fixed_counts": ("sample_gmm", {"q1": {"test_one_point_at_a_time"}}),
    "sample_gmm_scales_by_covariance": (
        "sample_gmm", {"q1": {"test_covariances", "test_correlated_3d"}}),
    "log_gaussian_of_density": (
        "log_gaussian", {"q2": {"test_far", "test_784d"}, "q3": {"test_far", "test_784d"},
                         "q4": {"test_far", "test_784d"}}),
    "log_mixture_density_without_shift": (
        "log_mixture_density", {"q3": {"test_far", "test_784d"}}),
    "e_step_normalised_over_samples": (
        "e_step", {"q4": {"test_rows", "test_blobs", "test_far", "test_784d", "test_1d"}}),
    "e_step_exp_before_normalising": (
        "e_step", {"q4": {"test_far", "test_784d"}}),
}
