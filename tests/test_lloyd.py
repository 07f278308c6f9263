"""The Lloyd iteration of emlib.lloyd: the compiled kernel against the NumPy version and
against sums taken exactly, on the data that trouble it (float32, far from the origin,
copies of points, ties, blocks that do not fill)."""

import math
import os
import subprocess
import sys
from pathlib import Path

import numba
import numpy as np
import pytest

from emlib import KMeans, lloyd
from emlib import kmeans as kmeans_module
from emlib.datasets import load_mnist
from emlib.lloyd import BLOCK_ROWS, lloyd_step_compiled, lloyd_step_numpy, one_blas_thread


def exact_step(X, centers):
    """The iteration in float64 from differences, not the expansion, with exact counts."""
    X64, C64 = X.astype(np.float64), centers.astype(np.float64)
    d2 = ((X64[:, None, :] - C64[None, :, :]) ** 2).sum(axis=2)
    labels = d2.argmin(axis=1)
    sums = np.zeros_like(C64)
    np.add.at(sums, labels, X64)
    return labels, sums, np.bincount(labels, minlength=len(C64)), d2.min(axis=1).sum()


def abs_sums(X, labels, n_clusters):
    out = np.zeros((n_clusters, X.shape[1]))
    np.add.at(out, labels, np.abs(X.astype(np.float64)))
    return out


def blobs(n, dtype, offset=0.0, seed=0):
    rng = np.random.default_rng(seed)
    means = rng.normal(scale=8.0, size=(6, 5))
    X = means[rng.integers(0, 6, size=n)] + rng.normal(size=(n, 5)) + offset
    return X.astype(dtype), X[rng.choice(n, 6, replace=False)].astype(dtype)


def both(X, centers):
    x_sq = np.einsum("ij,ij->i", X, X)
    with one_blas_thread():
        compiled = lloyd_step_compiled(X, centers, x_sq)
    return compiled, lloyd_step_numpy(X, centers, x_sq)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("n", [1, 7, BLOCK_ROWS, BLOCK_ROWS + 1, 5000])
def test_compiled_and_numpy_steps_agree_with_the_exact_one(n, dtype):
    X, centers = blobs(max(n, 6), dtype)
    X = X[:n]
    labels, sums, counts, inertia = exact_step(X, centers)
    eps = np.finfo(dtype).eps
    for got in both(X, centers):
        np.testing.assert_array_equal(got[0], labels)
        np.testing.assert_array_equal(got[2], counts)
        assert got[1].dtype == dtype
        # Summed in float64 (each addition within 1e-16 of the sum of |x|), then rounded
        # once to the dtype.
        bound = eps * np.abs(sums) + 1e-12 * abs_sums(X, labels, len(centers))
        assert (np.abs(got[1] - sums) <= bound).all()
        assert abs(got[3] - inertia) <= 1e3 * eps * inertia


def test_float32_sums_keep_their_digits():
    # A float32 running sum of 100,000 values near 3 would be off by about 1e-2 relative
    # at worst; summed in float64 and rounded once, the error is one float32 rounding.
    rng = np.random.default_rng(1)
    X = (rng.normal(size=(100_000, 4)) + 3.0).astype(np.float32)
    centers = X[:3].copy()
    for labels, sums, _, _ in both(X, centers):
        # Float32 distances may break a near-tie otherwise than float64 ones: the sums are
        # checked for the labels the step chose.
        exact = np.zeros((3, 4))
        np.add.at(exact, labels, X.astype(np.float64))
        np.testing.assert_allclose(sums, exact, rtol=np.finfo(np.float32).eps)


@pytest.mark.parametrize(("n_features", "small_kernels"),
                         [(3, False), (784, False), (784, True)])
def test_copies_of_a_point_share_their_centre_whatever_block_they_fall_in(
        monkeypatch, n_features, small_kernels):
    # 300 copies cross block boundaries and fill a partial last block (blocks of 256
    # rows, or of 56 with small kernels and 20 centres of 784 features); two centres at
    # the same point, one rounded by a mean, make the distances a near-tie.
    monkeypatch.setattr(lloyd, "_small_kernels", lambda: small_kernels)
    rng = np.random.default_rng(2)
    point = rng.normal(size=n_features) * 1e3
    X = np.vstack([np.repeat(point[None, :], 300, axis=0),
                   rng.normal(size=(20, n_features))])
    others = rng.normal(size=(18, n_features)) * 1e3 if n_features > 3 else np.zeros((1, 3))
    centers = np.vstack([np.repeat(point[None, :], 3, axis=0).mean(axis=0), point, others])
    assert lloyd.block_rows(len(centers), n_features) == (56 if small_kernels else BLOCK_ROWS)
    labels = both(X, centers)[0][0]
    assert len(set(labels[:300])) == 1


def test_the_result_does_not_depend_on_the_number_of_threads():
    X, centers = blobs(20_000, np.float32, seed=3)
    x_sq = np.einsum("ij,ij->i", X, X)
    results = []
    for threads in (1, 2):
        numba.set_num_threads(threads)
        try:
            results.append(lloyd_step_compiled(X, centers, x_sq))
        finally:
            numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
    for a, b in zip(*results, strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_kmeans_fits_the_same_with_and_without_numba(monkeypatch, dtype):
    X, centers = blobs(3000, dtype, offset=1e4, seed=4)
    compiled = KMeans(6, init=centers, tol=0).fit(X)
    monkeypatch.setattr(kmeans_module, "lloyd_step", lloyd_step_numpy)
    plain = KMeans(6, init=centers, tol=0).fit(X)
    np.testing.assert_array_equal(compiled.labels_, plain.labels_)
    assert compiled.n_iter_ == plain.n_iter_
    np.testing.assert_allclose(compiled.cluster_centers_, plain.cluster_centers_,
                               rtol=10 * np.finfo(dtype).eps)


def test_small_data_run_the_same_groups_on_one_thread(monkeypatch):
    X, centers = blobs(5000, np.float64, seed=5)
    x_sq = np.einsum("ij,ij->i", X, X)
    assert X.size * len(centers) < lloyd.PARALLEL_WORK
    serial = lloyd_step_compiled(X, centers, x_sq)
    monkeypatch.setattr(lloyd, "PARALLEL_WORK", 0)
    parallel = lloyd_step_compiled(X, centers, x_sq)
    for a, b in zip(serial, parallel, strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("n", [1, 7, 5000])
def test_compiled_and_numpy_inertia_agree_with_the_exact_one(n, dtype):
    # Far from the origin: an expansion about it would lose digits here, the deviations
    # do not.
    X, centers = blobs(max(n, 6), dtype, offset=1e4)
    X = X[:n]
    labels = np.random.default_rng(n).integers(0, len(centers), n)
    deviations = X.astype(np.float64) - centers.astype(np.float64)[labels]
    exact = math.fsum((deviations**2).ravel())
    for value in (lloyd.inertia_compiled(X, centers, labels),
                  lloyd.inertia_numpy(X, centers, labels)):
        assert isinstance(value, float)
        assert value == pytest.approx(exact, rel=1e-13)


def test_the_inertia_does_not_depend_on_the_number_of_threads(monkeypatch):
    X, centers = blobs(20_000, np.float32, seed=7)
    labels = np.random.default_rng(7).integers(0, len(centers), len(X))
    monkeypatch.setattr(lloyd, "PARALLEL_WORK", 0)
    results = []
    for threads in (1, 2):
        numba.set_num_threads(threads)
        try:
            results.append(lloyd.inertia_compiled(X, centers, labels))
        finally:
            numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
    assert results[0] == results[1]


@pytest.mark.parametrize("small_kernels", [False, True])
def test_blocks_fit_openblas_small_products_only_where_it_has_them(monkeypatch,
                                                                   small_kernels):
    monkeypatch.setattr(lloyd, "_small_kernels", lambda: small_kernels)
    for n_clusters, n_features in [(3, 10), (10, 784), (20, 784), (50, 784), (200, 784)]:
        rows = lloyd.block_rows(n_clusters, n_features)
        assert 8 <= rows <= BLOCK_ROWS and rows % 8 == 0
        fits = rows * n_clusters * n_features <= 100**3
        if small_kernels and 8 * n_clusters * n_features <= 100**3:
            assert fits
            # The largest such block: one more group of 8 rows would not fit, or the cap.
            assert rows == BLOCK_ROWS or (rows + 8) * n_clusters * n_features > 100**3
        else:
            assert rows == BLOCK_ROWS


@pytest.mark.parametrize("small_kernels", [False, True])
def test_wide_data_in_small_blocks_give_the_same_bits_both_ways(monkeypatch, small_kernels):
    # 1,000 images with K = 20: 17 full blocks of 56 rows and a padded one of 48 when the
    # small kernels are there (whether or not this machine's BLAS has them).
    monkeypatch.setattr(lloyd, "_small_kernels", lambda: small_kernels)
    X = load_mnist(1000, binarize=True)[0].astype(np.float64)
    centers = X[:20] * 0.5 + 0.25
    compiled, plain = both(X, centers)
    for a, b in zip(compiled, plain, strict=True):
        np.testing.assert_array_equal(a, b)
    assert lloyd.block_rows(20, 784) == (56 if small_kernels else BLOCK_ROWS)


@pytest.mark.parametrize("core", ["Haswell", "SkylakeX"])
def test_the_small_kernels_are_read_off_the_blas_that_runs(core):
    # OpenBLAS runs the core it is told to where the processor has the instructions, and
    # falls back to an older one otherwise: SkylakeX needs AVX-512.
    script = ("from emlib import lloyd; "
              "print(lloyd._small_kernels(), lloyd.block_rows(10, 784))")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          env={**os.environ, "OPENBLAS_CORETYPE": core}, check=True)
    flags = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    small = core == "SkylakeX" and "avx512f" in flags.split()
    assert done.stdout.split() == ([str(small), "120" if small else str(BLOCK_ROWS)])
