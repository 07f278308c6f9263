"""Screenshot of the Dask dashboard while emlib fits a mixture to a Dask array.

Chapter 9 (``book/09-em-at-scale.ipynb``) shows this picture,
``book/images/dask-dashboard.png``. The script

1. starts a :class:`dask.distributed.LocalCluster` of two worker processes with one
   thread each, on the loopback interface only (``127.0.0.1``), with its dashboard;
2. fits ``emlib.GaussianMixture`` by EM to a sample drawn lazily from a known mixture
   (:func:`emlib.daskfit.lazy_sample`), in a background thread;
3. opens the dashboard's status page (``/status``: task stream, progress, memory per
   worker) in headless Chromium through Playwright, with the system's Chromium and the
   launch settings of ``scripts/browser_check.py``, waits until the task stream holds a
   few passes of the fit, and saves the page as a PNG;
4. lets the fit finish and closes the cluster.

It is run by hand, when the picture needs renewing, not by ``make test``: the picture
depends on timings and would differ at every run. Run it from the repository's root::

    .venv/bin/python scripts/dask_dashboard.py [--output book/images/dask-dashboard.png]

Chromium is looked up as in ``scripts/browser_check.py`` (``$CHROMIUM``, then
``chromium`` on PATH; ``--chromium PATH`` overrides).
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT / "scripts"))

from browser_check import find_chromium  # noqa: E402

# The mixture of chapter 9's Dask section, and a sample large enough that one EM pass
# takes a few seconds on two workers: 8 chunks of 500,000 rows.
WEIGHTS = [0.5, 0.3, 0.2]
MEANS = [[0.0, 0.0], [6.0, 1.0], [2.0, 6.0]]
COVARIANCES = [
    [[1.0, 0.5], [0.5, 1.0]],
    [[1.0, -0.3], [-0.3, 0.6]],
    [[0.6, 0.0], [0.0, 1.5]],
]
N_SAMPLES = 4_000_000
CHUNK_SIZE = 500_000
VIEWPORT = {"width": 1280, "height": 900}


def fit_in_background(model, X, errors):
    """Fit ``model`` to ``X`` in a daemon thread; exceptions are kept in ``errors``."""

    def run():
        try:
            model.fit(X)
        except BaseException as error:  # reported by the main thread
            errors.append(error)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--output", type=Path, default=REPO_ROOT / "book" / "images" / "dask-dashboard.png"
    )
    parser.add_argument("--chromium", help="path of the Chromium executable")
    parser.add_argument(
        "--wait", type=float, default=25.0,
        help="seconds of fitting before the screenshot (default 25)",
    )
    args = parser.parse_args()

    import dask
    from dask.distributed import Client, LocalCluster
    from playwright.sync_api import sync_playwright

    from emlib import GaussianMixture
    from emlib.daskfit import lazy_sample

    true = GaussianMixture.from_parameters(
        np.array(WEIGHTS), np.array(MEANS), np.array(COVARIANCES)
    )
    X, _ = lazy_sample(true, N_SAMPLES, chunk_size=CHUNK_SIZE, random_state=0)
    model = GaussianMixture(3, tol=1e-8, max_iter=12, random_state=0)

    # As chapter 9 does: without the nanny's MALLOC_TRIM_THRESHOLD_ (emlib/daskfit.py).
    dask.config.set({"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None})
    cluster = LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True,
        host="127.0.0.1", dashboard_address="127.0.0.1:0",
    )
    client = Client(cluster)
    try:
        url = client.dashboard_link.replace("/status", "") + "/status"
        errors: list[BaseException] = []
        thread = fit_in_background(model, X, errors)
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=find_chromium(args.chromium),
                args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                      "--disable-component-update", "--disable-sync", "--no-first-run"],
            )
            page = browser.new_page(viewport=VIEWPORT)
            page.goto(url, wait_until="networkidle")
            time.sleep(args.wait)
            args.output.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(args.output))
            browser.close()
        thread.join()
        if errors:
            raise errors[0]
    finally:
        client.close()
        cluster.close()
    print(f"saved {args.output} ({model.n_iter_} EM iterations)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
