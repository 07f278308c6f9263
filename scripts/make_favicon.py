"""Draw the book's favicon: two overlapping Gaussian curves in the course palette.

Writes ``_static/favicon.png`` (64x64 pixels, transparent background), which
``_config.yml`` names as ``html: favicon:``. Re-run after changing the drawing::

    .venv/bin/python scripts/make_favicon.py
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from emlib.plotting import PALETTE  # noqa: E402

OUTPUT = Path(__file__).resolve().parent.parent / "_static" / "favicon.png"
SIZE_PX = 64
# (mean, standard deviation, weight) of the two components, one per palette colour.
COMPONENTS = ((-1.1, 0.75, 1.0), (1.0, 0.9, 0.8))


def main() -> None:
    x = np.linspace(-3.4, 3.4, 400)
    fig = plt.figure(figsize=(1, 1), dpi=SIZE_PX)
    ax = fig.add_axes((0, 0, 1, 1))
    for (mean, sd, weight), colour in zip(COMPONENTS, PALETTE, strict=False):
        y = weight * np.exp(-0.5 * ((x - mean) / sd) ** 2)
        ax.fill_between(x, y, color=colour, alpha=0.55, linewidth=0)
        ax.plot(x, y, color=colour, linewidth=3.2, solid_capstyle="round")
    ax.set_xlim(x[0], x[-1])
    ax.set_ylim(-0.06, 1.08)
    ax.axis("off")
    OUTPUT.parent.mkdir(exist_ok=True)
    fig.savefig(OUTPUT, transparent=True, metadata={"Software": None})
    plt.close(fig)
    print(f"wrote {OUTPUT}")


if __name__ == "__main__":
    main()
