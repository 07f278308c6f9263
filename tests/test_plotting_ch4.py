"""Tests for emlib.plotting.plot_gmm_fit, the data-and-ellipses figure of chapter 4."""

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.colors import to_hex

from emlib import GaussianMixture
from emlib.datasets import three_blobs_2d
from emlib.plotting import PALETTE, plot_gmm_fit


@pytest.fixture(scope="module")
def blobs():
    X, y = three_blobs_2d(n_samples=300, random_state=0)
    return X, y


def _ellipse_colors(ax, n_std):
    """Edge colour of each component's ellipses, one per component, in model order."""
    edges = [to_hex(patch.get_edgecolor()) for patch in ax.patches]
    return edges[::n_std]


def test_components_take_the_colour_of_their_matched_class(blobs):
    X, y = blobs
    model = GaussianMixture(n_components=3, random_state=0).fit(X)
    # Relabel the classes so that class c sits where component perm[c] is:
    # the drawing must follow the classes, not EM's component order.
    perm = np.array([2, 0, 1])
    ax = plot_gmm_fit(model, X, y_true=perm[y], n_std=(1, 2))
    predicted = model.predict(X)
    for k, color in enumerate(_ellipse_colors(ax, 2)):
        # The class that holds most of component k's points is its match here.
        cls = np.bincount(perm[y][predicted == k], minlength=3).argmax()
        assert color == PALETTE[cls].lower()


def test_ellipses_means_and_legend(blobs):
    X, _ = blobs
    model = GaussianMixture(n_components=3, random_state=0).fit(X)
    _, ax = plt.subplots()
    assert plot_gmm_fit(model, X, ax=ax, n_std=(1, 2)) is ax
    assert len(ax.patches) == 3 * 2
    data, means = ax.collections
    np.testing.assert_array_equal(data.get_offsets(), X)
    np.testing.assert_array_equal(means.get_offsets(), model.means_)
    _, labels = ax.get_legend_handles_labels()
    assert labels == ["data", "1 and 2 s.d.", "means"]
    # Without classes the components follow the palette in model order.
    assert _ellipse_colors(ax, 2) == [c.lower() for c in PALETTE[:3]]
    # One legend entry stands for all components: neutral grey, not the first
    # component's colour, unless every component shares one colour.
    handles, _ = ax.get_legend_handles_labels()
    assert to_hex(handles[1].get_color()) == to_hex("0.3")
    _, ax_black = plt.subplots()
    plot_gmm_fit(model, X, ax=ax_black, colors="black")
    handles, _ = ax_black.get_legend_handles_labels()
    assert to_hex(handles[1].get_color()) == "#000000"


def test_a_component_that_owns_no_point_gets_a_spare_colour():
    X, y = three_blobs_2d(n_samples=300, random_state=0)
    means = np.vstack([X[y == c].mean(axis=0) for c in range(3)] + [[40.0, 40.0]])
    model = GaussianMixture.from_parameters(
        np.full(4, 0.25), means, np.array([np.eye(2)] * 4)
    )
    ax = plot_gmm_fit(model, X, y_true=y, n_std=1)
    colors = _ellipse_colors(ax, 1)
    assert colors[:3] == [c.lower() for c in PALETTE[:3]]
    assert colors[3] not in colors[:3]


def test_bad_inputs_are_rejected(blobs):
    X, y = blobs
    model = GaussianMixture(n_components=3, random_state=0).fit(X)
    with pytest.raises(ValueError, match="either y_true"):
        plot_gmm_fit(model, X, y_true=y, colors="red")
    with pytest.raises(ValueError, match="one label per point"):
        plot_gmm_fit(model, X, y_true=y[:-1])
    with pytest.raises(ValueError, match=r"shape \(n_samples, 2\)"):
        plot_gmm_fit(model, X[:, :1])
