r"""Checks of a hand-written EM for a full-covariance Gaussian mixture (lab 3).

The lab asks for three functions: an E-step, an M-step and the loop that alternates them.
The checks here compare them with code we did not write:

* :func:`scipy_e_step`, the responsibilities and the mean log-likelihood from SciPy's
  :func:`scipy.stats.multivariate_normal` densities and :func:`scipy.special.logsumexp`,

  .. math::

      r_{nk} = \exp\Bigl(a_{nk} - \log \sum_j e^{a_{nj}}\Bigr), \qquad
      \ell = \frac1N \sum_n \log \sum_k e^{a_{nk}}, \qquad
      a_{nk} = \log \pi_k + \log \mathcal{N}(x_n \mid \mu_k, \Sigma_k);

* :func:`numpy_m_step`, the weighted averages and weighted covariances of NumPy
  (:func:`numpy.average`, :func:`numpy.cov` with ``aweights`` and ``bias=True``), which
  centre the data on the weighted mean before they multiply,

  .. math::

      N_k = \sum_n r_{nk}, \quad \pi_k = \frac{N_k}{N}, \quad
      \mu_k = \frac{1}{N_k} \sum_n r_{nk} x_n, \quad
      \Sigma_k = \frac{1}{N_k} \sum_n r_{nk} (x_n - \mu_k)(x_n - \mu_k)^\top
      + \varepsilon I,

  with :math:`\varepsilon` the ridge ``reg_covar`` (scikit-learn's M-step, Bishop 2006,
  eqs. 9.24 to 9.27, plus the ridge);
* :func:`sklearn_fit`, scikit-learn's ``GaussianMixture`` started from the same
  parameters (``weights_init``, ``means_init``, ``precisions_init``) and stopped after a
  given number of iterations, or by its own rule: it stops after the first iteration
  :math:`t` at which :math:`|\ell_t - \ell_{t-1}| <` ``tol``, where :math:`\ell_t` is
  the mean log-likelihood computed by the E-step of iteration :math:`t`, *before* that
  iteration's M-step, and returns the parameters after that M-step.

Three checks of the M-step test a property of the student's own results instead of a
value, so that each one fails only for the mistake it is aimed at:

* :func:`check_ridge`: the covariances computed with ``reg_covar`` = :math:`\varepsilon`
  minus those computed with ``reg_covar`` = 0 must be :math:`\varepsilon I`;
* :func:`check_moved_data`: moving every point by the same vector :math:`c` moves the
  means by :math:`c` and leaves the covariances as they are, since
  :math:`(x_n + c) - (\mu_k + c) = x_n - \mu_k`; a formula that subtracts two large
  numbers (:math:`E[xx^\top] - \mu\mu^\top`) loses that invariance far from the origin;
* :func:`check_scaled_responsibilities`: multiplying the responsibilities of one
  component by a constant :math:`s > 0` leaves its mean and covariance as they are, since
  both are ratios of sums of :math:`r_{nk}` with :math:`N_k` (degree zero in
  :math:`r_{\cdot k}`); a constant added to :math:`N_k` breaks this when :math:`N_k` is
  tiny. :func:`check_em_iterates`, :func:`check_em_convergence` and
:func:`check_history_never_decreases` check the loop; they run it with the reference
E- and M-steps in place of the student's (:func:`reference_steps`), so that a mistake in
a step is charged to that step's question only, and a failure of the loop's checks is
in the loop itself.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from contextlib import contextmanager

import numpy as np
from scipy.special import logsumexp
from scipy.stats import multivariate_normal

from emlib.labs.checks import Case, _as_array, _call, _fail, compare_arrays

__all__ = [
    "check_em_convergence",
    "check_em_iterates",
    "check_history_never_decreases",
    "check_moved_data",
    "check_ridge",
    "check_scaled_responsibilities",
    "element",
    "emlib_fit",
    "numpy_m_step",
    "reference_steps",
    "scipy_e_step",
    "sklearn_fit",
]


def element(index: int, returns: str) -> Callable:
    """A picker for the ``output`` argument of :func:`emlib.labs.check_matches`: entry
    ``index`` of the tuple a function returns, or an explanation if it returns no tuple.

    Parameters
    ----------
    index : int
        Which entry of the tuple to compare.
    returns : str
        What the function should return, as the lab writes it, for example
        ``"(resp, mean_log_likelihood)"``; its number of entries is the number of commas
        plus one.

    Returns
    -------
    callable
        Applied to the output of both the student's function and the reference.
    """
    size = returns.count(",") + 1

    def pick(out):
        if out is None or out is Ellipsis:
            raise AssertionError(
                "your function returns " + ("nothing" if out is None else "'...'")
                + f"; replace its ... with your code and return {returns}"
                + f"\n  Look at: the return statement, which must give {returns}")
        if not isinstance(out, tuple | list) or len(out) != size:
            raise AssertionError(
                f"your function returns a {type(out).__name__}, expected a tuple of "
                f"{size}, {returns}\n  Look at: the return statement, which must give "
                f"{returns}")
        return out[index]

    return pick


def scipy_e_step(X, weights, means, covariances):
    r"""Responsibilities and mean log-likelihood of a Gaussian mixture, from SciPy.

    Implements :math:`a_{nk} = \log \pi_k + \log \mathcal{N}(x_n \mid \mu_k, \Sigma_k)`
    with :func:`scipy.stats.multivariate_normal`, then :math:`r_{nk} = \exp(a_{nk} -
    \operatorname{logsumexp}_j a_{nj})` and :math:`\ell = \frac1N \sum_n
    \operatorname{logsumexp}_k a_{nk}` with :func:`scipy.special.logsumexp`.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    weights : ndarray of shape (n_components,)
    means : ndarray of shape (n_components, n_features)
    covariances : ndarray of shape (n_components, n_features, n_features)

    Returns
    -------
    resp : ndarray of shape (n_samples, n_components)
    mean_log_likelihood : float
    """
    X = np.asarray(X, dtype=float)
    with np.errstate(divide="ignore"):  # a weight of 0 has log-weight -inf
        log_weights = np.log(np.asarray(weights, dtype=float))
    a = np.column_stack([
        log_weights[k] + multivariate_normal(means[k], covariances[k]).logpdf(X)
        for k in range(len(log_weights))])
    a = a.reshape(len(X), len(log_weights))  # logpdf drops the axis of one sample
    log_norm = logsumexp(a, axis=1, keepdims=True)
    return np.exp(a - log_norm), float(np.mean(log_norm))


def numpy_m_step(X, resp, reg_covar):
    r"""M-step of a full-covariance Gaussian mixture, from NumPy's weighted statistics.

    :math:`\pi_k = N_k / N`, :math:`\mu_k` = ``np.average(X, weights=resp[:, k])`` and
    :math:`\Sigma_k` = ``np.cov(X, aweights=resp[:, k], bias=True)`` :math:`+
    \varepsilon I`, where :math:`\varepsilon` is ``reg_covar``: the weighted scatter about
    the weighted mean, divided by :math:`N_k`.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    resp : ndarray of shape (n_samples, n_components)
    reg_covar : float

    Returns
    -------
    weights : ndarray of shape (n_components,)
    means : ndarray of shape (n_components, n_features)
    covariances : ndarray of shape (n_components, n_features, n_features)
    """
    X = np.asarray(X, dtype=float)
    resp = np.asarray(resp, dtype=float)
    n_samples, n_features = X.shape
    weights = resp.sum(axis=0) / n_samples
    means = np.array([np.average(X, axis=0, weights=r) for r in resp.T])
    covariances = np.array([
        np.atleast_2d(np.cov(X, rowvar=False, aweights=r, bias=True))
        + reg_covar * np.eye(n_features) for r in resp.T])
    return weights, means, covariances


def sklearn_fit(X, weights, means, covariances, reg_covar, tol, max_iter):
    """scikit-learn's EM from the given parameters.

    ``precisions_init`` is the inverse of ``covariances`` (symmetrised: scikit-learn
    requires symmetric precisions). With all three ``*_init`` arrays given, scikit-learn
    (1.4 and later) runs no k-means: its first E-step uses the given parameters.

    Returns
    -------
    weights, means, covariances : ndarray
        After the last M-step.
    history : ndarray of shape (n_iter,)
        The mean log-likelihood of every E-step: ``lower_bounds_`` (scikit-learn 1.7
        and later), or with an older scikit-learn the ``lower_bound_`` of runs stopped
        after 1, 2, ..., n_iter iterations.
    n_iter : int
    """
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.mixture import GaussianMixture

    precisions = np.linalg.inv(covariances)
    precisions = (precisions + np.swapaxes(precisions, 1, 2)) / 2

    def fit(max_iter):
        model = GaussianMixture(
            len(weights), covariance_type="full", weights_init=weights, means_init=means,
            precisions_init=precisions, reg_covar=reg_covar, tol=tol, max_iter=max_iter,
            random_state=0)
        with warnings.catch_warnings():
            # A run stopped by max_iter on purpose (to compare the iterates one by one)
            # ends with a ConvergenceWarning that says only that: nothing to tell.
            warnings.simplefilter("ignore", ConvergenceWarning)
            return model.fit(X)

    model = fit(max_iter)
    if hasattr(model, "lower_bounds_"):
        history = np.asarray(model.lower_bounds_)
    else:
        # scikit-learn before 1.7 keeps only the last value, lower_bound_: the value of
        # iteration t is the last one of a run stopped after t iterations.
        history = np.array([fit(t).lower_bound_ for t in range(1, model.n_iter_)]
                           + [model.lower_bound_])
    return model.weights_, model.means_, model.covariances_, history, model.n_iter_


def emlib_fit(X, weights, means, covariances, reg_covar, tol, max_iter):
    """emlib's EM from the given parameters, every iterate kept.

    Returns
    -------
    params_history : list of dict
        The parameters after 0, 1, ..., n_iter M-steps (``params_history_``).
    history : ndarray of shape (n_iter,)
        ``log_likelihood_history_``.
    """
    from sklearn.exceptions import ConvergenceWarning

    from emlib import GaussianMixture

    model = GaussianMixture(
        len(weights), weights_init=weights, means_init=means,
        precisions_init=np.linalg.inv(covariances), reg_covar=reg_covar, tol=tol,
        max_iter=max_iter, random_state=0, keep_history=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # as in sklearn_fit
        model.fit(X)
    return model.params_history_, model.log_likelihood_history_


@contextmanager
def reference_steps(function: Callable):
    """Run ``function`` with :func:`scipy_e_step` and :func:`numpy_m_step` in place of
    the ``e_step`` and ``m_step`` of the namespace it was defined in (the notebook's).

    A loop that calls the student's own steps would fail the loop's checks for a mistake
    in a step, which the steps' own checks already charge for. A loop that does not call
    functions of those names is run as it is.
    """
    namespace = getattr(function, "__globals__", {})
    replacements = {"e_step": scipy_e_step, "m_step": numpy_m_step}
    saved = {name: namespace[name] for name in replacements if name in namespace}
    try:
        namespace.update({name: replacements[name] for name in saved})
        yield
    finally:
        namespace.update(saved)


_LOOP_NOTE = " (your fit_gmm ran with reference E- and M-steps, so this is in the loop)"


def _unpack_fit(out, case: Case):
    if out is None or out is Ellipsis:
        raise _fail(case, "fit_gmm returns nothing; replace its ... with your code and "
                          "return (weights, means, covariances, history)")
    if not isinstance(out, tuple | list) or len(out) != 4:
        raise _fail(case, "fit_gmm must return a tuple of four things: (weights, means, "
                          "covariances, history)")
    weights, means, covariances, history = out
    return weights, means, covariances, np.atleast_1d(np.asarray(history, dtype=float))


def _run_loop(fit_gmm, case: Case, **overrides):
    args, kwargs = case.fresh()
    kwargs.update(overrides)
    try:
        with reference_steps(fit_gmm):
            out = fit_gmm(*args, **kwargs)
    except Exception as error:
        raise _fail(case, f"your fit_gmm raised {type(error).__name__}: {error}") from None
    return _unpack_fit(out, case)


def _compare_parameters(got, expected, case, label, rtol, atol):
    names = ("weights", "means", "covariances")
    for name, value, reference in zip(names, got, expected, strict=True):
        compare_arrays(value, reference, case, rtol=rtol, atol=atol,
                       what=f"{label}, your {name} array")


def check_em_iterates(fit_gmm: Callable, case: Case, iterations: Sequence[int], *,
                      reference: str = "sklearn", rtol: float = 1e-8,
                      atol: float = 1e-10) -> None:
    r"""Check the loop's parameters and history after each number of iterations.

    ``case.args`` are ``(X, weights, means, covariances)`` and ``case.kwargs`` holds
    ``reg_covar``. For each :math:`t` in ``iterations`` the student's loop runs with
    ``tol=0`` and ``max_iter=t`` (so it never stops early) and must return the
    parameters after :math:`t` M-steps and the :math:`t` log-likelihoods of its
    E-steps, as scikit-learn (``reference="sklearn"``, :func:`sklearn_fit`) or emlib
    (``reference="emlib"``, :func:`emlib_fit`, all iterates from one run) computes them
    from the same start.

    The default tolerance, a relative 1e-8, is far above the rounding in which the three
    implementations differ (scikit-learn adds :math:`10\epsilon` to every :math:`N_k`;
    each library evaluates the densities its own way) and far below the change made by
    one EM iteration on the lab's data.

    Raises
    ------
    AssertionError
        Naming the case and the iteration count at which the loop first differs.
    """
    args, kwargs = case.fresh()
    if reference == "emlib":
        params, history = emlib_fit(*args, tol=0.0, max_iter=max(iterations), **kwargs)
    for t in iterations:
        got = _run_loop(fit_gmm, case, tol=0.0, max_iter=t)
        label = f"after max_iter={t} iteration(s) with tol=0"
        if reference == "emlib":
            expected = (params[t]["weights"], params[t]["means"],
                        params[t]["covariances"], history[:t])
        else:
            expected = sklearn_fit(*args, tol=0.0, max_iter=t, **kwargs)[:4]
        if len(got[3]) != t:
            raise _fail(case, f"{label}, your history has {len(got[3])} value(s), "
                              f"expected {t}: one mean log-likelihood per E-step"
                              + _LOOP_NOTE)
        _compare_parameters(got[:3], expected[:3], case, label, rtol, atol)
        compare_arrays(got[3], expected[3], case, rtol=rtol, atol=atol,
                       what=f"{label}, your history")


def check_em_convergence(fit_gmm: Callable, case: Case, *, rtol: float = 1e-8,
                         atol: float = 1e-10) -> None:
    r"""Check where the loop stops, and what it returns there, against scikit-learn.

    ``case.kwargs`` holds ``reg_covar``, ``tol`` and ``max_iter``. scikit-learn stops
    after the first iteration whose E-step changes the mean log-likelihood by less than
    ``tol`` (in absolute value), after that iteration's M-step. The student's loop must
    run as many iterations, return the parameters after the last M-step and one history
    value per E-step.

    Raises
    ------
    AssertionError
        Naming the case, the numbers of iterations, or the first parameter that differs.
    RuntimeError
        If the case itself is ambiguous: a change within a relative 1e-6 of ``tol``,
        where rounding could decide whether a right loop stops (a fault of the test).
    """
    args, kwargs = case.fresh()
    *expected, history, n_iter = sklearn_fit(*args, **kwargs)
    changes = np.abs(np.diff(history))
    if np.any(np.abs(changes - kwargs["tol"]) <= 1e-6 * kwargs["tol"]):
        raise RuntimeError(f"case '{case.name}': a change of the log-likelihood is within "
                           "rounding of tol; choose another tol for this check")
    got = _run_loop(fit_gmm, case)
    if len(got[3]) != n_iter:
        raise _fail(case, f"your loop ran {len(got[3])} iteration(s) (history values), "
                          f"scikit-learn {n_iter} with the same tol={kwargs['tol']} and "
                          f"max_iter={kwargs['max_iter']}; stop after the first iteration "
                          "whose log-likelihood changed by less than tol" + _LOOP_NOTE)
    compare_arrays(got[3], history, case, rtol=rtol, atol=atol, what="your history")
    _compare_parameters(got[:3], expected, case, f"at the stop (iteration {n_iter})",
                        rtol, atol)


def check_history_never_decreases(fit_gmm: Callable, case: Case, *,
                                  bound: float = 1e-10) -> None:
    r"""Check that the history of mean log-likelihoods never falls by more than ``bound``.

    EM never lowers the log-likelihood when every M-step is an exact maximisation,
    which holds with ``reg_covar=0`` (a ridge can lower it, see the chapter on EM
    theory), so the case should set ``reg_covar=0``. ``bound`` allows for rounding: a
    mean log-likelihood of order one is computed to about :math:`10^{-15}`.

    Raises
    ------
    AssertionError
        Naming the case and the first iteration at which the history falls.
    """
    history = _run_loop(fit_gmm, case)[3]
    if len(history) < 2:
        raise _fail(case, f"your history has {len(history)} value(s); expected one per "
                          "E-step, and this case runs several iterations" + _LOOP_NOTE)
    if not np.all(np.isfinite(history)):
        raise _fail(case, "your history holds nan or inf" + _LOOP_NOTE)
    falls = np.flatnonzero(np.diff(history) < -bound)
    if falls.size:
        t = int(falls[0]) + 1
        raise _fail(case, f"your history falls from {history[t - 1]:.12g} (value {t}) to "
                          f"{history[t]:.12g} (value {t + 1}); EM never lowers the "
                          "log-likelihood" + _LOOP_NOTE)


def check_ridge(m_step: Callable, case: Case, ridge: float) -> None:
    r"""Check that ``reg_covar`` adds exactly ``ridge`` times the identity.

    ``case.args`` are ``(X, resp)``. The covariances returned with
    ``reg_covar=ridge`` minus those returned with ``reg_covar=0`` must equal
    :math:`\varepsilon I` for every component, up to a relative 1e-7 of the entries
    (the subtraction of two rounded numbers). This isolates the ridge from the scatter,
    which other checks compare with NumPy.

    Raises
    ------
    AssertionError
        Naming the case and the first entry of the difference that is not
        :math:`\varepsilon I`.
    """
    def covariances(reg_covar):
        out = _call(m_step, Case(case.name, (*case.args, reg_covar), case.hint), "student")
        if out is None or out is Ellipsis:
            raise _fail(case, "m_step returns nothing; replace its ... with your code and "
                              "return (weights, means, covariances)")
        if not isinstance(out, tuple | list) or len(out) != 3:
            raise _fail(case, "m_step must return a tuple (weights, means, covariances)")
        return np.asarray(out[2], dtype=float)

    with_ridge, without = covariances(ridge), covariances(0.0)
    n_features, n_components = np.shape(case.args[0])[1], np.shape(case.args[1])[1]
    expected = np.broadcast_to(ridge * np.eye(n_features),
                               (n_components, n_features, n_features))
    scale = max(float(np.abs(without).max(initial=0.0)), ridge)
    compare_arrays(with_ridge - without, expected, case, rtol=1e-7, atol=1e-12 * scale,
                   what=f"the difference of your covariances with reg_covar={ridge} "
                        "and with reg_covar=0")


def _m_step_output(m_step: Callable, case: Case, args: tuple):
    """The student's ``(weights, means, covariances)`` on ``args``, as float arrays."""
    out = _call(m_step, Case(case.name, args, case.hint), "student")
    if out is None or out is Ellipsis:
        raise _fail(case, "m_step returns nothing; replace its ... with your code and "
                          "return (weights, means, covariances)")
    if not isinstance(out, tuple | list) or len(out) != 3:
        raise _fail(case, "m_step must return a tuple (weights, means, covariances)")
    return [_as_array(value, case, f"your {name}") for value, name
            in zip(out, ("weights", "means", "covariances"), strict=True)]


def _compare_own(got, expected, case: Case, what: str, other: str, rtol: float,
                 atol: float) -> None:
    """Explain how two results of the student's own function differ (no reference)."""
    if got.shape != expected.shape:
        raise _fail(case, f"the shape of {what} is {got.shape}, that of {other} "
                          f"{expected.shape}")
    close = np.isclose(got, expected, rtol=rtol, atol=atol)
    if close.all():
        return
    with np.errstate(invalid="ignore"):
        error = np.where(close, 0.0, np.abs(got - expected))
    error[np.isnan(error)] = np.inf
    worst = np.unravel_index(np.argmax(error), error.shape)
    at = "[" + ", ".join(str(int(i)) for i in worst) + "]" if worst else "the value"
    raise _fail(case, f"{what} and {other} differ at {int((~close).sum())} of "
                      f"{close.size} entries, where they should be equal; the largest "
                      f"difference is at {at}: {got[worst]:.10g} against "
                      f"{expected[worst]:.10g}")


def check_moved_data(m_step: Callable, case: Case, shift: Sequence[float], *,
                     rtol: float = 1e-7, atol: float = 1e-12) -> None:
    r"""Check that moving the data leaves the covariances of the M-step unchanged.

    ``case.args`` are ``(X, resp, reg_covar)``. The student's M-step runs on ``X`` and on
    ``X + shift`` with the same responsibilities. In exact arithmetic the means move by
    ``shift`` and the covariances (the lab's ``eq-lab03-cov``) do not change, because the
    deviations :math:`x_n - \mu_k` do not. The centred formula keeps that to rounding:
    the deviations are computed to about :math:`\epsilon \lVert c \rVert`, a relative
    :math:`10^{-11}` for data of spread 0.1 moved by :math:`10^4`. The expansion
    :math:`\frac{1}{N_k}\sum_n r_{nk} x_n x_n^\top - \mu_k\mu_k^\top` subtracts two
    numbers of size :math:`\lVert c \rVert^2`, each rounded to about
    :math:`\epsilon \lVert c \rVert^2` (:math:`10^{-8}` for :math:`c \approx 10^4`),
    which for variances of :math:`10^{-2}` is a relative error of :math:`10^{-6}`, ten
    times the tolerance. The comparison is with the student's own covariances of the
    unmoved data, so a mistake that does not depend on where the data lie (dividing by
    :math:`N` instead of :math:`N_k`, say) is left to the checks against NumPy.

    Raises
    ------
    AssertionError
        Naming the case and the first entry of the covariances that moved.
    """
    X, resp, reg_covar = case.args
    moved = np.asarray(X, dtype=float) + np.asarray(shift, dtype=float)
    at_origin = _m_step_output(m_step, case, (X, resp, reg_covar))[2]
    far = _m_step_output(m_step, case, (moved, resp, reg_covar))[2]
    where = ", ".join(f"{c:g}" for c in np.atleast_1d(shift))
    _compare_own(far, at_origin, case, f"with the data moved by ({where}), your covariances",
                 "yours before the move", rtol, atol)


def check_scaled_responsibilities(m_step: Callable, case: Case, component: int, *,
                                  rtol: float = 1e-7, atol: float = 1e-12) -> None:
    r"""Check that scaling one component's responsibilities leaves its mean and covariance.

    ``case.args`` are ``(X, resp, reg_covar)``, where column ``component`` of ``resp`` is
    tiny (about :math:`10^{-20}`) and every row sums to one. The student's M-step runs on
    ``resp`` and on a copy whose column ``component`` is multiplied by the constant
    :math:`s` that makes its largest entry 1/2, the other columns being rescaled so that
    every row still sums to one (an M-step that normalises its input then sees valid
    responsibilities in both calls). :math:`\mu_k = \sum_n r_{nk} x_n / N_k` and the
    covariance (the lab's ``eq-lab03-cov``) depend on column :math:`k` alone and are
    unchanged when all its :math:`r_{nk}` are multiplied by one constant, in floating
    point too, to rounding, as long as no :math:`r_{nk}` underflows (:math:`10^{-20}` is
    far from the :math:`10^{-308}` where doubles end). Adding a constant to :math:`N_k`
    "to avoid dividing by zero" breaks this when :math:`N_k` is smaller than the
    constant; dividing by :math:`N` instead of :math:`N_k` breaks it for the covariance.
    The other components' results are not compared.

    Raises
    ------
    AssertionError
        Naming the case, and whether the mean or the covariance of ``component`` differs.
    """
    X, resp, reg_covar = case.args
    scaled = np.array(resp, dtype=float)
    scale = 0.5 / scaled[:, component].max()
    scaled[:, component] *= scale
    others = np.arange(scaled.shape[1]) != component
    scaled[:, others] *= ((1 - scaled[:, component]) / scaled[:, others].sum(axis=1))[:, None]
    tiny = _m_step_output(m_step, case, (X, resp, reg_covar))
    ordinary = _m_step_output(m_step, case, (X, scaled, reg_covar))
    for index, name in ((1, "mean"), (2, "covariance")):
        for value, label in ((tiny[index], "tiny"), (ordinary[index], "scaled")):
            if value.ndim < 1 or value.shape[0] <= component:
                raise _fail(case, f"your {name}s with the {label} responsibilities have "
                                  f"shape {value.shape}, with no entry {component}")
        _compare_own(tiny[index][component], ordinary[index][component], case,
                     f"with responsibilities of about 1e-20, your {name} of component "
                     f"{component}", f"yours with those responsibilities multiplied by "
                     f"{scale:.3g}", rtol, atol)
