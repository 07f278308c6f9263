"""emlib's MAP-EM against mclust, the R package of Fraley and Raftery's conjugate priors.

``tests/data/mclust_iris.json`` is written by ``scripts/mclust_reference.R`` (mclust 6.0.0):
EM on R's iris data from the species labels, with mclust's default prior and, as a control,
without one. emlib starts from the same responsibilities (its first M-step is mclust's first
M-step) and must reach the same parameters. The prior hyper-parameters are passed
explicitly: mclust's default scale for VVI and VII is one number for all features, where
emlib's ``prior="conjugate"`` keeps one per feature for ``diag``.
"""

import json
import warnings
from pathlib import Path

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from emlib import GaussianMixture, GaussianPrior
from emlib.gaussian import estimate_gaussian_parameters
from emlib.priors import map_gaussian_parameters, resolve_prior

REFERENCE = json.loads((Path(__file__).parent / "data" / "mclust_iris.json").read_text())
X = np.array(REFERENCE["data"])
START = np.eye(3)[REFERENCE["species"]]
RUNS = {(run["covariance_type"], run["prior"] is not None): run for run in REFERENCE["em"]}


def mclust_prior(run):
    hyper = run["prior"]
    return GaussianPrior(
        mean=hyper["mean"],
        shrinkage=hyper["shrinkage"],
        degrees_of_freedom=hyper["degrees_of_freedom"],
        # mclust's VVI prior has one scale for all features; emlib's diag takes one each.
        scale=np.broadcast_to(hyper["scale"], (4,)) if run["model"] == "VVI" else hyper["scale"],
    )


def as_emlib_covariances(run):
    """mclust stores a (D, D) matrix per component for every model."""
    sigma = np.array(run["covariances"])
    kind = run["covariance_type"]
    if kind == "tied":
        return sigma[0]
    if kind == "diag":
        return np.diagonal(sigma, axis1=1, axis2=2)
    if kind == "spherical":
        return sigma[:, 0, 0]
    return sigma


def precisions(covariances, kind):
    if kind in ("diag", "spherical"):
        return 1.0 / covariances
    return np.linalg.inv(covariances)


def fit_from_species(kind, prior):
    """emlib's EM started from the M-step on the species labels, run to convergence."""
    if prior is None:
        nk, means, covariances = estimate_gaussian_parameters(X, START, 0.0, kind)
        weights = nk / nk.sum()
    else:
        resolved = resolve_prior(prior, X, 3, kind)
        weights, means, covariances = map_gaussian_parameters(X, START, resolved, kind)
    model = GaussianMixture(
        3,
        covariance_type=kind,
        prior=prior,
        # mclust adds nothing to the maximum-likelihood covariances.
        **({} if prior is not None else {"reg_covar": 0.0}),
        weights_init=weights,
        means_init=means,
        precisions_init=precisions(covariances, kind),
        # tol=0 with a fixed count, as in the R script: both programs then sit at the
        # fixed point to rounding level, not at different distances from it.
        tol=0.0,
        max_iter=1000,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(X)


def components_in_mclust_order(model, run):
    """Labels cannot switch from a common start, but check rather than assume."""
    reference = np.array(run["means"])
    distance = np.linalg.norm(model.means_[:, None] - reference[None], axis=2)
    order = np.argmin(distance, axis=0)
    assert sorted(order) == [0, 1, 2]
    return order


@pytest.mark.parametrize("kind", ["full", "tied", "diag", "spherical"])
def test_map_em_reaches_mclusts_posterior_mode(kind):
    run = RUNS[kind, True]
    model = fit_from_species(kind, mclust_prior(run))
    order = components_in_mclust_order(model, run)
    covariances = model.covariances_ if kind == "tied" else model.covariances_[order]
    np.testing.assert_allclose(model.weights_[order], run["weights"], rtol=1e-10)
    np.testing.assert_allclose(model.means_[order], run["means"], rtol=1e-10)
    np.testing.assert_allclose(covariances, as_emlib_covariances(run), rtol=1e-10, atol=1e-13)
    # mclust reports the log-likelihood at the MAP estimate, not the log posterior: emlib's
    # bic() and aic() use the same quantity.
    assert model.score(X) * len(X) == pytest.approx(run["loglik"], abs=1e-9)


def test_maximum_likelihood_reaches_mclusts_estimate():
    run = RUNS["full", False]
    model = fit_from_species("full", None)
    order = components_in_mclust_order(model, run)
    np.testing.assert_allclose(model.means_[order], run["means"], rtol=1e-10)
    np.testing.assert_allclose(
        model.covariances_[order], as_emlib_covariances(run), rtol=1e-5, atol=1e-8
    )
    assert model.score(X) * len(X) == pytest.approx(run["loglik"], abs=1e-9)


@pytest.mark.parametrize("kind", ["full", "tied"])
def test_default_prior_matches_mclusts_default(kind):
    """For full and tied, prior="conjugate" is mclust's priorControl() exactly."""
    run = RUNS[kind, True]
    ours = resolve_prior("conjugate", X, 3, kind)
    np.testing.assert_allclose(ours.mean, run["prior"]["mean"], rtol=1e-12)
    np.testing.assert_allclose(ours.scale, run["prior"]["scale"], rtol=1e-12)
    assert ours.shrinkage == run["prior"]["shrinkage"]
    assert ours.degrees_of_freedom == run["prior"]["degrees_of_freedom"]


def test_spherical_default_prior_matches_mclusts_default():
    run = RUNS["spherical", True]
    ours = resolve_prior("conjugate", X, 3, "spherical")
    assert float(ours.scale) == pytest.approx(run["prior"]["scale"], rel=1e-12)


MODELS = {"full": "VVV", "tied": "EEE", "diag": "VVI", "spherical": "VII"}


@pytest.mark.parametrize("kind", list(MODELS))
@pytest.mark.parametrize("with_prior", [False, True])
def test_one_component_bic_is_mclusts_with_the_sign_flipped(kind, with_prior):
    """One component has a single optimum, so the BIC values must agree exactly: the same
    log-likelihood (at the MAP estimate, with the prior), the same parameter count, and
    mclust's sign convention 2 log L - P log N against emlib's -2 log L + P log N."""
    key = "conjugate_prior" if with_prior else "maximum_likelihood"
    prior = None
    if with_prior:
        # mclust's defaults for one component; its VVI scale is one number for all features.
        prior = resolve_prior("conjugate", X, 1, kind)
        if kind == "diag":
            prior = GaussianPrior(scale=np.full(4, np.trace(np.cov(X.T)) / 4))
    model = GaussianMixture(
        1, covariance_type=kind, prior=prior, reg_covar=1e-6 if with_prior else 0.0,
        tol=1e-12, max_iter=1000,
    ).fit(X)
    assert model.bic(X) == pytest.approx(-REFERENCE["bic"][key][MODELS[kind]][0], abs=1e-8)


def test_full_two_components_reaches_mclusts_choice():
    """mclust's full (VVV) column picks G = 2 on iris; restarts of emlib reach the same fit."""
    model = GaussianMixture(
        2, reg_covar=0.0, n_init=10, random_state=0, tol=1e-10, max_iter=3000
    ).fit(X)
    assert model.bic(X) == pytest.approx(
        -REFERENCE["bic"]["maximum_likelihood"]["VVV"][1], abs=1e-5
    )
