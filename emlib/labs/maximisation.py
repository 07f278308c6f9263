r"""M-steps found by numerical maximisation, to check a closed form against (lab 6).

The M-step of a Bernoulli mixture has a closed form (Bishop, 2006, Section 9.3.3), which a
student derives and codes. A check that compared the student's code with the same closed
form, written once more by us, would only show that two people made the same algebra. The
functions here find the maximiser *numerically* instead, from the objective itself, so a
mistake in the algebra (the wrong denominator, pseudo-counts in the wrong place) is caught
by something that never used that algebra.

Given responsibilities :math:`r_{nk}` and binary data :math:`x_{nd}`, the M-step of
MAP-EM with the symmetric priors :math:`\mathrm{Beta}(a + 1, a + 1)` on every pixel
probability and :math:`\mathrm{Dirichlet}(b + 1, \dots, b + 1)` on the weights maximises

.. math::

    \sum_{n,k} r_{nk} \Big(\log \pi_k + \sum_d \big[x_{nd} \log \mu_{kd}
    + (1 - x_{nd}) \log (1 - \mu_{kd})\big]\Big)
    + a \sum_{k,d} \big[\log \mu_{kd} + \log (1 - \mu_{kd})\big]
    + b \sum_k \log \pi_k

(:math:`a = b = 0` is maximum likelihood). It separates: every :math:`\mu_{kd}` maximises
:math:`(s_{kd} + a) \log \mu + (N_k - s_{kd} + a) \log (1 - \mu)` on its own, with
:math:`s_{kd} = \sum_n r_{nk} x_{nd}` and :math:`N_k = \sum_n r_{nk}`, a concave function
whose derivative is found to be zero by bracketing (:func:`scipy.optimize.brentq`); the
weights maximise :math:`\sum_k (N_k + b) \log \pi_k` on the simplex, found by
:func:`scipy.optimize.minimize` over unconstrained logits.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import brentq, minimize

__all__ = ["numerical_bernoulli_m_step"]


def _best_probability(on: float, off: float) -> float:
    r"""The :math:`\mu \in [0, 1]` that maximises :math:`on \log\mu + off \log(1 - \mu)`.

    With both counts positive the maximiser is interior, where the derivative
    :math:`on/\mu - off/(1 - \mu)`, which decreases from :math:`+\infty` to
    :math:`-\infty`, is zero; with a count of zero it is the end of the interval.
    """
    if on <= 0.0 and off <= 0.0:
        raise ValueError("no data and no prior for this pixel: every mu is a maximiser")
    if on <= 0.0:
        return 0.0
    if off <= 0.0:
        return 1.0

    def slope(mu):
        return on / mu - off / (1.0 - mu)

    tiny = 1e-300
    return brentq(slope, tiny, 1.0 - 1e-16, xtol=1e-300, rtol=4 * np.finfo(float).eps,
                  maxiter=2000)


def numerical_bernoulli_m_step(X, resp, pixel_prior=0.0, weight_prior=0.0):
    r"""Weights and pixel probabilities that maximise the M-step objective, numerically.

    Maximises the expected complete-data log-likelihood plus the log-prior of the module
    docstring without its closed form: each :math:`\mu_{kd}` by finding the zero of the
    derivative of :math:`(s_{kd} + a) \log \mu + (N_k - s_{kd} + a) \log (1 - \mu)` with
    :func:`scipy.optimize.brentq` (to about :math:`10^{-15}` relative), the weights by
    maximising :math:`\sum_k (N_k + b) \log \pi_k` over softmax logits with BFGS (to
    about :math:`10^{-8}` relative, limited by the precision of the line search).

    Meant for small checks (a few thousand pixel probabilities): it loops in Python.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features), entries 0 or 1
    resp : array-like of shape (n_samples, n_components)
        Responsibilities, rows summing to one.
    pixel_prior : float, default=0.0
        Pseudo-count :math:`a \ge 0` of the Beta prior on every pixel probability.
    weight_prior : float, default=0.0
        Pseudo-count :math:`b \ge 0` of the Dirichlet prior on the weights.

    Returns
    -------
    weights : ndarray of shape (n_components,)
    means : ndarray of shape (n_components, n_features)
        A pixel with no "on" count and no prior gets 0 exactly (the maximiser is at the
        end of the interval), one with no "off" count 1.

    Raises
    ------
    ValueError
        If a component has no responsibility and no pixel prior (then every
        :math:`\mu_{kd}` maximises the objective), or if every weight count is zero.
    """
    X = np.asarray(X, dtype=float)
    resp = np.asarray(resp, dtype=float)
    a, b = float(pixel_prior), float(weight_prior)
    if a < 0 or b < 0:
        raise ValueError("pixel_prior and weight_prior must be >= 0")
    counts = resp.sum(axis=0)
    on = resp.T @ X
    off = counts[:, np.newaxis] - on
    means = np.empty_like(on)
    for k, d in np.ndindex(*on.shape):
        # A rounding error can make N_k - s_kd a hair below 0 when every image is on.
        means[k, d] = _best_probability(on[k, d] + a, max(off[k, d], 0.0) + a)

    c = counts + b
    if not np.any(c > 0):
        raise ValueError("every component has zero weight count")
    free = c > 0  # a component with count 0 has weight 0: log-odds -inf

    def negative(theta):
        log_p = theta - np.logaddexp.reduce(theta)
        return -float(c[free] @ log_p)

    def gradient(theta):
        p = np.exp(theta - np.logaddexp.reduce(theta))
        return -(c[free] - c[free].sum() * p)

    found = minimize(negative, np.zeros(int(free.sum())), jac=gradient, method="BFGS",
                     options={"gtol": 1e-13, "maxiter": 1000})
    weights = np.zeros(len(c))
    weights[free] = np.exp(found.x - np.logaddexp.reduce(found.x))
    return weights, means
