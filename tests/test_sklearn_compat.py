"""scikit-learn's own estimator checks, and binary-data versions for BernoulliMixture and
count-data versions for MultinomialMixture."""

import pickle

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.utils.estimator_checks import parametrize_with_checks

from emlib import (
    BernoulliMixture,
    GaussianMixture,
    KMeans,
    MultinomialMixture,
    StudentTMixture,
    VariationalGaussianMixture,
)
from emlib.datasets import make_binary_patterns

# scikit-learn's generic checks feed continuous (often negative) data, which a Bernoulli
# mixture rejects by design; each of these is re-run on binary data below, and sparse 0/1
# input in tests/test_bernoulli.py.
CONTINUOUS_DATA = "feeds continuous data; BernoulliMixture accepts only 0/1 input"
BERNOULLI_EXPECTED_FAILURES = {
    name: CONTINUOUS_DATA
    for name in [
        "check_estimator_sparse_tag",
        "check_estimator_sparse_array",
        "check_estimator_sparse_matrix",
        "check_fit_score_takes_y",
        "check_estimators_overwrite_params",
        "check_dont_overwrite_parameters",
        "check_estimators_fit_returns_self",
        "check_readonly_memmap_input",
        "check_n_features_in_after_fitting",
        "check_positive_only_tag_during_fit",
        "check_estimators_dtypes",
        "check_dtype_object",
        "check_pipeline_consistency",
        "check_estimators_nan_inf",
        "check_estimators_pickle",
        "check_f_contiguous_array_estimator",
        "check_methods_sample_order_invariance",
        "check_methods_subset_invariance",
        "check_fit2d_1feature",
        "check_dict_unchanged",
        "check_fit_idempotent",
        "check_fit_check_is_fitted",
        "check_n_features_in",
        "check_fit2d_predict1d",
        "check_array_api_input",
    ]
}


# The array-API check fits make_classification's data, whose redundant features are exact
# linear combinations of others: the default covariance_prior (the data covariance) is
# singular, and VariationalGaussianMixture, which has no reg_covar, says so and stops.
VARIATIONAL_EXPECTED_FAILURES = {
    "check_array_api_input": "singular data covariance; the error asks for a covariance_prior"
}


# The same for a multinomial mixture, which accepts only counts (non-negative integers):
# the generic checks' data are non-negative (the positive_only tag) but not integers; the
# sparse ones' too. Sparse counts are tested below and in tests/test_multinomial.py.
NON_COUNT_DATA = "feeds non-integer data; MultinomialMixture accepts only counts"
MULTINOMIAL_EXPECTED_FAILURES = {
    name: NON_COUNT_DATA
    for name in set(BERNOULLI_EXPECTED_FAILURES) - {"check_positive_only_tag_during_fit"}
}


def expected_failures(estimator):
    if isinstance(estimator, BernoulliMixture):
        return BERNOULLI_EXPECTED_FAILURES
    if isinstance(estimator, VariationalGaussianMixture):
        return VARIATIONAL_EXPECTED_FAILURES
    if isinstance(estimator, MultinomialMixture):
        return MULTINOMIAL_EXPECTED_FAILURES
    return {}


@parametrize_with_checks(
    [
        GaussianMixture(),
        KMeans(n_clusters=3),
        BernoulliMixture(),
        MultinomialMixture(),
        StudentTMixture(),
        StudentTMixture(covariance_type="diag", dof=4.0),
        VariationalGaussianMixture(),
    ],
    expected_failed_checks=expected_failures,
    xfail_strict=True,
)
def test_scikit_learn_estimator_checks(estimator, check):
    check(estimator)


@pytest.fixture(scope="module")
def binary():
    X, _, _ = make_binary_patterns(200, random_state=0)
    return X


def test_bernoulli_fit_returns_self_and_keeps_params(binary):
    bm = BernoulliMixture(3, pixel_prior=0.5, random_state=0)
    params = bm.get_params()
    assert bm.fit(binary) is bm
    assert bm.get_params() == params
    assert bm.n_features_in_ == 64
    assert not hasattr(BernoulliMixture(3), "means_")


def test_bernoulli_fit_is_idempotent_and_clonable(binary):
    bm = BernoulliMixture(3, random_state=0)
    first = bm.fit(binary).predict_proba(binary)
    second = bm.fit(binary).predict_proba(binary)
    np.testing.assert_array_equal(first, second)
    np.testing.assert_array_equal(clone(bm).fit(binary).predict_proba(binary), first)


def test_bernoulli_pickles(binary):
    bm = BernoulliMixture(3, random_state=0).fit(binary)
    again = pickle.loads(pickle.dumps(bm))
    np.testing.assert_array_equal(again.score_samples(binary), bm.score_samples(binary))


@pytest.mark.parametrize("dtype", [np.uint8, np.int64, np.float32, np.float64, bool])
def test_bernoulli_accepts_binary_dtypes_and_layouts(binary, dtype):
    X = np.asfortranarray(binary.astype(dtype))
    bm = BernoulliMixture(3, random_state=0).fit(X)
    assert bm.predict(X).shape == (len(X),)


def test_bernoulli_methods_are_sample_order_and_subset_invariant(binary):
    bm = BernoulliMixture(3, random_state=0).fit(binary)
    order = np.random.default_rng(0).permutation(len(binary))
    for method in ["predict", "predict_proba", "score_samples"]:
        full = getattr(bm, method)(binary)
        np.testing.assert_allclose(getattr(bm, method)(binary[order]), full[order])
        np.testing.assert_allclose(getattr(bm, method)(binary[:10]), full[:10])


def test_bernoulli_rejects_nan_and_wrong_feature_count(binary):
    bm = BernoulliMixture(2, random_state=0).fit(binary)
    with pytest.raises(ValueError, match="Input X contains NaN"):
        bm.fit(np.where(binary == 1, np.nan, 0.0))
    with pytest.raises(
        ValueError, match="X has 63 features, but BernoulliMixture is expecting 64"
    ):
        bm.predict(binary[:, :63])
    with pytest.raises(ValueError, match="Expected 2D array"):
        bm.predict(binary[0])


@pytest.fixture(scope="module")
def counts():
    rng = np.random.default_rng(0)
    theta = rng.dirichlet(np.full(30, 0.3), size=3)
    return np.vstack([rng.multinomial(40, theta[k], size=70) for k in range(3)])


def test_multinomial_fit_returns_self_and_keeps_params(counts):
    mm = MultinomialMixture(3, word_prior=0.5, random_state=0)
    params = mm.get_params()
    assert mm.fit(counts) is mm
    assert mm.get_params() == params
    assert mm.n_features_in_ == 30
    assert not hasattr(MultinomialMixture(3), "means_")


def test_multinomial_fit_is_idempotent_clonable_and_leaves_its_dict(counts):
    mm = MultinomialMixture(3, random_state=0)
    first = mm.fit(counts).predict_proba(counts)
    state = {key: np.copy(value) if isinstance(value, np.ndarray) else value
             for key, value in mm.__dict__.items()}
    for method in ["predict", "predict_proba", "score_samples", "score"]:
        getattr(mm, method)(counts)
    assert state.keys() == mm.__dict__.keys()
    for key, value in state.items():
        np.testing.assert_array_equal(mm.__dict__[key], value)
    np.testing.assert_array_equal(mm.fit(counts).predict_proba(counts), first)
    np.testing.assert_array_equal(clone(mm).fit(counts).predict_proba(counts), first)


@pytest.mark.parametrize("fmt", [np.asarray, sp.csr_array, sp.csc_matrix])
def test_multinomial_pickles(counts, fmt):
    mm = MultinomialMixture(3, random_state=0).fit(fmt(counts))
    again = pickle.loads(pickle.dumps(mm))
    np.testing.assert_array_equal(again.score_samples(fmt(counts)), mm.score_samples(fmt(counts)))


@pytest.mark.parametrize("dtype", [np.uint8, np.int32, np.int64, np.float32, np.float64, bool])
def test_multinomial_accepts_count_dtypes_layouts_and_read_only_data(counts, dtype):
    X = np.asfortranarray(counts.astype(dtype))
    X.setflags(write=False)
    mm = MultinomialMixture(3, random_state=0).fit(X)
    assert mm.predict(X).shape == (len(X),)
    assert mm.means_.dtype == (np.float32 if dtype == np.float32 else np.float64)


def test_multinomial_methods_are_sample_order_and_subset_invariant(counts):
    mm = MultinomialMixture(3, random_state=0).fit(counts)
    order = np.random.default_rng(0).permutation(len(counts))
    for method in ["predict", "predict_proba", "score_samples"]:
        full = getattr(mm, method)(counts)
        np.testing.assert_allclose(getattr(mm, method)(counts[order]), full[order])
        np.testing.assert_allclose(getattr(mm, method)(counts[:10]), full[:10])


def test_multinomial_one_feature_and_wrong_shapes(counts):
    one = MultinomialMixture(2, random_state=0).fit(counts[:, :1])
    np.testing.assert_allclose(one.means_, 1.0)
    mm = MultinomialMixture(2, random_state=0).fit(counts)
    with pytest.raises(ValueError, match="X has 29 features, but MultinomialMixture is expect"):
        mm.predict(counts[:, :29])
    with pytest.raises(ValueError, match="Expected 2D array"):
        mm.predict(counts[0])
    with pytest.raises(ValueError, match="Input X contains infinity"):
        mm.fit(np.where(counts == 0, np.inf, counts))


# ------------------------------------------------------------------ warnings point at the user
@pytest.mark.parametrize(
    "make, data",
    [
        (lambda: GaussianMixture(2, max_iter=1), "continuous"),
        (lambda: StudentTMixture(2, max_iter=1), "continuous"),
        (lambda: VariationalGaussianMixture(2, max_iter=1), "continuous"),
        (lambda: BernoulliMixture(2, max_iter=1), "binary"),
        (lambda: MultinomialMixture(2, max_iter=1), "counts"),
        (lambda: KMeans(3, n_init=1), "duplicates"),
    ],
)
@pytest.mark.parametrize("method", ["fit", "fit_predict"])
def test_convergence_warnings_point_at_the_callers_line(make, data, method):
    """Whatever chain of emlib methods lies between (fit, fit_predict, an override), the
    warning names this file, so that a user sees which of their fits did not converge."""
    rng = np.random.default_rng(0)
    X = {
        "continuous": rng.normal(size=(40, 2)),
        "binary": (rng.random((40, 6)) < 0.5).astype(float),
        "counts": rng.poisson(3.0, (40, 6)),
        "duplicates": np.repeat([[0.0, 0.0], [1.0, 1.0]], 20, axis=0),
    }[data]
    with pytest.warns(Warning) as record:
        getattr(make(), method)(X)
    assert {w.filename for w in record} == {__file__}


# ------------------------------------------------------------------ a failed fit changes nothing
@pytest.mark.parametrize(
    "make, data",
    [
        (GaussianMixture, "continuous"),
        (StudentTMixture, "continuous"),
        (VariationalGaussianMixture, "continuous"),
        (BernoulliMixture, "binary"),
        (MultinomialMixture, "counts"),
    ],
)
def test_a_fit_that_raises_leaves_the_model_as_it_was(make, data):
    """Checks set fitted attributes before a fit can fail (hyper-parameters, n_features_in_),
    and an M-step can fail half-way: afterwards an unfitted model must still say it is not
    fitted, and a fitted one must keep its fit, attribute for attribute."""
    rng = np.random.default_rng(0)
    X = {
        "continuous": rng.normal(size=(40, 2)),
        "binary": (rng.random((40, 6)) < 0.5).astype(float),
        "counts": rng.poisson(3.0, (40, 6)),
    }[data]
    model = make(2, random_state=0)
    with pytest.raises(ValueError, match="larger than the number of samples"):
        model.set_params(n_components=50).fit(X[:10, :1])
    with pytest.raises(NotFittedError):
        model.predict(X)
    model.set_params(n_components=2).fit(X)

    def fitted():
        return {name: value for name, value in vars(model).items() if name.endswith("_")}

    before = fitted()
    with pytest.raises(ValueError, match="larger than the number of samples"):
        model.set_params(n_components=50).fit(X[:10, :1])
    assert fitted().keys() == before.keys()
    assert all(fitted()[name] is value for name, value in before.items())
    assert model.n_features_in_ == X.shape[1]


def test_a_variational_fit_that_fails_after_its_checks_leaves_no_attributes():
    """The hyper-parameters are filled in (weight_concentration_prior_, ...) before the
    default covariance prior is found singular: none of them may stay behind."""
    X = np.c_[np.arange(20.0), np.ones(20)]
    model = VariationalGaussianMixture(2)
    with pytest.raises(ValueError, match="covariance is singular"):
        model.fit(X)
    assert not [name for name in vars(model) if name.endswith("_")]
    with pytest.raises(NotFittedError):
        model.predict(X)
