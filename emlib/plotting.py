"""Figures used throughout the course: ellipses, densities, responsibilities and criteria.

Every function that draws on a single panel takes ``ax=None`` (meaning the current Axes,
:func:`matplotlib.pyplot.gca`) and returns the Axes it drew on; none of them calls
``plt.show()``. Components are coloured from :data:`PALETTE`, the colour-blind-safe
Okabe-Ito palette, so component ``k`` has the same colour in every figure, and
:func:`use_course_style` sets one look (seaborn's theme, sizes for the book's column) for all.
"""

from numbers import Integral

import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns
from matplotlib.colors import is_color_like, to_hex, to_rgb
from matplotlib.patches import Ellipse
from matplotlib.ticker import MaxNLocator
from scipy.stats import norm
from sklearn.utils.validation import check_is_fitted

from .gaussian import full_covariances
from .metrics import matched_confusion_matrix
from .selection import CRITERIA, SelectionResult

__all__ = [
    "PALETTE",
    "class_matched_colors",
    "color_legend",
    "component_colors",
    "plot_1d_mixture",
    "plot_convergence",
    "plot_covariance_ellipses",
    "plot_criteria",
    "plot_density_contours",
    "plot_gmm_ellipses",
    "plot_gmm_fit",
    "plot_image_grid",
    "plot_image_table",
    "plot_regions",
    "plot_responsibilities",
    "plot_scale_weights",
    "plot_seed_band",
    "plot_selection_summary",
    "plot_top_words",
    "use_course_style",
]

#: Okabe-Ito colours, reordered so that the first few are the most distinct on white
#: (yellow, the faintest, and black, which hides text, come last).
PALETTE = (
    "#0072B2",  # blue
    "#E69F00",  # orange
    "#009E73",  # bluish green
    "#D55E00",  # vermillion
    "#56B4E9",  # sky blue
    "#CC79A7",  # reddish purple
    "#F0E442",  # yellow
    "#000000",  # black
)

#: Width and height in inches of a one-panel figure. At :data:`FIGURE_DPI` it is 640 pixels
#: wide, shown at full size in the book's column of about 700 CSS pixels; a figure with
#: several panels keeps this width and grows in height rather than in width.
FIGURE_SIZE = (6.4, 4.0)
FIGURE_DPI = 100

_CRITERION_LABELS = {"bic": "BIC", "aic": "AIC", "heldout": "held-out log-lik"}
_LINESTYLES = ("-", "--", ":")
_MARKERS = ("o", "s", "^")
# Row keys of a selection table that are results rather than grid parameters.
_RESULT_KEYS = ("n_parameters", "log_likelihood", "bic", "aic", "heldout_log_likelihood")


def use_course_style():
    """Set the figure style of the whole course: call it once, before the first figure.

    Seaborn's ``whitegrid`` theme with :data:`PALETTE` as the colour cycle, figures of
    :data:`FIGURE_SIZE` at :data:`FIGURE_DPI` dots per inch, and fonts chosen for that size:
    tick labels of 12 points are 17 pixels tall in a 640-pixel figure, so that on a phone,
    where the figure is scaled to the screen's width of about 360 CSS pixels, they are still
    about 9 pixels tall. Constrained layout keeps labels and legends inside the figure.
    """
    sns.set_theme(
        context="notebook",
        style="whitegrid",
        palette=list(PALETTE),
        font_scale=1.1,
        rc={
            "figure.figsize": FIGURE_SIZE,
            "figure.dpi": FIGURE_DPI,
            "savefig.dpi": FIGURE_DPI,
            "figure.constrained_layout.use": True,
            "image.cmap": "viridis",
            "legend.framealpha": 0.9,
        },
    )


def component_colors(n_components):
    """Colours for ``n_components`` components, as hex strings.

    Up to eight components get :data:`PALETTE`; up to twenty get matplotlib's ``tab10`` or
    ``tab20`` qualitative maps, which are less colour-blind friendly but still distinct.

    Parameters
    ----------
    n_components : int

    Returns
    -------
    list of str
    """
    if not isinstance(n_components, Integral) or not 1 <= n_components <= 20:
        raise ValueError(
            f"n_components must be an integer from 1 to 20, got {n_components!r}; beyond 20 "
            "colours cannot be told apart, so pass your own list of colours."
        )
    if n_components <= len(PALETTE):
        return list(PALETTE[:n_components])
    cmap = plt.get_cmap("tab10" if n_components <= 10 else "tab20")
    return [to_hex(cmap(k)) for k in range(n_components)]


def _resolve_colors(colors, n_components):
    """A list of ``n_components`` colours from None, a single colour or a sequence."""
    if colors is None:
        return component_colors(n_components)
    if is_color_like(colors):
        return [colors] * n_components
    colors = list(colors)
    if len(colors) != n_components:
        raise ValueError(
            f"Got {len(colors)} colours for {n_components} components; pass one colour per "
            "component, a single colour, or None for the default palette."
        )
    return colors


def _ellipse_axes(covariance):
    """Semi-axis lengths (major, minor) and angle in degrees of a 2-D covariance's 1-sigma
    ellipse, from its eigendecomposition :math:`\\Sigma = V \\Lambda V^\\top`."""
    eigenvalues, eigenvectors = np.linalg.eigh(covariance)
    if eigenvalues[0] <= 0:
        raise ValueError(
            f"Covariance matrix {covariance.tolist()} is not positive definite, so it has no "
            "ellipse; add a small ridge (reg_covar) to the diagonal."
        )
    major = eigenvectors[:, 1]
    # An axis and its opposite draw the same ellipse, so fold the angle into [0, 180).
    angle = np.degrees(np.arctan2(major[1], major[0])) % 180.0
    return np.sqrt(eigenvalues[1]), np.sqrt(eigenvalues[0]), float(angle)


def plot_covariance_ellipses(
    means, covariances, ax=None, n_std=(1, 2, 3), covariance_type="full", colors=None, **kwargs
):
    """Draw the contour ellipses of 2-D Gaussian components.

    The ``s``-standard-deviation ellipse of component :math:`k` is the set of points with
    Mahalanobis distance :math:`(x-\\mu_k)^\\top \\Sigma_k^{-1} (x-\\mu_k) = s^2`. With the
    eigendecomposition :math:`\\Sigma_k = V \\operatorname{diag}(\\lambda_1, \\lambda_2)
    V^\\top` (:math:`\\lambda_1 \\ge \\lambda_2`) its full width and height are
    :math:`2 s \\sqrt{\\lambda_1}` and :math:`2 s \\sqrt{\\lambda_2}`, and it is turned by the
    angle of the leading eigenvector.

    Parameters
    ----------
    means : array-like of shape (n_components, 2)
        Component means.
    covariances : array-like
        Covariances in any of scikit-learn's layouts, see ``covariance_type``.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; the current Axes by default.
    n_std : float or sequence of float
        Radii, in standard deviations, of the ellipses drawn around each mean.
    covariance_type : {"full", "tied", "diag", "spherical"}
        Layout of ``covariances``: (K, 2, 2), (2, 2), (K, 2) variances or (K,) variances.
    colors : color, sequence of colors or None
        One colour per component, a single colour for all, or None for :data:`PALETTE`.
    **kwargs
        Passed to :class:`matplotlib.patches.Ellipse` (default: unfilled, line width 1.5).
        A ``label`` is given to the first ellipse only, so it appears once in a legend.

    Returns
    -------
    matplotlib.axes.Axes
        The Axes; the ellipses are in ``ax.patches``, component by component, from the
        smallest radius to the largest.

    Raises
    ------
    ValueError
        If the means are not 2-D points, or the covariances do not match them.
    """
    ax = plt.gca() if ax is None else ax
    means = np.asarray(means, dtype=float)
    if means.ndim != 2 or means.shape[1] != 2:
        raise ValueError(
            f"Covariance ellipses are drawn in the plane, so means must have shape "
            f"(n_components, 2); got {means.shape}. For higher-dimensional data, plot two "
            "chosen features or a 2-D projection (e.g. PCA) of the model instead."
        )
    n_components = means.shape[0]
    full = full_covariances(covariances, covariance_type, n_components, 2)
    radii = np.atleast_1d(np.asarray(n_std, dtype=float))
    if radii.ndim != 1 or np.any(radii <= 0):
        raise ValueError(f"n_std must be positive numbers of standard deviations, got {n_std}.")
    colors = _resolve_colors(colors, n_components)
    kwargs.setdefault("fill", False)
    kwargs.setdefault("linewidth", 1.5)
    label = kwargs.pop("label", None)
    for mean, covariance, color in zip(means, full, colors, strict=True):
        semi_major, semi_minor, angle = _ellipse_axes(covariance)
        for radius in radii:
            ax.add_patch(
                Ellipse(
                    mean,
                    width=2 * radius * semi_major,
                    height=2 * radius * semi_minor,
                    angle=angle,
                    edgecolor=color,
                    label=label,
                    **kwargs,
                )
            )
            label = None
    ax.autoscale_view()
    return ax


def _check_model(model, n_features):
    """Check that ``model`` is fitted on data with ``n_features`` features."""
    check_is_fitted(model)
    if model.n_features_in_ != n_features:
        raise ValueError(
            f"This plot needs a model fitted on {n_features}-D data, but the model has "
            f"{model.n_features_in_} features; fit it on {n_features} chosen features or a "
            "projection of the data."
        )


def plot_gmm_ellipses(model, ax=None, **kwargs):
    """Covariance ellipses of a fitted 2-D Gaussian mixture.

    Parameters
    ----------
    model : GaussianMixture
        Fitted :class:`emlib.GaussianMixture` (or scikit-learn's) on 2-D data.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; the current Axes by default.
    **kwargs
        Passed to :func:`plot_covariance_ellipses` (``n_std``, ``colors``, line styles...).

    Returns
    -------
    matplotlib.axes.Axes
    """
    _check_model(model, 2)
    return plot_covariance_ellipses(
        model.means_, model.covariances_, ax=ax, covariance_type=model.covariance_type, **kwargs
    )


def _plane_grid(model, ax, xlim, ylim, grid, *, pixel_centres=False):
    """Grid points covering the plotting window, and the window itself.

    A limit not given is taken from the Axes if something is already drawn on them (so a
    density overlays a scatter plot), else from the means plus or minus three standard
    deviations of a Gaussian mixture. With ``pixel_centres`` the points are the centres of
    ``grid`` equal pixels spanning the window, half a pixel inside its edges, as an image
    drawn with ``imshow(extent=(*xlim, *ylim))`` places them; otherwise they include the
    edges, as contour lines need.
    """
    if not isinstance(grid, Integral) or grid < 2:
        raise ValueError(f"grid must be an integer of at least 2 points per axis, got {grid!r}.")
    if xlim is None or ylim is None:
        if ax.has_data():
            default_x, default_y = ax.get_xlim(), ax.get_ylim()
        elif hasattr(model, "covariances_"):
            n_components = model.means_.shape[0]
            full = full_covariances(model.covariances_, model.covariance_type, n_components, 2)
            spread = 3 * np.sqrt(np.diagonal(full, axis1=1, axis2=2))
            low = (model.means_ - spread).min(axis=0)
            high = (model.means_ + spread).max(axis=0)
            default_x, default_y = (low[0], high[0]), (low[1], high[1])
        else:
            raise ValueError(
                f"Cannot guess the plotting window of a {type(model).__name__}; pass xlim and "
                "ylim, or draw the data on the Axes first."
            )
        xlim = default_x if xlim is None else xlim
        ylim = default_y if ylim is None else ylim
    x_half = (xlim[1] - xlim[0]) / (2 * grid) if pixel_centres else 0.0
    y_half = (ylim[1] - ylim[0]) / (2 * grid) if pixel_centres else 0.0
    xx, yy = np.meshgrid(
        np.linspace(xlim[0] + x_half, xlim[1] - x_half, grid),
        np.linspace(ylim[0] + y_half, ylim[1] - y_half, grid),
    )
    return xx, yy, np.column_stack([xx.ravel(), yy.ravel()]), tuple(xlim), tuple(ylim)


def plot_density_contours(model, ax=None, xlim=None, ylim=None, levels=10, grid=200, **kwargs):
    """Contour lines of a fitted 2-D density :math:`p(x) = \\exp(\\text{score\\_samples}(x))`.

    Parameters
    ----------
    model : fitted density estimator on 2-D data
        Anything with ``score_samples`` (log-density), e.g. a fitted GaussianMixture.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; the current Axes by default.
    xlim, ylim : (float, float), optional
        Plotting window; by default the current limits of ``ax`` if it already shows data,
        otherwise the component means plus or minus three standard deviations.
    levels : int or sequence of float
        Number of contour levels or the density values at which to draw them.
    grid : int
        Number of evaluation points along each axis.
    **kwargs
        Passed to :meth:`matplotlib.axes.Axes.contour` (e.g. ``cmap``, ``linewidths``).

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = plt.gca() if ax is None else ax
    _check_model(model, 2)
    xx, yy, points, _, _ = _plane_grid(model, ax, xlim, ylim, grid)
    density = np.exp(model.score_samples(points)).reshape(xx.shape)
    ax.contour(xx, yy, density, levels=levels, **kwargs)
    return ax


def plot_responsibilities(model, ax=None, xlim=None, ylim=None, grid=200, colors=None, **kwargs):
    """Colour the plane by the responsibilities :math:`r_k(x) = p(z = k \\mid x)`.

    Each pixel gets the responsibility-weighted average of the component colours,
    :math:`\\sum_k r_k(x)\\, c_k`, so regions owned by one component show its pure colour
    and the boundaries between components show the blend.

    Parameters
    ----------
    model : fitted mixture on 2-D data
        Anything with ``predict_proba``.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; the current Axes by default.
    xlim, ylim : (float, float), optional
        Window of the image; defaults as in :func:`plot_density_contours`.
    grid : int
        Number of pixels along each axis.
    colors : sequence of colors, optional
        One colour per component; :func:`component_colors` by default (at most 20).
    **kwargs
        Passed to :meth:`matplotlib.axes.Axes.imshow` (e.g. ``alpha``).

    Returns
    -------
    matplotlib.axes.Axes
        The image's outer pixel edges are ``xlim`` x ``ylim`` (its ``extent``), and each
        pixel shows the responsibilities at its centre.
    """
    ax = plt.gca() if ax is None else ax
    _check_model(model, 2)
    xx, _, points, xlim, ylim = _plane_grid(model, ax, xlim, ylim, grid, pixel_centres=True)
    resp = model.predict_proba(points)
    palette = np.array([to_rgb(c) for c in _resolve_colors(colors, resp.shape[1])])
    image = np.clip(resp @ palette, 0.0, 1.0).reshape(*xx.shape, 3)
    # imshow would impose an equal aspect by default: keep whatever the Axes already have.
    kwargs.setdefault("aspect", ax.get_aspect())
    ax.imshow(image, origin="lower", extent=(*xlim, *ylim), **kwargs)
    return ax


def plot_regions(
    model, ax=None, xlim=None, ylim=None, grid=200, colors=None, tint=0.35, **kwargs
):
    """Shade the plane by the cluster that ``model.predict`` assigns to each point.

    A pixel at :math:`x` in cluster :math:`k = \\text{predict}(x)` gets the colour
    :math:`t\\, c_k + (1 - t)\\, \\text{white}`, with :math:`t` = ``tint``: a pale
    version of the cluster colour, light enough for the data to be drawn on top. For
    k-means the regions are the Voronoi cells of the centres; for a Gaussian mixture they
    are the regions of largest responsibility.

    Parameters
    ----------
    model : fitted clustering model on 2-D data
        Anything with ``predict`` returning integer labels ``0 .. n_clusters - 1``, such as
        a fitted KMeans or GaussianMixture.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; the current Axes by default.
    xlim, ylim : (float, float), optional
        Window of the image; defaults as in :func:`plot_density_contours`.
    grid : int
        Number of pixels along each axis. Each pixel takes the label that ``predict``
        gives to its centre: with :math:`h = (x_1 - x_0) / \\text{grid}` for
        ``xlim = (x0, x1)``, the centres are :math:`x_0 + (i + 1/2)\\, h`,
        :math:`i = 0, \\dots, \\text{grid} - 1` (and likewise along y).
    colors : color or sequence of colors, optional
        One colour per cluster (``n_clusters`` or ``n_components`` of the model), or a
        single colour for all; :func:`component_colors` by default. Pass them reordered to
        give clusters the colours of the classes they are matched to.
    tint : float
        Weight of the cluster colour against white, in ``[0, 1]``.
    **kwargs
        Passed to :meth:`matplotlib.axes.Axes.imshow` (e.g. ``zorder``). ``aspect``
        defaults to the current aspect of ``ax``, so an equal aspect set before is kept.

    Returns
    -------
    matplotlib.axes.Axes
        The image's outer pixel edges are ``xlim`` x ``ylim`` (its ``extent``).

    Raises
    ------
    ValueError
        If ``tint`` is outside ``[0, 1]``, the model is not fitted on 2-D data, or
        ``predict`` returns a label without a colour.
    """
    if not 0.0 <= tint <= 1.0:
        raise ValueError(f"tint must lie in [0, 1], got {tint!r}.")
    ax = plt.gca() if ax is None else ax
    _check_model(model, 2)
    xx, _, points, xlim, ylim = _plane_grid(model, ax, xlim, ylim, grid, pixel_centres=True)
    labels = np.asarray(model.predict(points))
    n_clusters = (
        getattr(model, "n_clusters", None)
        or getattr(model, "n_components", None)
        or int(labels.max()) + 1
    )
    palette = np.array([to_rgb(c) for c in _resolve_colors(colors, n_clusters)])
    if labels.min() < 0 or labels.max() >= len(palette):
        raise ValueError(
            f"predict returned labels from {labels.min()} to {labels.max()}, but there are "
            f"{len(palette)} colours; pass one colour per cluster."
        )
    # Blending with white keeps the hue of each cluster while leaving the points on top
    # readable.
    image = (tint * palette[labels] + (1.0 - tint)).reshape(*xx.shape, 3)
    # imshow would impose an equal aspect by default: keep whatever the Axes already have.
    kwargs.setdefault("aspect", ax.get_aspect())
    ax.imshow(image, origin="lower", extent=(*xlim, *ylim), **kwargs)
    return ax

def plot_convergence(
    history, ax=None, ylabel="mean log-likelihood per sample", label=None, **kwargs
):
    """Plot an objective against the EM (or k-means) iteration number.

    Parameters
    ----------
    history : array-like of shape (n_iterations,)
        Objective values, entry ``t`` after ``t`` iterations, e.g. a fitted model's
        ``log_likelihood_history_`` or ``inertia_history_``.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; the current Axes by default.
    ylabel : str
        Label of the vertical axis.
    label : str, optional
        Legend entry of the line.
    **kwargs
        Passed to :meth:`matplotlib.axes.Axes.plot` (default marker ``"o"``).

    Returns
    -------
    matplotlib.axes.Axes
        With integer ticks on the iteration axis.
    """
    history = np.asarray(history, dtype=float)
    if history.ndim != 1 or history.size == 0:
        raise ValueError(
            f"history must be a non-empty 1-D sequence of objective values, got shape "
            f"{history.shape}."
        )
    ax = plt.gca() if ax is None else ax
    kwargs.setdefault("marker", "o")
    ax.plot(np.arange(history.size), history, label=label, **kwargs)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("iteration")
    ax.set_ylabel(ylabel)
    return ax


def plot_image_grid(
    images,
    shape=(28, 28),
    ncols=10,
    titles=None,
    cmap="gray",
    vmin=0.0,
    vmax=1.0,
    fig=None,
    panel_size=1.0,
):
    """Show images, e.g. the pixel means of a Bernoulli mixture, in a grid of panels.

    Parameters
    ----------
    images : array-like of shape (n_images, height * width) or (n_images, height, width)
        Images as flat rows (like ``model.means_``) or as 2-D arrays.
    shape : (int, int)
        ``(height, width)`` of one image, used to unflatten rows.
    ncols : int
        Panels per row (fewer if there are fewer images).
    titles : sequence of str, optional
        One title per image, e.g. ``[f"{w:.2f}" for w in model.weights_]``.
    cmap : str or Colormap
        Colour map; the default shows pixel probabilities in grey levels.
    vmin, vmax : float
        Values mapped to the ends of the colour map, fixed so that panels are comparable.
    fig : matplotlib.figure.Figure, optional
        Figure to draw in; a new figure of ``panel_size`` inches per panel by default.
    panel_size : float
        Size of one panel in inches when a new figure is made.

    Returns
    -------
    numpy.ndarray of matplotlib.axes.Axes, shape (n_rows, ncols)
        One Axes per panel; panels beyond the last image are switched off. The Figure is
        ``axes.flat[0].figure``.
    """
    images = np.asarray(images, dtype=float)
    height, width = shape
    if images.ndim == 2 and images.shape[1] == height * width:
        images = images.reshape(-1, height, width)
    if images.ndim != 3 or images.shape[1:] != (height, width) or images.shape[0] == 0:
        raise ValueError(
            f"images must have shape (n_images, {height * width}) or (n_images, {height}, "
            f"{width}) for shape={tuple(shape)}, got {images.shape}; set shape to the size "
            "of one image."
        )
    n_images = images.shape[0]
    if titles is not None and len(titles) != n_images:
        raise ValueError(f"Got {len(titles)} titles for {n_images} images; pass one per image.")
    ncols = min(ncols, n_images)
    nrows = -(-n_images // ncols)
    if fig is None:
        fig = plt.figure(figsize=(ncols * panel_size, nrows * panel_size))
    axes = fig.subplots(nrows, ncols, squeeze=False)
    for index, ax in enumerate(axes.flat):
        if index >= n_images:
            ax.axis("off")
            continue
        ax.imshow(images[index], cmap=cmap, vmin=vmin, vmax=vmax)
        ax.set_xticks([])
        ax.set_yticks([])
        if titles is not None:
            ax.set_title(titles[index], fontsize="small")
    return axes


def _selection_rows(result):
    """Rows (dicts) from a SelectionResult, a list of row dicts or a dict of columns."""
    if isinstance(result, SelectionResult):
        return result.rows
    if isinstance(result, dict):
        lengths = {len(values) for values in result.values()}
        if len(lengths) != 1:
            raise ValueError("All columns of the criteria table must have the same length.")
        return [
            dict(zip(result, values, strict=True)) for values in zip(*result.values(), strict=True)
        ]
    return list(result)


def plot_criteria(result, ax=None, criteria=("bic", "aic"), x="n_components"):
    """Plot model-selection criteria against the number of components, marking the best.

    One line per criterion and per group of the other grid parameters (e.g. one per
    covariance type); each criterion's overall best candidate -- lowest BIC or AIC, highest
    held-out log-likelihood -- is marked with a star.

    Parameters
    ----------
    result : SelectionResult, list of dict or dict of sequences
        Output of :func:`emlib.selection.select_mixture`, its ``rows``, or columns such as
        ``{"n_components": [1, 2, 3], "bic": [...], "aic": [...]}``.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; the current Axes by default.
    criteria : sequence of {"bic", "aic"}, or ("heldout",)
        What to plot. The held-out log-likelihood per sample lives on a different scale
        from the totals BIC and AIC, so it must be plotted on its own Axes.
    x : str
        Column on the horizontal axis.

    Returns
    -------
    matplotlib.axes.Axes
    """
    criteria = tuple(criteria)
    unknown = [c for c in criteria if c not in CRITERIA]
    if unknown or not criteria:
        raise ValueError(f"criteria must be chosen from {tuple(CRITERIA)}, got {criteria}.")
    if "heldout" in criteria and len(criteria) > 1:
        raise ValueError(
            "The held-out log-likelihood (per sample) and BIC/AIC (totals) have different "
            "scales; plot criteria=('heldout',) on a second Axes."
        )
    rows = _selection_rows(result)
    for criterion in criteria:
        if any(row.get(CRITERIA[criterion][0]) is None for row in rows):
            raise ValueError(
                f"The table has no {criterion!r} values (for 'heldout', rerun the selection "
                "with cv set)."
            )
    ax = plt.gca() if ax is None else ax
    group_keys = [k for k in rows[0] if k != x and k not in _RESULT_KEYS]
    groups = {}
    for row in rows:
        groups.setdefault(tuple(row[k] for k in group_keys), []).append(row)
    palette = component_colors(max(len(groups), len(criteria)))

    x_name = "K" if x == "n_components" else x
    for c_index, criterion in enumerate(criteria):
        key, larger_is_better = CRITERIA[criterion]
        line_colors = []
        for g_index, (group, group_rows) in enumerate(groups.items()):
            color = palette[g_index if len(groups) > 1 else c_index]
            name = _CRITERION_LABELS[criterion]
            if group_keys:
                name += " (" + ", ".join(str(v) for v in group) + ")"
            ax.plot(
                [row[x] for row in group_rows],
                [row[key] for row in group_rows],
                color=color,
                label=name,
                linestyle=_LINESTYLES[c_index % 3],
                marker=_MARKERS[c_index % 3],
            )
            line_colors += [color] * len(group_rows)
        # Points in group order, matching line_colors; the first optimum wins ties.
        ordered = [row for group_rows in groups.values() for row in group_rows]
        values = np.array([row[key] for row in ordered])
        best = int(np.argmax(values) if larger_is_better else np.argmin(values))
        where = ", ".join(str(ordered[best][k]) for k in group_keys)
        ax.plot(
            ordered[best][x],
            values[best],
            linestyle="none",
            marker="*",
            markersize=16,
            color=line_colors[best],
            markeredgecolor="black",
            zorder=3,
            label=f"best {_CRITERION_LABELS[criterion]}: {x_name}={ordered[best][x]}"
            + (f" ({where})" if where else ""),
        )

    ax.set_xlabel("number of components K" if x == "n_components" else x)
    ax.set_ylabel(
        "held-out log-likelihood per sample (higher is better)"
        if criteria == ("heldout",)
        else "criterion (lower is better)"
    )
    if all(isinstance(row[x], Integral) for row in rows):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.legend(fontsize="small")
    return ax


def plot_1d_mixture(
    model=None,
    ax=None,
    *,
    x=None,
    weights=None,
    means=None,
    variances=None,
    label="mixture",
    color="black",
    linestyle="-",
    show_components=True,
):
    """Plot a 1-D Gaussian mixture density and its weighted components.

    Draws :math:`p(x) = \\sum_k \\pi_k \\mathcal{N}(x \\mid \\mu_k, \\sigma_k^2)` as a thick line
    and, optionally, each term :math:`\\pi_k \\mathcal{N}(x \\mid \\mu_k, \\sigma_k^2)` in the
    component's colour. Call it twice with different ``label`` and ``linestyle`` to compare
    a true mixture with a fitted one.

    Parameters
    ----------
    model : fitted GaussianMixture on 1-D data, optional
        Source of the parameters. Give either a model or all of ``weights``, ``means`` and
        ``variances``.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; the current Axes by default.
    x : array-like of shape (n_points,), optional
        Where to evaluate the densities; by default 500 points covering every component's
        mean plus or minus four standard deviations.
    weights, means, variances : array-like of shape (n_components,), optional
        Mixture parameters given directly (variances, not standard deviations).
    label : str
        Legend entry of the mixture line; the components share one entry after it.
    color : color
        Colour of the mixture line.
    linestyle : str
        Line style of the mixture and component lines.
    show_components : bool
        Whether to draw the weighted components too.

    Returns
    -------
    matplotlib.axes.Axes
    """
    given = [v is not None for v in (weights, means, variances)]
    if not (model is None and all(given) or model is not None and not any(given)):
        raise ValueError(
            "Pass either a fitted model or all three of weights, means and variances."
        )
    if model is not None:
        _check_model(model, 1)
        weights = model.weights_
        means = model.means_[:, 0]
        variances = full_covariances(
            model.covariances_, model.covariance_type, weights.shape[0], 1
        )[:, 0, 0]
    weights, means, variances = (np.asarray(v, dtype=float) for v in (weights, means, variances))
    if not (weights.ndim == 1 and weights.shape == means.shape == variances.shape):
        raise ValueError(
            f"weights, means and variances must be 1-D with one entry per component, got "
            f"shapes {weights.shape}, {means.shape} and {variances.shape}."
        )
    if np.any(variances <= 0) or np.any(weights < 0) or not np.isclose(weights.sum(), 1.0):
        raise ValueError("variances must be positive and weights non-negative and summing to one.")
    std = np.sqrt(variances)
    if x is None:
        x = np.linspace((means - 4 * std).min(), (means + 4 * std).max(), 500)
    x = np.asarray(x, dtype=float)
    if x.ndim != 1:
        raise ValueError(f"x must be a 1-D grid of points, got shape {x.shape}.")
    ax = plt.gca() if ax is None else ax
    weighted = weights * norm.pdf(x[:, None], loc=means, scale=std)
    # The mixture goes on top of its components, which it equals where one dominates.
    ax.plot(
        x,
        weighted.sum(axis=1),
        color=color,
        linestyle=linestyle,
        linewidth=2.5,
        label=label,
        zorder=3,
    )
    if show_components:
        colors = component_colors(weights.size)
        for k in range(weights.size):
            ax.plot(
                x,
                weighted[:, k],
                color=colors[k],
                linestyle=linestyle,
                linewidth=1.2,
                label=f"{label}: weighted components" if k == 0 else None,
            )
    ax.set_xlabel("x")
    ax.set_ylabel("density")
    return ax


def color_legend(target, colors, *, marker="o", linestyle="-", star_label=None, **kwargs):
    """One legend for a dict of label -> colour, on a Figure or an Axes.

    Several panels that colour the same things alike (say, one line per covariance type
    in every panel) need a single legend, not one per panel. Pass the Figure to put the
    legend outside the panels; each Axes keeps its own legend unless it is removed first.

    Parameters
    ----------
    target : matplotlib.figure.Figure or matplotlib.axes.Axes
        Where the legend goes.
    colors : dict
        Label -> colour, in the order of the legend entries.
    marker, linestyle : str
        Marker and line style of every entry; ``linestyle="none"`` for scatter plots.
    star_label : str, optional
        If given, a last entry with the black-edged star that :func:`plot_criteria` draws
        on each criterion's best value, in grey since its colour varies.
    **kwargs
        Passed to ``target.legend`` (e.g. ``loc``, ``ncol``, ``frameon``).

    Returns
    -------
    matplotlib.legend.Legend

    Raises
    ------
    ValueError
        If ``colors`` is empty or holds something that is not a colour.
    """
    if not colors:
        raise ValueError("colors is empty; pass a dict of label -> colour.")
    bad = [label for label, color in colors.items() if not is_color_like(color)]
    if bad:
        raise ValueError(f"Not a matplotlib colour for the labels {bad}.")
    handles = [
        plt.Line2D([], [], color=color, marker=marker, linestyle=linestyle, label=str(label))
        for label, color in colors.items()
    ]
    if star_label is not None:
        handles.append(
            plt.Line2D(
                [],
                [],
                color="0.5",
                marker="*",
                markersize=14,
                markeredgecolor="black",
                linestyle="none",
                label=star_label,
            )
        )
    return target.legend(handles=handles, **kwargs)


def class_matched_colors(y_true, y_pred, colors=None):
    """Colour every sample by its cluster, the cluster taking its matched class's colour.

    Clusters are matched one-to-one to classes as in
    :func:`emlib.metrics.matched_confusion_matrix` (the assignment that maximises the
    number of agreements). A cluster matched to the :math:`c`-th class (in sorted order)
    gets colour :math:`c`, so a scatter plot of the clusters can be compared at a glance
    with one of the classes drawn as ``class_matched_colors(y_true, y_true)``. Clusters
    matched to no class (when there are more clusters than classes) get the next colours,
    in sorted order of their labels.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True class of every sample.
    y_pred : array-like of shape (n_samples,)
        Cluster label of every sample, e.g. ``model.predict(X)``.
    colors : sequence of colors, optional
        Colours by index: one per class, then one per unmatched cluster. By default the
        classes get ``component_colors(n_classes)``, whatever the number of clusters, and
        unmatched clusters the first colours of :data:`PALETTE`, then of matplotlib's
        ``tab20``, that no class uses (at most 20 colours in all).

    Returns
    -------
    numpy.ndarray of str, shape (n_samples,)
        A colour for every sample, usable as ``c=`` in :meth:`matplotlib.axes.Axes.scatter`.

    Raises
    ------
    ValueError
        If the labels are not 1-D of equal length, ``colors`` has too few entries, or
        ``colors`` is None and more than 20 colours are needed.
    """
    lookup = _cluster_colors(y_true, y_pred, colors)
    return np.array([to_hex(lookup[cluster]) for cluster in np.asarray(y_pred).tolist()])


def _cluster_colors(y_true, y_pred, colors=None, clusters=()):
    """The colour of every cluster: its matched class's colour, or a spare one.

    Clusters are matched as in :func:`class_matched_colors`, whose ``colors`` this takes.
    ``clusters`` names labels to colour even if no sample carries them (a component that
    owns no point); like the clusters matched to no class, they get the spare colours, in
    sorted order of their labels.
    """
    _, mapping = matched_confusion_matrix(y_true, y_pred)
    classes = np.unique(np.asarray(y_true)).tolist()
    unmatched = {cluster for cluster, cls in mapping.items() if cls is None}
    unmatched = sorted(unmatched | (set(clusters) - set(mapping)))
    if colors is None:
        colors = _class_and_extra_colors(len(classes), len(unmatched))
    colors = list(colors)
    if len(colors) < len(classes) + len(unmatched):
        raise ValueError(
            f"Got {len(colors)} colours for {len(classes)} classes and {len(unmatched)} "
            "unmatched clusters; pass at least one colour for each."
        )
    lookup = {cluster: colors[classes.index(cls)] for cluster, cls in mapping.items()
              if cls is not None}
    lookup.update({cluster: colors[len(classes) + i] for i, cluster in enumerate(unmatched)})
    return lookup


def _class_and_extra_colors(n_classes, n_extra, limit=20):
    """``component_colors(n_classes)``, then ``n_extra`` colours that differ from them."""
    if n_classes + n_extra > limit:
        raise ValueError(
            f"{n_classes} classes + {n_extra} unmatched clusters need more than {limit} "
            "colours, too many to tell apart; pass colors= with one colour for each."
        )
    # The classes keep the colours they get on their own (component_colors switches
    # palette beyond eight), so a cluster matched to a class is drawn like that class.
    base = component_colors(n_classes)
    used = {color.lower() for color in base}
    pool = [*PALETTE, *(to_hex(plt.get_cmap("tab20")(k)) for k in range(20))]
    extra = []
    for color in pool:
        if len(extra) == n_extra:
            break
        if color.lower() not in used:
            used.add(color.lower())
            extra.append(color)
    return base + extra


def plot_image_table(
    images,
    shape=(28, 28),
    titles=None,
    row_labels=None,
    max_cols=5,
    fig=None,
    width=FIGURE_SIZE[0],
    cmap="gray",
    vmin=0.0,
    vmax=1.0,
):
    """Show a table of images, wrapping its columns into blocks stacked top to bottom.

    Row ``r``, column ``c`` of the table is ``images[r, c]``: say, the three means of one
    run per column, or a component's mean above two of its samples. A table wider than
    ``max_cols`` columns does not shrink its panels to fit the width; columns ``0`` to
    ``max_cols - 1`` form the first block, the next ``max_cols`` the second one, and so
    on, each block a :class:`matplotlib.figure.SubFigure` below the previous one with the
    same row labels. So a figure of ten columns stays ``width`` inches wide and its panels
    stay large enough to read on a phone.

    Parameters
    ----------
    images : array-like of shape (n_rows, n_cols, h * w) or (n_rows, n_cols, h, w)
        The table of images, as flat rows (like ``model.means_``) or as 2-D arrays, where
        ``(h, w)`` is ``shape`` (not the figure's ``width``).
    shape : (int, int)
        ``(height, width)`` of one image, used to unflatten rows.
    titles : array-like of str of shape (n_rows, n_cols) or (n_cols,), optional
        A title per panel ("" for none), or one per column, shown above the first row of
        every block.
    row_labels : sequence of str, optional
        One label per row, written on the left of the first panel of the row in every block.
    max_cols : int
        Columns per block; the last block may have fewer (its empty panels are switched
        off, so that every panel has the same size).
    fig : matplotlib.figure.Figure or SubFigure, optional
        Where to draw; by default a new figure ``width`` inches wide and as tall as the
        panels need.
    width : float
        Width in inches of a new figure.
    cmap : str or Colormap
        Colour map; the default shows pixel probabilities in grey levels.
    vmin, vmax : float
        Values mapped to the ends of the colour map, fixed so that panels are comparable.

    Returns
    -------
    numpy.ndarray of matplotlib.axes.Axes, shape (n_rows, n_cols)
        The Axes of each image at its place in the table (not in the figure), so
        ``axes[r, c]`` shows ``images[r, c]`` whatever the block it landed in.

    Raises
    ------
    ValueError
        If ``images`` is not a table of images of the given ``shape``, if ``titles`` or
        ``row_labels`` do not match it, or if ``max_cols`` is not a positive integer.
    """
    images = np.asarray(images, dtype=float)
    height, img_width = shape
    if images.ndim == 3 and images.shape[2] == height * img_width:
        images = images.reshape(*images.shape[:2], height, img_width)
    if images.ndim != 4 or images.shape[2:] != (height, img_width) or 0 in images.shape:
        raise ValueError(
            f"images must have shape (n_rows, n_cols, {height * img_width}) or (n_rows, "
            f"n_cols, {height}, {img_width}) for shape={tuple(shape)}, got {images.shape}; "
            "for a flat list of images use plot_image_grid."
        )
    n_rows, n_cols = images.shape[:2]
    if not isinstance(max_cols, Integral) or max_cols < 1:
        raise ValueError(f"max_cols must be a positive integer, got {max_cols!r}.")
    if titles is not None:
        titles = np.asarray(titles, dtype=object)
        # Rows of unequal length become a 1-D array of lists: not one title per column.
        if titles.ndim == 1 and any(isinstance(t, (list, tuple, np.ndarray)) for t in titles):
            raise ValueError(
                f"titles must have shape ({n_rows}, {n_cols}) or ({n_cols},) to match the "
                "table, got rows of unequal length."
            )
        if titles.shape == (n_cols,):
            titles = np.vstack([titles, np.full((n_rows - 1, n_cols), "", dtype=object)])
        if titles.shape != (n_rows, n_cols):
            raise ValueError(
                f"titles must have shape ({n_rows}, {n_cols}) or ({n_cols},) to match the "
                f"table, got {titles.shape}."
            )
    if row_labels is not None and len(row_labels) != n_rows:
        raise ValueError(f"Got {len(row_labels)} row labels for {n_rows} rows.")
    block_cols = min(max_cols, n_cols)
    n_blocks = -(-n_cols // block_cols)
    if fig is None:
        panel = width / block_cols
        # Square panels, plus about 0.3 in per line of the longest title of each row.
        lines = 0
        if titles is not None:
            lines = sum(
                max(str(t).count("\n") + 1 if t else 0 for t in row) for row in titles
            )
        fig = plt.figure(figsize=(width, n_blocks * (n_rows * panel + 0.3 * lines) + 0.1))
    blocks = [fig] if n_blocks == 1 else list(np.atleast_1d(fig.subfigures(n_blocks, 1)))
    table = np.empty((n_rows, n_cols), dtype=object)
    for b, block in enumerate(blocks):
        axes = block.subplots(n_rows, block_cols, squeeze=False)
        for r in range(n_rows):
            for j in range(block_cols):
                ax, c = axes[r, j], b * block_cols + j
                if c >= n_cols:
                    ax.axis("off")
                    continue
                ax.imshow(images[r, c], cmap=cmap, vmin=vmin, vmax=vmax)
                ax.set_xticks([])
                ax.set_yticks([])
                ax.grid(False)
                if titles is not None and titles[r, c]:
                    ax.set_title(str(titles[r, c]))
                if row_labels is not None and j == 0:
                    ax.set_ylabel(row_labels[r])
                table[r, c] = ax
    return table


_SUMMARY_TITLES = {
    "bic": "BIC (lower is better)",
    "aic": "AIC (lower is better)",
    "heldout": "held-out (higher is better)",
}
_SUMMARY_YLABELS = {"bic": "BIC", "aic": "AIC", "heldout": "log-lik. per sample"}


def plot_selection_summary(result, fig=None, *, crop=0.75, training=True):
    """Training log-likelihood and every criterion of a selection grid, one panel each.

    The panels, two per row, show the total training log-likelihood (if ``training``) and
    each criterion that the table holds -- BIC, AIC, and the held-out log-likelihood per
    sample when the selection ran with ``cv`` -- against the number of components. Every
    panel draws one line per group of the other grid parameters (one per covariance type,
    say) in the same colour, and stars each criterion's best candidate, as
    :func:`plot_criteria` does; a single legend under the panels serves them all.

    The worst candidates (typically :math:`K = 1`) often lie so far from the ones between
    which the choice is made that they would squeeze those into a few pixels, so each
    criterion's vertical axis is cropped to its better values: from the best value to the
    ``crop`` quantile of all values (the ``1 - crop`` quantile when larger is better), plus
    a margin of 8% of that span at both ends. The training panel is never cropped.

    Parameters
    ----------
    result : SelectionResult, list of dict or dict of sequences
        Output of :func:`emlib.selection.select_mixture`, or its rows, as for
        :func:`plot_criteria`; the grid must vary ``n_components``.
    fig : matplotlib.figure.Figure, optional
        Figure to draw in; by default a new one of :data:`FIGURE_SIZE` width and 3.4 inches
        of height per row of panels.
    crop : float in (0, 1] or None
        Fraction of the candidates kept in view on each criterion's axis; 1 or None shows
        them all.
    training : bool
        Whether the first panel shows the total training log-likelihood.

    Returns
    -------
    numpy.ndarray of matplotlib.axes.Axes, shape (n_rows, 2)
        The panels in the order training, BIC, AIC, held-out; a panel left over in the last
        row is switched off. The Figure is ``axes.flat[0].figure`` and its legend is
        ``fig.legends[0]``.

    Raises
    ------
    ValueError
        If ``crop`` is not in (0, 1], or the table has no criterion values.
    """
    if crop is not None and not 0.0 < crop <= 1.0:
        raise ValueError(f"crop must be a fraction in (0, 1] or None, got {crop!r}.")
    rows = _selection_rows(result)
    if not rows:
        raise ValueError("The selection table is empty; there is nothing to plot.")
    criteria = [c for c in CRITERIA if rows[0].get(CRITERIA[c][0]) is not None]
    if not criteria:
        raise ValueError("The table holds no BIC, AIC or held-out values to plot.")
    panels = (["training"] if training else []) + criteria
    n_rows = -(-len(panels) // 2)
    if fig is None:
        fig = plt.figure(figsize=(FIGURE_SIZE[0], 3.4 * n_rows))
    axes = fig.subplots(n_rows, 2, sharex=True, squeeze=False)

    x = "n_components"
    group_keys = [k for k in rows[0] if k != x and k not in _RESULT_KEYS]
    groups = {}
    for row in rows:
        groups.setdefault(tuple(row[k] for k in group_keys), []).append(row)
    # plot_criteria colours its lines in this order too, so the legend fits every panel.
    colors = component_colors(len(groups))
    names = [", ".join(map(str, g)) if group_keys else "all candidates" for g in groups]

    for ax, panel in zip(axes.flat[: len(panels)], panels, strict=True):
        if panel == "training":
            for color, group_rows in zip(colors, groups.values(), strict=True):
                ax.plot(
                    [row[x] for row in group_rows],
                    [row["log_likelihood"] for row in group_rows],
                    marker="o",
                    color=color,
                )
            ax.set_title("training (higher is better)")
            ax.set_ylabel("total log-likelihood")
            continue
        plot_criteria(rows, ax=ax, criteria=(panel,), x=x)
        ax.get_legend().remove()
        ax.set_title(_SUMMARY_TITLES[panel])
        ax.set_ylabel(_SUMMARY_YLABELS[panel])
        if crop is not None and crop < 1.0:
            key, larger_is_better = CRITERIA[panel]
            values = np.array([row[key] for row in rows], dtype=float)
            if larger_is_better:
                low, high = np.quantile(values, 1.0 - crop), values.max()
            else:
                low, high = values.min(), np.quantile(values, crop)
            # A wide margin keeps the star on the best value inside the Axes.
            margin = 0.08 * (high - low) if high > low else 1.0
            ax.set_ylim(low - margin, high + margin)
    for ax in axes.flat[len(panels):]:
        ax.axis("off")
    # The x axis is shared and labelled under the lowest panel of each column only.
    for index, ax in enumerate(axes.flat[: len(panels)]):
        lowest = index + 2 >= len(panels)
        ax.set_xlabel("number of components K" if lowest else "")
        ax.xaxis.set_tick_params(labelbottom=lowest)
    color_legend(
        fig,
        dict(zip(names, colors, strict=True)),
        star_label="best",
        loc="outside lower center",
        ncol=min(len(names) + 1, 5),
        frameon=False,
    )
    return axes


def plot_gmm_fit(
    model,
    X,
    ax=None,
    *,
    y_true=None,
    n_std=(1, 2),
    colors=None,
    data_color="0.65",
    mean_color="black",
    point_size=6,
):
    """Draw 2-D data in grey with a fitted mixture's ellipses and means on top.

    The picture used to compare fits of the same data: the points as a light
    background, the ``n_std``-standard-deviation ellipses of every component (see
    :func:`plot_covariance_ellipses`) and each mean :math:`\\boldsymbol{\\mu}_k` as a
    cross. With ``y_true``, every component is drawn in the colour of the class it is
    matched to (the matching of :func:`emlib.metrics.matched_confusion_matrix` between
    the classes and ``model.predict(X)``), so that fits of a data set with known classes
    colour each cluster alike whatever order EM put the components in.

    Parameters
    ----------
    model : GaussianMixture
        Fitted :class:`emlib.GaussianMixture` (or scikit-learn's) on 2-D data.
    X : array-like of shape (n_samples, 2)
        The data to draw, usually the data the model was fitted on.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; the current Axes by default.
    y_true : array-like of shape (n_samples,), optional
        True class of every point of ``X``. Class ``c`` (the ``c``-th in sorted order)
        has colour ``component_colors(n_classes)[c]``, that is ``PALETTE[c]``; components
        matched to no class get further colours.
    n_std : float or sequence of float
        Radii of the ellipses in standard deviations.
    colors : color, sequence of colors or None
        Colours of the components when ``y_true`` is not given; :data:`PALETTE` by default.
    data_color, mean_color : color
        Colours of the points and of the crosses marking the means.
    point_size : float
        Marker area of the points, in points squared.

    Returns
    -------
    matplotlib.axes.Axes
        Its legend handles are labelled ``"data"``, ``"<n_std> s.d."`` (e.g. ``"1 and 2
        s.d."``) and ``"means"``, ready for ``ax.legend()`` or a figure legend.

    Raises
    ------
    ValueError
        If ``X`` is not 2-D data of the model's two features, ``y_true`` does not have one
        label per point, or both ``y_true`` and ``colors`` are given.
    """
    _check_model(model, 2)
    X = np.asarray(X, dtype=float)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"X must have shape (n_samples, 2), got {X.shape}.")
    n_components = model.means_.shape[0]
    if y_true is not None:
        if colors is not None:
            raise ValueError(
                "Pass either y_true (colours matched to the classes) or colors, not both."
            )
        y_true = np.asarray(y_true)
        if y_true.shape != (X.shape[0],):
            raise ValueError(
                f"y_true must hold one label per point of X ({X.shape[0]}), got shape "
                f"{y_true.shape}."
            )
        lookup = _cluster_colors(y_true, model.predict(X), clusters=range(n_components))
        colors = [lookup[k] for k in range(n_components)]
    radii = np.atleast_1d(np.asarray(n_std, dtype=float))
    ax = plt.gca() if ax is None else ax
    ax.scatter(X[:, 0], X[:, 1], s=point_size, color=data_color, label="data")
    plot_covariance_ellipses(
        model.means_,
        model.covariances_,
        ax=ax,
        n_std=radii,
        covariance_type=model.covariance_type,
        colors=colors,
    )
    # The legend entry stands for the ellipses of every component, so it gets a
    # neutral colour unless all of them share one, and an empty line carries it.
    ax.plot(
        [],
        [],
        color=colors if is_color_like(colors) else "0.3",
        linewidth=1.5,
        label=" and ".join(f"{r:g}" for r in radii) + " s.d.",
    )
    ax.scatter(
        model.means_[:, 0],
        model.means_[:, 1],
        marker="X",
        s=80,
        color=mean_color,
        zorder=3,
        label="means",
    )
    return ax


# ---------------------------------------------------------------- chapter 7: robust mixtures
def plot_scale_weights(model, X, ax=None, *, cmap="viridis", point_size=14, colorbar=True):
    """Draw 2-D data coloured by the weights a t mixture's E-step gives them.

    Each point :math:`x_n` is coloured by :math:`E[u_n \\mid x_n] = \\sum_k r_{nk}
    u_{nk}` (:meth:`emlib.StudentTMixture.scale_weights`), on a colour scale from 0 to
    the largest weight, and the points are drawn from the largest weight to the smallest
    so that the down-weighted ones stay visible on top.

    Parameters
    ----------
    model : StudentTMixture
        Fitted :class:`emlib.StudentTMixture` on 2-D data.
    X : array-like of shape (n_samples, 2)
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; the current Axes by default.
    cmap : str or Colormap, default="viridis"
    point_size : float, default=14
        Marker area, in points squared.
    colorbar : bool, default=True
        Add a colour bar labelled with the weight.

    Returns
    -------
    matplotlib.axes.Axes
        The scatter is ``ax.collections[0]``, its points in drawing order.
    """
    _check_model(model, 2)
    X = np.asarray(X, dtype=float)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"X must have shape (n_samples, 2), got {X.shape}.")
    ax = plt.gca() if ax is None else ax
    weights = np.asarray(model.scale_weights(X), dtype=float)
    order = np.argsort(-weights, kind="stable")
    points = ax.scatter(
        X[order, 0], X[order, 1], c=weights[order], cmap=cmap, s=point_size,
        vmin=0.0, vmax=max(float(weights.max()), 1.0),
    )
    if colorbar:
        ax.figure.colorbar(points, ax=ax, label=r"weight $E[u_n \mid x_n]$")
    return ax


# Chapter 8 (mixtures for counts and text).


def plot_top_words(means, vocabulary, n_words=8, titles=None, ncols=3, colors=None, fig=None):
    """Bar charts of the most probable words of every component, one panel per component.

    Parameters
    ----------
    means : array-like of shape (n_components, n_features)
        Word probabilities, e.g. ``MultinomialMixture.means_`` (each row sums to one).
    vocabulary : sequence of str of length n_features
        The word of every column.
    n_words : int
        Words shown per component, the most probable first (at the top).
    titles : sequence of str, optional
        One title per component.
    ncols : int
        Panels per row (fewer if there are fewer components).
    colors : None, a colour or a sequence of colours
        One colour per component; by default :func:`component_colors`.
    fig : matplotlib.figure.Figure, optional
        Figure to draw in; by default a new one of the course's width, 2.2 inches tall
        per row of panels.

    Returns
    -------
    numpy.ndarray of matplotlib.axes.Axes, shape (n_rows, ncols)
        One Axes per panel, the probabilities on the horizontal axis; panels beyond the
        last component are switched off.
    """
    means = np.asarray(means, dtype=float)
    vocabulary = np.asarray(vocabulary)
    if means.ndim != 2 or means.shape[0] == 0 or vocabulary.shape != means.shape[1:]:
        raise ValueError(
            f"means must have shape (n_components, n_features) and vocabulary one word per "
            f"feature; got means of shape {means.shape} and {vocabulary.size} words."
        )
    n_components, n_features = means.shape
    if not isinstance(n_words, Integral) or not 1 <= n_words <= n_features:
        raise ValueError(f"n_words must be an integer from 1 to {n_features}, got {n_words!r}.")
    if titles is not None and len(titles) != n_components:
        raise ValueError(
            f"Got {len(titles)} titles for {n_components} components; pass one per component."
        )
    colors = _resolve_colors(colors, n_components)
    ncols = min(ncols, n_components)
    nrows = -(-n_components // ncols)
    if fig is None:
        fig = plt.figure(figsize=(FIGURE_SIZE[0], 2.2 * nrows))
    axes = fig.subplots(nrows, ncols, squeeze=False)
    for k, ax in enumerate(axes.flat):
        if k >= n_components:
            ax.axis("off")
            continue
        # Stable sort, so that ties keep the order of the vocabulary.
        top = np.argsort(-means[k], kind="stable")[:n_words]
        positions = np.arange(n_words)[::-1]  # the most probable word at the top
        ax.barh(positions, means[k, top], color=colors[k])
        ax.set_yticks(positions, [str(word) for word in vocabulary[top]], fontsize="small")
        ax.tick_params(axis="x", labelsize="x-small")
        ax.xaxis.set_major_locator(MaxNLocator(nbins=3))
        ax.grid(axis="y", visible=False)
        if titles is not None:
            ax.set_title(titles[k], fontsize="small")
    return axes


# Chapter 9 (EM at scale).
def plot_seed_band(x, values, ax=None, *, label=None, color=None, alpha=0.25, **kwargs):
    """The median over seeds of a curve, drawn as a line, with the min-max range as a band.

    For learning curves repeated with several random seeds (chapter 9: held-out
    log-likelihood or inertia against the number of samples processed): the line shows the
    typical run, the band every run.

    Parameters
    ----------
    x : array-like of shape (n_points,)
        Where the curves were measured (for example samples processed).
    values : array-like of shape (n_seeds, n_points)
        One row per seed.
    ax : matplotlib Axes, optional
    label : str, optional
        Legend entry of the median line.
    color : color, optional
        Colour of the line and the band (the next colour of the cycle by default).
    alpha : float, default=0.25
        Opacity of the band.
    **kwargs
        Passed to :meth:`matplotlib.axes.Axes.plot` for the median line.

    Returns
    -------
    matplotlib.axes.Axes
    """
    x = np.asarray(x, dtype=float)
    values = np.asarray(values, dtype=float)
    if values.ndim != 2 or values.shape[1] != x.size:
        raise ValueError(
            f"values must have shape (n_seeds, {x.size}), one row per seed and one column "
            f"per x; got {values.shape}."
        )
    ax = plt.gca() if ax is None else ax
    (line,) = ax.plot(x, np.median(values, axis=0), label=label, color=color, **kwargs)
    ax.fill_between(
        x, values.min(axis=0), values.max(axis=0), color=line.get_color(), alpha=alpha,
        linewidth=0,
    )
    return ax
