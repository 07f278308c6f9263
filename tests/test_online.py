"""Stepwise (online) EM, ``partial_fit`` (emlib.online), against batch EM and against the
recursion of Cappé and Moulines (2009) written out here independently."""

import copy
import functools
import warnings

import numpy as np
import pytest
from fit_comparison import parameters, relative_difference
from sklearn.utils import check_random_state

import emlib.em
import emlib.gaussian
from emlib import BernoulliMixture, GaussianMixture
from emlib.datasets import make_binary_patterns
from emlib.online import step_size

COVARIANCE_TYPES = ["full", "tied", "diag", "spherical"]


def blobs(n=600, seed=0, offset=0.0, dtype=np.float64):
    """Three well-separated Gaussian blobs in two dimensions, rows shuffled."""
    rng = np.random.default_rng(seed)
    centres = np.array([[0.0, 0.0], [8.0, 0.0], [0.0, 8.0]])
    labels = rng.choice(3, size=n, p=[0.5, 0.3, 0.2])
    X = centres[labels] + rng.normal(size=(n, 2)) * np.array([1.0, 0.7])
    return (X + offset).astype(dtype)


def binary(n=400, seed=0):
    return make_binary_patterns(n_samples=n, random_state=seed)[0].astype(np.float64)


# ---------------------------------------------------------------------------- (a)
@pytest.mark.parametrize("prior", [None, "conjugate"])
@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_one_full_step_is_one_batch_iteration_gaussian(covariance_type, prior):
    X = blobs()
    kwargs = dict(covariance_type=covariance_type, prior=prior, random_state=3)
    online = GaussianMixture(3, learning_decay=1.0, learning_offset=0.0, **kwargs)
    online.partial_fit(X)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        batch = GaussianMixture(3, max_iter=1, **kwargs).fit(X)
    for name, value in parameters(batch).items():
        assert relative_difference(getattr(online, name), value) < 1e-12, name
    # The history holds the mean log-likelihood under the start: without a prior, the
    # batch fit's first objective.
    assert online.n_steps_ == 1 and online.n_seen_ == len(X)
    if prior is None:
        assert online.log_likelihood_history_[0] == pytest.approx(
            batch.log_likelihood_history_[0], rel=1e-12)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_one_full_step_with_an_empty_component(covariance_type):
    # A component started far from all the data gets no responsibility: the batch M-step
    # puts it at the data mean with weight zero, and so must the step from the summary.
    X = blobs()
    kwargs = dict(covariance_type=covariance_type, random_state=0,
                  means_init=[[0.0, 0.0], [8.0, 0.0], [1e3, 1e3]])
    online = GaussianMixture(3, learning_decay=1.0, **kwargs).partial_fit(X)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        batch = GaussianMixture(3, max_iter=1, **kwargs).fit(X)
    assert batch.weights_[2] == online.weights_[2] == 0
    for name, value in parameters(batch).items():
        assert relative_difference(getattr(online, name), value) < 1e-12, name
    # Later batches leave its summary mean where it is (it has no weight in them).
    mean = online._running_moments["mean"][2].copy()
    for B in np.array_split(X, 3):
        online.partial_fit(B)
    np.testing.assert_allclose(online._running_moments["mean"][2], mean, rtol=1e-12)
    assert np.all(np.isfinite(online.covariances_))


def test_batches_of_one_row():
    X = blobs()
    model = GaussianMixture(3, random_state=0).partial_fit(X[:100])
    for row in X[100:130]:
        model.partial_fit(row[np.newaxis])
    assert model.n_steps_ == 31 and model.n_seen_ == 130
    assert np.all(np.isfinite(model.covariances_)) and model.weights_.sum() == pytest.approx(1)


@pytest.mark.parametrize("priors", [(0.0, 0.0), (1.0, 2.0)])
def test_one_full_step_is_one_batch_iteration_bernoulli(priors):
    X = binary()
    kwargs = dict(pixel_prior=priors[0], weight_prior=priors[1], random_state=3)
    online = BernoulliMixture(4, learning_decay=1.0, learning_offset=0.0, **kwargs)
    online.partial_fit(X)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        batch = BernoulliMixture(4, max_iter=1, **kwargs).fit(X)
    for name, value in parameters(batch).items():
        assert relative_difference(getattr(online, name), value) < 1e-12, name


# ---------------------------------------------------------------------------- (b)
@pytest.mark.parametrize("kappa", [0.6, 0.8, 1.0])
def test_epochs_of_mini_batches_reach_the_batch_log_likelihood(kappa):
    X = blobs(n=3000, seed=1)
    batch = GaussianMixture(3, random_state=0, tol=1e-8, max_iter=500).fit(X)
    online = GaussianMixture(3, random_state=0, learning_decay=kappa, learning_offset=1.0)
    rng = np.random.default_rng(0)
    for _ in range(5):
        for rows in np.array_split(rng.permutation(len(X)), 30):  # batches of 100
            online.partial_fit(X[rows])
    assert online.n_steps_ == 150 and online.n_seen_ == 5 * len(X)
    # Gaps in mean log-likelihood per sample (batch minus online), measured over three
    # seeds: 3e-4 to 4e-4 for kappa = 0.6 (quick forgetting: the last few batches of 100
    # dominate, so the estimate keeps their noise), 0.7e-5 to 2e-5 for kappa = 0.8, 2e-6
    # to 3e-6 for kappa = 1 (on these separated blobs even the first steps are good). The
    # bounds leave a margin of five or more; all are far below the standard error of a
    # mean log-likelihood of 3,000 points (about 0.02), so the online fit is as good as the
    # batch fit for any practical use.
    gap = batch.score(X) - online.score(X)
    assert gap < {0.6: 2e-3, 0.8: 1e-4, 1.0: 2e-5}[kappa]
    assert gap > -1e-3  # batch EM is at a maximum: online cannot do much better
    np.testing.assert_allclose(np.sort(online.weights_), np.sort(batch.weights_), atol=0.02)


# ---------------------------------------------------------------------------- (c)
def direct_statistics(X, resp):
    """Per-sample averages of counts, first moments and second moments about zero,
    by explicit sums: the sufficient statistics of a full-covariance Gaussian mixture."""
    n = len(X)
    return (resp.sum(axis=0) / n, (resp.T @ X) / n,
            np.einsum("nk,ni,nj->kij", resp, X, X) / n)


@pytest.mark.parametrize("learning_offset", [0.0, 2.0])
@pytest.mark.parametrize("start", ["from_parameters", "partial_fit"])
def test_running_summary_is_the_discounted_sum_of_batch_statistics(start, learning_offset):
    kappa, tau = 0.7, learning_offset
    X = blobs(n=700, seed=2)
    batches = np.array_split(X, 7)  # 100 rows each; uneven sizes are fine too
    batches[3] = batches[3][:37]
    if start == "from_parameters":
        model = GaussianMixture.from_parameters(
            [0.3, 0.3, 0.4], [[1.0, 1.0], [7.0, 1.0], [1.0, 7.0]], [np.eye(2)] * 3,
            learning_decay=kappa, learning_offset=tau)
        statistics = []  # no s_0: the first batch's statistics start the summary
    else:
        model = GaussianMixture(3, random_state=5, learning_decay=kappa, learning_offset=tau)
        first = model._validate_input(batches[0], reset=True)
        resp0 = model._initial_responsibilities(first, check_random_state(5))
        statistics = [direct_statistics(first, resp0)]  # s_0, from the start's partition
    steps = []
    for t, B in enumerate(batches, start=1):
        if t > 1 or start == "from_parameters":
            resp = model.predict_proba(B)  # the E-step under the parameters before step t
        model.partial_fit(B)
        if t == 1 and start == "partial_fit":
            # The first call starts from the batch, then steps under the start's parameters.
            resp = model._initial_responsibilities(first, check_random_state(5))
            start_model = GaussianMixture(3, random_state=5)
            start_model._validate_input(B, reset=True)
            start_model._check_parameters(B)
            start_model._initialize(B, resp)
            resp = start_model.predict_proba(B)
        statistics.append(direct_statistics(B, resp))
        steps.append(step_size(t, kappa, tau))
    # s_t = (1 - rho_t) s_{t-1} + rho_t sbar_t, unrolled: s_0 weighs prod_{j<=t}(1 - rho_j)
    # and batch i weighs rho_i prod_{i<j<=t}(1 - rho_j); a summary that starts at batch 1
    # (no s_0) gives batch 1 the weight prod_{1<j<=t}(1 - rho_j).
    T = len(batches)
    if start == "from_parameters":
        weights = [np.prod([1 - steps[j - 1] for j in range(2, T + 1)])]
        weights += [steps[i - 1] * np.prod([1 - steps[j - 1] for j in range(i + 1, T + 1)])
                    for i in range(2, T + 1)]
    else:
        weights = [np.prod([1 - r for r in steps])]
        weights += [steps[i - 1] * np.prod([1 - steps[j - 1] for j in range(i + 1, T + 1)])
                    for i in range(1, T + 1)]
    count = sum(w * s[0] for w, s in zip(weights, statistics, strict=True))
    first_moment = sum(w * s[1] for w, s in zip(weights, statistics, strict=True))
    second_moment = sum(w * s[2] for w, s in zip(weights, statistics, strict=True))
    mean = first_moment / count[:, None]
    scatter = second_moment - count[:, None, None] * mean[:, :, None] * mean[:, None, :]
    summary = model._running_moments
    np.testing.assert_allclose(summary["count"], count, rtol=1e-12)
    np.testing.assert_allclose(summary["mean"], mean, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(summary["scatter"], scatter, rtol=1e-9, atol=1e-12)
    # The parameters are the M-step of that summary.
    np.testing.assert_allclose(model.weights_, count / count.sum(), rtol=1e-12)
    np.testing.assert_allclose(model.means_, mean, rtol=1e-10, atol=1e-12)
    assert model.n_steps_ == T and model.n_seen_ == sum(len(B) for B in batches)


# ---------------------------------------------------------------------------- (d)
def test_partial_fit_after_fit_continues_and_fit_after_partial_fit_starts_afresh():
    X = blobs()
    fitted = GaussianMixture(3, random_state=0).fit(X)
    model = copy.deepcopy(fitted)
    model.partial_fit(X[:100])
    # The first step's E-step used the fitted parameters.
    assert model.log_likelihood_history_[0] == pytest.approx(fitted.score(X[:100]), rel=1e-12)
    assert model.n_steps_ == 1 and model.n_seen_ == 100
    # What described the batch fit no longer describes the model.
    for name in ("n_iter_", "converged_", "lower_bound_"):
        assert not hasattr(model, name)
    # A step of well-fitted parameters on a fair batch moves them little.
    assert relative_difference(model.means_, fitted.means_) < 0.05
    model.fit(X)
    assert not hasattr(model, "n_steps_") and not hasattr(model, "n_seen_")
    assert not hasattr(model, "_running_moments")
    for name, value in parameters(fitted).items():
        np.testing.assert_array_equal(getattr(model, name), value)
    np.testing.assert_array_equal(model.log_likelihood_history_, fitted.log_likelihood_history_)


def test_partial_fit_of_a_model_from_parameters_continues_from_them():
    X = blobs()
    truth = GaussianMixture.from_parameters(
        [0.5, 0.3, 0.2], [[0.0, 0.0], [8.0, 0.0], [0.0, 8.0]], [np.diag([1.0, 0.49])] * 3,
        prior="conjugate")
    truth.partial_fit(X[:200])
    assert truth.prior_ is not None  # the prior met the data on the first call
    assert truth.log_likelihood_history_[0] == pytest.approx(
        GaussianMixture.from_parameters(
            [0.5, 0.3, 0.2], [[0.0, 0.0], [8.0, 0.0], [0.0, 8.0]],
            [np.diag([1.0, 0.49])] * 3).score(X[:200]), rel=1e-12)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
@pytest.mark.parametrize("start", ["partial_fit", "fit", "from_parameters"])
def test_precisions_follow_the_covariances_after_partial_fit(start, covariance_type):
    X = blobs()
    if start == "from_parameters":
        fitted = GaussianMixture(3, covariance_type=covariance_type, random_state=0).fit(X)
        model = GaussianMixture.from_parameters(fitted.weights_, fitted.means_,
                                                fitted.covariances_,
                                                covariance_type=covariance_type)
    else:
        model = GaussianMixture(3, covariance_type=covariance_type, random_state=0)
        if start == "fit":
            model.fit(X)
    model.partial_fit(X[:200])
    model.partial_fit(X[200:300])
    covariances = model.covariances_
    if covariance_type in ("full", "tied"):
        expected = np.linalg.inv(covariances)
    else:
        expected = 1.0 / covariances
    np.testing.assert_allclose(model.precisions_, expected, rtol=1e-8)


# ---------------------------------------------------------------------------- (e)
@pytest.mark.parametrize("decay", [0.0, -0.5, 1.5])
def test_learning_decay_outside_zero_one_is_refused(decay):
    with pytest.raises(ValueError, match="learning_decay"):
        GaussianMixture(2, learning_decay=decay).partial_fit(blobs())


def test_negative_learning_offset_is_refused():
    with pytest.raises(ValueError, match="learning_offset"):
        BernoulliMixture(2, learning_offset=-1.0).partial_fit(binary())


def test_a_change_of_n_features_is_refused():
    model = GaussianMixture(2, random_state=0).partial_fit(blobs())
    with pytest.raises(ValueError, match="features"):
        model.partial_fit(np.ones((10, 3)))
    assert model.n_steps_ == 1


def test_a_first_batch_smaller_than_n_components_is_refused():
    model = GaussianMixture(5, random_state=0)
    with pytest.raises(ValueError, match="n_components=5"):
        model.partial_fit(blobs()[:4])
    assert not hasattr(model, "weights_")


# ---------------------------------------------------------------------------- (f)
@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_float32_batches_stay_float32(covariance_type):
    X = blobs(dtype=np.float32)
    model = GaussianMixture(3, covariance_type=covariance_type, random_state=0)
    for B in np.array_split(X, 6):
        model.partial_fit(B)
    for name, value in parameters(model).items():
        assert value.dtype == np.float32, name
    assert model.predict_proba(X).dtype == np.float32
    assert model.log_likelihood_history_.dtype == np.float64
    bern = BernoulliMixture(2, dtype=np.float32, random_state=0)
    for B in np.array_split(binary(), 4):
        bern.partial_fit(B)
    assert bern.means_.dtype == bern.weights_.dtype == np.float32


# ---------------------------------------------------------------------------- (g)
def test_a_failed_partial_fit_leaves_the_model_as_it_was(monkeypatch):
    X = blobs()
    model = GaussianMixture(3, random_state=0).partial_fit(X[:200])
    model.partial_fit(X[200:400])
    before = copy.deepcopy(vars(model))

    def fail(*args, **kwargs):
        raise ValueError("simulated failure after the summary and weights were updated")

    # precision_cholesky is called last in the M-step, after the summary, n_seen_, the
    # weights, means and covariances have been replaced.
    monkeypatch.setattr(emlib.gaussian, "precision_cholesky", fail)
    with pytest.raises(ValueError, match="simulated"):
        model.partial_fit(X[400:])
    after = vars(model)
    assert set(after) == set(before)
    for name, value in before.items():
        if isinstance(value, dict):
            for key in value:
                np.testing.assert_array_equal(after[name][key], value[key])
        elif isinstance(value, np.ndarray):
            np.testing.assert_array_equal(after[name], value)
        else:
            assert after[name] == value, name
    # And a failed first call leaves an unfitted model unfitted.
    fresh = GaussianMixture(3, random_state=0)
    with pytest.raises(ValueError, match="simulated"):
        fresh.partial_fit(X)
    assert vars(fresh) == vars(GaussianMixture(3, random_state=0))


# ---------------------------------------------------------------------------- (h)
@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_map_step_sees_the_summary_scaled_to_all_samples(covariance_type, monkeypatch):
    # With kappa = 1 and tau = 0, rho_t = 1/t and the recursion gives
    #   s_T = (1/T) sum_t sbar_t,   sbar_t = (1/m) sum_{n in B_t} s(x_n; theta_{t-1}),
    # so for batches of equal size m, n_seen_ s_T = T m s_T = sum over all rows of the
    # statistics, each under the parameters of its step. Holding the parameters fixed
    # (theta_t = theta_0), that is the sum of the statistics of the concatenated data under
    # theta_0, and the MAP M-step from it must be the batch MAP M-step of the
    # concatenated data with the responsibilities of theta_0.
    X = blobs(n=600, seed=4)
    model = GaussianMixture(3, covariance_type=covariance_type, prior="conjugate",
                            learning_decay=1.0, learning_offset=0.0, random_state=0)
    model.partial_fit(X[:300])  # sets the prior and theta_0
    model.n_steps_, model.n_seen_ = 0, 0
    del model._running_moments
    theta0 = copy.deepcopy(model)
    real = type(model)._m_step_from_moments
    seen = []
    monkeypatch.setattr(type(model), "_m_step_from_moments",
                        lambda self, moments: seen.append(moments))
    for B in np.array_split(X, 6):
        model.partial_fit(B)
    assert model.n_seen_ == 600
    # The parameters were held fixed; the last M-step's input gives the MAP estimate.
    monkeypatch.setattr(type(model), "_m_step_from_moments", real)
    from_summary = copy.deepcopy(theta0)
    from_summary._m_step_from_moments(seen[-1])
    batch = copy.deepcopy(theta0)
    batch._m_step(X, theta0.predict_proba(X))
    np.testing.assert_allclose(seen[-1]["count"], theta0.predict_proba(X).sum(axis=0),
                               rtol=1e-12)
    for name, value in parameters(batch).items():
        assert relative_difference(getattr(from_summary, name), value) < 1e-10, name


# ---------------------------------------------------------------------------- progress
@pytest.mark.parametrize("make", [
    lambda p: GaussianMixture(3, max_iter=7, tol=0, random_state=0, progress=p),
    lambda p: BernoulliMixture(2, max_iter=7, tol=0, random_state=0, progress=p),
])
def test_progress_bar(make, capsys, monkeypatch):
    X = blobs() if "Gaussian" in type(make(False)).__name__ else binary()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        make(False).fit(X)
        quiet = capsys.readouterr()
        make(True).fit(X)
        loud = capsys.readouterr()
    assert quiet.out == "" and quiet.err == ""
    name = type(make(False)).__name__
    assert f"{name}:" in loud.err and "/7" in loud.err and "iteration" in loud.err
    assert loud.out == ""
    # tqdm redraws at most every 0.1 s, which these fits beat; redrawing on every update,
    # the bar counts the iterations up to the last, with the objective.
    monkeypatch.setattr(emlib.em, "tqdm", functools.partial(emlib.em.tqdm, mininterval=0,
                                                            miniters=1))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        make(True).fit(X)
    err = capsys.readouterr().err
    assert all(f"{i}/7" in err for i in range(1, 8)) and "objective=" in err


# ---------------------------------------------------------------------------- sklearn
# scikit-learn yields its partial_fit check (check_estimators_partial_fit_n_features) only
# for classifiers, regressors and clusterers, not for density estimators such as these
# mixtures, so tests/test_sklearn_compat.py never runs it; of its generic checks only
# check_n_features_in_after_fitting calls partial_fit, and for GaussianMixture only (it
# feeds continuous data, which BernoulliMixture refuses). Both are run here, with a spy
# that fails if partial_fit was not called, and their content on binary data for
# BernoulliMixture.
def spy_partial_fit(monkeypatch, cls):
    calls = []
    real = cls.partial_fit

    def spy(self, *args, **kwargs):
        calls.append(len(args[0]))
        return real(self, *args, **kwargs)

    monkeypatch.setattr(cls, "partial_fit", spy)
    return calls


@pytest.mark.parametrize("check_name", ["check_estimators_partial_fit_n_features",
                                        "check_n_features_in_after_fitting"])
def test_scikit_learn_checks_exercise_partial_fit_of_gaussian_mixture(check_name,
                                                                      monkeypatch):
    from sklearn.utils import estimator_checks

    calls = spy_partial_fit(monkeypatch, GaussianMixture)
    getattr(estimator_checks, check_name)("GaussianMixture", GaussianMixture(2, random_state=0))
    assert len(calls) >= 2


def test_partial_fit_checks_of_bernoulli_mixture_on_binary_data(monkeypatch):
    # check_estimators_partial_fit_n_features and the partial_fit part of
    # check_n_features_in_after_fitting, on 0/1 data.
    calls = spy_partial_fit(monkeypatch, BernoulliMixture)
    X = binary()
    model = BernoulliMixture(2, random_state=0)
    assert model.partial_fit(X[:100]) is model
    assert model.n_features_in_ == X.shape[1]
    message = f"X has {X.shape[1] - 1} features, but BernoulliMixture is expecting " \
              f"{X.shape[1]} features as input"
    with pytest.raises(ValueError, match=message):
        model.partial_fit(X[:100, :-1])
    assert model.partial_fit(X[100:200]) is model
    assert model.n_steps_ == 2
    assert len(calls) == 3


@pytest.mark.parametrize("init_params", ["kmeans", "k-means++", "random", "random_from_data"])
def test_the_running_summary_stands_for_one_sample_whatever_the_start(init_params):
    # s_0 is an average per unit of responsibility: the k-means++ and random_from_data
    # starts put responsibility on K rows only, and a damped first step (tau > 0) keeps
    # part of s_0, so dividing by the batch size would shrink every later count.
    model = GaussianMixture(3, init_params=init_params, learning_offset=10.0, random_state=0)
    X = blobs()
    for batch in np.array_split(X, 5):
        model.partial_fit(batch)
        assert model._running_moments["count"].sum() == pytest.approx(1.0, rel=1e-12)
