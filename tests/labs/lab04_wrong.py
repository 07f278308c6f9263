"""Deliberately wrong answers to lab 4 (two coins), each with one mistake students make.

``tests/test_labs_grading.py`` puts each one in place of the right answer in the solved lab
(every other answer stays correct), grades the result with otter-grader and asserts
which checks fail: exactly those in ``MISTAKES``, no more and no fewer.

Each function is written as a student would write it in the notebook, with the
notebook's names (``np``, ``log_joint``) taken from the notebook's globals; the test
renames it to the function the question asks for.
"""

import numpy as np
from scipy.special import comb, xlog1py, xlogy

log_joint = None  # the notebook's own log_joint, at grading time


def log_joint_without_coefficient(heads, tosses, theta_a, theta_b, pi):
    # Mistake: the binomial coefficient is dropped "because it cancels"; it does in
    # the responsibilities and the maximiser, not in the value of the log-likelihood.
    h = np.asarray(heads, dtype=float)[:, np.newaxis]
    n = np.asarray(tosses, dtype=float)[:, np.newaxis]
    thetas = np.array([theta_a, theta_b])
    with np.errstate(divide="ignore"):
        log_weights = np.log(np.array([pi, 1.0 - pi]))
    return log_weights + xlogy(h, thetas) + xlog1py(n - h, -thetas)


def log_joint_of_probabilities(heads, tosses, theta_a, theta_b, pi):
    # Mistake: the probabilities first, then their logarithm: theta ** h underflows
    # to 0 and comb(n, h) overflows to inf for sets of 10,000 tosses.
    h = np.asarray(heads)[:, np.newaxis]
    n = np.asarray(tosses)[:, np.newaxis]
    thetas = np.array([theta_a, theta_b])
    with np.errstate(divide="ignore", over="ignore", under="ignore", invalid="ignore"):
        p = (np.array([pi, 1.0 - pi]) * comb(n, h) * thetas**h
             * (1 - thetas) ** (n - h))
        return np.log(p)


def e_step_hard(heads, tosses, theta_a, theta_b, pi):
    # Mistake: each set is given wholly to its likelier coin (0/1 responsibilities).
    a = log_joint(heads, tosses, theta_a, theta_b, pi)
    return np.eye(2)[a.argmax(axis=1)]


def e_step_without_weights(heads, tosses, theta_a, theta_b, pi):
    # Mistake: the E-step of the chapter's exercise, where both coins have weight 1/2,
    # kept after freeing pi: the weights log pi_k are left out of the posterior.
    a = log_joint(heads, tosses, theta_a, theta_b, 0.5)
    e = np.exp(a - a.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def e_step_normalised_over_sets(heads, tosses, theta_a, theta_b, pi):
    # Mistake: each column (coin) sums to one over the sets, instead of each row.
    a = log_joint(heads, tosses, theta_a, theta_b, pi)
    c = a.max(axis=0, keepdims=True)
    return np.exp(a - c - np.log(np.exp(a - c).sum(axis=0, keepdims=True)))


def m_step_mean_of_shares(heads, tosses, resp):
    # Mistake: the weighted mean of each set's share of heads h / n, which counts a
    # set of 4 tosses as much as a set of 100 (right only when all n are equal).
    shares = np.asarray(heads, dtype=float) / np.asarray(tosses, dtype=float)
    theta_a, theta_b = (resp.T @ shares) / resp.sum(axis=0)
    return theta_a, theta_b, resp[:, 0].mean()


def m_step_keeps_pi_half(heads, tosses, resp):
    # Mistake: pi is left at 1/2, as in the chapter's exercise, instead of updated.
    h = np.asarray(heads, dtype=float)
    n = np.asarray(tosses, dtype=float)
    theta_a, theta_b = (resp.T @ h) / (resp.T @ n)
    return theta_a, theta_b, 0.5


def log_likelihood_of_likelier_coin(heads, tosses, theta_a, theta_b, pi):
    # Mistake: the complete-data log-likelihood with each set given to its likelier
    # coin, sum_m max_k a_mk, instead of the log of the sum over the coins.
    return float(log_joint(heads, tosses, theta_a, theta_b, pi).max(axis=1).sum())


def log_likelihood_without_shift(heads, tosses, theta_a, theta_b, pi):
    # Mistake: the log of the sum of exp(a_mk) without the shift by the row's largest
    # term: exp underflows to 0 for a long set far from both coins, and log 0 = -inf.
    a = log_joint(heads, tosses, theta_a, theta_b, pi)
    with np.errstate(divide="ignore"):
        return float(np.log(np.exp(a).sum(axis=1)).sum())


# For each wrong answer: the function it replaces, and the checks (test functions of the
# master notebook, by question) that must fail. Every check not listed must pass. A
# mistake in log_joint also fails the checks of later questions whose right answers call
# the student's own log_joint, and a mistake in any step fails the checks of em (question
# 5), which calls the student's steps: those checks are aimed at exactly these mistakes.
MISTAKES = {
    "log_joint_without_coefficient": (
        "log_joint", {"q1": {"test_short_sets", "test_long_sets", "test_certain_coin",
                             "test_one_coin_only"},
                      "q4": {"test_short_sets", "test_long_sets", "test_certain_coin",
                             "test_unequal_lengths"},
                      "q5": {"test_history_is_ell"}}),
    "log_joint_of_probabilities": (
        "log_joint", {"q1": {"test_long_sets"}, "q2": {"test_long_sets"},
                      "q4": {"test_long_sets"}, "q5": {"test_long_sets"}}),
    "e_step_hard": (
        "e_step", {"q2": {"test_short_sets", "test_long_sets", "test_certain_coin",
                          "test_unequal_lengths"},
                   "q5": {"test_fixed_point", "test_unequal_lengths", "test_long_sets"}}),
    "e_step_without_weights": (
        "e_step", {"q2": {"test_short_sets", "test_long_sets", "test_certain_coin",
                          "test_unequal_lengths"},
                   "q5": {"test_never_decreases", "test_fixed_point",
                          "test_unequal_lengths", "test_long_sets"}}),
    "e_step_normalised_over_sets": (
        "e_step", {"q2": {"test_rows", "test_short_sets", "test_long_sets",
                          "test_certain_coin", "test_unequal_lengths"},
                   "q5": {"test_never_decreases", "test_fixed_point",
                          "test_unequal_lengths", "test_long_sets"}}),
    "m_step_mean_of_shares": (
        "m_step", {"q3": {"test_unequal_lengths", "test_long_sets"},
                   "q5": {"test_fixed_point", "test_unequal_lengths"}}),
    "m_step_keeps_pi_half": (
        "m_step", {"q3": {"test_equal_lengths", "test_one_set_for_b", "test_unequal_lengths",
                          "test_long_sets"},
                   "q5": {"test_fixed_point", "test_unequal_lengths", "test_long_sets"}}),
    "log_likelihood_of_likelier_coin": (
        "log_likelihood", {"q4": {"test_short_sets", "test_long_sets", "test_certain_coin",
                                  "test_unequal_lengths"},
                           "q5": {"test_history_is_ell", "test_long_sets"}}),
    "log_likelihood_without_shift": (
        "log_likelihood", {"q4": {"test_long_sets"}}),
}
