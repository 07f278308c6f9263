"""The blocked products of emlib.blocked_products against NumPy's whole-array ones, and a
Bernoulli fit that uses them against one that does not."""

from concurrent.futures import ThreadPoolExecutor

import numba
import numpy as np
import pytest
from scipy import sparse
from sklearn.exceptions import ConvergenceWarning

from emlib import BernoulliMixture, lloyd
from emlib.bernoulli import log_bernoulli_density
from emlib.blocked_products import (
    block_rows_for,
    log_odds_products,
    m_step_block_rows,
    weighted_sums,
)
from emlib.datasets import load_mnist

SIZES = [1, 55, 56, 57, 1000]  # blocks of 56 rows: one short, one full, one and a bit


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("n_samples", SIZES)
def test_e_step_product_matches_the_whole_one(dtype, n_samples):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n_samples, 784)).astype(dtype)
    W = rng.normal(size=(20, 784)).astype(dtype)
    b = rng.normal(size=20).astype(dtype)
    got = log_odds_products(X, W, b, 56)
    assert got.dtype == dtype and got.shape == (n_samples, 20) and got.flags.f_contiguous
    exact = X.astype(np.float64) @ W.T.astype(np.float64) + b
    # A sum of 784 products and an offset: within 785 eps of the sum of their sizes.
    bound = 785 * np.finfo(dtype).eps * (np.abs(X) @ np.abs(W.T) + np.abs(b))
    assert (np.abs(got - exact) <= bound).all()


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("n_samples", SIZES)
def test_m_step_product_matches_the_whole_one(dtype, n_samples):
    rng = np.random.default_rng(1)
    X = (rng.random((n_samples, 784)) < 0.2).astype(dtype)
    resp = np.asfortranarray(rng.dirichlet(np.ones(20), size=n_samples).astype(dtype))
    got = weighted_sums(X, resp, 56)
    assert got.dtype == dtype and got.shape == (20, 784) and got.flags.c_contiguous
    exact = resp.T.astype(np.float64) @ X.astype(np.float64)
    # Non-negative terms: a relative error of about n_samples eps at worst.
    bound = (n_samples + 1) * np.finfo(dtype).eps * exact + 1e-300
    assert (np.abs(got - exact) <= bound).all()


def test_the_products_do_not_depend_on_the_number_of_threads():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(5000, 300))
    W, b = rng.normal(size=(10, 300)), rng.normal(size=10)
    resp = np.asfortranarray(rng.dirichlet(np.ones(10), size=5000))
    results = []
    for threads in (1, 2):
        numba.set_num_threads(threads)
        try:
            results.append((log_odds_products(X, W, b, 64), weighted_sums(X, resp, 64)))
        finally:
            numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
    for a, c in zip(*results, strict=True):
        np.testing.assert_array_equal(a, c)


def test_blocks_only_where_the_small_kernels_take_both_products(monkeypatch):
    X = np.zeros((10_000, 784))
    monkeypatch.setattr(lloyd, "_small_kernels", lambda: True)
    assert block_rows_for(X, 20) == 56
    assert block_rows_for(X.astype(np.float32), 10) == 120
    assert block_rows_for(X, 50) is None  # 24 rows: a transposed X would leave them
    assert block_rows_for(X[:10], 20) is None  # too little work for two threads
    assert block_rows_for(sparse.csr_array(X), 20) is None
    assert block_rows_for(X.astype(np.uint8), 20) is None
    assert block_rows_for(np.asfortranarray(X), 20) is None  # would be copied each step
    # Not from another thread (Dask's threaded scheduler fits chunks in its threads).
    with ThreadPoolExecutor(1) as pool:
        assert pool.submit(block_rows_for, X, 20).result() is None
    monkeypatch.setattr(lloyd, "_small_kernels", lambda: False)
    assert block_rows_for(X, 20) is None


def test_m_step_whole_on_one_numba_thread(monkeypatch):
    X = np.zeros((10_000, 784))
    monkeypatch.setattr(lloyd, "_small_kernels", lambda: True)
    assert m_step_block_rows(X, 20) == block_rows_for(X, 20) == 56
    numba.set_num_threads(1)
    try:
        assert m_step_block_rows(X, 20) is None
        assert block_rows_for(X, 20) == 56  # the E-step's product stays in blocks
    finally:
        numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_bernoulli_fits_the_same_in_blocks_and_whole(monkeypatch, dtype):
    X, y = load_mnist(2000, binarize=True)
    X = X.astype(dtype)
    means = np.random.default_rng(3).uniform(0.05, 0.95, size=(20, 784)).astype(dtype)
    monkeypatch.setattr(lloyd, "_small_kernels", lambda: True)
    blocked = log_bernoulli_density(X, means)
    monkeypatch.setattr(lloyd, "_small_kernels", lambda: False)
    whole = log_bernoulli_density(X, means)
    assert blocked.dtype == dtype and blocked.flags.f_contiguous
    np.testing.assert_allclose(blocked, whole, rtol=50 * np.finfo(dtype).eps)
    # From the classes' mean images, a start EM does not amplify rounding from (from
    # random means, 5 iterations turned differences of 1e-16 into 1e-5).
    start = np.clip([X[y == c].mean(axis=0) for c in range(10)], 0.01, 0.99)
    monkeypatch.setattr(lloyd, "_small_kernels", lambda: True)
    # The blocked paths are the ones compared.
    assert block_rows_for(X, 10) == m_step_block_rows(X, 10) == 120
    fits = []
    for small_kernels in (True, False):
        monkeypatch.setattr(lloyd, "_small_kernels", lambda s=small_kernels: s)
        model = BernoulliMixture(10, means_init=start, weights_init=np.full(10, 0.1),
                                 max_iter=10, tol=0, dtype=dtype)
        with pytest.warns(ConvergenceWarning, match="max_iter=10"):  # tol=0: ten steps
            fits.append(model.fit(X))
    np.testing.assert_array_equal(fits[0].predict(X), fits[1].predict(X))
    # float32: to a few ulps of the means near 1, to 1e-5 of those near 0.
    tol = {"rtol": 1e-10} if dtype == np.float64 else {"rtol": 1e-6, "atol": 1e-5}
    np.testing.assert_allclose(fits[0].means_, fits[1].means_, **tol)
