r"""References and checks for the two-coin lab (lab 4): a mixture of two binomials.

Set :math:`m` of :math:`M` holds :math:`n_m` tosses of one coin, :math:`h_m` of them
heads; the coin is A with probability :math:`\pi` and B with probability :math:`1 - \pi`,
and the coins show heads with probabilities :math:`\theta_A` and :math:`\theta_B`. The
marginal log-likelihood is

.. math::

    \ell(\theta_A, \theta_B, \pi) = \sum_{m=1}^{M} \log \Bigl[
    \pi \binom{n_m}{h_m} \theta_A^{h_m} (1 - \theta_A)^{n_m - h_m}
    + (1 - \pi) \binom{n_m}{h_m} \theta_B^{h_m} (1 - \theta_B)^{n_m - h_m} \Bigr].

The references below are written with SciPy only (:func:`scipy.stats.binom.logpmf`,
:func:`scipy.special.logsumexp`, :func:`scipy.optimize.minimize`), not with the lab's
solution, so that the lab's checks compare the student's EM with computations that do not
share its derivation. :func:`check_nondecreasing` checks the monotonicity of an EM
history, and :func:`check_same_maximum` compares a maximiser with the reference maximum up
to the swap of the two coins' labels, under which :math:`\ell` is unchanged.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize, minimize_scalar
from scipy.special import expit, logsumexp
from scipy.stats import binom

from emlib.labs.checks import Case, _as_array, _fail

__all__ = [
    "binomial_mixture_log_joint",
    "binomial_mixture_log_likelihood",
    "binomial_mixture_m_step_by_optimisation",
    "binomial_mixture_mle",
    "binomial_mixture_negative_log_likelihood",
    "binomial_mixture_responsibilities",
    "check_nondecreasing",
    "check_same_maximum",
]


def binomial_mixture_log_joint(heads, tosses, theta_a, theta_b, pi):
    r"""The log-joint :math:`a_{mk} = \log \pi_k + \log \mathrm{Bin}(h_m \mid n_m, \theta_k)`.

    Computed with :func:`scipy.stats.binom.logpmf`, which follows the convention
    :math:`0 \log 0 = 0` (a coin with :math:`\theta = 0` gives a set without heads the
    probability one); a weight of 0 gives :math:`-\infty`.

    Parameters
    ----------
    heads, tosses : array-like of shape (M,)
        Heads :math:`h_m` and tosses :math:`n_m` of each set.
    theta_a, theta_b : float
        Probabilities of heads of coins A and B, in :math:`[0, 1]`.
    pi : float
        Probability of coin A, in :math:`[0, 1]`.

    Returns
    -------
    ndarray of shape (M, 2)
        Column 0 for coin A, column 1 for coin B.
    """
    heads = np.asarray(heads, dtype=float)[:, np.newaxis]
    tosses = np.asarray(tosses, dtype=float)[:, np.newaxis]
    thetas = np.array([theta_a, theta_b], dtype=float)
    with np.errstate(divide="ignore"):
        log_weights = np.log(np.array([pi, 1.0 - pi], dtype=float))
    return log_weights + binom.logpmf(heads, tosses, thetas)


def binomial_mixture_responsibilities(heads, tosses, theta_a, theta_b, pi):
    r"""The posterior :math:`r_{mk} = \exp(a_{mk} - \operatorname{logsumexp}_j a_{mj})`.

    Same arguments as :func:`binomial_mixture_log_joint`; returns shape (M, 2).
    """
    a = binomial_mixture_log_joint(heads, tosses, theta_a, theta_b, pi)
    return np.exp(a - logsumexp(a, axis=1, keepdims=True))


def binomial_mixture_log_likelihood(heads, tosses, theta_a, theta_b, pi):
    r"""The marginal log-likelihood :math:`\ell = \sum_m \operatorname{logsumexp}_k a_{mk}`.

    Same arguments as :func:`binomial_mixture_log_joint`; returns a float.
    """
    a = binomial_mixture_log_joint(heads, tosses, theta_a, theta_b, pi)
    return float(logsumexp(a, axis=1).sum())


def binomial_mixture_mle(heads, tosses, theta_a, theta_b, pi):
    r"""Maximise :math:`\ell` directly with :func:`scipy.optimize.minimize`, without EM.

    The three parameters are optimised on the logit scale, :math:`\theta = 1 / (1 +
    e^{-x})`, where they are unconstrained, by BFGS with the exact gradient. Differentiating
    the logarithm of the sum in :math:`\ell` and using :math:`d\theta / dx = \theta (1 -
    \theta)` gives

    .. math::

        \frac{\partial \ell}{\partial x_{\theta_k}} = \sum_m w_{mk} (h_m - n_m \theta_k),
        \qquad
        \frac{\partial \ell}{\partial x_{\pi}} = \sum_m (w_{mA} - \pi),

    where :math:`w_{mk}` is the share of term :math:`k` in the sum of set :math:`m`
    (computed here with :func:`scipy.stats.binom.logpmf` and
    :func:`scipy.special.logsumexp`; ``tests/test_labs_coins.py`` compares this gradient
    with finite differences). On the data sets of the lab the maximiser agrees with EM run
    to convergence to better than :math:`10^{-8}` in every parameter. The start decides
    which local maximum is reached, and may reach it with the coins' labels swapped.

    Parameters
    ----------
    heads, tosses : array-like of shape (M,)
    theta_a, theta_b, pi : float
        The starting point, strictly between 0 and 1.

    Returns
    -------
    ndarray of shape (3,)
        :math:`(\theta_A, \theta_B, \pi)` at the maximum found.
    """
    heads = np.asarray(heads, dtype=float)
    tosses = np.asarray(tosses, dtype=float)
    objective = binomial_mixture_negative_log_likelihood
    start = np.array([theta_a, theta_b, pi], dtype=float)
    x = minimize(objective, np.log(start / (1 - start)), args=(heads, tosses), jac=True,
                 method="BFGS", options={"gtol": 1e-9, "maxiter": 2000}).x
    return expit(x)


def binomial_mixture_negative_log_likelihood(x, heads, tosses):
    r""":math:`-\ell` and its gradient at the logits ``x`` of :math:`(\theta_A, \theta_B,
    \pi)`, as :func:`binomial_mixture_mle` minimises them.

    Returns
    -------
    value : float
    gradient : ndarray of shape (3,)
    """
    theta_a, theta_b, pi = expit(np.asarray(x, dtype=float))
    a = binomial_mixture_log_joint(heads, tosses, theta_a, theta_b, pi)
    per_set = logsumexp(a, axis=1, keepdims=True)
    shares = np.exp(a - per_set)
    heads = np.asarray(heads, dtype=float)
    tosses = np.asarray(tosses, dtype=float)
    gradient = np.array([shares[:, 0] @ (heads - tosses * theta_a),
                         shares[:, 1] @ (heads - tosses * theta_b),
                         np.sum(shares[:, 0] - pi)])
    return -float(per_set.sum()), -gradient


def binomial_mixture_m_step_by_optimisation(heads, tosses, resp):
    r"""The M-step found numerically: maximise :math:`Q` with a bounded scalar optimiser.

    With responsibilities :math:`r_{mk}` fixed, the expected complete-data log-likelihood
    separates into one function of each parameter,

    .. math::

        Q_k(\theta_k) = \sum_m r_{mk} \bigl[h_m \log\theta_k
        + (n_m - h_m) \log(1 - \theta_k)\bigr], \qquad
        Q_\pi(\pi) = \sum_m \bigl[r_{mA} \log \pi + r_{mB} \log(1 - \pi)\bigr],

    each concave on :math:`(0, 1)`; :func:`scipy.optimize.minimize_scalar` (bounded
    Brent) maximises each one. A maximiser found from function values is exact only to
    about :math:`\sqrt{\epsilon} \approx 10^{-8}` times the scale of the problem, so
    compare with ``atol`` of about ``1e-7``.

    Parameters
    ----------
    heads, tosses : array-like of shape (M,)
    resp : array-like of shape (M, 2)
        Responsibilities of coins A and B for each set.

    Returns
    -------
    ndarray of shape (3,)
        :math:`(\theta_A, \theta_B, \pi)`.
    """
    heads = np.asarray(heads, dtype=float)
    tails = np.asarray(tosses, dtype=float) - heads
    resp = np.asarray(resp, dtype=float)
    bounds = (1e-12, 1 - 1e-12)
    options = {"xatol": 1e-13, "maxiter": 2000}

    def argmax(weight_of_log, weight_of_log1m):
        return minimize_scalar(
            lambda t: -(weight_of_log * np.log(t) + weight_of_log1m * np.log1p(-t)),
            bounds=bounds, method="bounded", options=options).x

    return np.array([argmax(resp[:, 0] @ heads, resp[:, 0] @ tails),
                     argmax(resp[:, 1] @ heads, resp[:, 1] @ tails),
                     argmax(resp[:, 0].sum(), resp[:, 1].sum())])


def check_nondecreasing(history, case: Case, *, rtol: float = 1e-12) -> None:
    r"""Check that an EM history of log-likelihoods never decreases.

    A step may go down by rounding only: :math:`\ell_{t+1} \ge \ell_t - \mathrm{rtol}
    \,(1 + |\ell_t|)`. Near convergence EM's steps change :math:`\ell` by less than its
    rounding error, which comes from the terms :math:`h_m \log\theta_k` and
    :math:`(n_m - h_m) \log(1 - \theta_k)`: each is as large as :math:`n_m` in magnitude
    while they cancel to a log-joint of a few units, so the error is about
    :math:`10^{-16} \sum_m n_m`, not :math:`10^{-16} |\ell|`. On the lab's longest case
    (30 sets of 10,000 tosses, :math:`|\ell| \approx 190`) a right EM goes down by at
    most about :math:`2 \times 10^{-11}` in 300 steps, an eighth of the allowance
    :math:`1.9 \times 10^{-10}` of ``rtol = 1e-12``, under each BLAS kernel tried
    (default, Haswell, Prescott); the wrong answers that the lab's tests catch this way
    go down by :math:`4 \times 10^{-7}` or more. Much longer sets would need a larger
    ``rtol``.

    Parameters
    ----------
    history : array-like of shape (T,)
        :math:`\ell` after each iteration, in order.
    case : Case
        The case the history was computed on, named in the message.
    rtol : float
        Relative tolerance for rounding.

    Raises
    ------
    AssertionError
        Naming the case, the first step that went down and by how much.
    """
    values = _as_array(history, case, "your history")
    if values.ndim != 1 or values.size < 2:
        raise _fail(case, f"your history has shape {values.shape}; expected a 1-D array "
                          "with one log-likelihood per iteration")
    if not np.all(np.isfinite(values)):
        first = int(np.argmax(~np.isfinite(values)))
        raise _fail(case, f"your history holds {values[first]} at step {first}; the "
                          "log-likelihood of these data is finite at every step")
    drops = values[:-1] - values[1:] - rtol * (1 + np.abs(values[:-1]))
    if np.any(drops > 0):
        step = int(np.argmax(drops > 0))
        raise _fail(case, f"the log-likelihood went down from step {step} to step "
                          f"{step + 1}: {values[step]:.12g} -> {values[step + 1]:.12g} "
                          f"(by {values[step] - values[step + 1]:.3g}); exact EM never "
                          "lets it decrease")


def check_same_maximum(got, expected, case: Case, *, atol: float = 1e-6) -> None:
    r"""Check that :math:`(\theta_A, \theta_B, \pi)` is the reference maximum.

    The likelihood is unchanged when the coins' labels are swapped,
    :math:`\ell(\theta_A, \theta_B, \pi) = \ell(\theta_B, \theta_A, 1 - \pi)`, so a
    maximiser matches either ``expected`` or its swap; the closer one is compared,
    entry by entry, within ``atol``.

    Parameters
    ----------
    got : array-like of shape (3,)
        The student's :math:`(\theta_A, \theta_B, \pi)`.
    expected : array-like of shape (3,)
        The reference maximum, for example from :func:`binomial_mixture_mle`.
    case : Case
        Named in the message.
    atol : float
        Largest difference allowed in any parameter.

    Raises
    ------
    AssertionError
        Naming the case and the parameter that differs most.
    """
    got = _as_array(got, case, "your (theta_a, theta_b, pi)")
    if got.shape != (3,):
        raise _fail(case, f"your (theta_a, theta_b, pi) has shape {got.shape}, expected "
                          "(3,)")
    if np.any(np.isnan(got)):
        raise _fail(case, f"your end point ({got[0]}, {got[1]}, {got[2]}) holds nan; "
                          "nan comes from 0/0 (a coin with no responsibility left, or "
                          "responsibilities that underflowed) or inf - inf")
    expected = np.asarray(expected, dtype=float)
    swapped = np.array([expected[1], expected[0], 1.0 - expected[2]])
    target = min((expected, swapped), key=lambda e: np.max(np.abs(got - e)))
    error = np.abs(got - target)
    if np.max(error) > atol:
        names = ("theta_a", "theta_b", "pi")
        worst = int(np.argmax(error))
        raise _fail(case, f"your end point ({got[0]:.8f}, {got[1]:.8f}, {got[2]:.8f}) is "
                          f"not the maximum of the log-likelihood found by direct "
                          f"optimisation, ({target[0]:.8f}, {target[1]:.8f}, "
                          f"{target[2]:.8f}) (coins' labels matched); {names[worst]} "
                          f"differs most")
