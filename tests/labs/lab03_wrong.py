"""Deliberately wrong answers to lab 3, each with one mistake that students make.

``tests/test_labs_grading.py`` puts each one in place of the right answer in the solved lab
(every other answer stays correct), grades the result with otter-grader and asserts
which checks fail: exactly those in ``MISTAKES``, no more and no fewer. A check that
passes one of these is too weak; a check that fails an answer it is not aimed at
punishes the student twice.

Each function is written as a student would write it in the notebook, with the
notebook's names (``np``, ``log_gaussian``, ``e_step``, ``m_step``) taken from the
notebook's globals; the test renames it to the function the question asks for. The
checks of Question 3 run ``fit_gmm`` with reference E- and M-steps, so a wrong step
costs points in its own question only.
"""

import numpy as np

log_gaussian = e_step = m_step = None  # the notebook's own, at grading time


def e_step_normalised_over_samples(X, weights, means, covariances):
    # Mistake: the log-sum-exp runs down each column (over the samples), so each
    # component's responsibilities sum to one instead of each sample's.
    a = np.column_stack([np.log(weights[k]) + log_gaussian(X, means[k], covariances[k])
                         for k in range(len(weights))])
    m = a.max(axis=0, keepdims=True)
    log_norm = m + np.log(np.exp(a - m).sum(axis=0, keepdims=True))
    return np.exp(a - log_norm), float(np.mean(log_norm))


def e_step_exponentiates_first(X, weights, means, covariances):
    # Mistake: the densities themselves, then Bayes' rule; in 784 dimensions exp()
    # overflows to inf (inf / inf = nan) or underflows to 0 (0 / 0 = nan).
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        joint = np.column_stack([weights[k] * np.exp(log_gaussian(X, means[k],
                                                                   covariances[k]))
                                 for k in range(len(weights))])
        total = joint.sum(axis=1, keepdims=True)
        return joint / total, float(np.mean(np.log(total)))


def e_step_shifts_by_global_max(X, weights, means, covariances):
    # Mistake: the log-sum-exp shifted by the largest term of the whole array, not of
    # each row; a row whose terms all lie more than about 745 below it underflows to 0.
    a = np.column_stack([np.log(weights[k]) + log_gaussian(X, means[k], covariances[k])
                         for k in range(len(weights))])
    m = a.max()
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        log_norm = m + np.log(np.exp(a - m).sum(axis=1, keepdims=True))
        return np.exp(a - log_norm), float(np.mean(log_norm))


def m_step_uncentred(X, resp, reg_covar):
    # Mistake: the scatter of x_n x_n^T, not of the deviations x_n - mu_k.
    n_samples, n_features = X.shape
    nk = resp.sum(axis=0)
    means = resp.T @ X / nk[:, np.newaxis]
    covariances = np.array([(resp[:, k] * X.T) @ X / nk[k] + reg_covar * np.eye(n_features)
                            for k in range(len(nk))])
    return nk / n_samples, means, covariances


def m_step_divides_by_n(X, resp, reg_covar):
    # Mistake: the covariance's scatter is divided by N, the number of points, instead
    # of the soft count N_k (the means are right).
    n_samples, n_features = X.shape
    nk = resp.sum(axis=0)
    means = resp.T @ X / nk[:, np.newaxis]
    covariances = np.array([(resp[:, k] * (X - means[k]).T) @ (X - means[k]) / n_samples
                            + reg_covar * np.eye(n_features) for k in range(len(nk))])
    return nk / n_samples, means, covariances


def m_step_forgets_reg_covar(X, resp, reg_covar):
    # Mistake: the ridge reg_covar * I is never added.
    n_samples, n_features = X.shape
    nk = resp.sum(axis=0)
    means = resp.T @ X / nk[:, np.newaxis]
    covariances = np.array([(resp[:, k] * (X - means[k]).T) @ (X - means[k]) / nk[k]
                            for k in range(len(nk))])
    return nk / n_samples, means, covariances


def m_step_second_moment_shortcut(X, resp, reg_covar):
    # Mistake: E[x x^T] - mu mu^T, right in exact arithmetic, but for data far from
    # the origin two large numbers cancel and the variance loses its digits.
    n_samples, n_features = X.shape
    nk = resp.sum(axis=0)
    means = resp.T @ X / nk[:, np.newaxis]
    covariances = np.array([(resp[:, k] * X.T) @ X / nk[k] - np.outer(means[k], means[k])
                            + reg_covar * np.eye(n_features) for k in range(len(nk))])
    return nk / n_samples, means, covariances


def m_step_adds_epsilon_to_nk(X, resp, reg_covar):
    # Mistake: a constant added to N_k "to avoid dividing by zero"; a component whose
    # N_k is smaller than the constant gets its mean pulled towards the origin.
    n_samples, n_features = X.shape
    nk = resp.sum(axis=0) + 1e-10
    means = resp.T @ X / nk[:, np.newaxis]
    covariances = np.array([(resp[:, k] * (X - means[k]).T) @ (X - means[k]) / nk[k]
                            + reg_covar * np.eye(n_features) for k in range(len(nk))])
    return resp.sum(axis=0) / n_samples, means, covariances


def fit_gmm_stops_before_the_m_step(X, weights, means, covariances, reg_covar=1e-6,
                                    tol=1e-3, max_iter=100):
    # Mistake: the stopping rule is tested between the E-step and the M-step, so the
    # loop returns the parameters one M-step short of scikit-learn's.
    history = []
    for _ in range(max_iter):
        resp, log_likelihood = e_step(X, weights, means, covariances)
        history.append(log_likelihood)
        if len(history) > 1 and abs(history[-1] - history[-2]) < tol:
            break
        weights, means, covariances = m_step(X, resp, reg_covar)
    return weights, means, covariances, history


MISTAKES = {
    "e_step_normalised_over_samples": (
        "e_step", {"q1": {"test_rows", "test_resp", "test_log_likelihood", "test_784d",
                          "test_1d"}}),
    "e_step_exponentiates_first": ("e_step", {"q1": {"test_784d"}}),
    "e_step_shifts_by_global_max": ("e_step", {"q1": {"test_784d"}}),
    # Its covariances are wrong everywhere and change when the data move; its means are
    # right, and it divides by N_k, so the case of tiny responsibilities passes.
    "m_step_uncentred": (
        "m_step", {"q2": {"test_covariances", "test_one_point", "test_far_from_origin"}}),
    # Its covariances do not change when the data move, and a component with one point
    # has scatter 0 whatever the divisor, so those two cases pass.
    "m_step_divides_by_n": (
        "m_step", {"q2": {"test_covariances", "test_tiny_responsibilities"}}),
    "m_step_forgets_reg_covar": ("m_step", {"q2": {"test_ridge", "test_one_point"}}),
    "m_step_second_moment_shortcut": ("m_step", {"q2": {"test_far_from_origin"}}),
    "m_step_adds_epsilon_to_nk": ("m_step", {"q2": {"test_tiny_responsibilities"}}),
    "fit_gmm_stops_before_the_m_step": ("fit_gmm", {"q3": {"test_stops_at_tol"}}),
}
