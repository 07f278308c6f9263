"""Tests for the figure of emlib.plotting used in chapter 7."""

import matplotlib.pyplot as plt
import numpy as np
import pytest

from emlib import GaussianMixture, StudentTMixture
from emlib.plotting import plot_scale_weights


@pytest.fixture(scope="module")
def fitted():
    rng = np.random.default_rng(0)
    X = np.r_[rng.normal(0, 1, (60, 2)), [[15.0, 15.0], [-12.0, 14.0]]]
    model = StudentTMixture.from_parameters([1.0], [[0.0, 0.0]], [np.eye(2)], 3.0)
    return model, X


def test_points_are_coloured_by_their_weights_smallest_on_top(fitted):
    model, X = fitted
    _, ax = plt.subplots()
    plot_scale_weights(model, X, ax=ax)
    scatter = ax.collections[0]
    weights = model.scale_weights(X)
    shown = np.asarray(scatter.get_array())
    order = np.argsort(-weights, kind="stable")
    np.testing.assert_allclose(shown, weights[order])
    np.testing.assert_allclose(scatter.get_offsets(), X[order])
    # The two far points are drawn last, with the smallest weights.
    assert set(order[-2:]) == {60, 61}
    assert scatter.norm.vmin == 0.0 and scatter.norm.vmax >= 1.0
    assert len(ax.figure.axes) == 2  # the colour bar
    plt.close(ax.figure)


def test_without_colour_bar_and_on_the_current_axes(fitted):
    model, X = fitted
    fig = plt.figure()
    ax = plot_scale_weights(model, X, colorbar=False)
    assert ax is fig.axes[0] and len(fig.axes) == 1
    plt.close(fig)


def test_bad_input_is_explained(fitted):
    model, X = fitted
    with pytest.raises(ValueError, match=r"X must have shape \(n_samples, 2\)"):
        plot_scale_weights(model, X[:, :1].ravel())
    three = StudentTMixture(1, random_state=0).fit(np.c_[X, X[:, 0]])
    with pytest.raises(ValueError, match="2-D data"):
        plot_scale_weights(three, np.c_[X, X[:, 0]])
    gaussian = GaussianMixture(1, random_state=0).fit(X)
    with pytest.raises(AttributeError):
        plot_scale_weights(gaussian, X)
