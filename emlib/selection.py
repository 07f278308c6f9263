"""Choosing the number of components (and the covariance structure) of a mixture.

Three yardsticks are computed for every candidate model, each fitted by maximum likelihood
(or MAP) to the :math:`N` training samples with total log-likelihood :math:`\\log L` and
:math:`p` free parameters:

.. math::

    \\mathrm{BIC} = -2 \\log L + p \\log N, \\qquad
    \\mathrm{AIC} = -2 \\log L + 2 p,

both lower-is-better (Schwarz, 1978; Akaike, 1974), the integrated completed likelihood
:math:`\\mathrm{ICL} = \\mathrm{BIC} - 2 \\sum_{n,k} r_{nk} \\log r_{nk}` (Biernacki, Celeux and
Govaert, 2000; see :func:`emlib.em.icl`), also lower-is-better, and the held-out
log-likelihood per sample from :math:`k`-fold cross-validation, higher-is-better:

.. math::

    \\ell_{\\text{held-out}} = \\frac{1}{N} \\sum_{f=1}^{k} \\sum_{n \\in \\text{fold } f}
    \\log p(x_n \\mid \\hat\\theta_{-f}),

where :math:`\\hat\\theta_{-f}` is fitted with fold :math:`f` left out. Every sample is held
out exactly once, so this is the mean out-of-fold log-likelihood per sample.

A criterion can rank first a fit whose likelihood is large only because a component has
nearly collapsed. Every Gaussian candidate is therefore checked and flagged ``degenerate``
when a component has an effective size :math:`N_k = \\sum_n r_{nk}` below :math:`D + 1` (too
few points to determine a :math:`D`-dimensional covariance) or a covariance eigenvalue below
``min_eigenvalue_fraction`` (by default :math:`10^{-3}`) times the smallest eigenvalue of the
data covariance (a component flattened far below any direction of the data); see
:func:`degeneracy`.
"""

from dataclasses import dataclass
from numbers import Integral

import numpy as np
from sklearn.base import clone
from sklearn.model_selection import KFold, ParameterGrid
from sklearn.utils import check_array

from .bernoulli import n_parameters_bernoulli
from .em import aic, bic, icl, shared_kmeans_starts
from .gaussian import GaussianMixture, full_covariances, n_parameters

__all__ = [
    "COVARIANCE_TYPES",
    "CRITERIA",
    "SelectionResult",
    "aic",
    "bic",
    "degeneracy",
    "icl",
    "n_parameters",
    "n_parameters_bernoulli",
    "select_gaussian_mixture",
    "select_mixture",
    "split_component",
]

COVARIANCE_TYPES = ("full", "diag", "tied", "spherical")

# Criteria understood by SelectionResult.best and plotting.plot_criteria:
# name -> (row key, whether larger values are better).
CRITERIA = {
    "bic": ("bic", False),
    "aic": ("aic", False),
    "heldout": ("heldout_log_likelihood", True),
}

# Criteria computed from SelectionResult.diagnostics. They are kept apart from CRITERIA and
# the rows because plotting.plot_criteria treats every row key it does not know as a grid
# parameter; SelectionResult.best and picks_table accept them all the same.
DIAGNOSTIC_CRITERIA = {"icl": ("icl", False)}

DEFAULT_MIN_EIGENVALUE_FRACTION = 1e-3

# Row labels of SelectionResult.picks_table, saying which way each criterion points.
_PICK_LABELS = {
    "bic": "BIC (min)",
    "aic": "AIC (min)",
    "heldout": "held-out (max)",
    "icl": "ICL (min)",
}

# Marks a degenerate pick in picks_table.
_DEGENERATE_MARK = " (degenerate)"

# Column headers of the printed table; grid parameters not listed keep their own name.
_HEADERS = {
    "covariance_type": "covariance",
    "n_components": "K",
    "n_parameters": "parameters",
    "log_likelihood": "train log-lik (total)",
    "bic": "BIC",
    "aic": "AIC",
    "heldout_log_likelihood": "held-out log-lik / sample",
    "icl": "ICL",
    "degenerate": "degenerate",
}


def _format_cell(key, value):
    if value is None:
        return ""
    if key == "heldout_log_likelihood":
        return f"{value:.3f}"
    if key in ("log_likelihood", "bic", "aic", "icl"):
        return f"{value:.1f}"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


@dataclass(frozen=True, repr=False)
class SelectionResult:
    """Table of candidate mixtures with their training fit and selection criteria.

    Attributes
    ----------
    rows : list of dict
        One dict per candidate, in the order they were fitted. Keys: the grid parameters
        (``param_names``), ``"n_parameters"``, ``"log_likelihood"`` (total training
        log-likelihood, not per sample), ``"bic"``, ``"aic"`` and
        ``"heldout_log_likelihood"`` (mean out-of-fold log-likelihood per sample, or None when
        cross-validation was switched off). Values are plain Python numbers and strings.
    models : list
        The candidates refitted on all the data, aligned with ``rows``.
    param_names : tuple of str
        Names of the grid parameters, in the order of the table's first columns.
    diagnostics : list of dict or None
        One dict per candidate, aligned with ``rows``: ``"icl"`` (see :func:`icl`),
        ``"degenerate"``, ``"smallest_component"`` and ``"eigenvalue_ratio"`` (see
        :func:`degeneracy`). :meth:`column`, :meth:`best`, :meth:`best_per` and the printed
        table read them like the columns of ``rows``; they live apart from ``rows`` so that
        code that groups rows by their other keys (such as
        :func:`emlib.plotting.plot_criteria`) is unaffected.
    """

    rows: list
    models: list
    param_names: tuple
    diagnostics: list | None = None

    def _records(self):
        """Rows merged with their diagnostics: the full table."""
        if self.diagnostics is None:
            return self.rows
        return [{**row, **extra} for row, extra in zip(self.rows, self.diagnostics, strict=True)]

    def __len__(self):
        return len(self.rows)

    def _best_index(self, criterion):
        known = {**CRITERIA, **DIAGNOSTIC_CRITERIA}
        if criterion not in known:
            raise ValueError(f"criterion must be one of {tuple(known)}, got {criterion!r}.")
        key, larger_is_better = known[criterion]
        values = self.column(key)
        if values.dtype == object:
            raise ValueError(
                "No held-out log-likelihood was computed (cv=None); rerun the selection with "
                "cv set to the number of folds, or choose by 'bic' or 'aic'."
            )
        # argmin/argmax return the first optimum, so ties go to the earlier (smaller) model.
        return int(np.argmax(values) if larger_is_better else np.argmin(values))

    def best(self, criterion="bic"):
        """Row of the best candidate: lowest ``"bic"`` or ``"aic"``, highest ``"heldout"``.

        Parameters
        ----------
        criterion : {"bic", "aic", "heldout", "icl"}

        Returns
        -------
        dict
            A copy of the winning row, diagnostics included (check ``"degenerate"``); ties
            go to the candidate fitted first.
        """
        return dict(self._records()[self._best_index(criterion)])

    def best_model(self, criterion="bic"):
        """The fitted model of the row returned by :meth:`best`."""
        return self.models[self._best_index(criterion)]

    def _best_indices_per(self, criterion, by):
        """Index of the best row within each group of rows sharing ``row[by]``."""
        if by not in self.param_names:
            raise ValueError(
                f"by must name a grid parameter, one of {self.param_names}, got {by!r}."
            )
        groups = {}
        for index, row in enumerate(self.rows):
            groups.setdefault(row[by], []).append(index)
        best = {}
        for value, indices in groups.items():
            subset = SelectionResult(
                [self.rows[i] for i in indices],
                [None] * len(indices),
                self.param_names,
                None if self.diagnostics is None else [self.diagnostics[i] for i in indices],
            )
            best[value] = indices[subset._best_index(criterion)]
        return best

    def best_per(self, criterion="bic", by="covariance_type"):
        """Best row within each group of candidates that share one grid parameter.

        With the default ``by``, this answers "which K does the criterion pick if the
        covariance type is fixed?" for every covariance type in the table, where
        :meth:`best` answers it over all candidates at once.

        Parameters
        ----------
        criterion : {"bic", "aic", "heldout", "icl"}
        by : str
            Grid parameter whose values define the groups, e.g. ``"covariance_type"``.

        Returns
        -------
        dict
            Group value -> copy of the winning row (diagnostics included), in the order the
            groups first appear in the table. Within a group, ties go to the candidate
            fitted first.

        Raises
        ------
        ValueError
            If ``by`` is not a grid parameter or ``criterion`` is unknown or was not
            computed.
        """
        indices = self._best_indices_per(criterion, by)
        records = self._records()
        return {value: dict(records[i]) for value, i in indices.items()}

    def best_model_per(self, criterion="bic", by="covariance_type"):
        """The fitted models of the rows returned by :meth:`best_per`, by group value."""
        indices = self._best_indices_per(criterion, by)
        return {value: self.models[i] for value, i in indices.items()}

    def picks_table(self, criteria=None, by=None):
        """Plain-text table of what each criterion picks within each group and overall.

        One line per criterion, one column per value of ``by`` holding the other grid
        parameters of that group's best row (just K for a Gaussian grid), and a last
        column with the best candidate over the whole table. A pick flagged degenerate
        (see :func:`degeneracy`) is marked "(degenerate)".

        Parameters
        ----------
        criteria : {"bic", "aic", "heldout", "icl"} or sequence of them, optional
            Rows of the table; by default BIC, AIC and held-out log-likelihood, without
            ``"heldout"`` when cross-validation was switched off.
        by : str, optional
            Grid parameter that defines the columns; by default the first grid parameter
            other than ``"n_components"`` (``"covariance_type"`` for a Gaussian grid).

        Returns
        -------
        str
        """
        if criteria is None:
            criteria = [
                c for c in CRITERIA if all(r[CRITERIA[c][0]] is not None for r in self.rows)
            ]
        elif isinstance(criteria, str):
            criteria = [criteria]
        if by is None:
            by = next((n for n in self.param_names if n != "n_components"), self.param_names[0])
        others = [name for name in self.param_names if name != by]

        def describe(row, names):
            # A lone K needs no name; a text value of the grouping parameter (such as
            # "full") names itself. Every other value, numbers above all, is labelled.
            mark = _DEGENERATE_MARK if row.get("degenerate") else ""
            if names == ["n_components"]:
                return str(row["n_components"]) + mark
            text = ", ".join(
                str(row[n])
                if n == by and isinstance(row[n], str)
                else f"{_HEADERS.get(n, n)}={row[n]}"
                for n in names
            )
            return text + mark

        picks = {c: self.best_per(c, by) for c in criteria}
        groups = list(picks[criteria[0]]) if criteria else []
        header = [_HEADERS.get(by, by), *map(str, groups), "overall best"]
        lines = [
            [
                _PICK_LABELS[c],
                *(describe(picks[c][g], others) for g in groups),
                describe(self.best(c), list(self.param_names)),
            ]
            for c in criteria
        ]
        widths = [max(len(line[j]) for line in [header, *lines]) for j in range(len(header))]
        text = []
        for line in [header, *lines]:
            cells = [line[0].ljust(widths[0])]
            cells += [cell.rjust(w) for cell, w in zip(line[1:-1], widths[1:-1], strict=True)]
            cells.append(line[-1])
            text.append("  ".join(cells).rstrip())
        return "\n".join(text)

    def column(self, key):
        """Values of one column, of ``rows`` or ``diagnostics``, as an array (object dtype if
        some entries are None)."""
        records = self._records()
        if key not in records[0]:
            raise KeyError(f"No column {key!r}; the columns are {tuple(records[0])}.")
        values = [row[key] for row in records]
        if any(value is None for value in values):
            return np.array(values, dtype=object)
        return np.array(values)

    def to_markdown(self):
        """The table as a Markdown pipe table with rounded numbers.

        Totals (log-likelihood, BIC, AIC, ICL) are shown to one decimal, the held-out
        log-likelihood per sample to three, and the ``degenerate`` flag as yes or no. The
        held-out column is left out when cross-validation was switched off; of the
        diagnostics, only ICL and the flag are shown.
        """
        shown = (*self.rows[0], "icl", "degenerate")
        records = [{k: v for k, v in row.items() if k in shown} for row in self._records()]
        keys = [k for k in records[0] if any(row[k] is not None for row in records)]
        header = [_HEADERS.get(k, k) for k in keys]
        body = [[_format_cell(k, row[k]) for k in keys] for row in records]
        widths = [max(len(cell) for cell in column) for column in zip(header, *body, strict=True)]
        numeric = [
            isinstance(records[0][k], (int, float)) and not isinstance(records[0][k], bool)
            for k in keys
        ]

        def line(cells):
            padded = [
                c.rjust(w) if num else c.ljust(w)
                for c, w, num in zip(cells, widths, numeric, strict=True)
            ]
            return "| " + " | ".join(padded) + " |"

        rule = (
            "|"
            + "|".join(
                "-" * (w + 1) + ":" if num else ":" + "-" * (w + 1)
                for w, num in zip(widths, numeric, strict=True)
            )
            + "|"
        )
        return "\n".join([line(header), rule, *(line(r) for r in body)])

    def __str__(self):
        return self.to_markdown()

    # A plain-text table (not the default repr with a memory address) keeps notebook
    # outputs readable and identical between runs.
    __repr__ = __str__

    def _repr_markdown_(self):
        return self.to_markdown()


def degeneracy(model, X, resp=None, min_eigenvalue_fraction=DEFAULT_MIN_EIGENVALUE_FRACTION):
    r"""Whether a fitted Gaussian mixture has a component too small or too flat to trust.

    A component is degenerate if its effective size :math:`N_k = \sum_n r_{nk}` on ``X`` is
    below :math:`D + 1`, the fewest points whose scatter can be positive definite in
    :math:`D` dimensions, or if its covariance has an eigenvalue below
    :math:`f\,\lambda_{\min}(C)`, with :math:`f` = ``min_eigenvalue_fraction`` and
    :math:`\lambda_{\min}(C)` the smallest eigenvalue of the unbiased covariance :math:`C` of
    ``X``: flatter than the data are in any direction, by a factor :math:`1/f`. Such fits
    have a large likelihood for the wrong reason (it is unbounded as a component collapses),
    so BIC, AIC and ICL can rank them first.

    Parameters
    ----------
    model : fitted mixture
        An emlib mixture, or scikit-learn's ``GaussianMixture``. Families without
        covariances (such as :class:`emlib.BernoulliMixture`) are not assessed.
    X : array-like of shape (n_samples, n_features)
        The training data.
    resp : array-like of shape (n_samples, n_components), optional
        ``model.predict_proba(X)``, if already computed.
    min_eigenvalue_fraction : float, default=1e-3
        :math:`f`.

    Returns
    -------
    dict
        ``"smallest_component"``: the smallest :math:`N_k`; ``"eigenvalue_ratio"``: the
        smallest eigenvalue of any component's covariance over :math:`\lambda_{\min}(C)`
        (infinite if :math:`C` is singular); ``"degenerate"``: the flag. The last two are
        None for a family without covariances.
    """
    X = check_array(X)
    if resp is None:
        resp = model.predict_proba(X)
    smallest_component = float(np.min(np.sum(resp, axis=0)))
    if not hasattr(model, "covariances_"):
        return {
            "smallest_component": smallest_component,
            "eigenvalue_ratio": None,
            "degenerate": None,
        }
    n_components, n_features = np.shape(model.means_)
    covariances = full_covariances(
        model.covariances_, model.covariance_type, n_components, n_features
    )
    smallest = float(np.linalg.eigvalsh(covariances).min())
    data_smallest = float(np.linalg.eigvalsh(np.atleast_2d(np.cov(X, rowvar=False)))[0])
    ratio = smallest / data_smallest if data_smallest > 0 else float("inf")
    degenerate = smallest_component < n_features + 1 or ratio < min_eigenvalue_fraction
    return {
        "smallest_component": smallest_component,
        "eigenvalue_ratio": ratio,
        "degenerate": bool(degenerate),
    }


def _plain(value):
    """Turn numpy scalars from a parameter grid into Python ones for clean printing."""
    return value.item() if isinstance(value, np.generic) else value


def select_mixture(
    X,
    estimator,
    param_grid,
    *,
    cv=5,
    random_state=0,
    min_eigenvalue_fraction=DEFAULT_MIN_EIGENVALUE_FRACTION,
):
    """Fit a grid of mixtures and tabulate BIC, AIC, ICL and held-out log-likelihood.

    Works with any emlib mixture (and scikit-learn's ``GaussianMixture``): the estimator is
    cloned for every grid point and configured with ``set_params``.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Training data.
    estimator : estimator
        Unfitted template, e.g. ``BernoulliMixture(pixel_prior=1.0, n_init=2)``. It must
        provide ``fit``, ``score_samples`` and ``_n_parameters``. If its ``random_state`` is
        None it is set to ``random_state`` so that the whole table is reproducible.
    param_grid : dict of str -> sequence
        Values to try for each parameter, e.g. ``{"n_components": range(1, 11)}``. Every
        combination is fitted (:class:`sklearn.model_selection.ParameterGrid`, parameters
        in alphabetical order, the last one varying fastest).
    cv : int or None
        Number of cross-validation folds for the held-out log-likelihood; None skips the
        cross-validation (cheaper: one fit per candidate instead of ``cv + 1``).
    random_state : int
        Seed of the fold assignment (:class:`sklearn.model_selection.KFold` with shuffling)
        and, as described above, of the estimator.
    min_eigenvalue_fraction : float, default=1e-3
        Threshold of the ``degenerate`` flag; see :func:`degeneracy`.

    Returns
    -------
    SelectionResult
        One row per grid point; see :class:`SelectionResult` for the columns (ICL and the
        ``degenerate`` flag are in its ``diagnostics``), its ``best`` method for the winner
        by each criterion.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = np.concatenate([rng.normal(-4, 1, (100, 1)), rng.normal(4, 1, (100, 1))])
    >>> result = select_mixture(X, GaussianMixture(), {"n_components": [1, 2, 3]}, cv=3)
    >>> result.best("bic")["n_components"]
    2
    """
    X = check_array(X, ensure_min_samples=2)
    n_samples = X.shape[0]
    grid = list(ParameterGrid(param_grid))
    template = clone(estimator)
    if "random_state" in template.get_params() and template.random_state is None:
        template.set_params(random_state=random_state)
    if cv is not None:
        if not isinstance(cv, Integral) or isinstance(cv, bool) or not 2 <= cv <= n_samples:
            raise ValueError(
                f"cv must be None or a number of folds between 2 and n_samples={n_samples}, "
                f"got {cv!r}."
            )
        folds = list(KFold(n_splits=cv, shuffle=True, random_state=random_state).split(X))

    rows, models, diagnostics = [], [], []
    # Fits that differ only in covariance type (or prior, or family) start from the same
    # k-means partitions: compute each once.
    with shared_kmeans_starts():
        for params in grid:
            model = clone(template).set_params(**params).fit(X)
            if not hasattr(model, "_n_parameters"):
                raise TypeError(
                    f"{type(model).__name__} has no _n_parameters() method, so BIC and AIC "
                    "cannot be computed; use an emlib mixture or sklearn's GaussianMixture."
                )
            n_params = int(model._n_parameters())
            log_likelihood = float(model.score_samples(X).sum())
            heldout = None
            if cv is not None:
                heldout_total = 0.0
                for train, test in folds:
                    fold_model = clone(template).set_params(**params).fit(X[train])
                    heldout_total += fold_model.score_samples(X[test]).sum()
                heldout = float(heldout_total / n_samples)
            row = {name: _plain(value) for name, value in params.items()}
            row.update(
                n_parameters=n_params,
                log_likelihood=log_likelihood,
                bic=bic(log_likelihood, n_params, n_samples),
                aic=aic(log_likelihood, n_params),
                heldout_log_likelihood=heldout,
            )
            rows.append(row)
            models.append(model)
            resp = model.predict_proba(X)
            diagnostics.append(
                {
                    "icl": icl(log_likelihood, n_params, resp),
                    **degeneracy(model, X, resp, min_eigenvalue_fraction),
                }
            )
    return SelectionResult(
        rows=rows, models=models, param_names=tuple(grid[0]), diagnostics=diagnostics
    )


def select_gaussian_mixture(
    X,
    n_components_range=range(1, 9),
    covariance_types=COVARIANCE_TYPES,
    *,
    n_init=3,
    cv=5,
    random_state=0,
    prior=None,
    min_eigenvalue_fraction=DEFAULT_MIN_EIGENVALUE_FRACTION,
    **gmm_kwargs,
):
    """Compare :class:`emlib.GaussianMixture` fits over numbers of components and covariances.

    A convenience wrapper of :func:`select_mixture` with the grid
    ``{"covariance_type": covariance_types, "n_components": n_components_range}``.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Training data.
    n_components_range : iterable of int
        Numbers of components to try.
    covariance_types : iterable of {"full", "diag", "tied", "spherical"}
        Covariance structures to try.
    n_init : int
        Initialisations per fit; more make the comparison less sensitive to local optima.
    cv : int or None
        Number of cross-validation folds, or None to skip the held-out column.
    random_state : int
        Seed of the fits and of the fold assignment.
    prior : None, "conjugate" or GaussianPrior
        Passed to every :class:`emlib.GaussianMixture`: None fits by maximum likelihood,
        otherwise by MAP-EM (see :mod:`emlib.priors`). BIC, AIC and ICL are computed from
        the log-likelihood at the estimate either way, as mclust does.
    min_eigenvalue_fraction : float, default=1e-3
        Threshold of the ``degenerate`` flag; see :func:`degeneracy`.
    **gmm_kwargs
        Further :class:`emlib.GaussianMixture` parameters (``tol``, ``reg_covar``, ...).

    Returns
    -------
    SelectionResult
        Rows grouped by covariance type, then by increasing number of components.
    """
    for name in ("n_components", "covariance_type"):
        if name in gmm_kwargs:
            raise TypeError(
                f"{name} is set by the grid; pass the values to try through "
                "n_components_range and covariance_types instead."
            )
    estimator = GaussianMixture(
        n_init=n_init, random_state=random_state, prior=prior, **gmm_kwargs
    )
    grid = {
        "covariance_type": list(covariance_types),
        "n_components": list(n_components_range),
    }
    return select_mixture(
        X,
        estimator,
        grid,
        cv=cv,
        random_state=random_state,
        min_eigenvalue_fraction=min_eigenvalue_fraction,
    )


def split_component(model, component, *, shift=0.5, **params):
    r"""A mixture with one more component: ``component`` of a fitted model split in two.

    The two halves share the weight :math:`\pi_k / 2` and the covariance of component
    :math:`k`, and their means are moved to :math:`\mu_k \pm s \sqrt{\lambda}\, v`, where
    :math:`\lambda, v` are the largest eigenvalue and its eigenvector of
    :math:`\Sigma_k` and :math:`s` is ``shift``. With ``shift=0`` the new mixture is the
    same density as the old one (the argument behind the nesting
    :math:`\hat\ell_K \le \hat\ell_{K+1}`), but EM could never separate the halves; a
    small shift lets it. Fitting the result continues EM from these parameters
    (``warm_start=True``), so trying every component gives :math:`K` starts for the
    :math:`(K+1)`-component fit that begin near the :math:`K`-component optimum.

    Parameters
    ----------
    model : GaussianMixture
        A fitted Gaussian mixture.
    component : int
        Index of the component to split, from 0 to ``model.n_components - 1``.
    shift : float
        Distance of each half's mean from the old mean, in standard deviations along
        the longest axis of the component.
    **params
        Further :class:`GaussianMixture` parameters of the new model (``tol``,
        ``max_iter``, ...); ``covariance_type``, ``reg_covar`` and ``prior`` are taken
        from ``model``.

    Returns
    -------
    GaussianMixture
        Unfitted apart from its starting parameters; call ``fit(X)`` to run EM.

    Raises
    ------
    ValueError
        If ``component`` is not the index of a component or ``shift`` is negative.
    """
    n_components = model.n_components
    if (
        not isinstance(component, Integral)
        or isinstance(component, bool)
        or not 0 <= component < n_components
    ):
        raise ValueError(
            f"component must be an index from 0 to {n_components - 1}, got {component!r}."
        )
    if not shift >= 0:
        raise ValueError(f"shift must be non-negative, got {shift!r}.")
    eigenvalues, eigenvectors = np.linalg.eigh(model.full_covariances()[component])
    step = shift * np.sqrt(eigenvalues[-1]) * eigenvectors[:, -1]
    weights = np.append(model.weights_, model.weights_[component] / 2)
    weights[component] /= 2
    means = np.vstack([model.means_, model.means_[component] + step])
    means[component] -= step
    covariances = model.covariances_
    if model.covariance_type != "tied":
        covariances = np.concatenate([covariances, covariances[component : component + 1]])
    params.setdefault("reg_covar", model.reg_covar)
    params.setdefault("prior", model.prior)
    return GaussianMixture.from_parameters(
        weights,
        means,
        covariances,
        covariance_type=model.covariance_type,
        warm_start=True,
        **params,
    )
