"""Tests for emlib.selection: parameter counts, information criteria and the selection table."""

import numpy as np
import pytest
from sklearn.mixture import GaussianMixture as SklearnGaussianMixture
from sklearn.model_selection import KFold
from sklearn.neighbors import KernelDensity

from emlib import BernoulliMixture, GaussianMixture
from emlib.plotting import plot_criteria
from emlib.selection import (
    COVARIANCE_TYPES,
    SelectionResult,
    aic,
    bic,
    degeneracy,
    icl,
    n_parameters,
    n_parameters_bernoulli,
    select_gaussian_mixture,
    select_mixture,
    split_component,
)


@pytest.fixture(scope="module")
def three_blobs():
    """Three well-separated round clusters in the plane."""
    rng = np.random.default_rng(0)
    centres = np.array([[0.0, 0.0], [6.0, 0.0], [0.0, 6.0]])
    return np.concatenate([rng.normal(c, 0.8, size=(60, 2)) for c in centres])


@pytest.fixture(scope="module")
def binary_prototypes():
    """Binary vectors drawn from three well-separated Bernoulli prototypes."""
    rng = np.random.default_rng(1)
    prototypes = np.array([[0.9] * 4 + [0.1] * 8, [0.1] * 4 + [0.9] * 4 + [0.1] * 4])
    prototypes = np.vstack([prototypes, [0.1] * 8 + [0.9] * 4])
    labels = rng.integers(0, 3, size=300)
    return (rng.random((300, 12)) < prototypes[labels]).astype(np.uint8)


@pytest.fixture(scope="module")
def gaussian_selection(three_blobs):
    return select_gaussian_mixture(three_blobs, range(1, 6), n_init=2, cv=3, random_state=0)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
@pytest.mark.parametrize(("n_components", "n_features"), [(1, 1), (3, 2), (5, 7)])
def test_n_parameters_matches_sklearn(covariance_type, n_components, n_features):
    model = SklearnGaussianMixture(n_components, covariance_type=covariance_type)
    model.means_ = np.zeros((n_components, n_features))  # all _n_parameters reads
    assert n_parameters(n_components, n_features, covariance_type) == model._n_parameters()


@pytest.mark.parametrize(
    ("covariance_type", "expected"),
    # K=3, d=2: 2 weights + 6 means + covariances (9, 6, 3, 3).
    [("full", 17), ("diag", 14), ("tied", 11), ("spherical", 11)],
)
def test_n_parameters_hand_counts(covariance_type, expected):
    assert n_parameters(3, 2, covariance_type) == expected


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_n_parameters_matches_fitted_emlib_model(three_blobs, covariance_type):
    model = GaussianMixture(3, covariance_type=covariance_type, random_state=0).fit(three_blobs)
    assert n_parameters(3, 2, covariance_type) == model._n_parameters()


def test_n_parameters_bernoulli(binary_prototypes):
    assert n_parameters_bernoulli(3, 12) == 3 * 12 + 2
    model = BernoulliMixture(3, random_state=0).fit(binary_prototypes)
    assert n_parameters_bernoulli(3, 12) == model._n_parameters()


def test_n_parameters_rejects_bad_input():
    with pytest.raises(ValueError, match="covariance_type must be one of"):
        n_parameters(2, 2, "banded")
    with pytest.raises(ValueError, match="n_components must be a positive integer"):
        n_parameters(0, 2)
    with pytest.raises(ValueError, match="n_features must be a positive integer"):
        n_parameters_bernoulli(2, 2.5)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_bic_and_aic_equal_the_model_methods(three_blobs, covariance_type):
    model = GaussianMixture(2, covariance_type=covariance_type, random_state=0).fit(three_blobs)
    log_likelihood = model.score(three_blobs) * three_blobs.shape[0]
    p = model._n_parameters()
    assert bic(log_likelihood, p, three_blobs.shape[0]) == pytest.approx(model.bic(three_blobs))
    assert aic(log_likelihood, p) == pytest.approx(model.aic(three_blobs))


def test_table_rows_agree_with_their_models(gaussian_selection, three_blobs):
    result = gaussian_selection
    assert len(result) == 4 * 5
    assert result.param_names == ("covariance_type", "n_components")
    for row, model in zip(result.rows, result.models, strict=True):
        assert model.covariance_type == row["covariance_type"]
        assert model.n_components == row["n_components"]
        assert row["n_parameters"] == n_parameters(row["n_components"], 2, row["covariance_type"])
        assert row["log_likelihood"] == pytest.approx(
            model.score(three_blobs) * three_blobs.shape[0]
        )
        assert row["bic"] == pytest.approx(model.bic(three_blobs))
        assert row["aic"] == pytest.approx(model.aic(three_blobs))


def test_rows_grouped_by_covariance_then_components(gaussian_selection):
    keys = [(row["covariance_type"], row["n_components"]) for row in gaussian_selection.rows]
    assert keys == [(c, k) for c in COVARIANCE_TYPES for k in range(1, 6)]


def test_bic_picks_three_components_on_three_blobs(gaussian_selection):
    assert gaussian_selection.best("bic")["n_components"] == 3
    assert gaussian_selection.best("heldout")["n_components"] == 3


def test_best_minimises_or_maximises_the_criterion(gaussian_selection):
    result = gaussian_selection
    assert result.best("bic")["bic"] == min(result.column("bic"))
    assert result.best("aic")["aic"] == min(result.column("aic"))
    heldout = result.column("heldout_log_likelihood")
    assert result.best("heldout")["heldout_log_likelihood"] == max(heldout)
    best_model = result.best_model("bic")
    assert best_model.n_components == result.best("bic")["n_components"]
    assert best_model.covariance_type == result.best("bic")["covariance_type"]


def test_best_returns_a_copy(gaussian_selection):
    row = gaussian_selection.best("bic")
    row["bic"] = -np.inf
    assert gaussian_selection.best("bic")["bic"] > -np.inf


def test_best_ties_go_to_the_first_row():
    rows = [{"n_components": k, "bic": b} for k, b in [(1, 5.0), (2, 3.0), (3, 3.0)]]
    assert SelectionResult(rows, [None] * 3, ("n_components",)).best("bic")["n_components"] == 2


def test_heldout_equals_manual_kfold(gaussian_selection, three_blobs):
    row = next(
        r
        for r in gaussian_selection.rows
        if r["covariance_type"] == "diag" and r["n_components"] == 2
    )
    total = 0.0
    for train, test in KFold(3, shuffle=True, random_state=0).split(three_blobs):
        model = GaussianMixture(2, covariance_type="diag", n_init=2, random_state=0)
        total += model.fit(three_blobs[train]).score_samples(three_blobs[test]).sum()
    assert row["heldout_log_likelihood"] == pytest.approx(total / three_blobs.shape[0])


def test_values_are_plain_python_numbers(gaussian_selection):
    row = gaussian_selection.rows[0]
    assert type(row["n_components"]) is int and type(row["n_parameters"]) is int
    for key in ("log_likelihood", "bic", "aic", "heldout_log_likelihood"):
        assert type(row[key]) is float


def test_selection_is_deterministic(three_blobs):
    first = select_gaussian_mixture(three_blobs, [2, 3], ["full"], n_init=1, cv=2)
    second = select_gaussian_mixture(three_blobs, [2, 3], ["full"], n_init=1, cv=2)
    assert first.rows == second.rows


def test_markdown_table(gaussian_selection):
    text = gaussian_selection.to_markdown()
    lines = text.splitlines()
    assert len(lines) == 2 + len(gaussian_selection)
    assert [cell.strip() for cell in lines[0].strip("|").split("|")] == [
        "covariance",
        "K",
        "parameters",
        "train log-lik (total)",
        "BIC",
        "AIC",
        "held-out log-lik / sample",
        "ICL",
        "degenerate",
    ]
    first = gaussian_selection.rows[0]
    cells = [cell.strip() for cell in lines[2].strip("|").split("|")]
    assert cells[:3] == ["full", "1", "5"]
    assert cells[4] == f"{first['bic']:.1f}"
    assert cells[6] == f"{first['heldout_log_likelihood']:.3f}"
    assert cells[7] == f"{gaussian_selection.diagnostics[0]['icl']:.1f}"
    assert cells[8] == "no"
    assert str(gaussian_selection) == text == repr(gaussian_selection)
    assert gaussian_selection._repr_markdown_() == text


def test_without_cv_the_heldout_column_is_absent(three_blobs):
    result = select_gaussian_mixture(three_blobs, [1, 2], ["tied"], cv=None)
    assert all(row["heldout_log_likelihood"] is None for row in result.rows)
    assert "held-out" not in result.to_markdown()
    with pytest.raises(ValueError, match="cv=None"):
        result.best("heldout")
    assert result.best("bic")["n_components"] == 2


def test_generic_path_chooses_k_for_a_bernoulli_mixture(binary_prototypes):
    result = select_mixture(
        binary_prototypes,
        BernoulliMixture(pixel_prior=0.5, n_init=2),
        {"n_components": range(1, 6)},
        cv=3,
    )
    assert result.best("bic")["n_components"] == 3
    assert result.best("heldout")["n_components"] == 3
    for row, model in zip(result.rows, result.models, strict=True):
        assert row["n_parameters"] == n_parameters_bernoulli(row["n_components"], 12)
        assert model.random_state == 0  # filled in because the template left it None


def test_generic_path_keeps_an_explicit_random_state(three_blobs):
    template = SklearnGaussianMixture(random_state=7)
    result = select_mixture(three_blobs, template, {"n_components": [3]}, cv=None)
    assert result.models[0].random_state == 7
    assert template.get_params()["random_state"] == 7
    assert not hasattr(template, "means_")  # the template itself is never fitted


def test_grid_values_from_numpy_become_python_values(three_blobs):
    result = select_mixture(
        three_blobs, GaussianMixture(), {"n_components": np.arange(2, 4)}, cv=None
    )
    assert [type(row["n_components"]) for row in result.rows] == [int, int]


def test_bad_arguments_raise_clear_errors(three_blobs):
    with pytest.raises(ValueError, match="cv must be None or a number of folds"):
        select_mixture(three_blobs, GaussianMixture(), {"n_components": [1]}, cv=1)
    with pytest.raises(TypeError, match="n_components is set by the grid"):
        select_gaussian_mixture(three_blobs, n_components=3)
    with pytest.raises(TypeError, match="no _n_parameters"):
        select_mixture(three_blobs, KernelDensity(), {"bandwidth": [1.0]}, cv=None)
    with pytest.raises(ValueError, match="criterion must be one of"):
        select_mixture(three_blobs, GaussianMixture(), {"n_components": [1]}, cv=None).best(
            "likelihood"
        )


def test_best_per_picks_within_each_covariance_type(gaussian_selection):
    result = gaussian_selection
    for criterion in ("bic", "aic", "heldout"):
        key, larger_is_better = {"bic": ("bic", False), "aic": ("aic", False),
                                 "heldout": ("heldout_log_likelihood", True)}[criterion]
        picks = result.best_per(criterion)
        models = result.best_model_per(criterion)
        assert list(picks) == list(COVARIANCE_TYPES)
        for cov_type, row in picks.items():
            values = [r[key] for r in result.rows if r["covariance_type"] == cov_type]
            assert row[key] == (max(values) if larger_is_better else min(values))
            assert row["covariance_type"] == cov_type
            assert models[cov_type].n_components == row["n_components"]
            assert models[cov_type].covariance_type == cov_type
    overall = result.best("bic")
    assert result.best_per("bic")[overall["covariance_type"]] == overall


def test_best_per_by_components_and_bad_group(gaussian_selection):
    picks = gaussian_selection.best_per("bic", by="n_components")
    assert list(picks) == [1, 2, 3, 4, 5]
    assert picks[3]["n_components"] == 3
    with pytest.raises(ValueError, match="by must name a grid parameter"):
        gaussian_selection.best_per("bic", by="bic")


def test_best_per_ties_go_to_the_first_row():
    rows = [
        {"covariance_type": t, "n_components": k, "bic": b}
        for t, k, b in [("full", 1, 2.0), ("full", 2, 2.0), ("diag", 1, 3.0), ("diag", 2, 1.0)]
    ]
    result = SelectionResult(rows, [None] * 4, ("covariance_type", "n_components"))
    picks = result.best_per("bic")
    assert (picks["full"]["n_components"], picks["diag"]["n_components"]) == (1, 2)


def test_picks_table_lists_each_criterion(gaussian_selection):
    lines = gaussian_selection.picks_table().splitlines()
    assert lines[0].split() == ["covariance", *COVARIANCE_TYPES, "overall", "best"]
    assert [line.split("  ")[0].strip() for line in lines[1:]] == [
        "BIC (min)",
        "AIC (min)",
        "held-out (max)",
    ]
    picks = gaussian_selection.best_per("bic")
    best = gaussian_selection.best("bic")
    ks = [str(picks[t]["n_components"]) for t in COVARIANCE_TYPES]
    assert lines[1].split()[2:6] == ks
    assert lines[1].endswith(f"{best['covariance_type']}, K={best['n_components']}")


def test_picks_table_without_cv_and_with_other_parameters(three_blobs):
    result = select_gaussian_mixture(three_blobs, [1, 2], ["tied"], cv=None)
    lines = result.picks_table().splitlines()
    assert len(lines) == 3  # header, BIC, AIC: nothing held out
    table = result.picks_table(by="n_components")
    assert "tied" in table.splitlines()[1]
    # The overall column labels K when K defines the columns.
    best = result.best("bic")
    assert table.splitlines()[1].endswith(f"covariance=tied, K={best['n_components']}")


def test_picks_table_accepts_a_single_criterion(gaussian_selection):
    lines = gaussian_selection.picks_table(criteria="bic").splitlines()
    assert len(lines) == 2
    assert lines[1].startswith("BIC (min)")
    assert gaussian_selection.picks_table("aic") == gaussian_selection.picks_table(["aic"])


def test_picks_table_groups_by_the_first_parameter_other_than_k(three_blobs):
    result = select_mixture(
        three_blobs, GaussianMixture(), {"n_components": [1, 2], "tol": [1e-3, 1e-4]}, cv=None
    )
    assert result.picks_table().splitlines()[0].split()[:3] == ["tol", "0.001", "0.0001"]


@pytest.mark.parametrize("covariance_type", ["full", "diag", "tied", "spherical"])
def test_split_component_keeps_the_density_without_shift(three_blobs, covariance_type):
    model = GaussianMixture(2, covariance_type=covariance_type, random_state=0)
    model.fit(three_blobs)
    same = split_component(model, 1, shift=0.0)
    assert same.n_components == 3
    np.testing.assert_allclose(same.score_samples(three_blobs), model.score_samples(three_blobs))
    grown = split_component(model, 0, tol=1e-8, max_iter=2000).fit(three_blobs)
    # EM continues from the split, which starts next to the K = 2 optimum.
    assert grown.score(three_blobs) >= model.score(three_blobs) - 1e-3
    assert grown.n_components == 3


def test_split_component_rejects_bad_input(three_blobs):
    model = GaussianMixture(2, random_state=0).fit(three_blobs)
    with pytest.raises(ValueError, match="component must be an index from 0 to 1"):
        split_component(model, 2)
    with pytest.raises(ValueError, match="shift must be non-negative"):
        split_component(model, 0, shift=-1.0)


# ---------------------------------------------------------------- ICL
def test_icl_by_hand():
    """-2 log L = 20, p log N = 2 log 3, entropy = 0 + log 2 + 0.5623351 (rows 1 to 3)."""
    resp = [[1.0, 0.0], [0.5, 0.5], [0.25, 0.75]]
    assert icl(-10.0, 2, resp) == pytest.approx(24.708189, abs=1e-6)
    assert icl(-10.0, 2, [[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]]) == bic(-10.0, 2, 3)


def test_icl_is_bic_plus_twice_the_entropy(three_blobs):
    model = GaussianMixture(3, random_state=0).fit(three_blobs)
    resp = model.predict_proba(three_blobs)
    entropy = -sum(r * np.log(r) for row in resp for r in row if r > 0)
    assert model.icl(three_blobs) == pytest.approx(model.bic(three_blobs) + 2 * entropy)
    assert model.icl(three_blobs) > model.bic(three_blobs)


def test_icl_in_the_table_and_as_a_criterion(gaussian_selection, three_blobs):
    icls = gaussian_selection.column("icl")
    for value, model in zip(icls, gaussian_selection.models, strict=True):
        assert value == pytest.approx(model.icl(three_blobs))
    assert gaussian_selection.best("icl")["icl"] == icls.min()
    assert gaussian_selection.best("icl")["n_components"] == 3
    lines = gaussian_selection.picks_table(["bic", "icl"]).splitlines()
    assert lines[2].startswith("ICL (min)")
    # The default table lists the criteria it always did.
    assert len(gaussian_selection.picks_table().splitlines()) == 4


# ---------------------------------------------------------------- degenerate fits
def test_degenerate_flag_for_a_collapsed_and_for_an_empty_component(three_blobs):
    X = np.vstack([three_blobs, np.repeat([[3.0, 3.0]], 6, axis=0)])
    collapsed = GaussianMixture(
        4, means_init=[[0, 0], [6, 0], [0, 6], [3, 3]], random_state=0
    ).fit(X)
    flags = degeneracy(collapsed, X)
    assert flags["degenerate"] and flags["eigenvalue_ratio"] < 1e-3
    assert flags["smallest_component"] >= 3  # not flagged for its size: D + 1 = 3
    healthy = GaussianMixture(3, random_state=0).fit(three_blobs)
    assert degeneracy(healthy, three_blobs)["degenerate"] is False
    empty = GaussianMixture.from_parameters(
        [0.5, 0.5], [[0.0, 0.0], [50.0, 50.0]], [np.eye(2), np.eye(2)]
    )
    flags = degeneracy(empty, three_blobs)
    assert flags["degenerate"] and flags["smallest_component"] < 3
    assert flags["eigenvalue_ratio"] > 1e-3  # flagged for its size alone
    # The threshold is a parameter.
    assert not degeneracy(collapsed, X, min_eigenvalue_fraction=1e-9)["degenerate"]


def test_the_table_flags_degenerate_fits_and_picks(three_blobs):
    X = np.vstack([three_blobs, np.repeat([[3.0, 3.0]], 6, axis=0)])
    result = select_gaussian_mixture(X, [3, 4], ["full"], n_init=1, cv=None)
    flags = result.column("degenerate")
    assert flags.dtype == bool
    for flag, model in zip(flags, result.models, strict=True):
        assert flag == degeneracy(model, X)["degenerate"]
    assert flags.tolist() == [False, True]  # K = 4 puts a component on the copies
    assert result.best("bic")["degenerate"]
    assert "(degenerate)" in result.picks_table().splitlines()[1]
    assert "| yes" in result.to_markdown()
    # A prior keeps that component from collapsing.
    with_prior = select_gaussian_mixture(X, [3, 4], ["full"], n_init=1, cv=None, prior="conjugate")
    assert all(model.prior == "conjugate" for model in with_prior.models)
    assert with_prior.column("eigenvalue_ratio")[1] > 1e3 * result.column("eigenvalue_ratio")[1]


def test_families_without_covariances_are_not_assessed(binary_prototypes):
    result = select_mixture(binary_prototypes, BernoulliMixture(), {"n_components": [2]}, cv=None)
    assert result.diagnostics[0]["degenerate"] is None
    assert result.diagnostics[0]["icl"] >= result.rows[0]["bic"]
    assert "degenerate" not in result.to_markdown().splitlines()[0]


def test_plot_criteria_ignores_the_diagnostics(gaussian_selection):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    plot_criteria(gaussian_selection, ax=ax, criteria=("bic",))
    # One line per covariance type and the star: the diagnostics are not grid parameters.
    assert len(ax.lines) == len(COVARIANCE_TYPES) + 1
    plt.close(fig)


def test_split_component_keeps_the_prior(three_blobs):
    model = GaussianMixture(2, prior="conjugate", random_state=0).fit(three_blobs)
    grown = split_component(model, 0).fit(three_blobs)
    assert grown.prior == "conjugate" and grown.prior_ is not None
