"""The numerical M-step of lab 6 agrees with the closed form, and catches wrong ones."""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

import emlib
from emlib.labs import Case, check_matches
from emlib.labs.maximisation import numerical_bernoulli_m_step


def closed_form(X, resp, a=0.0, b=0.0):
    """Bishop's (2006) Section 9.3.3 M-step with pseudo-counts: eq-bm-map."""
    counts = resp.sum(axis=0)
    means = (resp.T @ X + a) / (counts + 2 * a)[:, None]
    return (counts + b) / (len(X) + len(counts) * b), means


def data(seed, n=40, d=7, k=3):
    rng = np.random.default_rng(seed)
    X = (rng.random((n, d)) < 0.4).astype(float)
    return X, rng.dirichlet(np.ones(k), size=n)


@pytest.mark.parametrize(("a", "b"), [(0.0, 0.0), (0.5, 2.0), (1.0, 0.0), (0.01, 1.0)])
def test_agrees_with_the_closed_form(a, b):
    X, resp = data(1)
    weights, means = numerical_bernoulli_m_step(X, resp, a, b)
    expected_weights, expected_means = closed_form(X, resp, a, b)
    np.testing.assert_allclose(weights, expected_weights, rtol=1e-8)
    np.testing.assert_allclose(means, expected_means, rtol=1e-12, atol=1e-15)


def test_agrees_with_emlib_one_iteration():
    # emlib's own M-step, reached through its public API: one EM iteration from known
    # parameters, whose E-step gives the responsibilities below.
    rng = np.random.default_rng(2)
    X = (rng.random((60, 12)) < 0.3).astype(float)
    w, m = np.array([0.5, 0.3, 0.2]), rng.uniform(0.1, 0.9, size=(3, 12))
    resp = emlib.BernoulliMixture.from_parameters(w, m).predict_proba(X)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        fit = emlib.BernoulliMixture.from_parameters(
            w, m, pixel_prior=0.5, weight_prior=1.0, warm_start=True, max_iter=1,
            tol=0.0).fit(X)
    weights, means = numerical_bernoulli_m_step(X, resp, 0.5, 1.0)
    np.testing.assert_allclose(weights, fit.weights_, rtol=1e-8)
    np.testing.assert_allclose(means, fit.means_, rtol=1e-12)


def test_boundaries_and_empty_components():
    X = np.array([[1, 0, 1], [1, 0, 0], [0, 0, 1.0]])
    resp = np.array([[1.0, 0.0, 0.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    weights, means = numerical_bernoulli_m_step(X, resp[:, :2])
    # Component 0 saw images 0 and 1: pixel 0 always on, pixel 1 never.
    np.testing.assert_array_equal(means[0, :2], [1.0, 0.0])
    np.testing.assert_array_equal(means[1], X[2])
    # An empty component under a prior: mu = a / 2a = 1/2 and pi = b / (N + K b).
    weights, means = numerical_bernoulli_m_step(X, resp, 1.0, 1.0)
    np.testing.assert_allclose(means[2], 0.5, rtol=1e-12)
    np.testing.assert_allclose(weights[2], 1 / 6, rtol=1e-8)
    # Without a prior an empty component has no maximiser at all.
    with pytest.raises(ValueError, match="no data and no prior"):
        numerical_bernoulli_m_step(X, resp)
    with pytest.raises(ValueError, match=">= 0"):
        numerical_bernoulli_m_step(X, resp, -1.0)


def wrong_denominator(X, resp, a=0.0, b=0.0):
    weights, _ = closed_form(X, resp, a, b)
    return weights, (resp.T @ X + a) / (len(X) + 2 * a)


def pseudo_count_on_top(X, resp, a=0.0, b=0.0):
    weights, _ = closed_form(X, resp, a, b)
    return weights, (resp.T @ X + a) / resp.sum(axis=0)[:, None]


@pytest.mark.parametrize(("wrong", "a"), [(wrong_denominator, 0.0),
                                          (pseudo_count_on_top, 0.5)])
def test_a_check_against_it_fails_wrong_m_steps(wrong, a):
    X, resp = data(3)
    case = Case("40 images of 7 pixels", (X, resp, a, 0.0), "the denominator of mu")
    check_matches(closed_form, numerical_bernoulli_m_step, [case],
                  output=lambda out: out[1])
    with pytest.raises(AssertionError, match=r"(?s)case '40 images of 7 pixels'.*"
                                              r"largest difference.*Look at: the "):
        check_matches(wrong, numerical_bernoulli_m_step, [case],
                      output=lambda out: out[1])


# More wrong M-steps that students write, each checked against the numerical maximiser
# on the output it gets wrong (0: the weights, 1: the means), with the prior strengths
# that expose it; cheaper than planting each in the graded notebook.
def weight_denominator_without_k(X, resp, a=0.0, b=0.0):
    # b added once to the denominator of pi instead of K b: the weights do not sum to 1.
    counts = resp.sum(axis=0)
    return (counts + b) / (len(X) + b), closed_form(X, resp, a, b)[1]


def weight_prior_ignored(X, resp, a=0.0, b=0.0):
    counts = resp.sum(axis=0)
    return counts / len(X), closed_form(X, resp, a, b)[1]


def pixel_prior_once_in_denominator(X, resp, a=0.0, b=0.0):
    # a "on" pseudo-counts in the numerator, but only a (not 2a) in the denominator.
    counts = resp.sum(axis=0)
    return closed_form(X, resp, a, b)[0], (resp.T @ X + a) / (counts + a)[:, None]


def beta_parameters_as_pseudo_counts(X, resp, a=0.0, b=0.0):
    # The Beta(a + 1, a + 1) parameters used as pseudo-counts: the posterior mean under
    # that prior, (s + a + 1) / (N_k + 2a + 2), not its mode; wrong even when a = 0.
    counts = resp.sum(axis=0)
    return closed_form(X, resp, a, b)[0], (resp.T @ X + a + 1) / (counts + 2 * a + 2)[:, None]


def hard_assignments(X, resp, a=0.0, b=0.0):
    # Each image counted for its most responsible component only (k-means' M-step).
    return closed_form(X, np.eye(resp.shape[1])[resp.argmax(axis=1)], a, b)


@pytest.mark.parametrize(("wrong", "a", "b", "part"), [
    (weight_denominator_without_k, 0.0, 2.0, 0),
    (weight_prior_ignored, 0.5, 2.0, 0),
    (pixel_prior_once_in_denominator, 0.5, 0.0, 1),
    (beta_parameters_as_pseudo_counts, 0.0, 0.0, 1),
    (hard_assignments, 0.0, 0.0, 0),
    (hard_assignments, 0.0, 0.0, 1),
])
def test_it_catches_more_wrong_m_steps(wrong, a, b, part):
    X, resp = data(4)
    case = Case("40 images of 7 pixels", (X, resp, a, b), "eq-lab06-map")
    check_matches(closed_form, numerical_bernoulli_m_step, [case],
                  output=lambda out: out[part])
    with pytest.raises(AssertionError, match=r"largest difference"):
        check_matches(wrong, numerical_bernoulli_m_step, [case],
                      output=lambda out: out[part])


def right_but_different(X, resp, a=0.0, b=0.0):
    # Other valid formulas: einsum for the counts, the weights normalised by their own
    # sum (which is N + K b, since every row of resp sums to one), no clip.
    counts = np.einsum("nk->k", resp)
    means = (np.einsum("nk,nd->kd", resp, X) + a) / (counts[:, None] + 2 * a)
    weights = counts + b
    return weights / weights.sum(), means


@pytest.mark.parametrize(("a", "b"), [(0.0, 0.0), (0.5, 2.0), (1.0, 1.0)])
def test_a_right_but_different_m_step_passes(a, b):
    X, resp = data(5)
    case = Case("40 images of 7 pixels", (X, resp, a, b), "eq-lab06-map")
    for part in (0, 1):
        check_matches(right_but_different, numerical_bernoulli_m_step, [case],
                      output=lambda out, part=part: out[part])
