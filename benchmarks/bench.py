"""emlib against scikit-learn, side by side in one process: time per EM / Lloyd iteration.

Both libraries get the same data and the same initial parameters. The cost of one iteration
is measured as (t(long run) - t(short run)) / (difference in iterations), so that input
validation and initialisation are left out; the median over repeats is reported with the
ratio emlib / scikit-learn (below 1 means emlib is faster).

Run from the repository root:  python benchmarks/bench.py  [--quick]
"""

import argparse
import os
import platform
import time
import warnings

import numpy as np
import sklearn
from sklearn.cluster import KMeans as SklearnKMeans
from sklearn.datasets import make_blobs
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import GaussianMixture as SklearnGaussianMixture
from threadpoolctl import threadpool_info

import emlib
from emlib.datasets import load_mnist


def seconds(fn, repeats):
    """Median wall-clock time of ``fn()`` over ``repeats`` calls."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def per_iteration(make, X, short, long, repeats):
    """Median time of one iteration: the extra time of ``long - short`` more iterations."""

    def run(n_iter):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model = make(n_iter).fit(X)
        assert model.n_iter_ == n_iter, f"stopped early after {model.n_iter_} iterations"

    run(short)  # warm-up: imports, first-touch of memory
    samples = [
        (seconds(lambda: run(long), 1) - seconds(lambda: run(short), 1)) / (long - short)
        for _ in range(repeats)
    ]
    return float(np.median(samples))


def report(name, ours, theirs, target):
    ratio = ours / theirs
    verdict = "ok" if ratio <= target else "MISSED"
    print(
        f"{name:<44} {ours * 1e3:9.1f} ms {theirs * 1e3:9.1f} ms {ratio:7.2f}x"
        f"  (target <= {target:.1f}x: {verdict})"
    )


def gaussian(repeats, short, long):
    X, _ = make_blobs(100_000, n_features=10, centers=10, cluster_std=2.0, random_state=0)
    rng = np.random.default_rng(0)
    K, D = 10, 10
    means = X[rng.choice(len(X), K, replace=False)]
    for covariance_type, target in [
        ("full", 0.5),
        ("diag", 0.8),
        ("tied", 1.0),
        ("spherical", 1.0),
    ]:
        precisions = {
            "full": np.stack([np.eye(D)] * K),
            "tied": np.eye(D),
            "diag": np.ones((K, D)),
            "spherical": np.ones(K),
        }[covariance_type]
        kwargs = dict(
            n_components=K,
            covariance_type=covariance_type,
            weights_init=np.full(K, 1 / K),
            means_init=means,
            precisions_init=precisions,
            init_params="random_from_data",  # skipped work: the *_init arrays win
            tol=0.0,
        )
        ours = per_iteration(
            lambda n, kw=kwargs: emlib.GaussianMixture(max_iter=n, **kw), X, short, long, repeats
        )
        theirs = per_iteration(
            lambda n, kw=kwargs: SklearnGaussianMixture(max_iter=n, **kw), X, short, long, repeats
        )
        report(f"GaussianMixture {covariance_type:<9} N=100k D=10 K=10", ours, theirs, target)


def kmeans(repeats):
    X, _ = make_blobs(100_000, n_features=10, centers=10, cluster_std=2.0, random_state=0)
    digits = load_mnist(10_000, binarize=True)[0].astype(np.float64)
    for name, data, K in [
        ("blobs N=100k D=10", X, 10),
        ("binarised MNIST N=10k D=784", digits, 10),
    ]:
        init = data[np.random.default_rng(1).choice(len(data), K, replace=False)]
        # Boundary points may flip on rounding and change when Lloyd stops: time only
        # iterations that both libraries run.
        n_iter = min(
            SklearnKMeans(K, init=init, n_init=1, tol=0).fit(data).n_iter_,
            emlib.KMeans(K, init=init, tol=0).fit(data).n_iter_,
            21,
        )
        short, long = 1, max(2, n_iter)
        ours = per_iteration(
            lambda n, c=init, k=K: emlib.KMeans(k, init=c, max_iter=n, tol=0),
            data,
            short,
            long,
            repeats,
        )
        theirs = per_iteration(
            lambda n, c=init, k=K: SklearnKMeans(k, init=c, n_init=1, max_iter=n, tol=0),
            data,
            short,
            long,
            repeats,
        )
        report(f"KMeans {name}", ours, theirs, 1.0)


def bernoulli(repeats, short, long):
    digits = load_mnist(binarize=True)[0]
    rng = np.random.default_rng(0)
    # Six copies of the MNIST test set, each but the first with 2% of its bits flipped.
    copies = [digits] + [digits ^ (rng.random(digits.shape) < 0.02) for _ in range(5)]
    X = np.vstack(copies).astype(np.uint8)
    K = 20
    means = rng.uniform(0.25, 0.75, size=(K, X.shape[1]))
    for dtype in (np.float64, np.float32):
        Xd = X.astype(dtype)
        W = np.log(means).astype(dtype)
        R = rng.dirichlet(np.ones(K), size=len(X)).astype(dtype)
        products = seconds(lambda W=W, R=R, Xd=Xd: (W @ Xd.T, R.T @ Xd), repeats)
        ours = per_iteration(
            lambda n, dt=dtype: emlib.BernoulliMixture(
                K,
                means_init=means,
                weights_init=np.full(K, 1 / K),
                max_iter=n,
                tol=0,
                init_params="random_from_data",
                dtype=dt,
            ),
            X,
            short,
            long,
            repeats,
        )
        ratio = ours / products
        verdict = "ok" if ratio <= 1.5 else "MISSED"
        print(
            f"BernoulliMixture N=60k D=784 K=20 {np.dtype(dtype).name:<8}    {ours * 1e3:9.1f} ms"
            f" {products * 1e3:9.1f} ms {ratio:7.2f}x  (two matrix products; target <= 1.5x:"
            f" {verdict})"
        )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats, for a smoke test")
    args = parser.parse_args()
    repeats, short, long = (1, 2, 4) if args.quick else (5, 5, 25)
    blas = [
        f"{i['internal_api']} {i['version']} ({i['num_threads']} threads)"
        for i in threadpool_info()
        if i["user_api"] == "blas"
    ]
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, {platform.processor() or ''}")
    print(
        f"python {platform.python_version()}, numpy {np.__version__}, "
        f"scikit-learn {sklearn.__version__}, BLAS: {'; '.join(sorted(set(blas)))}"
    )
    print(f"{'':44} {'emlib':>12} {'reference':>12} {'ratio':>8}")
    gaussian(repeats, short, long)
    kmeans(repeats)
    bernoulli(repeats, short, long)


if __name__ == "__main__":
    main()
