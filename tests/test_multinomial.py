"""MultinomialMixture: scipy densities, a loop reference, a numerical M-step, recovery,
monotone objective (dense and sparse, float32 and float64), sampling and bad input."""

import itertools
import tracemalloc
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import optimize, stats
from scipy.special import logsumexp, softmax
from sklearn.exceptions import ConvergenceWarning

from emlib import MultinomialMixture, multinomial
from emlib.metrics import matched_accuracy
from emlib.multinomial import (
    log_multinomial_coefficient,
    log_multinomial_density,
    n_parameters_multinomial,
)

SPARSE_FORMATS = [np.asarray, sp.csr_array, sp.csc_array, sp.csr_matrix]


def simulate(seed, n_samples=300, n_components=3, n_features=20, mean_length=30,
             concentration=0.5):
    """Documents from a known mixture: Dirichlet word probabilities, Poisson lengths."""
    rng = np.random.default_rng(seed)
    theta = rng.dirichlet(np.full(n_features, concentration), size=n_components)
    weights = rng.dirichlet(np.full(n_components, 5.0))
    z = rng.choice(n_components, size=n_samples, p=weights)
    lengths = rng.poisson(mean_length, size=n_samples)
    X = np.array([rng.multinomial(n, theta[k]) for n, k in zip(lengths, z, strict=True)])
    return X, z, weights, theta


def quiet_fit(model, X):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(X)


def scipy_log_density(X, weights, means):
    """log sum_k pi_k Mult(x_n; L_n, theta_k) from scipy.stats, row by row."""
    X = np.asarray(X)
    lengths = X.sum(axis=1)
    # float64 rows summing to one within 1e-15, as scipy requires (float32 rows do not).
    means = np.asarray(means, dtype=np.float64)
    means /= means.sum(axis=1, keepdims=True)
    per_component = np.stack(
        [np.log(w) + stats.multinomial.logpmf(X, lengths, p) for w, p in
         zip(weights, means, strict=True)], axis=1)
    return logsumexp(per_component, axis=1)


# ---------------------------------------------------------------- densities
@pytest.mark.parametrize("fmt", SPARSE_FORMATS)
def test_score_samples_equals_scipy_multinomial(fmt):
    X, _, _, _ = simulate(0, n_samples=60)
    X[0] = 0  # an empty document: probability one under every component
    model = MultinomialMixture(3, word_prior=0.5, random_state=0).fit(fmt(X))
    expected = scipy_log_density(X, model.weights_, model.means_)
    np.testing.assert_allclose(model.score_samples(fmt(X)), expected, rtol=1e-12, atol=1e-12)
    assert model.score_samples(fmt(X[:1]))[0] == pytest.approx(0.0, abs=1e-15)
    np.testing.assert_allclose(model.predict_proba(fmt(X[:1]))[0], model.weights_)


def test_float32_density_agrees_with_scipy_to_float32_precision():
    X, _, _, _ = simulate(1, n_samples=60)
    model = MultinomialMixture(3, word_prior=0.5, random_state=0).fit(X.astype(np.float32))
    assert model.means_.dtype == model.weights_.dtype == np.float32
    got = model.score_samples(X.astype(np.float32))
    assert got.dtype == np.float32
    expected = scipy_log_density(X, model.weights_, model.means_)
    # Each log-density sums ~30 terms x log(theta) of size up to ~10 in float32.
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-5 * np.abs(expected).max())


def test_log_multinomial_coefficient_of_long_documents_keeps_its_digits():
    # log(10^6)! is about 1.3e7: float32 would round it to the nearest unit.
    X = np.array([[10**6, 0], [999_999, 1], [0, 0]], dtype=np.float32)
    expected = [0.0, np.log(10**6), 0.0]
    got = log_multinomial_coefficient(X)
    assert got.dtype == np.float64
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-6)
    np.testing.assert_allclose(log_multinomial_coefficient(sp.csr_array(X)), expected,
                               rtol=1e-9, atol=1e-6)


def long_documents(seed, n_samples=12, n_features=500, length=100_000):
    """Documents of ``length`` words from two float32 word distributions."""
    rng = np.random.default_rng(seed)
    means = rng.dirichlet(np.full(n_features, 0.5), size=2).astype(np.float32)
    means = np.maximum(means, np.float32(1e-30))
    X = np.array([rng.multinomial(length, means[n % 2] / means[n % 2].sum(dtype=np.float64))
                  for n in range(n_samples)])
    return X.astype(np.float32), means


@pytest.mark.parametrize("fmt", [np.asarray, sp.csr_array, sp.csc_array])
@pytest.mark.parametrize("length", [100_000, 30])
def test_float32_log_density_is_rounded_once(fmt, length):
    """Summed in float32, these log-densities were off by up to 380 eps (dense) and 1,460
    eps (sparse) of their size for 100,000 words, 1.3 and 2.4 eps for 30; carried in float64,
    by the final rounding, half an eps."""
    X, means = long_documents(0, length=length)
    X[0] = 0  # an empty document: log-density exactly 0
    exact = (X.astype(np.longdouble) @ np.log(means.astype(np.longdouble)).T
             + log_multinomial_coefficient(X)[:, np.newaxis])
    got = log_multinomial_density(fmt(X), means)
    assert got.dtype == np.float32 and got.flags.f_contiguous
    np.testing.assert_allclose(got, exact, rtol=np.finfo(np.float32).eps, atol=0)


@pytest.mark.parametrize("fmt", SPARSE_FORMATS)
def test_float64_log_density_is_the_plain_product(fmt):
    X, _, _, means = simulate(4, n_samples=50, n_features=30, mean_length=1000)
    X = fmt(X.astype(np.float64))
    plain = np.asarray(np.log(means) @ X.T).T + log_multinomial_coefficient(X)[:, np.newaxis]
    got = log_multinomial_density(X, means)
    assert got.dtype == np.float64
    np.testing.assert_array_equal(got, plain)


@pytest.mark.parametrize("fmt", [np.asarray, sp.csr_array])
def test_blocks_of_rows_give_the_products_of_the_whole(fmt, monkeypatch):
    X, means = long_documents(1, n_samples=30, length=2000)
    X = fmt(X)
    resp = np.random.default_rng(1).dirichlet(np.ones(2), size=30).astype(np.float32)
    whole = log_multinomial_density(X, means)
    whole_counts = multinomial._expected_counts(X, resp)
    # Seven rows per block (dense), about as many (CSR): 30 rows end in a shorter block.
    monkeypatch.setattr(multinomial, "_BLOCK_VALUES", 7 * X.size // 30 if fmt is np.asarray
                        else 7 * X.nnz // 30)
    blocks = list(multinomial._float64_row_blocks(X, multinomial._BLOCK_VALUES))
    starts = [start for start, _ in blocks]
    assert len(blocks) >= 4 and starts[0] == 0 and blocks[-1][1].shape[0] < starts[1]
    assert all(block.dtype == np.float64 for _, block in blocks)
    rejoined = np.vstack([np.asarray(block.todense() if sp.issparse(block) else block)
                          for _, block in blocks])
    np.testing.assert_array_equal(rejoined, X.toarray() if sp.issparse(X) else X)
    blocked = log_multinomial_density(X, means)
    assert blocked.flags.f_contiguous
    np.testing.assert_allclose(blocked, whole, rtol=np.finfo(np.float32).eps, atol=0)
    if sp.issparse(X):
        # The M-step's blocks are those too (they hold at least K D = 1,000 stored values);
        # a dense X's counts are one product, in blocks or not.
        assert multinomial._BLOCK_VALUES > 2 * X.shape[1]
        np.testing.assert_allclose(multinomial._expected_counts(X, resp), whole_counts,
                                   rtol=1e-12, atol=0)


def test_sparse_blocks_keep_their_budget_when_long_documents_come_first():
    """20 documents using every word, then 4,000 of one word: cut at the average row, the
    first block held all the long ones, 4 times the budget."""
    rng = np.random.default_rng(2)
    long_rows = rng.integers(1, 5, size=(20, 300))
    short_rows = np.zeros((4000, 300), dtype=np.int64)
    short_rows[np.arange(4000), rng.integers(0, 300, 4000)] = 1
    X = sp.csr_array(np.vstack([long_rows, short_rows]).astype(np.float32))
    budget = 1000
    blocks = list(multinomial._float64_row_blocks(X, budget))
    assert max(block.nnz for _, block in blocks) <= budget
    assert [start for start, _ in blocks] == list(
        np.cumsum([0] + [block.shape[0] for _, block in blocks[:-1]]))
    assert sum(block.shape[0] for _, block in blocks) == X.shape[0]
    one_row = list(multinomial._float64_row_blocks(X, 10))
    assert all(block.shape[0] == 1 for _, block in one_row[:20])  # a row over budget alone


def test_m_step_blocks_hold_at_least_as_many_values_as_the_counts(monkeypatch):
    """Each block's product is a new (D, K) array: smaller blocks would spend more time and
    memory on those than on the product."""
    X, _ = long_documents(5, n_samples=40, length=300)
    asked = []
    blocks = multinomial._float64_row_blocks

    def recording_blocks(X, values):
        asked.append(values)
        return blocks(X, values)

    monkeypatch.setattr(multinomial, "_float64_row_blocks", recording_blocks)
    monkeypatch.setattr(multinomial, "_BLOCK_VALUES", 64)
    resp = np.full((40, 3), 1 / 3, dtype=np.float32)
    counts = multinomial._expected_counts(sp.csr_array(X), resp)
    assert asked == [3 * 500]
    np.testing.assert_allclose(counts, resp.T.astype(np.float64) @ X, rtol=1e-12)


@pytest.mark.parametrize("fmt", [np.asarray, sp.csr_array])
def test_float32_responsibilities_of_close_components_on_long_documents(fmt):
    """Two components 0.05% apart, documents of 100,000 words: float32 responsibilities
    agree with float64 ones from the same parameters (a float32 sum moved them by up to
    0.014, dense, and 0.12, CSR)."""
    rng = np.random.default_rng(2)
    base = rng.dirichlet(np.full(2000, 0.5))
    means = np.stack([base, 0.9995 * base + 0.0005 * rng.dirichlet(np.full(2000, 0.5))])
    X = np.array([rng.multinomial(100_000, means[n % 2]) for n in range(20)])
    single = MultinomialMixture.from_parameters([0.5, 0.5], means, dtype=np.float32)
    double = MultinomialMixture.from_parameters([0.5, 0.5], single.means_.astype(np.float64))
    np.testing.assert_allclose(single.predict_proba(fmt(X.astype(np.float32))),
                               double.predict_proba(X), rtol=0, atol=1e-3)


# ---------------------------------------------------------------- the EM iterations
def reference_em(X, weights, means, n_iter, a=0.0, b=0.0):
    """EM with explicit loops over documents, components and words (tiny data only),
    the densities from scipy.stats.multinomial."""
    N, D = X.shape
    K = len(weights)
    weights, means = np.array(weights, float), np.array(means, float)
    lengths = X.sum(axis=1)
    objectives = []
    for _ in range(n_iter):
        joint = np.array([[weights[k] * stats.multinomial.pmf(X[n], lengths[n], means[k])
                           for k in range(K)] for n in range(N)])
        log_prior = a * np.sum(np.log(means)) + b * np.sum(np.log(weights))
        objectives.append((np.sum(np.log(joint.sum(axis=1))) + log_prior) / N)
        resp = joint / joint.sum(axis=1, keepdims=True)
        for k in range(K):
            words = [sum(resp[n, k] * X[n, d] for n in range(N)) + a for d in range(D)]
            means[k] = np.array(words) / sum(words)
            weights[k] = (resp[:, k].sum() + b) / (N + K * b)
    return weights, means, objectives


@pytest.mark.parametrize("a, b", [(0.0, 0.0), (1.0, 0.0), (0.5, 2.0)])
@pytest.mark.parametrize("fmt", [np.asarray, sp.csr_array])
def test_matches_loop_reference(a, b, fmt):
    X, _, _, _ = simulate(2, n_samples=25, n_components=2, n_features=6, mean_length=8)
    rng = np.random.default_rng(0)
    w0, m0 = [0.3, 0.7], rng.dirichlet(np.ones(6), size=2)
    ref_w, ref_m, ref_obj = reference_em(X, w0, m0, 6, a, b)
    model = quiet_fit(MultinomialMixture(2, word_prior=a, weight_prior=b, weights_init=w0,
                                         means_init=m0, max_iter=6, tol=0), fmt(X))
    np.testing.assert_allclose(model.weights_, ref_w, rtol=1e-10)
    np.testing.assert_allclose(model.means_, ref_m, rtol=1e-10)
    np.testing.assert_allclose(model.log_likelihood_history_, ref_obj, rtol=1e-10)


@pytest.mark.parametrize("a, b", [(0.0, 0.0), (0.7, 1.5)])
def test_m_step_maximises_q_plus_log_prior_numerically(a, b):
    """The closed-form M-step equals a direct maximisation of the expected complete-data
    log-likelihood plus the log-prior, over softmax coordinates, by scipy.optimize."""
    X, _, _, _ = simulate(3, n_samples=15, n_components=2, n_features=4, mean_length=6)
    start = MultinomialMixture.from_parameters(
        [0.4, 0.6], [[0.1, 0.2, 0.3, 0.4], [0.4, 0.3, 0.2, 0.1]])
    resp = start.predict_proba(X)
    K, D = 2, X.shape[1]

    def negative(params):
        log_w = np.log(softmax(params[:K]))
        log_m = np.log(softmax(params[K:].reshape(K, D), axis=1))
        q = np.sum(resp * (log_w + X @ log_m.T))
        return -(q + a * log_m.sum() + b * log_w.sum())

    best = optimize.minimize(negative, np.zeros(K + K * D), method="BFGS",
                             options={"gtol": 1e-10})
    one_step = quiet_fit(MultinomialMixture(2, word_prior=a, weight_prior=b,
                                            weights_init=start.weights_,
                                            means_init=start.means_, max_iter=1), X)
    np.testing.assert_allclose(one_step.weights_, softmax(best.x[:K]), atol=1e-6)
    np.testing.assert_allclose(one_step.means_, softmax(best.x[K:].reshape(K, D), axis=1),
                               atol=1e-6)
    assert -best.fun <= -negative(np.concatenate(
        [np.log(one_step.weights_), np.log(one_step.means_).ravel()])) + 1e-9


@pytest.mark.parametrize("fmt", [np.asarray, sp.csr_array, sp.csc_array])
def test_float32_m_step_on_long_documents(fmt):
    """Totals and quotients in float64: every row of theta sums to 1 within its rounding,
    half an eps (in float32, within 0.57 eps dense and 3.0 eps sparse). Sparse counts in
    float64 too: theta is float64's, rounded (scipy's float32 sums left it 25 eps off)."""
    rng = np.random.default_rng(4)
    N, D, K = 2000, 500, 4
    theta = rng.dirichlet(np.full(D, 0.3), size=K)
    X = np.array([rng.multinomial(100_000, theta[n % K]) for n in range(N)]).astype(np.float32)
    resp = np.asfortranarray(rng.dirichlet(np.ones(K), size=N).astype(np.float32))
    _, means = MultinomialMixture(K, word_prior=0.5)._update(fmt(X), resp)
    eps = np.finfo(np.float32).eps
    assert means.dtype == np.float32
    assert np.abs(means.sum(axis=1, dtype=np.float64) - 1).max() <= eps / 2
    if fmt is not np.asarray:
        counts = resp.astype(np.float64).T @ X.astype(np.float64) + 0.5
        exact = counts / counts.sum(axis=1, keepdims=True)
        np.testing.assert_allclose(means, exact, rtol=eps, atol=0)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10_000),
    n_components=st.integers(1, 4),
    dtype=st.sampled_from([np.float64, np.float32]),
    fmt=st.sampled_from(SPARSE_FORMATS),
    priors=st.sampled_from([(0.0, 0.0), (1.0, 0.0), (0.3, 2.0)]),
)
def test_objective_never_decreases(seed, n_components, dtype, fmt, priors):
    """tol=0 and 200 iterations: the log-likelihood (log-posterior with priors) per sample
    never decreases by more than rounding: 10 eps |objective| (over 800 such fits, dense and
    sparse, the largest decrease was 2.2 eps |objective| in float64 and 2.0 in float32)."""
    X, _, _, _ = simulate(seed, n_samples=80, n_features=15, concentration=0.3)
    a, b = priors
    model = quiet_fit(
        MultinomialMixture(n_components, word_prior=a, weight_prior=b, tol=0, max_iter=200,
                           init_params="random", random_state=seed),
        fmt(X.astype(dtype)))
    history = model.log_likelihood_history_
    assert len(history) == 200 and np.all(np.isfinite(history))
    slack = 10 * np.finfo(dtype).eps * np.abs(history).max()
    assert np.diff(history).min() >= -slack


# ---------------------------------------------------------------- agreement and recovery
@pytest.mark.parametrize("fmt", [sp.csr_array, sp.csc_array, sp.csr_matrix])
def test_sparse_fit_equals_dense_fit(fmt):
    X, _, _, _ = simulate(4, n_samples=200)
    dense = MultinomialMixture(3, word_prior=0.1, n_init=2, random_state=0).fit(X)
    sparse = MultinomialMixture(3, word_prior=0.1, n_init=2, random_state=0).fit(fmt(X))
    np.testing.assert_array_equal(sparse.predict(fmt(X)), dense.predict(X))
    np.testing.assert_allclose(sparse.means_, dense.means_, rtol=1e-12)
    np.testing.assert_allclose(sparse.weights_, dense.weights_, rtol=1e-12)
    assert sparse.n_iter_ == dense.n_iter_
    assert sparse.lower_bound_ == pytest.approx(dense.lower_bound_, rel=1e-12)


def test_sparse_input_is_never_densified():
    """A 2,000 x 200,000 matrix with 40 words per row: dense, it would take 3.2 GB."""
    rng = np.random.default_rng(5)
    n, d, per_row = 2000, 200_000, 40
    indices = rng.integers(0, d, n * per_row, dtype=np.int32)
    indptr = np.arange(0, n * per_row + 1, per_row, dtype=np.int32)
    X = sp.csr_array((rng.integers(1, 4, n * per_row).astype(np.float64), indices, indptr),
                     shape=(n, d))
    X.sum_duplicates()
    tracemalloc.start()
    model = quiet_fit(MultinomialMixture(2, word_prior=0.1, max_iter=3, random_state=0), X)
    model.predict_proba(X)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    # The parameters are K x D dense (3.2 MB each); a densified X would be 1000 times that.
    assert peak < 100e6
    assert model.means_.shape == (2, d)


def test_float32_fit_agrees_with_float64():
    X, _, _, _ = simulate(6, n_samples=400, n_features=50)
    kwargs = dict(n_components=3, word_prior=0.1, random_state=0, tol=0, max_iter=30)
    double = quiet_fit(MultinomialMixture(**kwargs), X)
    single = quiet_fit(MultinomialMixture(**kwargs), X.astype(np.float32))
    as_dtype = quiet_fit(MultinomialMixture(**kwargs, dtype=np.float32), X)
    assert single.means_.dtype == as_dtype.means_.dtype == np.float32
    np.testing.assert_array_equal(single.means_, as_dtype.means_)
    # Both runs take the same path; the differences are float32 roundings, 6e-8 relative
    # per operation, carried through 30 iterations (measured: 1.0e-7 of the largest
    # probability, 1.2e-8 on the weights, 2e-8 relative on the objective).
    np.testing.assert_allclose(single.means_, double.means_, rtol=0,
                               atol=1e-6 * double.means_.max())
    np.testing.assert_allclose(single.weights_, double.weights_, rtol=0, atol=1e-6)
    assert single.lower_bound_ == pytest.approx(double.lower_bound_, rel=1e-6)


def test_recovers_known_word_distributions_from_a_large_corpus():
    K, D, N, L = 3, 200, 6000, 100
    X, z, weights, theta = simulate(7, n_samples=N, n_components=K, n_features=D,
                                    mean_length=L, concentration=0.2)
    model = MultinomialMixture(K, random_state=0).fit(sp.csr_array(X))
    assert matched_accuracy(z, model.predict(X)) > 0.999
    # Match components by their word distributions, then compare with the truth.
    order = [min(range(K), key=lambda j: np.abs(model.means_[j] - t).sum()) for t in theta]
    assert sorted(order) == list(range(K))
    means, fitted_weights = model.means_[order], model.weights_[order]
    # Each theta_kd is a proportion of about N_k L words: five standard errors.
    n_words = np.array([X[z == k].sum() for k in range(K)])[:, None]
    se = np.sqrt(theta * (1 - theta) / n_words)
    assert np.all(np.abs(means - theta) <= 5 * se + 1e-12)
    np.testing.assert_allclose(fitted_weights, weights, atol=5 * np.sqrt(0.25 / N))


def test_empty_documents_only_enter_the_weights():
    X, _, _, _ = simulate(8, n_samples=100)
    with_empty = np.vstack([X, np.zeros((20, X.shape[1]), dtype=X.dtype)])
    model = MultinomialMixture(3, random_state=0, tol=1e-10, max_iter=1000).fit(with_empty)
    # At the fixed point the empty rows have responsibilities equal to the weights, so
    # theta is the fit on the non-empty rows, and pi_k = (N_k(X) + 20 pi_k) / 120.
    np.testing.assert_allclose(model.predict_proba(with_empty[-20:]),
                               np.tile(model.weights_, (20, 1)), rtol=1e-12)
    nk = model.predict_proba(X).sum(axis=0)
    np.testing.assert_allclose(model.weights_, nk / 100, rtol=1e-6)


def test_prior_fixes_words_never_seen():
    X = np.array([[3, 1, 0, 0], [2, 2, 0, 0], [4, 0, 0, 0]])
    ml = MultinomialMixture(1).fit(X)
    smoothed = MultinomialMixture(1, word_prior=1.0).fit(X)
    new = np.array([[0, 0, 1, 0]])
    assert ml.score(new) < -700  # probability about the smallest float64: "impossible"
    np.testing.assert_allclose(smoothed.means_[0], [10 / 16, 4 / 16, 1 / 16, 1 / 16])
    assert smoothed.score(new) == pytest.approx(np.log(1 / 16))


def test_empty_component_stays_finite():
    # The third component starts on a word that no document contains: it loses every
    # document, and its weight falls to the 10 eps that keeps the M-step from 0 / 0.
    X = np.repeat(np.array([[5, 0, 0], [0, 5, 0]]), 10, axis=0)
    start = [[0.98, 0.01, 0.01], [0.01, 0.98, 0.01], [0.01, 0.01, 0.98]]
    model = quiet_fit(MultinomialMixture(3, means_init=start, weights_init=[0.45, 0.45, 0.1],
                                         tol=0, max_iter=50), X)
    assert model.weights_[2] < 1e-12
    np.testing.assert_allclose(model.weights_[:2], 0.5)
    assert np.all(np.isfinite(model.means_)) and np.all(model.means_ > 0)
    np.testing.assert_allclose(model.means_.sum(axis=1), 1.0)
    # Each document is certain under its own component (theta = 1 on its word): log(1/2).
    np.testing.assert_allclose(model.score_samples(X), np.log(0.5))


def test_passages_line_up_with_their_books():
    from emlib.datasets import load_passages

    X, y, _ = load_passages()
    model = MultinomialMixture(6, word_prior=1.0, random_state=0).fit(X)
    assert matched_accuracy(y, model.predict(X)) > 0.95


# ---------------------------------------------------------------- sampling and counting
def test_sample_lengths_and_word_frequencies():
    X, _, _, _ = simulate(9, n_samples=500)
    model = MultinomialMixture(3, word_prior=0.1, random_state=0).fit(X)
    assert model.mean_length_ == pytest.approx(X.sum() / len(X))
    S, labels = model.sample(4000)
    assert S.shape == (4000, 20) and S.dtype == np.int64 and np.all(S >= 0)
    assert np.all(np.diff(labels) >= 0)
    lengths = S.sum(axis=1)
    # Poisson lengths: mean and variance both mean_length_.
    assert lengths.mean() == pytest.approx(model.mean_length_, abs=4 * np.sqrt(30 / 4000))
    assert lengths.var() == pytest.approx(model.mean_length_, rel=0.1)
    np.testing.assert_allclose(S.sum(axis=0) / lengths.sum(), model.weights_ @ model.means_,
                               atol=0.005)
    fixed, _ = model.sample(50, length=7)
    np.testing.assert_array_equal(fixed.sum(axis=1), 7)


def test_n_parameters_bic_aic():
    X, _, _, _ = simulate(10, n_samples=100)
    model = MultinomialMixture(3, random_state=0).fit(X)
    assert model.n_parameters() == model._n_parameters() == 3 * 19 + 2
    assert n_parameters_multinomial(3, 20) == 59
    log_lik = scipy_log_density(X, model.weights_, model.means_).sum()
    np.testing.assert_allclose(model.bic(X), -2 * log_lik + 59 * np.log(len(X)))
    np.testing.assert_allclose(model.aic(X), -2 * log_lik + 2 * 59)


def test_from_parameters_equals_the_fitted_model():
    X, _, _, _ = simulate(11, n_samples=100)
    fitted = MultinomialMixture(3, random_state=0).fit(X)
    rebuilt = MultinomialMixture.from_parameters(fitted.weights_, fitted.means_)
    np.testing.assert_allclose(rebuilt.score_samples(X), fitted.score_samples(X), rtol=1e-12)
    with pytest.raises(ValueError, match="pass the number of words per document as length"):
        rebuilt.sample(3)
    assert rebuilt.sample(3, length=5)[0].sum() == 15
    with pytest.raises(ValueError, match="each row .* must sum to 1"):
        MultinomialMixture.from_parameters([1.0], [[0.2, 0.5]])
    with pytest.raises(ValueError, match="weights must be non-negative and sum to 1"):
        MultinomialMixture.from_parameters([0.5], [[0.5, 0.5]])


# ---------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    "X, shown",
    [
        (np.array([[1.0, 0.5], [2.0, 0.0]]), "0.5"),
        (sp.csr_array(np.array([[1.0, 0.0], [0.0, 0.25]])), "0.25"),
    ],
)
def test_non_counts_are_rejected_with_advice(X, shown):
    with pytest.raises(ValueError, match=rf"needs counts .* contains {shown}\. .*CountVectorizer"):
        MultinomialMixture(1).fit(X)


@pytest.mark.parametrize("fmt", [np.asarray, sp.csc_array])
def test_negative_counts_are_rejected_with_advice(fmt):
    with pytest.raises(ValueError, match=r"Negative values in data .* \(for example -2\).*"
                                         "CountVectorizer"):
        MultinomialMixture(1).fit(fmt(np.array([[1, -2], [2, 0]])))


def test_non_counts_at_predict_time_and_other_bad_input():
    model = MultinomialMixture(1).fit(np.eye(3, dtype=int))
    with pytest.raises(ValueError, match="needs counts"):
        model.predict(np.full((1, 3), 0.3))
    with pytest.raises(ValueError, match="Input X contains NaN"):
        model.fit(np.array([[1.0, np.nan], [0.0, 1.0]]))
    with pytest.raises(ValueError, match="X has 2 features, but MultinomialMixture is expect"):
        model.predict(np.eye(2))
    # Other sparse formats are converted to CSR (a sparse copy).
    np.testing.assert_array_equal(model.predict(sp.dia_array(np.eye(3))), model.predict(np.eye(3)))


@pytest.mark.parametrize(
    "params, message",
    [
        ({"word_prior": -1.0}, "word_prior == -1.0, must be >= 0.0"),
        ({"weight_prior": -0.5}, "weight_prior == -0.5, must be >= 0.0"),
        ({"means_init": np.array([[0.0, 0.5, 0.5]] * 2)}, "must be positive"),
        ({"means_init": np.full((2, 3), 0.5)}, "must sum to 1"),
        ({"means_init": np.full((3, 3), 1 / 3)}, r"means_init has shape \(3, 3\); expected"),
        ({"weights_init": [0.2, 0.2]}, "must be non-negative and sum to 1"),
        ({"dtype": np.int32}, "dtype=.* is not supported"),
        ({"n_components": 4}, r"n_components=4 is larger than the number of samples \(3\)"),
    ],
)
def test_invalid_parameters(params, message):
    with pytest.raises(ValueError, match=message):
        MultinomialMixture(**{"n_components": 2, **params}).fit(np.eye(3))


def test_invalid_sample_arguments():
    model = MultinomialMixture(1).fit(np.eye(3))
    with pytest.raises(ValueError, match="length == -1, must be >= 0"):
        model.sample(2, length=-1)
    with pytest.raises(TypeError, match="length must be an instance of int"):
        model.sample(2, length=2.5)


def test_pairs_of_formats_and_dtypes_give_one_answer():
    X, _, _, _ = simulate(12, n_samples=60)
    answers = []
    for fmt, dtype in itertools.product(SPARSE_FORMATS, [np.int64, np.uint8, np.float64]):
        model = MultinomialMixture(2, word_prior=0.5, random_state=0).fit(fmt(X.astype(dtype)))
        answers.append(model.means_)
    for other in answers[1:]:
        np.testing.assert_allclose(other, answers[0], rtol=1e-12)


# ---------------------------------------------------------------- engine features
@pytest.mark.parametrize("init_params", ["kmeans", "k-means++", "random", "random_from_data"])
def test_every_start_works_on_sparse_input_and_matches_dense(init_params):
    X, z, _, _ = simulate(13, n_samples=300)
    # One start: among several that reach the same optimum with the components permuted,
    # rounding-level differences of the objective could choose different permutations.
    kwargs = dict(word_prior=0.1, init_params=init_params, random_state=0)
    sparse = MultinomialMixture(3, **kwargs).fit(sp.csr_array(X))
    dense = MultinomialMixture(3, **kwargs).fit(X)
    np.testing.assert_allclose(sparse.means_, dense.means_, rtol=1e-10)
    assert matched_accuracy(z, sparse.predict(X)) > 0.95


def test_warm_start_continues_and_elbo_decomposition_holds_on_sparse_input():
    from emlib.em import elbo, kl_divergence

    X, _, _, _ = simulate(14, n_samples=200)
    S = sp.csr_array(X)
    model = quiet_fit(MultinomialMixture(3, word_prior=0.1, max_iter=2, tol=0,
                                         warm_start=True, random_state=0), S)
    first = model.lower_bound_
    quiet_fit(model, S)
    assert model.log_likelihood_history_[0] >= first - 1e-12
    resp = np.full((len(X), 3), 1 / 3)
    total = elbo(model, S, resp) + kl_divergence(model, S, resp)
    assert total == pytest.approx(model.score(S), rel=1e-12)
