r"""Checks of model selection by hand (lab 5): parameter counts, BIC and AIC, folds, held-out.

Each check runs the student's function, compares it with references we did not write
(scikit-learn) and with :mod:`emlib.selection`, and explains a failure by naming the case,
what differs, and, where a wrong answer that students often write gives exactly the
number they returned, that mistake.

* :func:`check_parameter_counts`: the free parameters of a Gaussian mixture,

  .. math::

      P = (K - 1) + K D + P_\Sigma, \qquad
      P_\Sigma = K \tfrac{D(D+1)}{2},\ \tfrac{D(D+1)}{2},\ K D,\ K

  for ``"full"``, ``"tied"``, ``"diag"`` and ``"spherical"``, against scikit-learn's
  ``GaussianMixture._n_parameters()`` and :func:`emlib.selection.n_parameters`;
* :func:`check_criteria`: :math:`\mathrm{BIC} = -2 \log \hat L + P \log N` and
  :math:`\mathrm{AIC} = -2 \log \hat L + 2P`, with :math:`\log \hat L` the *total*
  log-likelihood, against the fitted model's own ``bic(X)`` and ``aic(X)``;
* :func:`check_folds`: a :math:`k`-fold split is a partition of :math:`0, \dots, N-1` into
  folds of :math:`\lfloor N/k \rfloor` or :math:`\lceil N/k \rceil` samples;
  :func:`check_random_folds`: it is drawn at random from the seed (the same folds for the
  same seed, other folds for another seed, not consecutive blocks), whatever the
  generator, so that a split other than scikit-learn's ``KFold`` passes;
* :func:`check_heldout`: the held-out log-likelihood per sample

  .. math::

      \ell_{\text{held-out}} = \frac1N \sum_{f=1}^{k} \sum_{n \in F_f}
      \log p(\mathbf{x}_n \mid \hat\theta_{-f}),

  against scikit-learn's ``cross_validate`` (whose per-fold scores are means over each
  fold, here weighted by the fold sizes) and, for ``KFold`` folds, against
  :func:`emlib.selection.select_mixture`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np

from emlib.labs.checks import Case, _as_array, _call, _fail

__all__ = [
    "check_criteria",
    "check_folds",
    "check_heldout",
    "check_parameter_counts",
    "check_random_folds",
    "heldout_by_cross_validate",
    "kfold_test_folds",
    "sklearn_n_parameters",
]

# Two references computed by different code must agree to this relative tolerance;
# if they do not, the library (not the student) is wrong and the check says so.
_REFERENCES_RTOL = 1e-9


def sklearn_n_parameters(n_components: int, n_features: int, covariance_type: str) -> int:
    """scikit-learn's count of the free parameters of a Gaussian mixture.

    ``GaussianMixture._n_parameters()`` is private: it is what scikit-learn's own ``bic``
    and ``aic`` use, and it reads only ``n_components``, ``covariance_type`` and the shape
    of ``means_``, so an unfitted model with zero means of shape (K, D) is enough.

    Parameters
    ----------
    n_components, n_features : int
        :math:`K` and :math:`D`.
    covariance_type : {"full", "tied", "diag", "spherical"}

    Returns
    -------
    int
    """
    from sklearn.mixture import GaussianMixture

    model = GaussianMixture(n_components, covariance_type=covariance_type)
    model.means_ = np.zeros((n_components, n_features))
    return int(model._n_parameters())


def _breakdown(k: int, d: int, covariance_type: str) -> str:
    covariance = {"full": k * d * (d + 1) // 2, "tied": d * (d + 1) // 2,
                  "diag": k * d, "spherical": k}[covariance_type]
    return (f"{k - 1} weight(s), {k * d} mean coordinates and {covariance} covariance "
            "parameter(s)")


def _count_slip(wrong: list[tuple]) -> str:
    """Name the slip that gives every wrong count, if one does."""
    def d_squared(k, d, covariance_type):
        extra = d * (d - 1) // 2  # the entries above the diagonal, counted twice
        return {"full": k * extra, "tied": extra}.get(covariance_type, 0)

    slips = {
        "; every wrong count is one too many: you count K weights, but they sum to one, "
        "so only K - 1 are free": lambda k, d, t: 1,
        "; you count D^2 entries per covariance matrix, but a symmetric matrix has only "
        "D(D+1)/2 free ones": d_squared,
    }
    for text, excess in slips.items():
        if all(got - expected == excess(k, d, t) for k, d, t, got, expected in wrong):
            return text
    return ""


def check_parameter_counts(function: Callable, name: str,
                           grid: Iterable[tuple[int, int, str]], hint: str) -> None:
    """Check ``function(K, D, covariance_type)`` on every triple of ``grid``.

    Each count is compared with :func:`sklearn_n_parameters` and with
    :func:`emlib.selection.n_parameters`, which must agree with each other.

    Parameters
    ----------
    function : callable
        The student's ``n_parameters(n_components, n_features, covariance_type)``.
    name : str
        The case, in the student's words ("full covariances, K = 1..6, D = 1..6").
    grid : iterable of (int, int, str)
        The ``(K, D, covariance_type)`` triples to try.
    hint : str
        What to look at when a count is wrong.

    Raises
    ------
    AssertionError
        At the first wrong count, with the count of wrong triples, the right breakdown
        into weights, means and covariances, the slip if every wrong count is what one
        common slip gives (:math:`K` weights instead of :math:`K - 1`, :math:`D^2`
        entries per covariance matrix instead of :math:`D(D+1)/2`), and the hint.
    """
    from emlib.selection import n_parameters

    grid = list(grid)
    wrong = []
    for k, d, covariance_type in grid:
        case = Case(f"{name}", (k, d, covariance_type), hint)
        got = _as_array(_call(function, case, "student"), case, "your count")
        expected = sklearn_n_parameters(k, d, covariance_type)
        if n_parameters(k, d, covariance_type) != expected:
            raise RuntimeError(f"emlib.selection.n_parameters and scikit-learn disagree on "
                               f"K={k}, D={d}, {covariance_type!r}: report this")
        if got.shape != ():
            raise _fail(case, f"for K={k}, D={d}, covariance_type={covariance_type!r} "
                              f"your count has shape {got.shape}; return one number")
        if got != expected:
            wrong.append((k, d, covariance_type, float(got), expected))
    if wrong:
        k, d, covariance_type, got, expected = wrong[0]
        shown = f"{got:.10g}"
        raise _fail(Case(name, (), hint),
                    f"{len(wrong)} of {len(grid)} counts are wrong; the first: for K={k}, "
                    f"D={d}, covariance_type={covariance_type!r} you count {shown}, while "
                    "scikit-learn (GaussianMixture._n_parameters) and "
                    f"emlib.selection.n_parameters count {expected}: "
                    f"{_breakdown(k, d, covariance_type)}{_count_slip(wrong)}")


def _number(value, case: Case, what: str) -> float:
    array = _as_array(value, case, what)
    if array.shape != ():
        raise _fail(case, f"{what} has shape {array.shape}; it should be one number")
    if not np.isfinite(array):
        raise _fail(case, f"{what} is {float(array)}; a criterion of a fitted model is a "
                          "finite number (a log of 0, or a division by 0?)")
    return float(array)


def check_criteria(function: Callable, cases: Iterable[Case], *, which: str,
                   rtol: float = 1e-7) -> None:
    r"""Check the BIC or the AIC returned by ``function(model, X, n_params)``.

    ``function`` returns the pair ``(bic, aic)``; ``which`` says which of the two is
    compared with the fitted model's own ``model.bic(X)`` or ``model.aic(X)``
    (scikit-learn's, or emlib's). When the value is off, it is compared with what three
    common slips give, and the message names the slip if one matches: the mean
    log-likelihood per sample :math:`\log \hat L / N` in place of the total, a BIC
    penalty :math:`P N` in place of :math:`P \log N`, an AIC penalty :math:`P` in place
    of :math:`2P`.

    Parameters
    ----------
    function : callable
        The student's ``bic_and_aic(model, X, n_params)``.
    cases : iterable of Case
        Arguments ``(model, X, n_params)``: a fitted mixture with ``score_samples``,
        ``bic`` and ``aic``, the data and the number of free parameters.
    which : {"bic", "aic"}
    rtol : float
        Relative tolerance (the criteria are sums of hundreds of terms: 1e-7 leaves room
        for any order of summation).

    Raises
    ------
    AssertionError
        At the first case whose criterion is off, naming the case and, if recognised,
        the slip.
    """
    if which not in ("bic", "aic"):
        raise ValueError(f"which must be 'bic' or 'aic', got {which!r}")
    position = 0 if which == "bic" else 1
    label = which.upper()
    for case in cases:
        out = _call(function, case, "student")
        if not isinstance(out, tuple | list) or len(out) != 2:
            raise _fail(case, f"your function returned {type(out).__name__}, not the pair "
                              "(bic, aic); end with `return bic, aic`")
        got = _number(out[position], case, f"your {label}")
        model, X, n_params = case.fresh()[0]
        expected = float(getattr(model, which)(X))
        if np.isclose(got, expected, rtol=rtol, atol=1e-9):
            continue
        n_samples = np.shape(X)[0]
        total = float(np.sum(model.score_samples(X)))
        penalty = n_params * np.log(n_samples) if which == "bic" else 2.0 * n_params
        slips = {
            "you used the mean log-likelihood per sample (model.score(X)); the criterion "
            "needs the total log-likelihood, the sum over the N samples":
                -2.0 * total / n_samples + penalty,
        }
        if which == "bic":
            slips["your penalty is P N; BIC's is P log N"] = -2.0 * total + n_params * n_samples
        else:
            slips["your penalty is P; AIC's is 2 P"] = -2.0 * total + n_params
        slips[f"your {label} has the opposite sign: here lower is better, "
              f"{label} = -2 log L + penalty"] = -expected
        slip = next((text for text, value in slips.items()
                     if np.isclose(got, value, rtol=rtol, atol=1e-9)), None)
        what = f"your {label} is {got:.10g}, the model's own {which}(X) gives {expected:.10g}"
        raise _fail(case, what + (f"; {slip}" if slip else ""))


def kfold_test_folds(n_samples: int, n_folds: int, seed: int) -> list[np.ndarray]:
    r"""The test folds of ``KFold(n_splits=n_folds, shuffle=True, random_state=seed)``.

    These are the folds :func:`emlib.selection.select_mixture` uses: the first
    :math:`N \bmod k` hold :math:`\lceil N/k \rceil` samples, the others
    :math:`\lfloor N/k \rfloor`.

    Parameters
    ----------
    n_samples, n_folds : int
        :math:`N` and :math:`k`.
    seed : int
        ``random_state`` of KFold.

    Returns
    -------
    list of ndarray
        The sample indices of each fold, sorted.
    """
    from sklearn.model_selection import KFold

    splitter = KFold(n_splits=n_folds, shuffle=True, random_state=seed)
    return [test for _, test in splitter.split(np.zeros((n_samples, 1)))]


def _folds_of(function: Callable, case: Case) -> list[np.ndarray]:
    """The student's folds for ``case``, checked to be a partition of the right sizes."""
    n_samples, n_folds, _ = case.args
    out = _call(function, case, "student")
    if out is None or out is Ellipsis:
        _as_array(out, case, "your result")
    try:
        folds = [np.asarray(fold) for fold in out]
    except TypeError:
        raise _fail(case, f"your function returned {type(out).__name__}; return a list of "
                          "arrays, one array of sample indices per fold") from None
    if len(folds) != n_folds:
        raise _fail(case, f"you returned {len(folds)} fold(s), expected {n_folds}")
    for f, fold in enumerate(folds):
        if fold.ndim != 1 or (fold.size and not np.issubdtype(fold.dtype, np.integer)):
            raise _fail(case, f"fold {f} is not a 1-D array of integer indices (shape "
                              f"{fold.shape}, dtype {fold.dtype})")
    every = np.concatenate(folds) if folds else np.array([], dtype=int)
    outside = every[(every < 0) | (every >= n_samples)]
    if outside.size:
        raise _fail(case, f"index {int(outside[0])} is not a sample: indices run from 0 to "
                          f"{n_samples - 1}")
    counts = np.bincount(every, minlength=n_samples)
    if (counts == 0).any():
        missing = np.flatnonzero(counts == 0)
        raise _fail(case, f"{missing.size} sample(s) are in no fold (the first: sample "
                          f"{int(missing[0])}), so they are never held out; the folds must "
                          f"cover all {n_samples} samples")
    if (counts > 1).any():
        twice = np.flatnonzero(counts > 1)
        raise _fail(case, f"{twice.size} sample(s) are in more than one fold (the first: "
                          f"sample {int(twice[0])}); each sample is held out exactly once")
    sizes = [fold.size for fold in folds]
    small, large = n_samples // n_folds, -(-n_samples // n_folds)
    if any(size not in (small, large) for size in sizes):
        raise _fail(case, f"your folds have sizes {sizes}; {n_folds} folds of {n_samples} "
                          f"samples have {small} or {large} samples each")
    return folds


def _partition(folds: list[np.ndarray]) -> frozenset:
    # Only which samples share a fold matters, not the order of the folds or within one.
    return frozenset(frozenset(fold.tolist()) for fold in folds)


def check_folds(function: Callable, case: Case) -> None:
    r"""Check that ``function(n_samples, n_folds, seed)`` returns a valid :math:`k`-fold split.

    In order: a list of ``n_folds`` arrays of integers; together they hold every index
    :math:`0, \dots, N-1` exactly once (no sample left out, none in two folds); every
    fold has :math:`\lfloor N/k \rfloor` or :math:`\lceil N/k \rceil` samples. The order
    of the folds, and of the indices inside a fold, is free.

    Parameters
    ----------
    function : callable
        The student's ``kfold_split(n_samples, n_folds, seed)``.
    case : Case
        Arguments ``(n_samples, n_folds, seed)``.

    Raises
    ------
    AssertionError
        At the first problem, naming the case, the sample or fold concerned, and the hint.
    """
    _folds_of(function, case)


def check_random_folds(function: Callable, name: str, n_samples: int, n_folds: int,
                       seeds: Iterable[int], hint: str) -> None:
    r"""Check that ``function(n_samples, n_folds, seed)`` draws its folds at random from ``seed``.

    For every seed the folds must be a valid split (see :func:`check_folds`), the same
    when the function is called again with that seed (reproducible), not a cut of the
    samples in their original order into consecutive blocks, and different from the
    folds of every other seed. Any generator and any way of cutting pass: the folds need
    not be those of scikit-learn's ``KFold``.

    Two seeds of a sound generator give the same partition of :math:`N` samples into
    :math:`k` folds with probability one over the number of such partitions, below
    :math:`10^{-40}` for the cases of lab 5 (99 samples in 3 folds or more), and a
    random partition is a cut into consecutive blocks with a smaller probability still:
    a right answer fails this check with probability far below :math:`10^{-8}`.

    Parameters
    ----------
    function : callable
        The student's ``kfold_split(n_samples, n_folds, seed)``.
    name : str
        The case, in the student's words; the seed is appended.
    n_samples, n_folds : int
        :math:`N` and :math:`k`.
    seeds : iterable of int
        At least two seeds.
    hint : str
        What to look at when the check fails.

    Raises
    ------
    AssertionError
        At the first seed whose folds are not reproducible, not shuffled or the same as
        another seed's.
    """
    seen: dict[frozenset, int] = {}
    for seed in seeds:
        case = Case(f"{name}, seed {seed}", (n_samples, n_folds, seed), hint)
        partition = _partition(_folds_of(function, case))
        if _partition(_folds_of(function, case)) != partition:
            raise _fail(case, f"called twice with seed {seed}, your function returned "
                              "different folds, so no one can repeat your cross-validation; "
                              "make the generator from the seed you are given "
                              "(np.random.default_rng(seed), or np.random.RandomState(seed)) "
                              "instead of drawing from NumPy's global one")
        if all(np.all(np.diff(sorted(fold)) == 1) for fold in partition):
            raise _fail(case, "every fold is a block of consecutive samples in their original "
                              "order: the split is not random. A data set stored in order "
                              "(the iris flowers come species by species) then gives folds "
                              "that differ from the rest; shuffle the indices first")
        if partition in seen:
            raise _fail(case, f"seeds {seen[partition]} and {seed} give the same folds: the "
                              "seed must decide the shuffle, so that another seed gives "
                              "another split")
        seen[partition] = seed


def heldout_by_cross_validate(X, folds, make_model) -> tuple[float, np.ndarray, np.ndarray]:
    r"""Held-out log-likelihood per sample from scikit-learn's ``cross_validate``.

    ``cross_validate`` fits a clone of ``make_model()`` on each training set (the samples
    outside the fold, in their original order) and scores the fold with the estimator's
    ``score``, the *mean* log-likelihood :math:`m_f = S_f / |F_f|` of the fold's samples
(:math:`S_f` their total);
    weighting each fold's mean by its size gives the mean over all samples,
    :math:`\ell_{\text{held-out}} = \frac1N \sum_f |F_f|\, m_f`.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        The data.
    folds : list of array-like of int
        The sample indices of each fold; together a partition of the samples.
    make_model : callable
        Without arguments, returns an unfitted estimator with ``fit`` and ``score``.

    Returns
    -------
    heldout : float
        The held-out log-likelihood per sample.
    fold_means : ndarray
        Each fold's mean held-out log-likelihood.
    fold_sizes : ndarray
        The number of samples in each fold.
    """
    from sklearn.model_selection import cross_validate

    n_samples = np.shape(X)[0]
    everything = np.arange(n_samples)
    splits = [(np.setdiff1d(everything, fold), np.sort(fold)) for fold in folds]
    scores = cross_validate(make_model(), X, cv=splits, error_score="raise")["test_score"]
    sizes = np.array([len(fold) for fold in folds])
    return float(scores @ sizes / n_samples), scores, sizes


def check_heldout(function: Callable, cases: Iterable[Case], *,
                  kfold: tuple[int, int] | None = None, rtol: float = 1e-7) -> None:
    r"""Check ``function(X, folds, make_model)``, the held-out log-likelihood per sample.

    The reference is :func:`heldout_by_cross_validate` (scikit-learn); when ``kfold`` is
    ``(n_folds, seed)`` the case's folds are those of KFold and
    :func:`emlib.selection.select_mixture` with ``cv=n_folds, random_state=seed`` must give
    the same value (else the check raises a RuntimeError: a bug of the library). When the
    student's value is off, it is compared with what three slips give, to name the one that
    matches: the unweighted mean of the folds' means (a loop that averages per fold, wrong
    when folds differ in size), the total :math:`N \ell_{\text{held-out}}` (no division),
    and the total divided by the number of folds :math:`k` instead of :math:`N`.

    Parameters
    ----------
    function : callable
        The student's ``heldout_log_likelihood(X, folds, make_model)``.
    cases : iterable of Case
        Arguments ``(X, folds, make_model)``: data, a list of test-index arrays, and a
        function without arguments that returns a fresh unfitted model.
    kfold : (int, int), optional
        The folds are KFold's with this number of folds and seed.
    rtol : float
        Relative tolerance. The lab's test models start EM from fixed parameters, not
        from k-means, so the order of the training rows changes the result only by
        rounding.

    Raises
    ------
    AssertionError
        At the first case that fails, naming it, the two values, and the likely mistake.
    """
    for case in cases:
        got = _number(_call(function, case, "student"), case, "your held-out log-likelihood")
        X, folds, make_model = case.fresh()[0]
        expected, fold_means, sizes = heldout_by_cross_validate(X, folds, make_model)
        if kfold is not None:
            from emlib.selection import select_mixture

            template = make_model()
            library = select_mixture(X, template, {"n_components": [template.n_components]},
                                     cv=kfold[0], random_state=kfold[1])
            value = library.rows[0]["heldout_log_likelihood"]
            if not np.isclose(value, expected, rtol=_REFERENCES_RTOL, atol=0):
                raise RuntimeError(f"emlib.selection ({value!r}) and scikit-learn "
                                   f"({expected!r}) disagree on case '{case.name}': "
                                   "report this")
        if np.isclose(got, expected, rtol=rtol, atol=1e-9):
            continue
        what = (f"your held-out log-likelihood per sample is {got:.10g}, scikit-learn's "
                f"cross_validate gives {expected:.10g}")
        per_fold = float(np.mean(fold_means))
        n_samples, n_folds = int(sizes.sum()), len(sizes)
        if np.isclose(got, per_fold, rtol=rtol, atol=1e-9):
            what += (f"; you averaged the {n_folds} folds' mean log-likelihoods, but the "
                     f"folds hold {sizes.tolist()} samples: average over the samples, the "
                     "sum of all held-out log-densities divided by N")
        elif np.isclose(got, expected * n_samples, rtol=rtol, atol=1e-9):
            what += (f"; yours is the total over the {n_samples} samples: divide it by N "
                     "for the mean per sample")
        elif np.isclose(got, expected * n_samples / n_folds, rtol=rtol, atol=1e-9):
            what += (f"; yours is the total divided by the number of folds, {n_folds}: "
                     f"divide by the number of samples, N = {n_samples}")
        elif got > expected:
            what += ("; yours is higher, as when a model scores samples it was trained on "
                     "(does each fold's model see its held-out fold?)")
        raise _fail(case, what)
