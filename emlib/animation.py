"""EM in motion: an animation of a mixture's fit, for notebooks and offline web pages.

:func:`animate_em` draws one frame per recorded EM iteration of a mixture fitted with
``keep_history=True``; :func:`animation_to_html` turns the animation into a self-contained
JavaScript player whose output is the same on every run, so that a notebook storing it
replays under nbval and the page needs no network.
"""

import base64
import html
import io
import re
from numbers import Integral
from pathlib import Path
from tempfile import TemporaryDirectory

import numpy as np
from matplotlib import rc_context
from matplotlib.animation import FuncAnimation, HTMLWriter
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure
from PIL import Image

from .plotting import _check_model, _resolve_colors, plot_covariance_ellipses

__all__ = ["animate_em", "animation_to_html"]


def animate_em(
    model,
    X,
    *,
    iterations=None,
    colors=None,
    color_points=True,
    n_std=(1, 2),
    figsize=(5.6, 4.8),
    dpi=80,
    interval=500,
):
    """Animate EM on 2-D data: one frame per stored iteration of a Gaussian mixture.

    Frame :math:`t` shows the parameters :math:`\\theta^{(t)}` after :math:`t` M-steps
    (``model.params_history_[t]``, :math:`t = 0` being the initialisation): the 1- and
    2-standard-deviation ellipses of every component (:func:`plot_covariance_ellipses`), its
    mean, the data coloured by the responsibilities :math:`r_{nk}` computed from
    :math:`\\theta^{(t)}` (each point gets :math:`\\sum_k r_{nk}\\, c_k`, as in
    :func:`plot_responsibilities`), and in the title the iteration and the log-likelihood
    per point :math:`\\ell(\\theta^{(t)}) / N`.

    Parameters
    ----------
    model : emlib.GaussianMixture
        Fitted on 2-D data with ``keep_history=True``.
    X : array-like of shape (n_samples, 2)
        The data, usually those the model was fitted on.
    iterations : sequence of int, optional
        Increasing indices into ``model.params_history_`` to show, one frame each; all of
        them by default (``n_iter_ + 1`` frames, the last one the fitted parameters).
    colors : sequence of colors, optional
        One colour per component; :func:`component_colors` by default.
    color_points : bool
        Colour the points by their responsibilities; if False they are drawn in grey.
    n_std : float or sequence of float
        Radii of the ellipses in standard deviations.
    figsize : (float, float)
        Size of the figure in inches.
    dpi : float
        Resolution of the frames, in dots per inch.
    interval : int
        Delay between frames in milliseconds.

    Returns
    -------
    matplotlib.animation.FuncAnimation
        Its figure is not registered with pyplot, so a notebook does not also show it as a
        still image; display the animation with :func:`animation_to_html`.

    Raises
    ------
    ValueError
        If the model was fitted without ``keep_history=True``, is not a 2-D Gaussian mixture,
        ``X`` is not 2-D or ``iterations`` are not increasing indices into the history.
    """
    _check_model(model, 2)
    history = getattr(model, "params_history_", None)
    if history is None:
        raise ValueError(
            "The model has no params_history_: it was fitted without keep_history=True. Fit it "
            "again with keep_history=True to record the parameters after every M-step."
        )
    if not hasattr(model, "from_parameters") or "covariances" not in history[0]:
        raise ValueError(
            f"animate_em draws Gaussian components, so it needs a GaussianMixture; got a "
            f"{type(model).__name__}."
        )
    X = np.asarray(X, dtype=float)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"X must have shape (n_samples, 2), got {X.shape}.")
    if iterations is None:
        iterations = range(len(history))
    iterations = list(iterations)
    if (
        not iterations
        or not all(isinstance(t, Integral) for t in iterations)
        or iterations[0] < 0
        or iterations[-1] >= len(history)
        or np.any(np.diff(iterations) <= 0)
    ):
        raise ValueError(
            f"iterations must be increasing indices from 0 to {len(history) - 1} (the "
            f"entries of params_history_), got {iterations}."
        )
    iterations = [int(t) for t in iterations]
    n_components = model.n_components
    colors = _resolve_colors(colors, n_components)
    rgb = np.array([to_rgb(color) for color in colors])

    # Everything a frame shows is computed once, before any drawing.
    frames = []
    for t in iterations:
        params = history[t]
        snapshot = type(model).from_parameters(
            params["weights"],
            params["means"],
            params["covariances"],
            covariance_type=model.covariance_type,
        )
        resp = snapshot.predict_proba(X)
        point_colors = np.clip(resp @ rgb, 0.0, 1.0) if color_points else "0.6"
        frames.append((t, params, point_colors, snapshot.score(X)))

    # Fixed limits, so that the ellipses move and the axes do not.
    margin = 0.05 * np.ptp(X, axis=0)
    xlim = (X[:, 0].min() - margin[0], X[:, 0].max() + margin[0])
    ylim = (X[:, 1].min() - margin[1], X[:, 1].max() + margin[1])
    # Fixed margins instead of constrained layout: the axes must not shift from one frame
    # to the next, and the layout would be recomputed for every frame.
    fig = Figure(figsize=figsize, dpi=dpi, layout="none")
    ax = fig.add_subplot()
    fig.subplots_adjust(left=0.13, right=0.97, bottom=0.12, top=0.92)
    no_layout = {"figure.constrained_layout.use": False, "figure.autolayout": False}

    def draw(frame):
        # savefig turns a figure's layout engine off while it prints a frame, then restores
        # "no engine" by reading rcParams, which the course style sets to constrained
        # layout: unless it is removed again here, the frames after the first are laid out
        # anew (the axes moved over the first four frames, and each frame took about 40%
        # longer).
        with rc_context(no_layout):
            fig.set_layout_engine(None)
        t, params, point_colors, score = frame
        ax.clear()
        ax.scatter(X[:, 0], X[:, 1], s=8, c=point_colors, linewidths=0)
        plot_covariance_ellipses(
            params["means"],
            params["covariances"],
            ax=ax,
            n_std=n_std,
            covariance_type=model.covariance_type,
            colors=colors,
            linewidth=2,
        )
        ax.scatter(
            params["means"][:, 0],
            params["means"][:, 1],
            s=90,
            marker="X",
            c=colors,
            edgecolors="black",
            zorder=3,
        )
        ax.set(
            xlim=xlim,
            ylim=ylim,
            aspect="equal",
            xlabel="$x_1$",
            ylabel="$x_2$",
            title=f"iteration {t}: log-likelihood per point {score:.3f}",
        )
        return ()

    return FuncAnimation(fig, draw, frames=frames, interval=interval, repeat=False)


def animation_to_html(anim, *, element_id, alt, fps=2, default_mode="once", n_colors=64):
    """An animation as a self-contained JavaScript player, the same at every run.

    Like :meth:`matplotlib.animation.Animation.to_jshtml`, with the frames embedded as PNG
    at the figure's resolution, but the HTML is made reproducible, small and usable
    offline: the random element ids are replaced by ``element_id``; every frame is reduced
    to ``n_colors`` colours (a plot has few, and this divides the size by about four) and
    stored without metadata, so no software version is recorded; the style sheet that
    matplotlib loads from a CDN for the button icons is dropped (a page that provides
    Font Awesome, as Jupyter Book's theme does, still shows them); and the frame image
    gets the text alternative ``alt``. The player shrinks to the width of a narrow screen:
    matplotlib gives its slider a width in pixels, which would make the whole player wider
    than a phone's column, so the slider, the image and the buttons get relative widths.

    Parameters
    ----------
    anim : matplotlib.animation.Animation
        For example from :func:`animate_em`.
    element_id : str
        Letters, digits and underscores, starting with a letter; unique on the page (it
        names the player's elements and its JavaScript variable).
    alt : str
        What the animation shows, for a reader who cannot see it.
    fps : float
        Frames per second when the player runs (its buttons can change the speed).
    default_mode : {"once", "loop", "reflect"}
        What the player does when it reaches the last frame.
    n_colors : int
        Number of colours of every frame's palette, from 2 to 256.

    Returns
    -------
    str
        HTML to display, e.g. with ``IPython.display.HTML``.

    Raises
    ------
    ValueError
        If ``element_id`` is not a valid identifier, ``alt`` is empty, ``fps`` is not
        positive or ``n_colors`` is out of range.
    RuntimeError
        If matplotlib's player does not have the layout this function edits (a matplotlib
        release that changed it needs this function updated).
    """
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", str(element_id)):
        raise ValueError(
            f"element_id must be letters, digits and underscores starting with a letter (it "
            f"becomes a JavaScript name), got {element_id!r}."
        )
    if not str(alt).strip():
        raise ValueError("alt must describe the animation for a reader who cannot see it.")
    if not fps > 0:
        raise ValueError(f"fps must be a positive number of frames per second, got {fps!r}.")
    if not isinstance(n_colors, Integral) or not 2 <= n_colors <= 256:
        raise ValueError(f"n_colors must be an integer from 2 to 256, got {n_colors!r}.")

    def reduce_colors(match):
        data = base64.b64decode(match.group(2).replace("\\\n", ""))
        image = Image.open(io.BytesIO(data)).convert("RGB")
        # No dithering: the frames of a plot are flat colours, and noise would cost bytes.
        image = image.quantize(
            colors=n_colors, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE
        )
        out = io.BytesIO()
        image.save(out, format="png", optimize=True)
        return match.group(1) + base64.b64encode(out.getvalue()).decode("ascii") + '"'

    with TemporaryDirectory() as tmpdir:
        path = Path(tmpdir, "animation.html")
        writer = HTMLWriter(fps=fps, embed_frames=True, default_mode=default_mode)
        anim.save(str(path), writer=writer, dpi="figure")
        text = path.read_text()
    text = re.sub(r'(= "data:image/png;base64,)([^"]*)"', reduce_colors, text)
    random_id = _edit(r'id="_anim_img([0-9a-f]+)"', None, text)
    text = text.replace(random_id, element_id)
    text = re.sub(r"<link[^>]*font-awesome[^>]*>", "", text)
    text = _edit(
        f'<img id="_anim_img{element_id}">',
        f'<img id="_anim_img{element_id}" alt="{html.escape(str(alt))}" '
        'style="max-width: 100%; height: auto;">',
        text,
        literal=True,
    )
    # The player is an inline block as wide as its widest child, the slider; capping
    # the block at the column's width lets the image (max-width: 100%) and the slider
    # shrink, and the nine buttons share that width (on a 390-px phone, in one row).
    text = _edit(r"(\.animation \{\s*display: inline-block;)", r"\1\n    max-width: 100%;", text)
    text = _edit(
        r"(\.anim-slider \{\s*)width: (\d+px);", r"\1width: 100%;\n    max-width: \2;", text
    )
    text = _edit(r"(\.anim-buttons button \{[^}]*width: \d+px;)", r"\1\n    max-width: 9%;", text)
    return text


def _edit(pattern, replacement, text, *, literal=False):
    """Replace the one occurrence of ``pattern`` (a regular expression unless ``literal``)
    in matplotlib's player, or return its first group if ``replacement`` is None; fail
    loudly if the player's layout changed, instead of leaving it silently unedited."""
    found = [pattern] * text.count(pattern) if literal else re.findall(pattern, text)
    if len(found) != 1:
        raise RuntimeError(
            f"matplotlib's HTML player has {len(found)} matches of {pattern!r} instead of "
            "one: its layout changed, and emlib.animation.animation_to_html must be updated."
        )
    if replacement is None:
        return found[0]
    if literal:
        return text.replace(pattern, replacement)
    return re.sub(pattern, replacement, text)
