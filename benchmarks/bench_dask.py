"""Dask fits of emlib against the in-memory fit: time per pass over the data and peak memory.

One EM iteration on a Dask array is one pass over its chunks (:mod:`emlib.daskfit`). This
script times that pass, side by side in one process and from the same fixed parameters,
for a full-covariance GaussianMixture (K = 5, D = 10) and a BernoulliMixture (K = 20,
D = 784), in these configurations:

* ``(a)`` the in-memory fit, one iteration, measured as in ``bench.py`` (the extra time of
  a longer fit over a shorter one), with the BLAS threads OpenBLAS picks and with one;
* ``(b)`` ``em_pass`` on the same data wrapped by ``da.from_array``, Dask's threads;
* ``(c)`` ``em_pass`` on a ``LocalCluster`` of 1 and of 2 single-threaded worker processes,
  the same data held in the workers' memory (``client.persist``); and with 1 worker
  without the nanny's ``MALLOC_TRIM_THRESHOLD_`` (``c1t``, ``d1t``: see ``local_cluster``);
* ``(d)`` the same data generated lazily by ``emlib.daskfit.lazy_sample`` (the identical
  rows: the in-memory array is that sample computed), so that the pass includes the
  generation, which is also timed alone (``X.sum()``).

Times are medians over repeats, with the ratio to ``(a)`` and the speed-up of 2 workers
over 1. Then each memory configuration runs in a fresh process: the peak resident memory
of the in-memory fit against the size of the data, and of the Dask fit's processes
(the client; every worker) against the size of a chunk, for two sizes of the data, with a
pass or miss on the claim that the Dask fit's memory is set by the chunk and not by N.

``--large`` instead fits a lazily generated sample several times larger than the machine's
memory (800 million rows, D = 10, float64: 64 GB) on one single-threaded worker, with two
passes, and reports the time, the peak memory and the error of the recovered parameters;
``--rows 8000000`` runs the same at a hundredth of the size, to estimate its duration.

Run from the repository root:
    python benchmarks/bench_dask.py [--quick]        # the record; --quick: a smoke run
    python benchmarks/bench_dask.py --large [--rows N] [--chunk-rows C]
"""

import argparse
import functools
import json
import logging
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits

import emlib
import emlib.daskfit
from emlib.daskfit import em_pass, lazy_sample

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench import fit_quietly, per_iteration, seconds  # noqa: E402  (the shared timers)

ROOT = Path(__file__).resolve().parent.parent
MiB = 2**20

# What each run measures: rows of the timed data, rows per chunk, repeats of each timing;
# the memory runs use the same chunks at N and at MEMORY_FACTOR * N.
SIZES = {
    "quick": {"gaussian": (200_000, 100_000), "bernoulli": (20_000, 5_000), "repeats": 1},
    "default": {"gaussian": (2_000_000, 250_000), "bernoulli": (200_000, 10_000),
                "repeats": 3},
}
MEMORY_FACTOR = 4
# Bytes of a row in float64, the dtype the fits compute in.
ROW_BYTES = {"gaussian": 10 * 8, "bernoulli": 784 * 8}
# The honest check on the memory claim, fixed before measuring: a worker's peak above its
# idle size stays below this many chunks (in float64, the dtype the fit computes in). One
# pass holds a chunk as generated, its float64 copy where the dtype differs, the E-step's
# (chunk, K) arrays and the centred chunk of the moments: a few chunks, plus what the
# allocator keeps.
CHUNK_MULTIPLE = 8
# ... and grows by at most this factor when the data grow MEMORY_FACTOR times.
GROWTH_LIMIT = 1.25


# ---------------------------------------------------------------------------- the problems
def gaussian_problem(n_samples, chunk_rows, seed=0):
    """Five well-separated Gaussians in 10 dimensions, fitted with full covariances.

    The generating model is diagonal because ``_sample_component`` then draws with
    ``standard_normal`` (full covariances go through ``multivariate_normal``, several
    times slower); the fitted model is ``full``, as the brief asks.
    """
    rng = np.random.default_rng(seed)
    K, D = 5, 10
    truth = emlib.GaussianMixture.from_parameters(
        rng.dirichlet(np.full(K, 10.0)), rng.normal(0.0, 3.0, (K, D)),
        rng.uniform(0.5, 2.0, (K, D)), covariance_type="diag")
    start = {
        "weights": np.full(K, 1 / K),
        "means": truth.means_ + rng.normal(0.0, 0.5, (K, D)),
        "precisions": np.stack([np.eye(D)] * K),
    }
    X, _ = lazy_sample(truth, n_samples, chunk_size=chunk_rows, random_state=seed)

    def make(max_iter):
        return emlib.GaussianMixture(
            K, covariance_type="full", weights_init=start["weights"], means_init=start["means"],
            precisions_init=start["precisions"], init_params="random_from_data", max_iter=max_iter,
            tol=0.0, random_state=0)

    def fixed():
        # The start's parameters as a model, for em_pass.
        return emlib.GaussianMixture.from_parameters(
            start["weights"], start["means"], np.linalg.inv(start["precisions"]))

    return {"name": f"GaussianMixture full K={K} D={D}", "truth": truth, "X": X, "make": make,
            "fixed": fixed, "row_bytes": ROW_BYTES["gaussian"]}


@functools.lru_cache(maxsize=1)
def bernoulli_truth(seed=0):
    """The generating Bernoulli mixture: 20 components fitted to the bundled MNIST test
    images, binarised (once per process)."""
    digits = emlib.datasets.load_mnist(binarize=True)[0]
    return fit_quietly(emlib.BernoulliMixture(20, max_iter=20, random_state=seed), digits)


def bernoulli_problem(n_samples, chunk_rows, seed=0):
    """Twenty Bernoulli components in 784 pixels, drawn from :func:`bernoulli_truth`. The
    rows are uint8, as binary images are stored; the fit computes in float64."""
    truth = bernoulli_truth(seed)
    K = truth.n_components
    rng = np.random.default_rng(seed)
    means = np.clip(truth.means_ + rng.normal(0.0, 0.05, truth.means_.shape), 0.01, 0.99)
    X, _ = lazy_sample(truth, n_samples, chunk_size=chunk_rows, random_state=seed)

    def make(max_iter):
        return emlib.BernoulliMixture(
            K, weights_init=np.full(K, 1 / K), means_init=means, init_params="random_from_data",
            max_iter=max_iter, tol=0.0, random_state=0)

    def fixed():
        return emlib.BernoulliMixture.from_parameters(np.full(K, 1 / K), means)

    return {"name": f"BernoulliMixture K={K} D=784", "truth": truth, "X": X, "make": make,
            "fixed": fixed, "row_bytes": ROW_BYTES["bernoulli"]}


PROBLEMS = {"gaussian": gaussian_problem, "bernoulli": bernoulli_problem}


# ---------------------------------------------------------------------------- helpers
def local_cluster(n_workers, *, malloc_trim=True):
    """A LocalCluster of single-threaded worker processes (the nanny gives each worker
    OPENBLAS_NUM_THREADS=1, so a worker is one core), and a client on it.

    ``malloc_trim=False`` drops the MALLOC_TRIM_THRESHOLD_=65536 that the nanny also sets
    (``distributed.nanny.pre-spawn-environ``), leaving glibc's adaptive default: with it, a
    chunk's temporaries are handed back to the system after every task and faulted in
    again by the next, which doubled the CPU time of a Gaussian pass here (system time
    from 0.05 to 0.65 s per million rows).
    """
    import dask
    from dask.distributed import Client, LocalCluster

    environ = dict(dask.config.get("distributed.nanny.pre-spawn-environ"))
    if not malloc_trim:
        environ.pop("MALLOC_TRIM_THRESHOLD_", None)
        # An earlier cluster's nanny wrote the variable into this process's environment
        # (distributed/nanny.py), where a new worker would inherit it whatever the config.
        os.environ.pop("MALLOC_TRIM_THRESHOLD_", None)
    with dask.config.set({"distributed.nanny.pre-spawn-environ": environ}):
        cluster = LocalCluster(n_workers=n_workers, processes=True, threads_per_worker=1,
                               host="127.0.0.1", dashboard_address=None,
                               silence_logs=logging.ERROR)
    return cluster, Client(cluster)


def high_water_kib():
    """This process's peak resident memory (VmHWM; reset by reset_high_water)."""
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM"))


def resident_kib():
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS"))


def reset_high_water():
    """Linux: writing 5 to clear_refs resets VmHWM to the current size, so that the peak
    read afterwards belongs to what ran in between, not to the process's start."""
    with open("/proc/self/clear_refs", "w") as clear_refs:
        clear_refs.write("5")
    return resident_kib()


def machine_lines():
    blas = sorted({f"{i['internal_api']} {i['version']} ({i['num_threads']} threads)"
                   for i in threadpool_info() if i["user_api"] == "blas"})
    import dask
    import distributed

    load = os.getloadavg()
    return [
        f"machine: {platform.machine()}, {os.cpu_count()} cores, "
        f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.1f} GiB; "
        f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} at the start",
        f"python {platform.python_version()}, numpy {np.__version__}, dask {dask.__version__}, "
        f"distributed {distributed.__version__}, BLAS: {'; '.join(blas)}",
    ]


# ---------------------------------------------------------------------------- timing
def pass_seconds(model, X, repeats):
    """Median time of one em_pass over X (one EM iteration but for the M-step, which is
    a few (K, D, D) operations on the client), after a warm-up pass."""
    em_pass(model, X)
    return seconds(lambda: em_pass(model, X), repeats)


def generation_seconds(X, repeats):
    """Median time of a pass that only generates the chunks (and sums them)."""
    X.sum().compute()
    return seconds(lambda: X.sum().compute(), repeats)


def timing(family, sizes, quick):
    import dask
    import dask.array as da
    from dask.distributed import wait

    n_samples, chunk_rows = sizes[family]
    repeats = sizes["repeats"]
    problem = PROBLEMS[family](n_samples, chunk_rows)
    X_lazy = problem["X"]
    X = X_lazy.compute()
    model = problem["fixed"]()
    label = f"{problem['name']} N={n_samples:,} chunks of {chunk_rows:,}"
    short, long = 1, 3
    rows = []
    # (a) In memory: one iteration, BLAS as configured (two threads here) and on one thread.
    memory_iteration = per_iteration(problem["make"], X, short, long, repeats)
    rows.append(("(a)  in memory, one iteration", memory_iteration, None))
    with threadpool_limits(1, user_api="blas"):
        rows.append(("(a1) in memory, BLAS on 1 thread",
                     per_iteration(problem["make"], X, short, long, repeats), None))
    # (b) The same array as a Dask array, Dask's threads (one per core).
    with dask.config.set(scheduler="threads"):
        X_dask = da.from_array(X, chunks=(chunk_rows, X.shape[1]))
        rows.append(("(b)  Dask threads, from_array", pass_seconds(model, X_dask, repeats),
                     None))
        with threadpool_limits(1, user_api="blas"):
            rows.append(("(b1) Dask threads, from_array, BLAS 1 thread",
                         pass_seconds(model, X_dask, repeats), None))
        rows.append(("(d0) Dask threads, lazy_sample", pass_seconds(model, X_lazy, repeats),
                     generation_seconds(X_lazy, repeats)))
    del X_dask
    speedups = {}
    # Dask's defaults with 1 and 2 workers; then 1 worker without the nanny's malloc trim
    # (not in a smoke run: every cluster costs seconds of process starts).
    clusters = ((1, True), (2, True)) + (() if quick else ((1, False),))
    for n_workers, malloc_trim in clusters:
        cluster, client = local_cluster(n_workers, malloc_trim=malloc_trim)
        tag = f"{n_workers}" if malloc_trim else f"{n_workers}t"
        what = f"LocalCluster {n_workers} worker{'s' if n_workers > 1 else ''}" + (
            "" if malloc_trim else ", no trim")
        with cluster, client:
            # The same rows, generated on the workers and kept there: data in (the
            # workers') memory, without shipping the client's array through the scheduler.
            X_held = client.persist(X_lazy)
            wait(X_held)
            held = pass_seconds(model, X_held, repeats)
            rows.append((f"(c{tag}) {what}, data held", held, None))
            del X_held
            lazy = pass_seconds(model, X_lazy, repeats)
            generate = generation_seconds(X_lazy, repeats)
            rows.append((f"(d{tag}) {what}, lazy_sample", lazy, generate))
            if malloc_trim:
                speedups[n_workers] = (held, lazy)
    print(f"\n{label}: {X.nbytes / MiB:.0f} MiB as {X.dtype} "
          f"({n_samples * problem['row_bytes'] / MiB:.0f} MiB in float64); "
          f"chunk {chunk_rows * problem['row_bytes'] / MiB:.1f} MiB in float64")
    print(f"{'configuration':<48} {'per pass':>9} {'ratio':>7} {'generation':>11} "
          f"{'pass - gen.':>12} {'ratio':>7}")
    for name, t, generate in rows:
        line = f"{name:<48} {t:8.3f}s {t / memory_iteration:6.2f}x"
        if generate is not None:
            rest = t - generate
            line += f" {generate:10.3f}s {rest:11.3f}s {rest / memory_iteration:6.2f}x"
        print(line)
    for index, what in ((0, "data held"), (1, "lazy_sample")):
        one, two = speedups[1][index], speedups[2][index]
        print(f"speed-up of 2 workers over 1, {what}: {one / two:.2f}x "
              f"({one:.3f} s -> {two:.3f} s per pass)")


# ---------------------------------------------------------------------------- memory
def memory_child(config):
    """Runs in a fresh process: one configuration's fit (two iterations), its peaks."""
    problem = PROBLEMS[config["family"]](config["rows"], config["chunk_rows"])
    result = {}
    if config["mode"] == "in memory":
        X = np.load(config["path"])
        result["before"] = reset_high_water()
        fit_quietly(problem["make"](2), X)
        result["peak"] = high_water_kib()
    elif config["mode"] == "threads":
        import dask

        with dask.config.set(scheduler="threads"):
            em_pass(problem["fixed"](), problem["X"][: config["chunk_rows"]])  # warm-up
            result["before"] = reset_high_water()
            fit_quietly(problem["make"](2), problem["X"])
            result["peak"] = high_water_kib()
    else:
        cluster, client = local_cluster(config["workers"])
        with cluster, client:
            # Warm-up on one chunk everywhere: imports and first allocations are not the fit's.
            X = problem["X"]
            client.run(lambda: __import__("emlib.daskfit"))
            em_pass(problem["fixed"](), X[: config["chunk_rows"] * config["workers"]])
            result["worker_before"] = list(client.run(reset_high_water).values())
            result["before"] = reset_high_water()
            fit_quietly(problem["make"](2), X)
            result["peak"] = high_water_kib()
            result["worker_peak"] = list(client.run(high_water_kib).values())
    print(json.dumps(result))


def memory(family, sizes, quick):
    n_samples, chunk_rows = sizes[family]
    row_bytes = ROW_BYTES[family]
    chunk_mib = chunk_rows * row_bytes / MiB
    configs = [("in memory", 1, n_samples)]
    for workers in (0, 1, 2):  # 0: Dask's threads in the one process
        for rows in (n_samples, MEMORY_FACTOR * n_samples):
            configs.append(("threads" if workers == 0 else "cluster", workers, rows))
    if quick:  # a smoke run: one cluster, at N only (every cluster costs process starts)
        configs = configs[:3] + [("cluster", 2, n_samples)]
    print(f"\nPeak resident memory, {family}, fit of 2 iterations, chunks of {chunk_rows:,} "
          f"rows ({chunk_mib:.1f} MiB in float64), each line a fresh process; "
          "'+' is the peak above the size before the fit")
    increases = {}
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "X.npy"
        np.save(path, PROBLEMS[family](n_samples, chunk_rows)["X"].compute())
        for mode, workers, rows in configs:
            config = {"family": family, "mode": mode, "workers": workers, "rows": rows,
                      "chunk_rows": chunk_rows, "path": str(path)}
            out = subprocess.run([sys.executable, __file__, "--memory-child", json.dumps(config)],
                                 cwd=ROOT, capture_output=True, text=True, check=True)
            result = json.loads(out.stdout.strip().splitlines()[-1])
            data_mib = rows * row_bytes / MiB
            before, peak = result["before"] / 1024, result["peak"] / 1024
            what = {"in memory": "in memory", "threads": "Dask threads, lazy",
                    "cluster": f"LocalCluster {workers} worker(s), lazy"}[mode]
            line = (f"{what:<32} N={rows:>10,} ({data_mib:7.0f} MiB)  client/process peak "
                    f"{peak:6.0f} MiB (+{peak - before:5.0f})")
            if mode == "in memory":
                line += f" = {(peak - before) / data_mib:.2f}x X in float64"
            elif mode == "threads":
                line += f" = {(peak - before) / chunk_mib:.1f} chunks"
                increases.setdefault(("threads", 0), []).append(peak - before)
            else:
                added = [(p - b) / 1024 for p, b in zip(result["worker_peak"],
                                                        result["worker_before"], strict=True)]
                line += "; workers " + ", ".join(
                    f"{p / 1024:.0f} MiB (+{a:.0f} = {a / chunk_mib:.1f} chunks)"
                    for p, a in zip(result["worker_peak"], added, strict=True))
                increases.setdefault(("cluster", workers), []).append(max(added))
            print(line)
    for (mode, workers), peaks in increases.items():
        if len(peaks) < 2:
            continue
        small, large = peaks
        what = "Dask threads (process)" if mode == "threads" else f"{workers} worker(s) (worst)"
        within = large <= CHUNK_MULTIPLE * chunk_mib
        flat = large <= GROWTH_LIMIT * small
        print(f"{what}: peak +{large:.0f} MiB at {MEMORY_FACTOR}N, "
              f"{large / chunk_mib:.1f} chunks (target <= {CHUNK_MULTIPLE} chunks: "
              f"{'ok' if within else 'MISSED'}); {large / small:.2f}x the peak at N "
              f"(target <= {GROWTH_LIMIT}x: {'ok' if flat else 'MISSED'})")


# ---------------------------------------------------------------------------- the large run
def matched_errors(fitted, truth):
    """Errors of a fitted full-covariance mixture against the (diagonal) truth, components
    matched by their means."""
    from scipy.optimize import linear_sum_assignment

    cost = ((fitted.means_[:, None] - truth.means_[None]) ** 2).sum(axis=2)
    rows, cols = linear_sum_assignment(cost)
    order = cols.argsort()  # order[j]: the fitted component matched to true component j
    true_covariances = np.stack([np.diag(v) for v in truth.covariances_])
    covariances = fitted.covariances_[rows[order]]
    return {
        "weights": float(np.abs(fitted.weights_[rows[order]] - truth.weights_).max()),
        "means": float(np.abs(fitted.means_[rows[order]] - truth.means_).max()),
        "covariances": float(np.abs(covariances - true_covariances).max()),
    }


def large(args):
    """A lazily generated sample far larger than memory, fitted on one worker, two passes."""
    n_samples, chunk_rows = args.rows, args.chunk_rows
    problem = gaussian_problem(n_samples, chunk_rows, seed=1)
    truth, X = problem["truth"], problem["X"]
    for line in machine_lines():
        print(line, flush=True)
    print(f"large run: {n_samples:,} rows x 10 float64 = {X.nbytes / 1e9:.1f} GB "
          f"({X.nbytes / 2**30:.1f} GiB), {X.numblocks[0]} chunks of {chunk_rows:,} rows "
          f"({chunk_rows * 80 / MiB:.0f} MiB); GaussianMixture(5, full), max_iter=2, from the "
          "true parameters with the means perturbed", flush=True)
    # emlib.daskfit.fit calls em_pass once per iteration: wrapped here (only in this
    # script) to time each pass apart from the start.
    passes = []
    original = emlib.daskfit.em_pass

    def timed_pass(model, X):
        start = time.perf_counter()
        result = original(model, X)
        passes.append(time.perf_counter() - start)
        print(f"  pass {len(passes)}: {passes[-1]:.0f} s, mean log-likelihood "
              f"{result[0] / n_samples:.4f}", flush=True)
        return result

    emlib.daskfit.em_pass = timed_pass
    cluster, client = local_cluster(1, malloc_trim=args.malloc_trim)
    with cluster, client:
        client.run(lambda: __import__("emlib.daskfit"))
        trim = client.run(lambda: os.environ.get("MALLOC_TRIM_THRESHOLD_", "glibc's default"))
        print(f"worker's MALLOC_TRIM_THRESHOLD_: {next(iter(trim.values()))}", flush=True)
        worker_before = list(client.run(reset_high_water).values())
        client_before = reset_high_water()
        stop = threading.Event()

        def watch():
            # Progress in the log, and a check that the worker stays small while it runs.
            begun = time.perf_counter()
            while not stop.wait(60):
                rss = list(client.run(resident_kib).values())
                print(f"  {time.perf_counter() - begun:5.0f} s: worker RSS "
                      f"{rss[0] / 1024:.0f} MiB", flush=True)

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        model = problem["make"](2)
        begun = time.perf_counter()
        fit_quietly(model, X)
        total = time.perf_counter() - begun
        stop.set()
        worker_peak = list(client.run(high_water_kib).values())
        client_peak = high_water_kib()
    emlib.daskfit.em_pass = original
    start_model = problem["fixed"]()
    print(f"fit: {total:.0f} s in all; passes {', '.join(f'{t:.0f} s' for t in passes)}; "
          f"the start (a random sample of {emlib.daskfit.INIT_SAMPLE_SIZE:,} rows, which "
          f"generates every chunk, and k-means on it) {total - sum(passes):.0f} s")
    print(f"throughput: {n_samples / np.mean(passes) / 1e6:.2f} million rows "
          f"({X.nbytes / np.mean(passes) / 2**20:.0f} MiB) per second per pass")
    print(f"peak RSS: worker {worker_peak[0] / 1024:.0f} MiB (idle "
          f"{worker_before[0] / 1024:.0f} MiB; a chunk is {chunk_rows * 80 / MiB:.0f} MiB), "
          f"client {client_peak / 1024:.0f} MiB (before the fit {client_before / 1024:.0f} MiB)")
    print(f"mean log-likelihood per row after each iteration's E-step: "
          f"{', '.join(f'{v:.5f}' for v in model.log_likelihood_history_)}; "
          f"of the truth on one chunk: {truth.score(X[:chunk_rows].compute()):.5f}")
    for name, fitted in (("the start", start_model), ("the fit", model)):
        errors = matched_errors(fitted, truth)
        print(f"largest absolute error of {name}: weights {errors['weights']:.2e}, means "
              f"{errors['means']:.2e}, covariances {errors['covariances']:.2e}")


# ---------------------------------------------------------------------------- main
def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("families", nargs="*", metavar="FAMILY",
                        help="gaussian and/or bernoulli (default: both)")
    parser.add_argument("--quick", action="store_true", help="small sizes, a smoke run")
    parser.add_argument("--large", action="store_true", help="the run larger than memory")
    parser.add_argument("--rows", type=int, default=800_000_000, help="rows of --large")
    # 32 MB: every array of a chunk stays below glibc's largest mmap threshold (32 MiB),
    # so malloc recycles them rather than mapping and faulting in fresh pages each time.
    parser.add_argument("--chunk-rows", type=int, default=400_000,
                        help="rows per chunk of --large")
    parser.add_argument("--malloc-trim", action="store_true",
                        help="--large: keep the nanny's MALLOC_TRIM_THRESHOLD_")
    parser.add_argument("--no-memory", action="store_true", help="timings only")
    parser.add_argument("--memory-child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    # The scheduler's HTTP server (metrics, health; not the dashboard, which is off) falls
    # back to a free port when another session's cluster holds 8787: nothing to report.
    warnings.filterwarnings("ignore", message="Port 8787 is already in use")
    unknown = set(args.families) - set(PROBLEMS)
    if unknown:
        parser.error(f"unknown family {', '.join(sorted(unknown))}; choose from "
                     f"{', '.join(PROBLEMS)}")
    if args.memory_child:
        memory_child(json.loads(args.memory_child))
        return
    if args.large:
        large(args)
        return
    sizes = SIZES["quick" if args.quick else "default"]
    for line in machine_lines():
        print(line)
    for family in args.families or list(PROBLEMS):
        timing(family, sizes, args.quick)
        if not args.no_memory:
            memory(family, sizes, args.quick)
    load = os.getloadavg()
    print(f"\nload average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} at the end")


if __name__ == "__main__":
    main()
