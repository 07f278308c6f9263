"""Deliberately wrong answers to lab 6, each with one mistake that students make.

``tests/test_labs_grading.py`` puts each one in place of the right answer in the solved lab
(every other answer stays correct), grades the result with otter-grader and asserts
which checks fail: exactly those in ``MISTAKES``, no more and no fewer. A check that
passes one of these is too weak; a check that fails an answer it is not aimed at
punishes the student twice.

Each function is written as a student would write it in the notebook, with the
notebook's names (``np``, ``log_bernoulli_density``, ``e_step``, ``m_step``) taken from
the notebook's globals; the test renames it to the function the question asks for.
"""

import numpy as np

# The notebook's own functions, at grading time.
log_bernoulli_density = e_step = m_step = None


def log_density_of_product(X, means):
    # Mistake: the product of eq-lab06-bernoulli first, then its logarithm. With 784
    # pixels the product underflows to 0 and its logarithm is -inf.
    factors = np.where(X[:, None, :] == 1, means, 1 - means)
    with np.errstate(divide="ignore"):
        return np.log(factors.prod(axis=2))


def log_density_without_off_pixels(X, means):
    # Mistake: only x log(mu); the (1 - x) log(1 - mu) term of the off pixels is missing.
    with np.errstate(divide="ignore", invalid="ignore"):
        return X @ np.log(means).T


def log_density_zero_times_inf(X, means):
    # Mistake: the two matrix products as they stand; where mu = 0 and the pixel is off,
    # 0 * log(0) = 0 * -inf = nan instead of 0.
    with np.errstate(divide="ignore", invalid="ignore"):
        return X @ np.log(means).T + (1 - X) @ np.log1p(-means).T


def e_step_product(X, weights, means):
    # Mistake: probabilities first, then normalised: 0/0 = nan when every product of a
    # row underflows in 784 dimensions.
    factors = np.where(X[:, None, :] == 1, means, 1 - means)
    with np.errstate(divide="ignore", invalid="ignore"):
        joint = weights * factors.prod(axis=2)
        total = joint.sum(axis=1, keepdims=True)
        return joint / total, np.log(total[:, 0])


def e_step_normalised_over_images(X, weights, means):
    # Mistake: each column (component) sums to one instead of each row (image); the
    # log-likelihood is right.
    with np.errstate(divide="ignore"):
        a = np.log(weights) + log_bernoulli_density(X, means)
    m = a.max(axis=1, keepdims=True)
    m[~np.isfinite(m)] = 0.0
    with np.errstate(divide="ignore"):
        log_px = m + np.log(np.exp(a - m).sum(axis=1, keepdims=True))
    col = a.max(axis=0, keepdims=True)
    resp = np.exp(a - col)
    return resp / resp.sum(axis=0, keepdims=True), log_px[:, 0]


def m_step_divides_by_n(X, resp, pixel_prior=0.0, weight_prior=0.0):
    # Mistake: the pixel probabilities divide by the number of images N, not by N_k.
    a, b = pixel_prior, weight_prior
    counts = resp.sum(axis=0)
    means = (resp.T @ X + a) / (len(X) + 2 * a)
    weights = (counts + b) / (len(X) + len(counts) * b)
    return weights, np.clip(means, 0.0, 1.0)


def m_step_pseudo_counts_on_top(X, resp, pixel_prior=0.0, weight_prior=0.0):
    # Mistake: the pseudo-count a is added to the numerator only (2a is missing from the
    # denominator), so mu can exceed 1 and an empty component gets a / 0.
    a, b = pixel_prior, weight_prior
    counts = resp.sum(axis=0)
    with np.errstate(divide="ignore"):
        means = (resp.T @ X + a) / counts[:, np.newaxis]
    weights = (counts + b) / (len(X) + len(counts) * b)
    return weights, means


def e_step_shift_by_minus_inf(X, weights, means):
    # Mistake: the log-sum-exp without the guard of an image that is impossible under
    # every component: its shift m_n is -inf, a - m_n is -inf - (-inf) = nan, and so is
    # log p(x_n), which should be -inf.
    with np.errstate(divide="ignore"):
        a = np.log(weights) + log_bernoulli_density(X, means)
    m = a.max(axis=1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_px = m + np.log(np.exp(a - m).sum(axis=1, keepdims=True))
        resp = np.exp(a - log_px)
    return resp, log_px[:, 0]


def fit_em_ignores_the_prior(X, weights, means, n_iter, pixel_prior=0.0, weight_prior=0.0):
    # Mistake: the loop calls m_step without the pseudo-counts, so every fit is by
    # maximum likelihood whatever pixel_prior and weight_prior say.
    history = []
    for _ in range(n_iter):
        resp, log_px = e_step(X, weights, means)
        history.append(log_px.mean())
        weights, means = m_step(X, resp)
    return weights, means, np.array(history)


# For each wrong answer: the function it replaces, and the checks (test functions of the
# master notebook, by question) that must fail. Every check not listed must pass. A wrong
# log-density also fails the checks of questions 2 and 4 whose right answers call it on
# the same kind of input (e_step and fit_em use the student's own log_bernoulli_density):
# those checks are aimed at exactly this mistake. A wrong E-step or M-step likewise fails
# the checks of fit_em, which calls it; the sets below were measured with otter run.
MISTAKES = {
    "log_density_of_product": (
        "log_bernoulli_density", {"q1": {"test_784d"}, "q2": {"test_784d"}}),
    "log_density_without_off_pixels": (
        "log_bernoulli_density",
        {"q1": {"test_small", "test_784d", "test_zero_one", "test_784d_zeros",
                "test_one_pixel"},
         "q2": {"test_small", "test_784d", "test_zero_weight", "test_impossible_image"},
         "q4": {"test_patterns", "test_mnist_map", "test_one_iteration"}}),
    "log_density_zero_times_inf": (
        "log_bernoulli_density",
        {"q1": {"test_zero_one", "test_784d_zeros"}, "q2": {"test_impossible_image"}}),
    "e_step_product": ("e_step", {"q2": {"test_784d"}}),
    "e_step_normalised_over_images": (
        "e_step", {"q2": {"test_rows", "test_small", "test_784d", "test_zero_weight"},
                   "q4": {"test_patterns", "test_mnist_map", "test_one_iteration"}}),
    "m_step_divides_by_n": (
        "m_step", {"q3": {"test_ml", "test_one_image", "test_map",
                          "test_map_empty_component", "test_784d"},
                   "q4": {"test_patterns", "test_mnist_map", "test_one_iteration"}}),
    "m_step_pseudo_counts_on_top": (
        "m_step", {"q3": {"test_map", "test_map_empty_component", "test_784d"},
                   "q4": {"test_mnist_map"}}),
    # Both are caught by hidden checks only: these entries keep those checks honest.
    "e_step_shift_by_minus_inf": ("e_step", {"q2": {"test_impossible_image"}}),
    "fit_em_ignores_the_prior": ("fit_em", {"q4": {"test_mnist_map"}}),
}
