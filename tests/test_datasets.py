"""Tests for emlib.datasets: synthetic generators, bundled images and their build script."""

import gzip
import hashlib
import re
from pathlib import Path

import numpy as np
import pytest
from script_modules import load_script

from emlib.datasets import (
    BINARY_PATTERN_NAMES,
    FASHION_MNIST_CLASSES,
    load_fashion_mnist,
    load_mnist,
    make_binary_patterns,
    make_gaussian_mixture,
    three_blobs_2d,
    three_blobs_2d_params,
    three_clusters_1d,
    three_clusters_1d_params,
)

REPO_ROOT = Path(__file__).resolve().parents[1]
DATA_DIR = REPO_ROOT / "emlib" / "datasets" / "data"
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"
MNIST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


build_datasets = load_script("build_datasets")


def _sha256(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _recorded_output_checksums():
    text = (DATA_DIR / "README.md").read_text(encoding="utf-8")
    return dict((name, digest) for digest, name in
                re.findall(r"^\s+([0-9a-f]{64})  (\S+\.npz)$", text, flags=re.MULTILINE))


def _component_moments(X, y, k):
    members = X[y == k]
    return members.mean(axis=0), np.cov(members, rowvar=False)


# --- make_gaussian_mixture ---------------------------------------------------------------

def test_gaussian_mixture_recovers_its_parameters():
    params = three_blobs_2d_params()
    X, y = make_gaussian_mixture(200_000, **params, random_state=1)
    assert X.shape == (200_000, 2) and X.dtype == np.float64
    assert y.shape == (200_000,) and y.dtype == np.int64
    np.testing.assert_allclose(np.bincount(y) / y.size, params["weights"], atol=0.005)
    for k in range(3):
        mean, cov = _component_moments(X, y, k)
        np.testing.assert_allclose(mean, params["means"][k], atol=0.03)
        np.testing.assert_allclose(cov, params["covariances"][k], atol=0.05)


def test_gaussian_mixture_is_reproducible_and_accepts_a_generator():
    params = three_blobs_2d_params()
    X1, y1 = make_gaussian_mixture(100, **params, random_state=7)
    X2, y2 = make_gaussian_mixture(100, **params, random_state=np.random.default_rng(7))
    X3, _ = make_gaussian_mixture(100, **params, random_state=8)
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(y1, y2)
    assert not np.array_equal(X1, X3)


def test_gaussian_mixture_zero_weight_component_is_never_drawn():
    params = three_blobs_2d_params()
    params["weights"] = np.array([0.5, 0.5, 0.0])
    _, y = make_gaussian_mixture(1000, **params, random_state=0)
    assert set(np.unique(y)) == {0, 1}


@pytest.mark.parametrize(("change", "message"), [
    ({"weights": [0.5, 0.3, 0.3]}, "probability vector"),
    ({"weights": [1.2, -0.1, -0.1]}, "probability vector"),
    ({"weights": [[0.5, 0.3, 0.2]]}, "1-D array of K mixing proportions"),
    ({"means": [[0.0, 0.0], [1.0, 1.0]]}, r"means must have shape \(K, D\) = \(3, D\)"),
    ({"means": [0.0, 1.0, 2.0]}, r"means must have shape \(K, D\)"),
    ({"covariances": np.stack([np.eye(3)] * 3)}, r"covariances must have shape \(K, D, D\)"),
    ({"covariances": np.array([np.eye(2), [[1.0, 0.5], [0.0, 1.0]], np.eye(2)])},
     r"covariances\[1\] is not symmetric"),
    ({"covariances": np.array([np.eye(2), np.eye(2), [[1.0, 2.0], [2.0, 1.0]]])},
     r"covariances\[2\] is not positive definite"),
    ({"means": [[0.0, np.nan], [1.0, 1.0], [2.0, 2.0]]}, "NaN"),
])
def test_gaussian_mixture_rejects_bad_parameters(change, message):
    params = three_blobs_2d_params() | change
    with pytest.raises(ValueError, match=message):
        make_gaussian_mixture(10, **params)


def test_gaussian_mixture_rejects_bad_n_samples_and_random_state():
    params = three_blobs_2d_params()
    with pytest.raises(ValueError, match="n_samples == 0, must be >= 1"):
        make_gaussian_mixture(0, **params)
    with pytest.raises(TypeError, match="random_state must be None, an int seed or a numpy"):
        make_gaussian_mixture(10, **params, random_state=np.random.RandomState(0))


# --- the standard examples ---------------------------------------------------------------

def test_three_blobs_2d_parameters_are_valid_and_varied():
    params = three_blobs_2d_params()
    np.testing.assert_allclose(params["weights"], [0.5, 0.3, 0.2])
    covs = params["covariances"]
    assert np.all(np.linalg.eigvalsh(covs) > 0)
    correlation = covs[:, 0, 1] / np.sqrt(covs[:, 0, 0] * covs[:, 1, 1])
    assert np.max(np.abs(correlation)) > 0.7  # one clearly tilted component
    assert len({tuple(c.ravel()) for c in covs}) == 3


def test_three_blobs_2d_params_returns_fresh_arrays():
    three_blobs_2d_params()["means"][0] = 99.0
    assert three_blobs_2d_params()["means"][0, 0] == 0.0


def test_three_blobs_2d_default_sample():
    X, y = three_blobs_2d()
    assert X.shape == (500, 2) and y.shape == (500,)
    assert set(np.unique(y)) == {0, 1, 2}
    X_again, y_again = three_blobs_2d()
    np.testing.assert_array_equal(X, X_again)
    np.testing.assert_array_equal(y, y_again)


def test_three_clusters_1d_has_exact_sizes_and_recovers_parameters():
    X, y = three_clusters_1d()
    assert X.shape == (90, 1) and X.dtype == np.float64
    np.testing.assert_array_equal(np.bincount(y), [30, 40, 20])

    sizes = (30_000, 40_000, 20_000)
    params = three_clusters_1d_params(sizes)
    np.testing.assert_allclose(params["weights"], np.array(sizes) / 90_000)
    assert params["means"].shape == (3, 1) and params["covariances"].shape == (3, 1, 1)
    X, y = three_clusters_1d(sizes, random_state=3)
    for k in range(3):
        members = X[y == k, 0]
        assert members.mean() == pytest.approx(params["means"][k, 0], abs=0.03)
        assert members.var() == pytest.approx(params["covariances"][k, 0, 0], rel=0.03)


def test_three_clusters_1d_is_reproducible_and_shuffled():
    X1, y1 = three_clusters_1d(random_state=5)
    X2, y2 = three_clusters_1d(random_state=5)
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(y1, y2)
    assert not np.all(np.diff(y1) >= 0)


@pytest.mark.parametrize("sizes", [(30, 40), (30, 0, 20), (30.5, 40, 20)])
def test_three_clusters_1d_rejects_bad_sizes(sizes):
    with pytest.raises(ValueError, match="sizes must be three positive integers"):
        three_clusters_1d(sizes)


# --- binary patterns ---------------------------------------------------------------------

def test_binary_pattern_prototypes():
    _, _, prototypes = make_binary_patterns(n_samples=3)
    assert prototypes.shape == (3, 64) and prototypes.dtype == np.uint8
    assert len(BINARY_PATTERN_NAMES) == 3
    grids = prototypes.reshape(3, 8, 8)
    vertical, horizontal, checker = grids
    assert np.all(vertical == vertical[0]) and vertical[0].tolist() == [1, 0] * 4
    assert np.all(horizontal.T == horizontal.T[0]) and horizontal[:, 0].tolist() == [1, 0] * 4
    assert np.all(checker[:, 1:] != checker[:, :-1]) and np.all(checker[1:] != checker[:-1])
    for a in range(3):
        for b in range(a + 1, 3):
            assert np.sum(prototypes[a] != prototypes[b]) == 32


def test_binary_patterns_noise_level_and_types():
    X, y, prototypes = make_binary_patterns(n_samples=6000, flip_prob=0.1, random_state=2)
    assert X.shape == (6000, 64) and X.dtype == np.uint8
    assert set(np.unique(X)) == {0, 1}
    assert y.dtype == np.int64
    np.testing.assert_allclose(np.bincount(y) / 6000, [1 / 3] * 3, atol=0.02)
    assert np.mean(X != prototypes[y]) == pytest.approx(0.1, abs=0.005)


def test_binary_patterns_without_noise_are_the_prototypes_and_reproducible():
    X, y, prototypes = make_binary_patterns(n_samples=50, flip_prob=0.0)
    np.testing.assert_array_equal(X, prototypes[y])
    X_again, _, _ = make_binary_patterns(n_samples=50, flip_prob=0.0)
    np.testing.assert_array_equal(X, X_again)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"flip_prob": 0.6}, "flip_prob == 0.6, must be <= 0.5"),
    ({"flip_prob": -0.1}, "flip_prob == -0.1, must be >= 0.0"),
    ({"n_samples": 0}, "n_samples == 0, must be >= 1"),
])
def test_binary_patterns_rejects_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        make_binary_patterns(**kwargs)


# --- bundled real data -------------------------------------------------------------------

def test_bundled_files_match_the_recorded_checksums():
    recorded = _recorded_output_checksums()
    assert set(recorded) == {"mnist_test.npz", "fashion_mnist_test4000.npz"}
    for name, digest in recorded.items():
        assert _sha256(DATA_DIR / name) == digest, f"{name} differs from data/README.md"


def test_mnist_shapes_dtypes_and_label_counts():
    X, y = load_mnist()
    assert X.shape == (10_000, 784) and X.dtype == np.float64
    assert y.shape == (10_000,) and y.dtype == np.int64
    assert X.min() == 0.0 and X.max() == 1.0
    np.testing.assert_array_equal(np.bincount(y), MNIST_COUNTS)


def test_fashion_mnist_shapes_and_classes():
    X, y = load_fashion_mnist()
    assert X.shape == (4000, 784) and X.dtype == np.float64
    assert y.shape == (4000,) and set(np.unique(y)) == set(range(10))
    assert len(FASHION_MNIST_CLASSES) == 10
    assert FASHION_MNIST_CLASSES[0] == "T-shirt/top" and FASHION_MNIST_CLASSES[9] == "Ankle boot"


@pytest.mark.parametrize("loader", [load_mnist, load_fashion_mnist])
def test_binarisation_thresholds_the_scaled_intensity(loader):
    X, _ = loader(n=200)
    X_bin, _ = loader(n=200, binarize=True, threshold=0.3)
    assert X_bin.dtype == np.uint8
    assert set(np.unique(X_bin)) == {0, 1}
    np.testing.assert_array_equal(X_bin, (X > 0.3).astype(np.uint8))


def test_class_selection_keeps_original_order_and_takes_first_n():
    X_all, y_all = load_mnist()
    X, y = load_mnist(n=50, digits=[3, 1])
    keep = np.flatnonzero(np.isin(y_all, [1, 3]))[:50]
    np.testing.assert_array_equal(y, y_all[keep])
    np.testing.assert_array_equal(X, X_all[keep])
    assert set(np.unique(y)) == {1, 3}

    X_first, y_first = load_fashion_mnist(n=10)
    X_f, y_f = load_fashion_mnist()
    np.testing.assert_array_equal(X_first, X_f[:10])
    np.testing.assert_array_equal(y_first, y_f[:10])
    _, y_bags = load_fashion_mnist(classes=[FASHION_MNIST_CLASSES.index("Bag")])
    assert np.all(y_bags == 8) and y_bags.size == np.sum(y_f == 8)


def test_returned_arrays_are_independent_copies():
    X, y = load_mnist(n=5)
    X[:] = 0.5
    y[:] = 0
    X_again, y_again = load_mnist(n=5)
    assert not np.all(X_again == 0.5) and np.any(y_again != 0)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"digits": [1, 10]}, r"Unknown digits \[10\]; valid labels are 0..9"),
    ({"digits": []}, "digits must be a non-empty list of integer labels"),
    ({"digits": ["3"]}, "digits must be a non-empty list of integer labels"),
    ({"n": 10_001}, "n=10001 exceeds the 10000 images available; ask for fewer"),
    ({"n": 1000, "digits": [5]}, r"n=1000 exceeds the 892 images available with digits=\[5\]"),
    ({"n": 0}, "n == 0, must be >= 1"),
    ({"threshold": 0.0}, "threshold == 0.0, must be > 0.0"),
    ({"threshold": 1.0, "binarize": True}, "threshold == 1.0, must be < 1.0"),
])
def test_load_mnist_rejects_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        load_mnist(**kwargs)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"classes": [10]}, r"Unknown classes \[10\]; valid labels are 0 \(T-shirt/top\)"),
    ({"n": 4001}, "n=4001 exceeds the 4000 images available"),
    ({"threshold": 1.5}, "threshold == 1.5, must be < 1.0"),
])
def test_load_fashion_mnist_rejects_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        load_fashion_mnist(**kwargs)


# --- build script ------------------------------------------------------------------------

def test_build_script_reproduces_the_bundled_files(tmp_path):
    recorded = _recorded_output_checksums()
    if not SHARED_DATA.is_dir():
        # Without the shared inputs the recorded checksums are the only reference.
        assert {name: _sha256(DATA_DIR / name) for name in recorded} == recorded
        return
    assert build_datasets.main(["--source", str(SHARED_DATA),
                                "--output-dir", str(tmp_path)]) == 0
    for name in recorded:
        with np.load(tmp_path / name) as rebuilt, np.load(DATA_DIR / name) as bundled:
            assert set(rebuilt.files) == set(bundled.files) == {"images", "labels"}
            for key in rebuilt.files:
                np.testing.assert_array_equal(rebuilt[key], bundled[key])
        assert _sha256(tmp_path / name) == recorded[name], (
            f"{name}: same arrays but different bytes; the zlib in use may compress "
            "differently from the one that built the bundled file")
    assert (tmp_path / "README.md").read_text() == (DATA_DIR / "README.md").read_text()


def test_build_script_input_checksums_match_the_shared_readme():
    text = (DATA_DIR / "README.md").read_text(encoding="utf-8")
    if SHARED_DATA.is_dir():
        text = (SHARED_DATA / "README.md").read_text(encoding="utf-8")
    listed = {name: digest for digest, name in
              re.findall(r"^\s+([0-9a-f]{64})  (\S+\.gz)$", text, flags=re.MULTILINE)}
    assert listed == build_datasets.INPUT_SHA256


def test_build_script_fails_on_missing_or_altered_input(tmp_path):
    with pytest.raises(FileNotFoundError, match="not found in"):
        build_datasets.main(["--source", str(tmp_path), "--output-dir", str(tmp_path / "out")])
    for name in build_datasets.INPUT_SHA256:
        (tmp_path / name).write_bytes(b"not the recorded file")
    with pytest.raises(ValueError, match="SHA-256 mismatch for fashion-t10k-images"):
        build_datasets.main(["--source", str(tmp_path), "--output-dir", str(tmp_path / "out")])
    assert not (tmp_path / "out").exists()


def _write_idx(path, magic, array):
    header = np.array([magic, *array.shape], dtype=">u4").tobytes()
    with gzip.open(path, "wb") as handle:
        handle.write(header + array.astype(np.uint8).tobytes())


def test_read_idx_parses_big_endian_headers_and_rejects_bad_files(tmp_path):
    images = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    _write_idx(tmp_path / "good.gz", 0x803, images)
    np.testing.assert_array_equal(build_datasets.read_idx(tmp_path / "good.gz", 3), images)

    _write_idx(tmp_path / "labels.gz", 0x801, np.arange(20))
    with pytest.raises(ValueError, match="IDX magic number 0x00000801, expected 0x00000803"):
        build_datasets.read_idx(tmp_path / "labels.gz", 3)

    with gzip.open(tmp_path / "tiny.gz", "wb") as handle:
        handle.write(bytes(6))
    with pytest.raises(ValueError, match="6 bytes cannot hold the 16-byte header of 3-D IDX"):
        build_datasets.read_idx(tmp_path / "tiny.gz", 3)

    with gzip.open(tmp_path / "short.gz", "wb") as handle:
        handle.write(np.array([0x801, 10], dtype=">u4").tobytes() + bytes(4))
    with pytest.raises(ValueError, match=r"header promises shape \(10,\).*4 data bytes"):
        build_datasets.read_idx(tmp_path / "short.gz", 1)


def test_label_count_check():
    labels = np.repeat(np.arange(10), MNIST_COUNTS)
    build_datasets.check_label_counts(labels, build_datasets.MNIST_TEST_LABEL_COUNTS, "MNIST")
    with pytest.raises(ValueError, match="MNIST: label counts .* differ from the expected"):
        build_datasets.check_label_counts(labels[1:], build_datasets.MNIST_TEST_LABEL_COUNTS,
                                          "MNIST")
