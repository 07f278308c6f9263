r"""Online (stepwise) EM: mixtures fitted from a stream of mini-batches, with ``partial_fit``.

Batch EM passes over all the data before it moves the parameters once. Stepwise EM
(Cappé and Moulines, 2009; Liang and Klein, 2009) keeps a running summary :math:`s_t` of the
sufficient statistics, the per-sample averages of the counts, means and scatters that the
M-step needs (:func:`emlib.moments.pool_moments`), and moves towards each new batch's by a
step :math:`\rho_t`:

.. math::

    s_t = (1 - \rho_t)\, s_{t-1} + \rho_t\, \bar s(B_t; \theta_{t-1}), \qquad
    \theta_t = \bar\theta(s_t), \qquad
    \rho_t = (t + \tau)^{-\kappa},

where :math:`\bar s(B_t; \theta_{t-1})` is the average over batch :math:`B_t` of the
statistics under the responsibilities of the current parameters (the E-step of the batch),
and :math:`\bar\theta` is the M-step. With the learning decay :math:`\kappa \in (0.5, 1]`
and offset :math:`\tau \ge 0`, :math:`\sum_t \rho_t = \infty` and :math:`\sum_t \rho_t^2 <
\infty`, the conditions under which Cappé and Moulines prove that the parameters converge
(almost surely, to a stationary point of the expected log-likelihood, for batches drawn
independently from the data's distribution). A small :math:`\kappa` forgets old batches
fast: quick early progress, noisy later; :math:`\kappa = 1` with :math:`\tau = 0` makes
:math:`s_t` the plain average of all batches' statistics, each computed under the
parameters of its time, so early (poor) parameters are never forgotten. The offset
:math:`\tau` damps the first steps.

With :math:`\tau = 0` the first step is :math:`\rho_1 = 1^{-\kappa} = 1`, whatever
:math:`\kappa`: one call of ``partial_fit`` on all the data is exactly one iteration of
batch EM from the start that ``init_params`` gives on those data.

For MAP fits (a prior) the summary stands for all ``n_seen_`` samples seen so far: the
M-step sees counts and scatters multiplied by ``n_seen_``, so that the prior weighs against
the data seen as it would in a batch fit of them.
"""

from numbers import Real

import numpy as np
from sklearn.utils import check_random_state, check_scalar

from ._restore import restored_on_failure
from .moments import pool_moments, scale_moments

__all__ = ["OnlineEMMixin", "step_size"]


def step_size(t, learning_decay, learning_offset):
    r"""The step :math:`\rho_t = (t + \tau)^{-\kappa}` of the ``t``-th update (``t`` from 1)."""
    return float((t + learning_offset) ** -learning_decay)


class OnlineEMMixin:
    """``partial_fit`` for the EM families whose M-step needs only pooled moments.

    The family stores ``learning_decay`` (:math:`\\kappa`) and ``learning_offset``
    (:math:`\\tau`) as constructor parameters and defines the hooks ``_moments`` and
    ``_m_step_from_moments`` (see :mod:`emlib.daskfit`).
    """

    def _forget_partial_fit(self):
        """Drop the running summary and the step and sample counts (a new ``fit`` calls this:
        its parameters owe nothing to earlier batches)."""
        for name in ("_running_moments", "n_steps_", "n_seen_"):
            vars(self).pop(name, None)

    def _check_learning_rate(self):
        check_scalar(self.learning_decay, "learning_decay", Real, min_val=0.0, max_val=1.0,
                     include_boundaries="right")
        check_scalar(self.learning_offset, "learning_offset", Real, min_val=0.0)

    def partial_fit(self, X, y=None):
        r"""One step of stepwise EM on the batch ``X``.

        The first call on a model without parameters starts from the batch by
        ``init_params`` (one start: ``n_init`` is not used) and the ``*_init`` arrays; a
        model that already holds parameters (from ``fit``, ``from_parameters`` or earlier
        calls) continues from them. Each call then takes the batch's E-step under the current
        parameters, mixes its statistics into the running summary with step
        :math:`\rho_t = (t + \tau)^{-\kappa}` and sets the parameters by the M-step from the
        summary (see :mod:`emlib.online`). A later ``fit`` starts afresh.

        A prior's data-dependent defaults (``prior="conjugate"``) are taken from the first
        batch, which must then be large enough to have a non-singular covariance; for a
        stream, an :class:`emlib.GaussianPrior` with explicit ``mean`` and ``scale`` is safer.

        Continuing from ``fit`` keeps the fitted parameters but not the statistics of the
        data they were fitted to: the first step's summary is that batch's alone, and
        ``n_seen_`` counts from it. The attributes that describe a batch fit
        (``n_iter_``, ``converged_``, ``lower_bound_``, ``params_history_``) are removed.

        Parameters
        ----------
        X : array-like of shape (n_batch, n_features)
            One batch; for the convergence guarantees, batches should be drawn at random
            from the data (shuffle a data set before cutting it into batches).
        y : ignored

        Returns
        -------
        self

        Notes
        -----
        Besides the parameters, each call sets ``n_steps_`` (updates so far, :math:`t`),
        ``n_seen_`` (samples seen so far, counting repeats) and
        ``log_likelihood_history_``, the mean log-likelihood of every batch under the
        parameters before its update: a noisy but honest measure of progress, since no
        batch has yet been fitted when it is scored.
        """
        first = not hasattr(self, "weights_")
        with restored_on_failure(self):
            X = self._validate_input(X, reset=first)
            self._check_learning_rate()
            if first:
                self._check_parameters(X)
                rng = check_random_state(self.random_state)
                resp = self._initial_responsibilities(X, rng)
                self._initialize(X, resp)
                # The start's statistics are s_0, which a first step below one mixes in, as
                # averages per unit of responsibility: the k-means++ and random_from_data
                # starts give responsibility to K rows only.
                self._running_moments = scale_moments(self._moments(X, resp), 1 / resp.sum())
            elif not (hasattr(self, "n_iter_") or hasattr(self, "n_steps_")):
                # Parameters from from_parameters: the family's checks (and a prior's
                # defaults) have not met any data yet.
                self._check_family_parameters(X)
            self._online_step(X)
            for name in ("n_iter_", "converged_", "lower_bound_", "params_history_"):
                vars(self).pop(name, None)
        return self

    def _online_step(self, X):
        n_batch = X.shape[0]
        log_norm, resp = self._responsibilities(X)
        batch = scale_moments(self._moments(X, resp), 1 / n_batch)
        t = getattr(self, "n_steps_", 0) + 1
        rho = step_size(t, self.learning_decay, self.learning_offset)
        running = getattr(self, "_running_moments", None)
        self._running_moments = (
            batch if running is None
            else pool_moments(scale_moments(running, 1 - rho), scale_moments(batch, rho))
        )
        self.n_seen_ = getattr(self, "n_seen_", 0) + n_batch
        self._m_step_from_moments(scale_moments(self._running_moments, self.n_seen_))
        self.n_steps_ = t
        history = getattr(self, "log_likelihood_history_", np.empty(0)) if t > 1 else np.empty(0)
        self.log_likelihood_history_ = np.append(history, np.mean(log_norm, dtype=np.float64))
