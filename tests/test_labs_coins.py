"""Tests of emlib.labs.coins: the SciPy references of the two-coin lab are right, and
its checks pass right answers and fail wrong ones with messages that teach."""

import numpy as np
import pytest
from scipy.optimize import check_grad
from scipy.special import comb

from emlib.labs import Case, check_matches
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

HEADS = np.array([14, 4, 11, 16, 6, 13, 3, 9])
TOSSES = np.array([20, 12, 15, 20, 16, 18, 10, 20])
CASE = Case("eight sets", (), "the formula")


def em(heads, tosses, theta_a, theta_b, pi, n_iter):
    """Plain EM in closed form, written independently of the references."""
    h, n = heads.astype(float), tosses.astype(float)
    for _ in range(n_iter):
        like_a = pi * theta_a**h * (1 - theta_a) ** (n - h)
        like_b = (1 - pi) * theta_b**h * (1 - theta_b) ** (n - h)
        r = like_a / (like_a + like_b)
        theta_a = (r @ h) / (r @ n)
        theta_b = ((1 - r) @ h) / ((1 - r) @ n)
        pi = r.mean()
    return np.array([theta_a, theta_b, pi])


def test_log_joint_is_the_binomial_probability_with_its_weight():
    got = binomial_mixture_log_joint(HEADS, TOSSES, 0.6, 0.45, 0.3)
    direct = np.log(np.array([0.3, 0.7]) * comb(TOSSES, HEADS)[:, None]
                    * np.array([0.6, 0.45]) ** HEADS[:, None]
                    * np.array([0.4, 0.55]) ** (TOSSES - HEADS)[:, None])
    np.testing.assert_allclose(got, direct, rtol=1e-12)


def test_log_joint_of_a_certain_coin_is_zero_or_minus_infinity():
    got = binomial_mixture_log_joint(np.array([5, 2]), np.array([5, 4]), 1.0, 0.0, 0.5)
    assert got[0, 0] == np.log(0.5)
    assert got[1, 0] == -np.inf and got[0, 1] == -np.inf


def test_responsibilities_and_log_likelihood_agree_with_direct_sums():
    a = binomial_mixture_log_joint(HEADS, TOSSES, 0.6, 0.45, 0.3)
    p = np.exp(a)
    np.testing.assert_allclose(
        binomial_mixture_responsibilities(HEADS, TOSSES, 0.6, 0.45, 0.3),
        p / p.sum(axis=1, keepdims=True), rtol=1e-12)
    assert binomial_mixture_log_likelihood(HEADS, TOSSES, 0.6, 0.45, 0.3) == pytest.approx(
        np.log(p.sum(axis=1)).sum(), rel=1e-12)


def test_gradient_of_the_objective_matches_finite_differences():
    x = np.array([0.3, -0.4, 0.2])
    error = check_grad(lambda x: binomial_mixture_negative_log_likelihood(x, HEADS, TOSSES)[0],
                       lambda x: binomial_mixture_negative_log_likelihood(x, HEADS, TOSSES)[1],
                       x)
    assert error < 1e-5


def test_direct_maximum_is_the_fixed_point_of_em():
    got = binomial_mixture_mle(HEADS, TOSSES, 0.6, 0.45, 0.5)
    np.testing.assert_allclose(got, em(HEADS, TOSSES, 0.6, 0.45, 0.5, 500), atol=1e-8)


def test_m_step_by_optimisation_is_the_closed_form():
    resp = binomial_mixture_responsibilities(HEADS, TOSSES, 0.6, 0.45, 0.3)
    expected = [(resp[:, 0] @ HEADS) / (resp[:, 0] @ TOSSES),
                (resp[:, 1] @ HEADS) / (resp[:, 1] @ TOSSES), resp[:, 0].mean()]
    np.testing.assert_allclose(
        binomial_mixture_m_step_by_optimisation(HEADS, TOSSES, resp), expected, atol=1e-8)


def test_check_nondecreasing_allows_rounding_and_names_a_real_decrease():
    check_nondecreasing([-20.0, -19.0, -19.0 - 1e-14, -18.5], CASE)
    with pytest.raises(AssertionError, match=r"case 'eight sets'.*step 1 to step 2"
                       r"(.|\n)*Look at: the formula"):
        check_nondecreasing([-20.0, -19.0, -19.5], CASE)
    with pytest.raises(AssertionError, match="-inf at step 1"):
        check_nondecreasing([-20.0, -np.inf], CASE)


def test_check_same_maximum_accepts_the_swapped_labels_only_at_the_maximum():
    best = np.array([0.7, 0.4, 0.6])
    check_same_maximum(best, best, CASE)
    check_same_maximum([0.4, 0.7, 0.4], best, CASE)
    with pytest.raises(AssertionError, match="pi differs most"):
        check_same_maximum([0.7, 0.4, 0.5], best, CASE)
    with pytest.raises(AssertionError, match="holds nan"):
        check_same_maximum([np.nan, 0.4, 0.6], best, CASE)


# Further wrong answers, beyond those graded with otter in tests/labs/lab04_wrong.py: each
# is run here against the check its mistake must fail (cheap, no kernel), and a right
# answer written differently from the master's must pass the same checks.

LONG_HEADS = np.array([3, 45, 7, 60, 2, 30, 1, 70])
LONG_TOSSES = np.array([5, 80, 10, 100, 6, 50, 4, 90])


def em_steps(heads, tosses, theta_a, theta_b, pi, n_iter, *, update_resp=True,
             tosses_in_m_step=None):
    """EM with two switchable mistakes: responsibilities computed once (update_resp
    False), or an M-step that multiplies by one number of tosses for every set."""
    h, n = heads.astype(float), tosses.astype(float)
    resp = binomial_mixture_responsibilities(heads, tosses, theta_a, theta_b, pi)
    for _ in range(n_iter):
        if update_resp:
            resp = binomial_mixture_responsibilities(heads, tosses, theta_a, theta_b, pi)
        if tosses_in_m_step is None:
            theta_a, theta_b = (resp.T @ h) / (resp.T @ n)
        else:
            theta_a, theta_b = (resp.T @ h) / (tosses_in_m_step * resp.sum(axis=0))
        pi = resp[:, 0].mean()
    return np.array([theta_a, theta_b, pi])


def test_a_right_em_written_otherwise_reaches_the_direct_maximum_from_the_swapped_start():
    # Closed-form responsibilities through logaddexp, started with the labels swapped.
    h, n = LONG_HEADS.astype(float), LONG_TOSSES.astype(float)
    theta_a, theta_b, pi = 0.4, 0.7, 0.5
    for _ in range(300):
        a = binomial_mixture_log_joint(LONG_HEADS, LONG_TOSSES, theta_a, theta_b, pi)
        r = np.exp(a[:, 0] - np.logaddexp(a[:, 0], a[:, 1]))
        theta_a, theta_b, pi = (r @ h) / (r @ n), ((1 - r) @ h) / ((1 - r) @ n), r.mean()
    check_same_maximum([theta_a, theta_b, pi],
                       binomial_mixture_mle(LONG_HEADS, LONG_TOSSES, 0.7, 0.4, 0.5), CASE)


def test_check_same_maximum_fails_responsibilities_that_are_never_updated():
    got = em_steps(LONG_HEADS, LONG_TOSSES, 0.7, 0.4, 0.5, 300, update_resp=False)
    with pytest.raises(AssertionError, match="is not the maximum"):
        check_same_maximum(got, binomial_mixture_mle(LONG_HEADS, LONG_TOSSES, 0.7, 0.4, 0.5),
                           CASE)


def test_an_m_step_with_one_length_for_all_sets_fails_only_on_unequal_lengths():
    # theta = sum r h / (n sum r), the chapter's exercise with its n = 10 generalised
    # wrongly: right when every set has n tosses, wrong otherwise.
    def m_step(heads, tosses, resp):
        return (resp.T @ heads) / (tosses[0] * resp.sum(axis=0)), resp[:, 0].mean()

    def m_step_flat(heads, tosses, resp):
        theta, pi = m_step(heads, tosses, resp)
        return np.array([*theta, pi])

    equal = np.full(8, 20)
    resp = binomial_mixture_responsibilities(HEADS, equal, 0.6, 0.45, 0.3)
    check_matches(m_step_flat, binomial_mixture_m_step_by_optimisation,
                  [Case("equal lengths", (HEADS, equal, resp), "")], rtol=0.0, atol=1e-7)
    resp = binomial_mixture_responsibilities(LONG_HEADS, LONG_TOSSES, 0.68, 0.55, 0.35)
    with pytest.raises(AssertionError, match=r"eight sets of 4 to 100(.|\n)*Look at: n_m"):
        check_matches(m_step_flat, binomial_mixture_m_step_by_optimisation,
                      [Case("eight sets of 4 to 100 tosses",
                            (LONG_HEADS, LONG_TOSSES, resp), "n_m")],
                      rtol=0.0, atol=1e-7)
    got = em_steps(LONG_HEADS, LONG_TOSSES, 0.7, 0.4, 0.5, 300,
                   tosses_in_m_step=LONG_TOSSES[0])
    with pytest.raises(AssertionError):
        check_same_maximum(got, binomial_mixture_mle(LONG_HEADS, LONG_TOSSES, 0.7, 0.4, 0.5),
                           CASE)


def test_a_log_joint_that_clips_theta_fails_where_a_set_is_impossible():
    def clipped(heads, tosses, theta_a, theta_b, pi):
        thetas = np.clip([theta_a, theta_b], 1e-10, 1 - 1e-10)
        return (np.log([pi, 1 - pi]) + np.log(comb(tosses, heads))[:, None]
                + heads[:, None] * np.log(thetas)
                + (tosses - heads)[:, None] * np.log1p(-thetas))

    heads, tosses = np.array([5, 0, 3, 8, 1]), np.array([5, 4, 8, 8, 6])
    check_matches(clipped, binomial_mixture_log_joint,
                  [Case("short sets", (HEADS, TOSSES, 0.6, 0.45, 0.3), "")])
    with pytest.raises(AssertionError, match=r"expected -inf"):
        check_matches(clipped, binomial_mixture_log_joint,
                      [Case("theta_a = 1", (heads, tosses, 1.0, 0.3, 0.4), "")])
