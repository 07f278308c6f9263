"""emlib against scikit-learn, side by side in one process, with a pass or miss per target.

Both libraries get the same data and the same initial parameters. The cost of one iteration
is measured as (t(long run) - t(short run)) / (difference in iterations), so that input
validation and initialisation are left out; the median over repeats is reported with the
ratio emlib / reference (below 1 means emlib is faster). Sections:

* ``gaussian``: GaussianMixture per iteration against scikit-learn on blobs and on wide
  data (784-pixel images), and float32 against float64;
* ``kmeans``: KMeans per iteration and over a whole fit from the same centres, against
  scikit-learn's Lloyd, on blobs and on 60,000 binarised MNIST images, float64 and float32;
  the two libraries' runs are interleaved, so that a slow spell falls on both;
* ``bernoulli``: BernoulliMixture per iteration against its two bare matrix products;
* ``init``: the share of the default k-means start in a default fit to convergence;
* ``starts`` (only when asked for): BernoulliMixture's short default start against
  scikit-learn's converged k-means start, over 10 seeds: final objective and fit time;
* ``scaling``: time per iteration for N = 10k, 30k, 60k and K = 10, 20, 50, with the
  effective GFLOP/s against this machine's matrix-product rate, measured in the same run;
* ``memory``: peak resident memory of a 60,000 x 784 Bernoulli fit, in a fresh process;
* ``book`` (only when asked for): the nbval replay of every notebook, timed.

Run from the repository root:  python benchmarks/bench.py [--quick] [SECTION ...]
"""

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import sklearn
from sklearn.cluster import KMeans as SklearnKMeans
from sklearn.datasets import make_blobs
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import GaussianMixture as SklearnGaussianMixture
from threadpoolctl import threadpool_info

import emlib
from emlib.datasets import load_mnist
from emlib.em import MixtureEM, _kmeans_labels

ROOT = Path(__file__).resolve().parent.parent
SECTIONS = ("gaussian", "kmeans", "bernoulli", "init", "starts", "scaling", "memory", "book")
ON_REQUEST = ("starts", "book")  # minutes each: run only when named


def seconds(fn, repeats):
    """Median wall-clock time of ``fn()`` over ``repeats`` calls."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def fit_quietly(model, X):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(X)


def per_iteration(make, X, short, long, repeats):
    """Median time of one iteration: the extra time of ``long - short`` more iterations."""
    return per_iteration_interleaved({"one": make}, X, short, long, repeats)["one"]


def per_iteration_interleaved(makes, X, short, long, repeats):
    """:func:`per_iteration` for several libraries (or dtypes) at once, their runs
    interleaved.

    Every repeat times, for each entry in turn (the order alternating between repeats),
    one long and one short run, and takes their difference: a slow spell of the machine
    then falls on every entry's samples alike, not on the five samples of one of them.
    ``X`` is the data of every entry, or a dict with each entry's own data. Returns the
    median time of one iteration for each entry of ``makes``.
    """
    data = X if isinstance(X, dict) else dict.fromkeys(makes, X)

    def run(who, n_iter):
        start = time.perf_counter()
        model = fit_quietly(makes[who](n_iter), data[who])
        elapsed = time.perf_counter() - start
        assert model.n_iter_ == n_iter, f"stopped early after {model.n_iter_} iterations"
        return elapsed

    for who in makes:
        run(who, short)  # warm-up: imports, compilation, first touch of memory
    samples = {who: [] for who in makes}
    order = list(makes)
    for repeat in range(repeats):
        for who in order[:: 1 if repeat % 2 == 0 else -1]:
            long_time = run(who, long)
            samples[who].append((long_time - run(who, short)) / (long - short))
    return {who: float(np.median(times)) for who, times in samples.items()}


def verdict(ratio, target):
    return f"target <= {target:g}x: {'ok' if ratio <= target else 'MISSED'}"


def report(name, ours, theirs, target, what="", unit="ms"):
    """One line: both times, their ratio, and a pass or miss (none when ``target`` is None)."""
    ratio = ours / theirs
    scale = 1e3 if unit == "ms" else 1.0
    status = "no target" if target is None else verdict(ratio, target)
    print(f"{name:<46} {ours * scale:9.1f} {unit} {theirs * scale:9.1f} {unit} {ratio:7.2f}x"
          f"  ({what}{status})")


def matmul_rate(dtype, n=2000, repeats=3):
    """GFLOP/s of an n x n matrix product (2 n^3 flops) on this machine, now."""
    rng = np.random.default_rng(0)
    A, B = (rng.standard_normal((n, n)).astype(dtype) for _ in range(2))
    A @ B
    return 2 * n**3 / seconds(lambda: A @ B, repeats) / 1e9


def blobs(n=100_000, seed=0):
    return make_blobs(n, n_features=10, centers=10, cluster_std=2.0, random_state=seed)[0]


def mnist_60k():
    """60,000 binary rows: the MNIST test set and five copies with 2% of bits flipped."""
    digits = load_mnist(binarize=True)[0]
    rng = np.random.default_rng(0)
    copies = [digits] + [digits ^ (rng.random(digits.shape) < 0.02) for _ in range(5)]
    return np.vstack(copies).astype(np.uint8)


def gaussian(args):
    X = blobs()
    rng = np.random.default_rng(0)
    K, D = 10, 10
    means = X[rng.choice(len(X), K, replace=False)]
    precisions = {
        "full": np.stack([np.eye(D)] * K),
        "tied": np.eye(D),
        "diag": np.ones((K, D)),
        "spherical": np.ones(K),
    }
    kwargs = {
        covariance_type: dict(
            n_components=K,
            covariance_type=covariance_type,
            weights_init=np.full(K, 1 / K),
            means_init=means,
            precisions_init=precisions[covariance_type],
            init_params="random_from_data",  # skipped work: the *_init arrays win
            tol=0.0,
        )
        for covariance_type in precisions
    }
    for covariance_type, target in [("full", 0.5), ("diag", 0.8), ("tied", 1.0),
                                    ("spherical", 1.0)]:
        kw = kwargs[covariance_type]
        ours = per_iteration(lambda n, kw=kw: emlib.GaussianMixture(max_iter=n, **kw), X,
                             args.short, args.long, args.repeats)
        theirs = per_iteration(lambda n, kw=kw: SklearnGaussianMixture(max_iter=n, **kw), X,
                               args.short, args.long, args.repeats)
        report(f"GaussianMixture {covariance_type:<9} N=100k D=10 K=10", ours, theirs, target)
    # The two dtypes interleaved, as the k-means lines interleave the two libraries.
    data = {"float64": X, "float32": X.astype(np.float32)}
    for covariance_type in ("full", "diag"):
        kw = kwargs[covariance_type]
        make = lambda n, kw=kw: emlib.GaussianMixture(max_iter=n, **kw)  # noqa: E731
        ours = per_iteration_interleaved({"float64": make, "float32": make}, data,
                                         args.short, args.long, args.repeats)
        report(f"GaussianMixture {covariance_type:<9} float32 / float64", ours["float32"],
               ours["float64"], 0.6)
    # Wide data, as chapter 4 fits them: the 1,990 twos and sixes of the bundled MNIST
    # sample, 784 pixels (a quarter blank in every image), K = 2, from the two classes' mean
    # images and unit precisions. Fewer and shorter runs: a full iteration takes about half
    # a second in either library.
    images, labels = load_mnist(digits=[2, 6])
    K, D = 2, images.shape[1]
    for covariance_type in ("full", "tied", "diag", "spherical"):
        kw = dict(
            n_components=K,
            covariance_type=covariance_type,
            weights_init=np.full(K, 1 / K),
            means_init=np.stack([images[labels == d].mean(axis=0) for d in (2, 6)]),
            precisions_init={"full": np.stack([np.eye(D)] * K), "tied": np.eye(D),
                             "diag": np.ones((K, D)), "spherical": np.ones(K)}[covariance_type],
            init_params="random_from_data",
            tol=0.0,
        )
        times = per_iteration_interleaved(
            {"ours": lambda n, kw=kw: emlib.GaussianMixture(max_iter=n, **kw),
             "theirs": lambda n, kw=kw: SklearnGaussianMixture(max_iter=n, **kw)},
            images, 2, 2 + max(2, args.short), max(1, args.repeats // 2 + 1))
        report(f"GaussianMixture {covariance_type:<9} images N=1990 D=784 K=2", times["ours"],
               times["theirs"], None, "wide data: ")


def kmeans(args):
    for name, data, K in [
        ("blobs N=100k D=10 K=10", blobs(), 10),
        ("binary MNIST N=60k D=784 K=20", mnist_60k(), 20),
    ]:
        for dtype in (np.float64, np.float32):
            X = data.astype(dtype)
            init = X[np.random.default_rng(1).choice(len(X), K, replace=False)]
            label = f"KMeans {name} {np.dtype(dtype).name}"
            # Boundary points may flip on rounding and change when Lloyd stops: time only
            # iterations that both libraries run.
            n_iter = min(
                SklearnKMeans(K, init=init, n_init=1, tol=0).fit(X).n_iter_,
                emlib.KMeans(K, init=init, tol=0).fit(X).n_iter_,
                21,
            )
            short, long = 1, max(2, n_iter)
            times = per_iteration_interleaved({
                "ours": lambda n, c=init, k=K: emlib.KMeans(k, init=c, max_iter=n, tol=0),
                "theirs": lambda n, c=init, k=K: SklearnKMeans(k, init=c, n_init=1,
                                                               max_iter=n, tol=0),
            }, X, short, long, args.repeats)
            report(f"{label} / iteration", times["ours"], times["theirs"], 1.0)
            ours_fit = emlib.KMeans(K, init=init)
            theirs_fit = SklearnKMeans(K, init=init, n_init=1)
            fits = {"ours": [], "theirs": []}
            for repeat in range(args.repeats):  # interleaved too, the order alternating
                for who, model in [("ours", ours_fit), ("theirs", theirs_fit)][
                        :: 1 if repeat % 2 == 0 else -1]:
                    fits[who].append(seconds(lambda m=model, X=X: m.fit(X), 1))
            ours, theirs = float(np.median(fits["ours"])), float(np.median(fits["theirs"]))
            report(f"{label} / fit", ours, theirs, 1.0,
                   f"{ours_fit.n_iter_} and {theirs_fit.n_iter_} iterations; ")


def bernoulli(args):
    X = mnist_60k()
    rng = np.random.default_rng(0)
    K = 20
    means = rng.uniform(0.25, 0.75, size=(K, X.shape[1]))
    times, bare = {}, {}
    for dtype in (np.float64, np.float32):
        Xd = X.astype(dtype)
        W = np.log(means).astype(dtype)
        # Column-major, as emlib stores responsibilities. Each product is timed in both
        # orientations the BLAS can be asked for, and the faster one counts: the fit
        # picks one per dtype, and the bound should not favour it.
        R = np.asfortranarray(rng.dirichlet(np.ones(K), size=len(X)).astype(dtype))
        e_step = min(seconds(lambda W=W, Xd=Xd: W @ Xd.T, args.repeats),
                     seconds(lambda W=W, Xd=Xd: (Xd @ W.T).T, args.repeats))
        m_step = min(seconds(lambda R=R, Xd=Xd: R.T @ Xd, args.repeats),
                     seconds(lambda R=R, Xd=Xd: (Xd.T @ R).T, args.repeats))
        products = e_step + m_step
        ours = per_iteration(
            lambda n, dt=dtype: emlib.BernoulliMixture(
                K, means_init=means, weights_init=np.full(K, 1 / K), max_iter=n, tol=0,
                init_params="random_from_data", dtype=dt),
            X, args.short, args.long, args.repeats)
        times[dtype], bare[dtype] = ours, products
        report(f"BernoulliMixture N=60k D=784 K=20 {np.dtype(dtype).name}", ours, products,
               1.5, "against two matrix products; ")
    # The BLAS's own ratio for these shapes bounds what the fit can reach.
    report("BernoulliMixture float32 / float64", times[np.float32], times[np.float64], 0.6,
           f"the two bare products: {bare[np.float32] / bare[np.float64]:.2f}x; ")


def init_share(args):
    """The default k-means start's share of a default fit, for the issue's two cases and
    for float32 blobs: the median of three fits and of three starts."""
    blobs64 = blobs()
    for name, make, X, dtype in [
        ("BernoulliMixture(20), binary MNIST N=60k",
         lambda: emlib.BernoulliMixture(20, random_state=0), mnist_60k(), np.float64),
        ("GaussianMixture(10), blobs N=100k", lambda: emlib.GaussianMixture(10, random_state=0),
         blobs64, np.float64),
        ("GaussianMixture(10), blobs N=100k float32",
         lambda: emlib.GaussianMixture(10, random_state=0), blobs64.astype(np.float32),
         np.float32),
    ]:
        model = make()
        # Warm-up on a slice: the first fit in a process loads the compiled Lloyd kernel.
        fit_quietly(make(), X[:5000])
        total = seconds(lambda m=model, X=X: fit_quietly(m, X), min(3, args.repeats))
        # The start the fit made: k-means on the data as the fit sees them (the uint8
        # images in float64).
        Xs = X.astype(dtype)
        start = seconds(lambda Xs=Xs, m=model: _kmeans_labels(
            Xs, m.n_components, np.random.RandomState(0), **m._kmeans_start), 3)
        share = start / total
        outcome = ("for comparison, no target" if dtype == np.float32
                   else "share <= 0.25: ok" if share <= 0.25 else "share <= 0.25: MISSED")
        print(f"{'default start / fit: ' + name:<46} {start:9.2f} s  {total:9.2f} s "
              f"{share:7.2f}   ({model.n_iter_} EM iterations; {outcome})")


def starts(args):
    """The short Bernoulli start against scikit-learn's converged one, seed by seed."""
    X = mnist_60k()
    fit_quietly(emlib.BernoulliMixture(20, random_state=0), X[:5000])  # warm-up
    converged = MixtureEM._kmeans_start  # scikit-learn's, which GaussianMixture keeps
    short = emlib.BernoulliMixture._kmeans_start
    n_seeds = 3 if args.quick else 10
    for name, start in (("converged greedy k-means start", converged),
                        ("default (short) start", short)):
        objectives, times, iterations = [], [], []
        for seed in range(n_seeds):
            model = emlib.BernoulliMixture(20, random_state=seed)
            model._kmeans_start = start  # on this instance only
            times.append(seconds(lambda m=model: fit_quietly(m, X), 1))
            objectives.append(model.lower_bound_)
            iterations.append(model.n_iter_)
        print(f"BernoulliMixture(20), binary MNIST N=60k, {name}, {n_seeds} seeds: "
              f"log-likelihood per image mean {np.mean(objectives):.3f} (min "
              f"{min(objectives):.3f}, max {max(objectives):.3f}); EM iterations median "
              f"{np.median(iterations):.0f}; fit median {np.median(times):.2f} s")


def scaling(args):
    """Time per iteration as N and K grow, and the rate it reaches."""
    rates = {np.float64: matmul_rate(np.float64), np.float32: matmul_rate(np.float32)}
    print(f"matrix product on this machine: {rates[np.float64]:.1f} GFLOP/s float64, "
          f"{rates[np.float32]:.1f} GFLOP/s float32")
    images = mnist_60k()
    points = blobs(60_000)
    rng = np.random.default_rng(0)
    # Multiply-adds x 2 of the matrix products of one iteration: Bernoulli, the E-step
    # product and the M-step product (2 N D K each); k-means, the distance product; a full
    # Gaussian mixture, the whitening of the E-step and the scatter of the M-step
    # (about N D^2 each per component).
    families = {
        "BernoulliMixture D=784": (
            images, lambda K, n: emlib.BernoulliMixture(
                K, init_params="random_from_data", random_state=0, max_iter=n, tol=0),
            lambda N, D, K: 4 * N * D * K),
        "KMeans D=784": (
            images.astype(np.float64), lambda K, n: emlib.KMeans(
                K, init="random", random_state=0, max_iter=n, tol=0),
            lambda N, D, K: 2 * N * D * K),
        "GaussianMixture full D=10": (
            points, lambda K, n: emlib.GaussianMixture(
                K, init_params="random_from_data", random_state=0, max_iter=n, tol=0),
            lambda N, D, K: 4 * N * D * D * K),
    }
    print(f"{'':34} {'K=10':>20} {'K=20':>20} {'K=50':>20}")
    for family, (data, make, flops) in families.items():
        for N in (10_000, 30_000, 60_000):
            X = data[rng.permutation(len(data))[:N]]
            cells = []
            for K in (10, 20, 50):
                t = per_iteration(lambda n, K=K, make=make: make(K, n), X, 2, args.scaling_long,
                                  max(1, args.repeats // 2))
                gflops = flops(N, X.shape[1], K) / t / 1e9
                cells.append(f"{t * 1e3:7.1f} ms {gflops / rates[np.float64]:5.0%} mm")
            print(f"{family + f' N={N // 1000}k':<34} " + " ".join(f"{c:>20}" for c in cells))


# The data are written by the parent and read here, so that the high-water mark before the
# fit holds X itself and not the temporaries that made it.
# The high-water mark is read from /proc (VmHWM, reset by exec) where there is one:
# getrusage's ru_maxrss survives exec, so a child would report the forked parent's size.
MEMORY_CHILD = """
import resource, sys, numpy as np, emlib

def high_water_kib():
    try:
        with open("/proc/self/status") as status:
            return next(int(line.split()[1]) for line in status if line.startswith("VmHWM"))
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

X = np.load(sys.argv[2])
dtype = np.dtype(sys.argv[1])
before = high_water_kib()
emlib.BernoulliMixture(20, init_params="random_from_data", random_state=0, max_iter=5,
                       tol=0, dtype=dtype).fit(X)
peak = high_water_kib()
print(before, peak, X.shape[0] * X.shape[1] * dtype.itemsize)
"""


def memory(args):
    """Peak RSS of a 60,000 x 784 Bernoulli fit (K = 20), each dtype in a fresh process."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "images.npy"
        np.save(path, mnist_60k())
        for dtype in ("float64", "float32"):
            out = subprocess.run([sys.executable, "-c", MEMORY_CHILD, dtype, str(path)],
                                 cwd=ROOT, capture_output=True, text=True,
                                 check=True).stdout.split()
            before, peak, data = int(out[0]) * 1024, int(out[1]) * 1024, int(out[2])
            print(f"{'peak RSS, BernoulliMixture 60k x 784 ' + dtype:<46} "
                  f"{peak / 2**20:9.0f} MiB   before the fit {before / 2**20:.0f} MiB (the "
                  f"uint8 images loaded); X in {dtype}: {data / 2**20:.0f} MiB; the fit "
                  f"added {(peak - before) / data:.2f}x X")


def book(args):
    """The nbval replay of every notebook, two workers, as make test runs it (one kernel,
    the command of scripts/replay_notebooks.py). Rewrites the seconds per notebook from
    which that script orders the next replays (tests/notebook_seconds.json)."""
    sys.path.insert(0, str(ROOT / "scripts"))
    from replay_notebooks import SECONDS_FILE, nbval_command

    notebooks = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "book").glob("*.ipynb"))
    start = time.perf_counter()
    done = subprocess.run(
        [*nbval_command(notebooks, workers=2), "-q", "--durations=0"],
        cwd=ROOT, capture_output=True, text=True,
        # The environment of `make replay` (NB_ENV in the Makefile).
        env={**os.environ, "PYTHONHASHSEED": "0", "OPENBLAS_NUM_THREADS": "1",
             "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "NUMBA_NUM_THREADS": "1"})
    total = time.perf_counter() - start
    per_notebook = {}
    # Lines of --durations: "4.28s call     book/01-....ipynb::Cell 24".
    duration = re.compile(r"^(\d+(?:\.\d+)?)s\s+\w+\s+(\S+\.ipynb)::")
    for line in done.stdout.splitlines():
        match = duration.match(line)
        if match:
            name = match.group(2)
            per_notebook[name] = per_notebook.get(name, 0.0) + float(match.group(1))
    for name, t in sorted(per_notebook.items()):
        print(f"{'nbval ' + Path(name).stem:<46} {t:9.1f} s   "
              f"(target <= 30 s: {'ok' if t <= 30 else 'MISSED'})")
    if done.returncode == 0 and set(per_notebook) == set(notebooks):
        SECONDS_FILE.write_text(json.dumps(
            {name: round(t, 1) for name, t in sorted(per_notebook.items())}, indent=1) + "\n")
    status = "passed" if done.returncode == 0 else "FAILED"
    print(f"{'nbval replay, all notebooks, 2 workers':<46} {total:9.1f} s   ({status}; "
          f"target <= 90 s: {'ok' if total <= 90 else 'MISSED'})")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sections", nargs="*", metavar="SECTION",
                        help=f"any of {', '.join(SECTIONS)} (default: all but "
                        f"{' and '.join(ON_REQUEST)})")
    parser.add_argument("--quick", action="store_true", help="fewer repeats, for a smoke test")
    args = parser.parse_args()
    args.repeats, args.short, args.long = (1, 2, 4) if args.quick else (5, 5, 25)
    args.scaling_long = 4 if args.quick else 8
    unknown = set(args.sections) - set(SECTIONS)
    if unknown:
        parser.error(f"unknown section(s) {', '.join(sorted(unknown))}; choose from "
                     f"{', '.join(SECTIONS)}")
    sections = args.sections or [s for s in SECTIONS if s not in ON_REQUEST]
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
    print(f"{'':46} {'emlib':>12} {'reference':>12} {'ratio':>8}")
    functions = {"gaussian": gaussian, "kmeans": kmeans, "bernoulli": bernoulli,
                 "init": init_share, "starts": starts, "scaling": scaling, "memory": memory,
                 "book": book}
    for section in sections:
        functions[section](args)


if __name__ == "__main__":
    main()
