"""Tests for emlib.plotting: returned Axes, ellipse geometry, images and error messages."""

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.colors import to_hex, to_rgb
from matplotlib.image import AxesImage
from matplotlib.patches import Ellipse
from scipy.integrate import trapezoid
from scipy.stats import norm

from emlib import GaussianMixture, plotting
from emlib.plotting import (
    PALETTE,
    component_colors,
    plot_1d_mixture,
    plot_convergence,
    plot_covariance_ellipses,
    plot_criteria,
    plot_density_contours,
    plot_gmm_ellipses,
    plot_image_grid,
    plot_responsibilities,
)
from emlib.selection import COVARIANCE_TYPES, select_gaussian_mixture


@pytest.fixture(scope="module")
def blobs():
    rng = np.random.default_rng(0)
    centres = np.array([[0.0, 0.0], [6.0, 0.0], [0.0, 6.0]])
    scales = np.array([[1.0, 0.4], [0.5, 1.2], [0.8, 0.8]])
    return np.concatenate(
        [rng.normal(c, s, size=(80, 2)) for c, s in zip(centres, scales, strict=True)]
    )


@pytest.fixture(scope="module")
def fitted(blobs):
    return {
        covariance_type: GaussianMixture(3, covariance_type=covariance_type, random_state=0).fit(
            blobs
        )
        for covariance_type in COVARIANCE_TYPES
    }


def ellipse_boundary(patch, n_points=16):
    """Points on a drawn ellipse: the image of the unit circle under the patch transform."""
    t = np.linspace(0, 2 * np.pi, n_points, endpoint=False)
    return patch.get_patch_transform().transform(np.column_stack([np.cos(t), np.sin(t)]))


def mahalanobis_squared(points, mean, covariance):
    diff = points - mean
    return np.einsum("ni,ij,nj->n", diff, np.linalg.inv(covariance), diff)


def expand_covariances(covariances, covariance_type, n_components):
    """(K, 2, 2) matrices from scikit-learn's covariance layouts, written out independently."""
    if covariance_type == "full":
        return covariances
    if covariance_type == "tied":
        return [covariances] * n_components
    if covariance_type == "diag":
        return [np.diag(v) for v in covariances]
    return [v * np.eye(2) for v in covariances]


@pytest.mark.parametrize(
    ("covariance_type", "covariances"),
    [
        ("full", [[[4.0, 0.0], [0.0, 1.0]]]),
        ("tied", [[4.0, 0.0], [0.0, 1.0]]),
        ("diag", [[4.0, 1.0]]),
    ],
)
def test_one_sigma_ellipse_of_diag_4_1(covariance_type, covariances):
    ax = plot_covariance_ellipses(
        [[1.0, -2.0]], covariances, n_std=1, covariance_type=covariance_type
    )
    (patch,) = ax.patches
    assert isinstance(patch, Ellipse)
    assert patch.width == pytest.approx(4.0)
    assert patch.height == pytest.approx(2.0)
    assert patch.angle % 180 == pytest.approx(0.0, abs=1e-9)
    assert patch.center == pytest.approx((1.0, -2.0))


def test_major_axis_along_y_gives_angle_90():
    ax = plot_covariance_ellipses([[0.0, 0.0]], [[1.0, 4.0]], n_std=1, covariance_type="diag")
    (patch,) = ax.patches
    assert (patch.width, patch.height, patch.angle) == pytest.approx((4.0, 2.0, 90.0))


def test_spherical_ellipse_is_a_circle():
    ax = plot_covariance_ellipses([[0.0, 0.0]], [9.0], n_std=2, covariance_type="spherical")
    (patch,) = ax.patches
    assert (patch.width, patch.height) == pytest.approx((12.0, 12.0))


def test_rotated_covariance_angle_and_axes():
    angle = np.radians(30.0)
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    covariance = rotation @ np.diag([9.0, 1.0]) @ rotation.T
    ax = plot_covariance_ellipses([[0.0, 0.0]], [covariance], n_std=1)
    (patch,) = ax.patches
    assert (patch.width, patch.height, patch.angle) == pytest.approx((6.0, 2.0, 30.0))


def test_ellipses_follow_the_requested_radii_in_order():
    covariance = [[[2.0, 0.7], [0.7, 1.0]]]
    ax = plot_covariance_ellipses([[3.0, 1.0]], covariance, n_std=(1, 2, 3))
    assert [p.width / ax.patches[0].width for p in ax.patches] == pytest.approx([1, 2, 3])
    for radius, patch in zip((1, 2, 3), ax.patches, strict=True):
        distances = mahalanobis_squared(ellipse_boundary(patch), [3.0, 1.0], covariance[0])
        np.testing.assert_allclose(distances, radius**2, rtol=1e-9)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_model_ellipses_lie_on_mahalanobis_contours(fitted, covariance_type):
    model = fitted[covariance_type]
    ax = plot_gmm_ellipses(model, n_std=(1, 2))
    assert len(ax.patches) == 3 * 2
    covariances = expand_covariances(model.covariances_, covariance_type, 3)
    for index, patch in enumerate(ax.patches):
        k, radius = divmod(index, 2)
        distances = mahalanobis_squared(ellipse_boundary(patch), model.means_[k], covariances[k])
        np.testing.assert_allclose(distances, (radius + 1) ** 2, rtol=1e-6)
        assert patch.get_edgecolor()[:3] == pytest.approx(to_rgb(PALETTE[k]))


def test_ellipse_label_appears_once_in_the_legend():
    ax = plot_covariance_ellipses(
        [[0.0, 0.0], [3.0, 3.0]], [1.0, 2.0], covariance_type="spherical", label="fitted"
    )
    handles, labels = ax.get_legend_handles_labels()
    assert labels == ["fitted"]


def test_single_colour_for_every_component():
    ax = plot_covariance_ellipses(
        [[0.0, 0.0], [3.0, 3.0]], [1.0, 2.0], covariance_type="spherical", colors="red", n_std=1
    )
    assert [p.get_edgecolor()[:3] for p in ax.patches] == [(1.0, 0.0, 0.0)] * 2


def test_ellipses_use_the_given_axes_and_default_to_current():
    fig, (left, right) = plt.subplots(1, 2)
    assert plot_covariance_ellipses([[0, 0]], [1.0], ax=left, covariance_type="spherical") is left
    plt.sca(right)
    assert plot_covariance_ellipses([[0, 0]], [1.0], covariance_type="spherical") is right
    assert len(left.patches) == 3 and len(right.patches) == 3


def test_ellipses_reject_non_2d_means():
    with pytest.raises(ValueError, match="drawn in the plane.*got \\(1, 3\\)"):
        plot_covariance_ellipses([[0.0, 0.0, 0.0]], [np.eye(3)])


def test_ellipses_reject_mismatched_covariances():
    with pytest.raises(ValueError, match=r"covariance_type='diag'.*shape \(2, 2\), got \(2,\)"):
        plot_covariance_ellipses([[0.0, 0.0], [1.0, 1.0]], [1.0, 2.0], covariance_type="diag")
    with pytest.raises(ValueError, match="covariance_type must be one of"):
        plot_covariance_ellipses([[0.0, 0.0]], [1.0], covariance_type="round")


def test_ellipses_reject_a_covariance_that_is_not_positive_definite():
    with pytest.raises(ValueError, match="not positive definite"):
        plot_covariance_ellipses([[0.0, 0.0]], [[[1.0, 2.0], [2.0, 1.0]]])


def test_model_plots_reject_models_of_other_dimension(blobs):
    model = GaussianMixture(2, random_state=0).fit(np.column_stack([blobs, blobs[:, :1]]))
    for plot in (plot_gmm_ellipses, plot_density_contours, plot_responsibilities):
        with pytest.raises(ValueError, match="fitted on 2-D data, but the model has 3"):
            plot(model)


def test_density_contours_trace_the_model_density(fitted):
    model = fitted["full"]
    levels = [0.005, 0.02, 0.05]
    ax = plot_density_contours(model, xlim=(-3, 9), ylim=(-3, 9), levels=levels, grid=200)
    (contours,) = ax.collections
    np.testing.assert_allclose(contours.levels, levels)
    for level, path in zip(levels, contours.get_paths(), strict=True):
        assert len(path.vertices) > 0
        density = np.exp(model.score_samples(path.vertices))
        np.testing.assert_allclose(density, level, rtol=0.05)


def test_density_contours_take_the_window_of_existing_data(fitted, blobs):
    fig, ax = plt.subplots()
    ax.scatter(*blobs.T)
    limits = ax.get_xlim(), ax.get_ylim()
    plot_density_contours(fitted["diag"], ax=ax, grid=20)
    assert [*ax.get_xlim(), *ax.get_ylim()] == pytest.approx([*limits[0], *limits[1]])


def test_responsibility_image(fitted):
    model = fitted["full"]
    ax = plot_responsibilities(model, xlim=(-4, 10), ylim=(-3, 9), grid=40)
    (image,) = [a for a in ax.get_children() if isinstance(a, AxesImage)]
    assert image.get_extent() == pytest.approx([-4, 10, -3, 9])
    pixels = image.get_array()
    assert pixels.shape == (40, 40, 3)
    # The pixel nearest each mean carries the colour of the component owning it.
    xs, ys = np.linspace(-4, 10, 40), np.linspace(-3, 9, 40)
    for k, (mx, my) in enumerate(model.means_):
        pixel = pixels[np.abs(ys - my).argmin(), np.abs(xs - mx).argmin()]
        np.testing.assert_allclose(pixel, to_rgb(PALETTE[k]), atol=1e-3)


def test_convergence_plot():
    history = [-3.0, -2.5, -2.2, -2.1, -2.05]
    ax = plot_convergence(history, label="EM")
    (line,) = ax.lines
    np.testing.assert_array_equal(line.get_xdata(), np.arange(5))
    np.testing.assert_array_equal(line.get_ydata(), history)
    assert ax.get_xlabel() == "iteration"
    assert ax.get_ylabel() == "mean log-likelihood per sample"
    assert line.get_label() == "EM"
    assert all(float(t).is_integer() for t in ax.get_xticks())


def test_convergence_rejects_non_1d_history():
    with pytest.raises(ValueError, match="non-empty 1-D"):
        plot_convergence([[1.0, 2.0]])
    with pytest.raises(ValueError, match="non-empty 1-D"):
        plot_convergence([])


def test_image_grid_layout():
    images = np.linspace(0, 1, 13 * 28 * 28).reshape(13, 28 * 28)
    axes = plot_image_grid(images, ncols=5, titles=[f"#{i}" for i in range(13)])
    assert axes.shape == (3, 5)
    assert len({ax.figure for ax in axes.flat}) == 1
    shown = [ax for ax in axes.flat if ax.axison]
    assert len(shown) == 13
    first = shown[0].images[0]
    assert first.get_array().shape == (28, 28)
    assert first.get_clim() == (0.0, 1.0)
    assert shown[12].get_title() == "#12"
    np.testing.assert_array_equal(shown[12].images[0].get_array(), images[12].reshape(28, 28))


def test_image_grid_accepts_2d_images_and_fewer_than_ncols():
    axes = plot_image_grid(np.zeros((3, 8, 8)), shape=(8, 8))
    assert axes.shape == (1, 3)


def test_image_grid_rejects_wrong_shapes():
    with pytest.raises(ValueError, match=r"shape \(n_images, 784\)"):
        plot_image_grid(np.zeros((4, 100)))
    with pytest.raises(ValueError, match="2 titles for 4 images"):
        plot_image_grid(np.zeros((4, 784)), titles=["a", "b"])


def test_criteria_from_columns_marks_the_minimum():
    columns = {"n_components": [1, 2, 3, 4], "bic": [10.0, 4.0, 6.0, 8.0], "aic": [9, 3, 2, 5]}
    ax = plot_criteria(columns)
    stars = [line for line in ax.lines if line.get_marker() == "*"]
    assert [(s.get_xdata()[0], s.get_ydata()[0]) for s in stars] == [(2, 4.0), (3, 2)]
    assert ax.get_xlabel() == "number of components K"
    assert "best BIC: K=2" in [t.get_text() for t in ax.get_legend().get_texts()]


def test_criteria_from_a_selection_result(blobs):
    result = select_gaussian_mixture(blobs, [1, 2, 3, 4], ["full", "spherical"], n_init=1, cv=2)
    fig, (left, right) = plt.subplots(1, 2)
    plot_criteria(result, ax=left)
    # 2 criteria x 2 covariance types, plus one star per criterion.
    assert len(left.lines) == 2 * 2 + 2
    plot_criteria(result, ax=right, criteria=("heldout",))
    (star,) = [line for line in right.lines if line.get_marker() == "*"]
    best = result.best("heldout")
    assert star.get_ydata()[0] == pytest.approx(best["heldout_log_likelihood"])
    assert "higher is better" in right.get_ylabel()


def test_criteria_reject_mixed_scales_and_missing_values():
    columns = {"n_components": [1, 2], "bic": [3.0, 2.0], "heldout_log_likelihood": [None, None]}
    with pytest.raises(ValueError, match="different scales"):
        plot_criteria(columns, criteria=("bic", "heldout"))
    with pytest.raises(ValueError, match="no 'heldout' values"):
        plot_criteria(columns, criteria=("heldout",))
    with pytest.raises(ValueError, match="criteria must be chosen from"):
        plot_criteria(columns, criteria=("loglik",))


def test_1d_mixture_from_parameters():
    x = np.linspace(-15, 20, 3501)
    ax = plot_1d_mixture(weights=[0.3, 0.7], means=[-2.0, 3.0], variances=[1.0, 4.0], x=x)
    mixture, first, second = ax.lines
    expected = 0.3 * norm.pdf(x, -2, 1) + 0.7 * norm.pdf(x, 3, 2)
    np.testing.assert_allclose(mixture.get_ydata(), expected)
    np.testing.assert_allclose(second.get_ydata(), 0.7 * norm.pdf(x, 3, 2))
    assert trapezoid(mixture.get_ydata(), x) == pytest.approx(1.0, abs=1e-4)
    assert ax.get_legend_handles_labels()[1] == ["mixture", "mixture: weighted components"]


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_1d_mixture_from_a_model_matches_its_density(covariance_type):
    rng = np.random.default_rng(3)
    X = np.concatenate([rng.normal(-3, 1, 150), rng.normal(2, 0.5, 100)])[:, None]
    model = GaussianMixture(2, covariance_type=covariance_type, random_state=0).fit(X)
    x = np.linspace(-6, 5, 50)
    ax = plot_1d_mixture(model, x=x, show_components=False)
    (line,) = ax.lines
    np.testing.assert_allclose(line.get_ydata(), np.exp(model.score_samples(x[:, None])))


def test_1d_mixture_needs_exactly_one_source(fitted):
    with pytest.raises(ValueError, match="either a fitted model or all three"):
        plot_1d_mixture()
    with pytest.raises(ValueError, match="either a fitted model or all three"):
        plot_1d_mixture(weights=[1.0], means=[0.0])
    with pytest.raises(ValueError, match="fitted on 1-D data"):
        plot_1d_mixture(fitted["full"])
    with pytest.raises(ValueError, match="summing to one"):
        plot_1d_mixture(weights=[0.5, 0.4], means=[0.0, 1.0], variances=[1.0, 1.0])


def test_component_colors():
    assert component_colors(3) == list(PALETTE[:3])
    for n in (10, 20):
        assert len(set(component_colors(n))) == n
    with pytest.raises(ValueError, match="from 1 to 20"):
        component_colors(21)


def test_course_style_sizes_figures_for_the_book_column():
    with matplotlib.rc_context():
        plotting.use_course_style()
        fig, ax = plt.subplots()
        ax.plot([0, 1], [0, 1])
        fig.canvas.draw()
        width_px = fig.get_size_inches()[0] * fig.dpi
        tick_px = max(
            label.get_window_extent().height for label in ax.get_xticklabels() if label.get_text()
        )
        line_color = to_hex(ax.get_lines()[0].get_color())
        plt.close(fig)
    assert width_px == 640
    # Scaled from 640 px to a 360-px phone column, tick labels stay at least 8 px tall.
    assert tick_px * 360 / 640 >= 8
    assert line_color == plotting.PALETTE[0].lower()
    # The context manager restored the defaults: the style is opt-in, not a side effect.
    assert tuple(matplotlib.rcParams["figure.figsize"]) != plotting.FIGURE_SIZE
