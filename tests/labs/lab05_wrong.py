"""Deliberately wrong answers to lab 5, each with one mistake that students make.

``tests/test_labs_grading.py`` puts each one in place of the right answer in the solved lab
(every other answer stays correct), grades the result with otter-grader and asserts
which checks fail: exactly those in ``MISTAKES``, no more and no fewer. A check that
passes one of these is too weak; a check that fails an answer it is not aimed at
punishes the student twice.

Each function is written as a student would write it in the notebook, with the
notebook's name ``np``; the test renames it to the function the question asks for.
"""

import numpy as np


def n_parameters_full_d_squared(n_components, n_features, covariance_type):
    # Mistake: a D x D covariance counted as D^2 numbers, forgetting that it is
    # symmetric (right only for D = 1, and for diag and spherical).
    k, d = n_components, n_features
    covariance = {"full": k * d * d, "tied": d * d,
                  "diag": k * d, "spherical": k}[covariance_type]
    return (k - 1) + k * d + covariance


def bic_and_aic_mean_log_likelihood(model, X, n_params):
    # Mistake: model.score(X), the mean log-likelihood per sample, in place of
    # the total; the penalty then outweighs the fit.
    n_samples = np.shape(X)[0]
    log_likelihood = model.score(X)
    return (-2.0 * log_likelihood + n_params * np.log(n_samples),
            -2.0 * log_likelihood + 2.0 * n_params)


def bic_and_aic_penalty_n(model, X, n_params):
    # Mistake: BIC's penalty P N instead of P log N.
    n_samples = np.shape(X)[0]
    log_likelihood = np.sum(model.score_samples(X))
    return (-2.0 * log_likelihood + n_params * n_samples,
            -2.0 * log_likelihood + 2.0 * n_params)


def bic_and_aic_aic_without_2(model, X, n_params):
    # Mistake: AIC's penalty P instead of 2 P.
    n_samples = np.shape(X)[0]
    log_likelihood = np.sum(model.score_samples(X))
    return (-2.0 * log_likelihood + n_params * np.log(n_samples),
            -2.0 * log_likelihood + n_params)


def kfold_split_not_shuffled(n_samples, n_folds, seed):
    # Mistake: consecutive blocks of the samples in their original order; a
    # partition of the right sizes, but not random (and the seed is unused).
    return np.array_split(np.arange(n_samples), n_folds)


def kfold_split_unseeded(n_samples, n_folds, seed):
    # Mistake: a generator made without the seed, which draws fresh entropy;
    # a valid split, but another one at every call, so no one can repeat it.
    return np.array_split(np.random.default_rng().permutation(n_samples), n_folds)


def kfold_split_drops_remainder(n_samples, n_folds, seed):
    # Mistake: folds of N // k samples each, so the last N mod k samples of the
    # shuffled order are never held out.
    order = np.random.RandomState(seed).permutation(n_samples)
    size = n_samples // n_folds
    return [order[f * size:(f + 1) * size] for f in range(n_folds)]


def heldout_scores_training_folds(X, folds, make_model):
    # Mistake: the model is scored on the samples it was fitted to (the leak).
    total = 0.0
    for test in folds:
        train = np.ones(len(X), dtype=bool)
        train[test] = False
        model = make_model().fit(X[train])
        total += np.sum(model.score_samples(X[train])) / train.sum() * len(test)
    return total / len(X)


def heldout_mean_over_folds(X, folds, make_model):
    # Mistake: the mean of the folds' mean log-likelihoods; right only when
    # every fold has the same size.
    fold_means = []
    for test in folds:
        train = np.ones(len(X), dtype=bool)
        train[test] = False
        model = make_model().fit(X[train])
        fold_means.append(np.mean(model.score_samples(X[test])))
    return np.mean(fold_means)


# For each wrong answer: the function it replaces, and the checks (test functions of the
# master notebook, by question) that must fail. Every check not listed must pass.
MISTAKES = {
    "n_parameters_full_d_squared": (
        "n_parameters", {"q1": {"test_full", "test_tied", "test_iris_dimensions",
                                "test_784d"}}),
    "bic_and_aic_mean_log_likelihood": (
        "bic_and_aic", {"q2": {"test_bic_blobs", "test_aic_blobs", "test_bic_iris_types",
                               "test_aic_iris_types", "test_bernoulli_784d"}}),
    "bic_and_aic_penalty_n": (
        "bic_and_aic", {"q2": {"test_bic_blobs", "test_bic_iris_types",
                               "test_bernoulli_784d"}}),
    "bic_and_aic_aic_without_2": (
        "bic_and_aic", {"q2": {"test_aic_blobs", "test_aic_iris_types",
                               "test_bernoulli_784d"}}),
    "kfold_split_not_shuffled": (
        "kfold_split", {"q3": {"test_random", "test_seeds"}}),
    "kfold_split_unseeded": (
        "kfold_split", {"q3": {"test_random", "test_seeds"}}),
    "kfold_split_drops_remainder": (
        "kfold_split", {"q3": {"test_uneven", "test_two_folds_odd"}}),
    "heldout_scores_training_folds": (
        "heldout_log_likelihood", {"q4": {"test_kfold_equal", "test_kfold_uneven",
                                          "test_grouped_folds", "test_1d_uneven",
                                          "test_leave_one_out"}}),
    "heldout_mean_over_folds": (
        "heldout_log_likelihood", {"q4": {"test_kfold_uneven", "test_grouped_folds",
                                          "test_1d_uneven"}}),
}
