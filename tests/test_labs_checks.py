"""Tests of emlib.labs: the checks pass right answers and fail wrong ones, with messages
that name the case and what to look at."""

import warnings

import numpy as np
import pytest
from scipy.stats import multivariate_normal

from emlib.datasets import three_blobs_2d_params
from emlib.labs import (
    Case,
    check_gaussian_sample,
    check_matches,
    check_probability_rows,
    compare_arrays,
)

BLOBS = three_blobs_2d_params()


def logpdf(X, mean, cov):
    return multivariate_normal(mean, cov).logpdf(X)


def log_of_pdf(X, mean, cov):
    with np.errstate(divide="ignore"):
        return np.log(multivariate_normal(mean, cov).pdf(X))


NEAR = Case("near the mean", (np.array([[0.0, 0.1], [1.0, -1.0]]), np.zeros(2), np.eye(2)),
            "the formula")
FAR = Case("far from the mean", (np.array([[100.0, 0.0]]), np.zeros(2), np.eye(2)),
           "stay in log space")


def test_check_matches_passes_a_right_answer_on_every_case():
    check_matches(logpdf, logpdf, [NEAR, FAR])


def test_check_matches_names_the_case_the_infinity_and_the_hint():
    check_matches(log_of_pdf, logpdf, [NEAR])  # right where nothing underflows
    with pytest.raises(AssertionError) as failure:
        check_matches(log_of_pdf, logpdf, [NEAR, FAR])
    message = str(failure.value)
    assert message.startswith("case 'far from the mean': ")
    assert "-inf" in message and "underflowed" in message
    assert message.endswith("Look at: stay in log space")


def test_a_plus_infinity_is_explained_as_an_overflow_or_a_log_of_zero_subtracted():
    def log_det_underflows(X, mean, cov):
        return logpdf(X, mean, cov) + np.inf

    with pytest.raises(AssertionError, match="is inf at .0. .*a determinant, say"):
        check_matches(log_det_underflows, logpdf, [NEAR])


def test_check_matches_reports_the_largest_difference_and_where():
    def off_by_one_row(X, mean, cov):
        out = logpdf(X, mean, cov)
        out[1] += 0.5
        return out

    with pytest.raises(AssertionError, match=r"1 of 2 entries.*at \[1\]") as failure:
        check_matches(off_by_one_row, logpdf, [NEAR])
    assert f"expected {logpdf(*NEAR.args)[1]:.10g}" in str(failure.value)


@pytest.mark.parametrize(("returned", "message"), [
    (None, "is None"),
    (Ellipsis, "replace the ..."),
    (np.zeros(3), "has shape (3,), expected (2,)"),
    (np.array([np.nan, 0.0]), "1 nan value(s)"),
    ("text", "not an array of numbers"),
])
def test_check_matches_explains_unusable_results(returned, message):
    with pytest.raises(AssertionError) as failure:
        check_matches(lambda *args: returned, logpdf, [NEAR])
    assert message in str(failure.value)
    assert str(failure.value).startswith("case 'near the mean'")


def test_check_matches_turns_a_students_exception_into_a_message():
    def broken(X, mean, cov):
        raise IndexError("index 2 is out of bounds")

    with pytest.raises(AssertionError, match="raised IndexError: index 2 is out of bounds"):
        check_matches(broken, logpdf, [NEAR])
    with pytest.raises(AssertionError, match="expected a function"):
        check_matches(None, logpdf, [NEAR])


def test_each_call_gets_fresh_arguments():
    def destructive(X, mean, cov):
        out = logpdf(X, mean, cov)
        X[:] = 1e6  # a student's function that overwrites its input
        return out

    check_matches(destructive, logpdf, [NEAR])
    assert NEAR.args[0][0, 1] == 0.1


def test_compare_arrays_tolerances_and_infinities():
    case = Case("c", ())
    compare_arrays([1.0, -np.inf], [1.0 + 1e-9, -np.inf], case)
    with pytest.raises(AssertionError, match="differs"):
        compare_arrays([1.0], [1.001], case)
    compare_arrays([1.0], [1.001], case, rtol=1e-2)


def e_step(X, weights, means, covs, axis=1):
    a = np.column_stack([np.log(w) + logpdf(X, m, S) for w, m, S in zip(
        weights, means, covs, strict=True)])
    a -= a.max(axis=axis, keepdims=True)
    r = np.exp(a)
    return r / r.sum(axis=axis, keepdims=True)


def naive_e_step(X, weights, means, covs):
    with np.errstate(under="ignore", invalid="ignore"):
        dens = np.column_stack([w * np.exp(logpdf(X, m, S)) for w, m, S in zip(
            weights, means, covs, strict=True)])
        return dens / dens.sum(axis=1, keepdims=True)


ROWS = Case("blobs", (np.random.default_rng(0).normal(size=(50, 2)), BLOBS["weights"],
                      BLOBS["means"], BLOBS["covariances"]), "normalise each row")
FAR_ROWS = Case("far points", (np.array([[80.0, 80.0], [0.0, -200.0]]), BLOBS["weights"],
                               BLOBS["means"], BLOBS["covariances"]), "log space")


def test_probability_rows_pass_responsibilities_and_fail_column_normalisation():
    check_probability_rows(e_step, [ROWS, FAR_ROWS])
    with pytest.raises(AssertionError, match=r"case 'blobs': row \d+ sums to .*axis=1"):
        check_probability_rows(lambda *a: e_step(*a, axis=0), [ROWS])


def test_probability_rows_catch_the_nan_of_an_underflowed_e_step():
    check_probability_rows(naive_e_step, [ROWS])
    with pytest.raises(AssertionError, match="case 'far points': 2 row.s. contain nan"):
        check_probability_rows(naive_e_step, [ROWS, FAR_ROWS])
    with pytest.raises(AssertionError, match="negative"):
        check_probability_rows(lambda *a: e_step(*a) - 0.5, [ROWS])
    with pytest.raises(AssertionError, match="expected a matrix"):
        check_probability_rows(lambda *a: e_step(*a)[:, 0], [ROWS])


def sampler(n, weights, means, covs, rng, *, uniform=False, scale_by=None):
    K, D = means.shape
    z = rng.integers(K, size=n) if uniform else rng.choice(K, size=n, p=weights)
    factor = np.linalg.cholesky(covs) if scale_by is None else scale_by
    X = means[z] + np.einsum("nij,nj->ni", factor[z], rng.standard_normal((n, D)))
    return X, z


def sample_case(seed, weights=BLOBS["weights"]):
    return Case("blobs", (20_000, weights, BLOBS["means"], BLOBS["covariances"],
                          np.random.default_rng(seed)), "the two steps")


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("check", ["labels", "means", "covariances"])
def test_a_right_sampler_passes_whatever_its_random_numbers(seed, check):
    check_gaussian_sample(sampler, sample_case(seed), check=check)


def test_a_sampler_that_ignores_the_weights_fails_only_the_label_check():
    def uniform(*args):
        return sampler(*args, uniform=True)

    check_gaussian_sample(uniform, sample_case(0), check="means")
    check_gaussian_sample(uniform, sample_case(0), check="covariances")
    with pytest.raises(AssertionError, match="component 2 drew 0.3.* weight is 0.2000"):
        check_gaussian_sample(uniform, sample_case(0), check="labels")
    zero = sample_case(0, weights=np.array([0.5, 0.0, 0.5]))
    with pytest.raises(AssertionError, match="component 1 has weight 0"):
        check_gaussian_sample(uniform, zero, check="labels")


def test_a_sampler_that_scales_by_the_covariance_fails_only_the_covariance_check():
    def by_covariance(n, weights, means, covs, rng):
        return sampler(n, weights, means, covs, rng, scale_by=covs)

    check_gaussian_sample(by_covariance, sample_case(0), check="labels")
    check_gaussian_sample(by_covariance, sample_case(0), check="means")
    with pytest.raises(AssertionError, match="Cholesky factor"):
        check_gaussian_sample(by_covariance, sample_case(0), check="covariances")


def test_a_sampler_that_ignores_the_means_fails_the_mean_check():
    def centred(n, weights, means, covs, rng):
        return sampler(n, weights, np.zeros_like(means), covs, rng)

    with pytest.raises(AssertionError, match="component 1 have mean"):
        check_gaussian_sample(centred, sample_case(0), check="means")


def test_sample_check_explains_shapes_and_labels():
    with pytest.raises(AssertionError, match="return a pair"):
        check_gaussian_sample(lambda *a: sampler(*a)[0], sample_case(0), check="labels")
    with pytest.raises(AssertionError, match=r"X has shape \(20000, 3\)"):
        check_gaussian_sample(lambda *a: (np.zeros((20_000, 3)), np.zeros(20_000)),
                              sample_case(0), check="labels")
    with pytest.raises(AssertionError, match="indices 0..2"):
        check_gaussian_sample(lambda *a: (sampler(*a)[0], sampler(*a)[1] + 1),
                              sample_case(0), check="labels")
    with pytest.raises(ValueError, match="check must be"):
        check_gaussian_sample(sampler, sample_case(0), check="weights")


def test_a_sampler_with_the_transposed_factor_is_told_about_l_transposed():
    def transposed(n, weights, means, covs, rng):
        factor = np.swapaxes(np.linalg.cholesky(covs), 1, 2)
        return sampler(n, weights, means, covs, rng, scale_by=factor)

    with pytest.raises(AssertionError, match=r"not L\^T \(xi @ L computes L\^T xi\)"):
        check_gaussian_sample(transposed, sample_case(0), check="covariances")


def test_covariances_of_components_with_few_points_are_not_checked():
    # 300 points: a sample variance of 100 points strays 6 standard errors with
    # probability 6e-7, so such components are left out rather than failed at random.
    def by_covariance(n, weights, means, covs, rng):
        return sampler(n, weights, means, covs, rng, scale_by=covs)

    small = Case("small", (300, BLOBS["weights"], BLOBS["means"], BLOBS["covariances"],
                           np.random.default_rng(0)), "")
    check_gaussian_sample(by_covariance, small, check="covariances")
    with pytest.raises(AssertionError, match="Cholesky factor"):
        check_gaussian_sample(by_covariance, sample_case(0), check="covariances")


def test_matching_infinities_beside_a_difference_raise_no_warning():
    case = Case("a log-density of 0 beside a wrong entry", ())
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(AssertionError, match=r"largest difference is at \[1\]"):
            compare_arrays(np.array([-np.inf, 1.0]), np.array([-np.inf, 2.0]), case)


def test_a_nan_where_the_answer_is_minus_infinity_is_explained_as_such():
    case = Case("a pixel that is never on", (), "0 * log 0")
    with pytest.raises(AssertionError, match=r"the answer there is -inf.*0 \* -inf"):
        compare_arrays(np.array([np.nan, 1.0]), np.array([-np.inf, 1.0]), case)
    with pytest.raises(AssertionError, match="typically after exp"):
        compare_arrays(np.array([np.nan, 1.0]), np.array([-3.0, 1.0]), case)
