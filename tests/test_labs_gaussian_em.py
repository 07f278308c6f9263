"""Tests of emlib.labs.gaussian_em, the checks of lab 3: the references agree with
emlib and scikit-learn, right answers pass, and wrong ones fail with a message that
names the case and what to look at."""

import numpy as np
import pytest

import emlib
from emlib.datasets import three_blobs_2d, three_blobs_2d_params
from emlib.gaussian import estimate_gaussian_parameters
from emlib.labs import Case
from emlib.labs.gaussian_em import (
    check_em_convergence,
    check_em_iterates,
    check_history_never_decreases,
    check_moved_data,
    check_ridge,
    check_scaled_responsibilities,
    emlib_fit,
    numpy_m_step,
    reference_steps,
    scipy_e_step,
    sklearn_fit,
)

P = three_blobs_2d_params()
X, _ = three_blobs_2d(200, random_state=3)
START = (np.full(3, 1 / 3), X[[0, 1, 2]], np.array([np.cov(X.T)] * 3))


def fit_gmm(X, weights, means, covariances, reg_covar=1e-6, tol=1e-3, max_iter=100):
    """A right loop, calling the e_step and m_step of this module's namespace."""
    history = []
    for _ in range(max_iter):
        resp, log_likelihood = e_step(X, weights, means, covariances)
        weights, means, covariances = m_step(X, resp, reg_covar)
        history.append(log_likelihood)
        if len(history) > 1 and abs(history[-1] - history[-2]) < tol:
            break
    return weights, means, covariances, history


def e_step(X, weights, means, covariances):
    # Deliberately wrong: it must never be called by the loop's checks.
    raise RuntimeError("the student's e_step was called")


def m_step(X, resp, reg_covar):
    raise RuntimeError("the student's m_step was called")


def loop_case(**kwargs):
    return Case("blobs", (X, *START), "the loop", {"reg_covar": 1e-6, **kwargs})


def test_scipy_e_step_agrees_with_emlib():
    resp, mean_ll = scipy_e_step(X, P["weights"], P["means"], P["covariances"])
    model = emlib.GaussianMixture.from_parameters(P["weights"], P["means"], P["covariances"])
    np.testing.assert_allclose(resp, model.predict_proba(X), rtol=1e-10, atol=1e-14)
    assert mean_ll == pytest.approx(model.score(X), rel=1e-12)


def test_numpy_m_step_agrees_with_emlib_and_adds_the_ridge():
    resp, _ = scipy_e_step(X, P["weights"], P["means"], P["covariances"])
    weights, means, covariances = numpy_m_step(X, resp, 0.01)
    nk, em_means, em_covariances = estimate_gaussian_parameters(X, resp, 0.01, "full")
    np.testing.assert_allclose(weights, nk / len(X), rtol=1e-12)
    np.testing.assert_allclose(means, em_means, rtol=1e-12)
    np.testing.assert_allclose(covariances, em_covariances, rtol=1e-10, atol=1e-14)


def test_numpy_m_step_of_a_one_point_component_is_the_ridge():
    resp = np.zeros((len(X), 2))
    resp[:, 0] = 1.0
    resp[5] = [0.0, 1.0]
    _, means, covariances = numpy_m_step(X, resp, 1e-3)
    np.testing.assert_array_equal(means[1], X[5])
    np.testing.assert_allclose(covariances[1], 1e-3 * np.eye(2), rtol=1e-12, atol=0)


def test_sklearn_and_emlib_give_the_same_iterates():
    for t in (1, 3):
        w, m, S, history, n_iter = sklearn_fit(X, *START, 1e-6, 0.0, t)
        params, em_history = emlib_fit(X, *START, 1e-6, 0.0, t)
        assert n_iter == t == len(history)
        np.testing.assert_allclose(S, params[t]["covariances"], rtol=1e-9)
        np.testing.assert_allclose(history, em_history, rtol=1e-12)


def test_reference_steps_swaps_the_steps_and_puts_them_back():
    namespace = fit_gmm.__globals__
    with reference_steps(fit_gmm):
        assert namespace["e_step"] is scipy_e_step and namespace["m_step"] is numpy_m_step
    assert namespace["e_step"] is e_step and namespace["m_step"] is m_step


def test_a_right_loop_passes_every_loop_check():
    check_em_iterates(fit_gmm, loop_case(), [1, 2, 4])
    check_em_iterates(fit_gmm, loop_case(), [1, 5], reference="emlib")
    check_em_convergence(fit_gmm, loop_case(tol=1e-3, max_iter=100))
    case = Case("blobs", (X, *START), "", {"reg_covar": 0.0, "tol": 0.0, "max_iter": 30})
    check_history_never_decreases(fit_gmm, case)


def test_a_loop_that_tests_before_the_m_step_fails_where_it_stops():
    def stops_early(X, weights, means, covariances, reg_covar=1e-6, tol=1e-3, max_iter=100):
        history = []
        for _ in range(max_iter):
            resp, log_likelihood = e_step(X, weights, means, covariances)
            history.append(log_likelihood)
            if len(history) > 1 and abs(history[-1] - history[-2]) < tol:
                break
            weights, means, covariances = m_step(X, resp, reg_covar)
        return weights, means, covariances, history

    check_em_iterates(stops_early, loop_case(), [1, 3])  # tol=0: never stops early
    at_the_stop = r"(?s)^case 'blobs': at the stop .*Look at: the loop"
    with pytest.raises(AssertionError, match=at_the_stop):
        check_em_convergence(stops_early, loop_case(tol=1e-3, max_iter=100))


def test_a_loop_with_a_relative_tolerance_runs_another_number_of_iterations():
    def relative(X, weights, means, covariances, reg_covar=1e-6, tol=1e-3, max_iter=100):
        history = []
        for _ in range(max_iter):
            resp, log_likelihood = e_step(X, weights, means, covariances)
            weights, means, covariances = m_step(X, resp, reg_covar)
            history.append(log_likelihood)
            if len(history) > 1 and abs(1 - history[-2] / history[-1]) < tol:
                break
        return weights, means, covariances, history

    with pytest.raises(AssertionError, match=r"your loop ran \d+ iteration.*scikit-learn"):
        check_em_convergence(relative, loop_case(tol=1e-3, max_iter=100))


def test_a_history_that_falls_or_is_missing_is_reported():
    def reversed_history(*args, **kwargs):
        w, m, S, history = fit_gmm(*args, **kwargs)
        return w, m, S, history[::-1]

    case = Case("blobs", (X, *START), "history", {"reg_covar": 0.0, "tol": 0.0, "max_iter": 10})
    with pytest.raises(AssertionError, match=r"(?s)your history falls from .*Look at: history"):
        check_history_never_decreases(reversed_history, case)
    with pytest.raises(AssertionError, match="returns nothing"):
        check_history_never_decreases(lambda *a, **k: None, case)
    with pytest.raises(AssertionError, match="history has 9 value"):
        check_em_iterates(lambda *a, **k: fit_gmm(*a, **k)[:3] + (list(range(9)),),
                          loop_case(), [10])


def test_an_ambiguous_tolerance_is_the_test_authors_fault():
    history = sklearn_fit(X, *START, 1e-6, 0.0, 6)[3]
    tol = abs(history[4] - history[3])
    with pytest.raises(RuntimeError, match="within rounding of tol"):
        check_em_convergence(fit_gmm, loop_case(tol=tol, max_iter=100))


def test_check_ridge_isolates_the_ridge():
    resp, _ = scipy_e_step(X, P["weights"], P["means"], P["covariances"])
    case = Case("blobs", (X, resp), "add reg_covar to the diagonal")
    check_ridge(numpy_m_step, case, 0.25)

    def everywhere(X, resp, reg_covar):
        w, m, S = numpy_m_step(X, resp, 0.0)
        return w, m, S + reg_covar

    def forgotten(X, resp, reg_covar):
        return numpy_m_step(X, resp, 0.0)

    with pytest.raises(AssertionError, match=r"and with reg_covar=0 differs"):
        check_ridge(everywhere, case, 0.25)
    with pytest.raises(AssertionError, match=r"you have 0, expected 0.25\n  Look at: add"):
        check_ridge(forgotten, case, 0.25)


def test_sklearn_fit_rebuilds_the_history_without_lower_bounds(monkeypatch):
    from sklearn.mixture import GaussianMixture

    expected = sklearn_fit(X, *START, 1e-6, 1e-3, 100)
    # As in scikit-learn before 1.7, which has no lower_bounds_.
    fit = GaussianMixture.fit

    def fit_without(self, *args, **kwargs):
        fit(self, *args, **kwargs)
        del self.lower_bounds_
        return self

    monkeypatch.setattr(GaussianMixture, "fit", fit_without)
    rebuilt = sklearn_fit(X, *START, 1e-6, 1e-3, 100)
    assert rebuilt[4] == expected[4] > 2
    np.testing.assert_allclose(rebuilt[3], expected[3], rtol=1e-13)


def _m_step_variant(divisor="nk", centred=True, nk_offset=0.0):
    """An M-step with one switchable mistake: the divisor of the scatter, centring on
    the mean or not, a constant added to N_k."""
    def m_step(X, resp, reg_covar):
        nk = resp.sum(axis=0) + nk_offset
        means = resp.T @ X / nk[:, None]
        covariances = []
        for k in range(resp.shape[1]):
            d = X - means[k] if centred else X
            scatter = (resp[:, k] * d.T) @ d
            if not centred:  # the shortcut E[x x^T] - mu mu^T
                scatter = scatter - nk[k] * np.outer(means[k], means[k])
            divide = nk[k] if divisor == "nk" else len(X)
            covariances.append(scatter / divide + reg_covar * np.eye(X.shape[1]))
        return resp.sum(axis=0) / len(X), means, np.array(covariances)

    return m_step


def _tiny_case():
    resp, _ = scipy_e_step(X, P["weights"], P["means"], P["covariances"])
    resp[:, 2] = 1e-20 * np.random.default_rng(0).uniform(size=len(X))
    resp[:, :2] *= (1 - resp[:, 2:]) / resp[:, :2].sum(axis=1, keepdims=True)
    return Case("tiny", (X, resp, 0.0), "divide by N_k itself")


def test_moving_the_data_catches_the_shortcut_and_nothing_else():
    resp, _ = scipy_e_step(X, P["weights"], P["means"], P["covariances"])
    case = Case("far", (0.1 * X, resp, 0.0), "use the deviations")
    for right in (numpy_m_step, _m_step_variant(), _m_step_variant(divisor="n")):
        check_moved_data(right, case, shift=(1e4, 1e4))
    with pytest.raises(AssertionError, match=r"(?s)^case 'far': with the data moved by "
                       r"\(10000, 10000\), your covariances and yours before the move "
                       r"differ at .*Look at: use the deviations"):
        check_moved_data(_m_step_variant(centred=False), case, shift=(1e4, 1e4))


def test_scaling_tiny_responsibilities_catches_a_padded_or_wrong_divisor():
    case = _tiny_case()
    def renormalises(X, resp, reg_covar):
        # Right: normalising valid responsibilities changes nothing.
        return numpy_m_step(X, resp / resp.sum(axis=1, keepdims=True), reg_covar)

    # Right, and wrong in ways that do not depend on the scale of one column.
    for passes in (numpy_m_step, renormalises, _m_step_variant(),
                   _m_step_variant(centred=False)):
        check_scaled_responsibilities(passes, case, component=2)
    with pytest.raises(AssertionError, match=r"your mean of component 2 and yours with "
                       r"those responsibilities multiplied by [0-9.]+e\+19 differ"):
        check_scaled_responsibilities(_m_step_variant(nk_offset=1e-10), case, 2)
    with pytest.raises(AssertionError, match=r"your covariance of component 2 .*differ"):
        check_scaled_responsibilities(_m_step_variant(divisor="n"), case, 2)
    with pytest.raises(AssertionError, match="m_step returns nothing"):
        check_scaled_responsibilities(lambda *args: None, case, 2)


def test_loop_mistakes_that_only_the_stopping_rule_or_the_iterates_show():
    def compares_with_itself(X, weights, means, covariances, reg_covar=1e-6, tol=1e-3,
                             max_iter=100):
        # The previous value is overwritten before the comparison: stops at once.
        history, previous = [], None
        for _ in range(max_iter):
            resp, log_likelihood = e_step(X, weights, means, covariances)
            weights, means, covariances = m_step(X, resp, reg_covar)
            history.append(log_likelihood)
            if previous is not None:
                previous = log_likelihood
                if abs(log_likelihood - previous) < tol:
                    break
            previous = log_likelihood
        return weights, means, covariances, history

    def records_the_new_parameters(X, weights, means, covariances, reg_covar=1e-6,
                                   tol=1e-3, max_iter=100):
        # The history holds l(theta_t), one E-step late.
        history = []
        resp, _ = e_step(X, weights, means, covariances)
        for _ in range(max_iter):
            weights, means, covariances = m_step(X, resp, reg_covar)
            resp, log_likelihood = e_step(X, weights, means, covariances)
            history.append(log_likelihood)
            if len(history) > 1 and abs(history[-1] - history[-2]) < tol:
                break
        return weights, means, covariances, history

    check_em_iterates(compares_with_itself, loop_case(), [1, 3])  # tol=0 hides it
    with pytest.raises(AssertionError, match=r"your loop ran 2 iteration"):
        check_em_convergence(compares_with_itself, loop_case(tol=1e-3, max_iter=100))
    with pytest.raises(AssertionError, match=r"after max_iter=1 .*your history differs"):
        check_em_iterates(records_the_new_parameters, loop_case(), [1, 3])
