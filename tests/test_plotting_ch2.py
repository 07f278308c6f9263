"""Tests of emlib.plotting.plot_regions (the plane shaded by predicted cluster)."""

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.colors import to_rgb

import emlib
from emlib.plotting import plot_regions


@pytest.fixture
def two_clusters():
    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal(-3, 0.5, (50, 2)), rng.normal(3, 0.5, (50, 2))])
    return X, emlib.KMeans(n_clusters=2, n_init=3, random_state=0).fit(X)


def test_pixels_take_the_tinted_colour_of_their_predicted_cluster(two_clusters):
    _, km = two_clusters
    fig, ax = plt.subplots()
    colors = ["#ff0000", "#0000ff"]
    plot_regions(km, ax=ax, xlim=(-6, 6), ylim=(-6, 6), grid=20, colors=colors, tint=0.5)
    image = ax.images[0].get_array()
    assert image.shape == (20, 20, 3)
    assert ax.images[0].get_extent() == [-6, 6, -6, 6]
    # The extent gives the outer pixel edges: pixel i has its centre at -6 + (i + 1/2) 0.6.
    centres = -6 + (np.arange(20) + 0.5) * 0.6
    xx, yy = np.meshgrid(centres, centres)
    labels = km.predict(np.column_stack([xx.ravel(), yy.ravel()])).reshape(20, 20)
    expected = 0.5 * np.array([to_rgb(c) for c in colors])[labels] + 0.5
    np.testing.assert_allclose(image, expected)
    plt.close(fig)


def test_tint_zero_is_white_and_default_colours_work(two_clusters):
    _, km = two_clusters
    fig, ax = plt.subplots()
    plot_regions(km, ax=ax, xlim=(-6, 6), ylim=(-6, 6), grid=10, tint=0.0)
    np.testing.assert_allclose(ax.images[0].get_array(), 1.0)
    plt.close(fig)


def test_works_for_a_gaussian_mixture(two_clusters):
    X, _ = two_clusters
    gm = emlib.GaussianMixture(n_components=2, random_state=0).fit(X)
    fig, ax = plt.subplots()
    plot_regions(gm, ax=ax, xlim=(-6, 6), ylim=(-6, 6), grid=10)
    assert len(ax.images) == 1
    plt.close(fig)


def test_bad_input_is_refused_clearly(two_clusters):
    X, km = two_clusters
    fig, ax = plt.subplots()
    with pytest.raises(ValueError, match="tint"):
        plot_regions(km, ax=ax, xlim=(-1, 1), ylim=(-1, 1), tint=1.5)
    with pytest.raises(ValueError, match="colours"):
        plot_regions(km, ax=ax, xlim=(-1, 1), ylim=(-1, 1), colors=["red"] * 3)
    km3 = emlib.KMeans(n_clusters=2, random_state=0).fit(np.column_stack([X, X[:, :1]]))
    with pytest.raises(ValueError, match="2-D"):
        plot_regions(km3, ax=ax, xlim=(-1, 1), ylim=(-1, 1))
    plt.close(fig)


def test_each_pixel_takes_the_label_of_its_centre_not_of_an_edge():
    # Centres at x = 0 and x = 1: the boundary is x = 1/2. The window (0.35, 1.15) in two
    # pixels has pixel centres 0.55 and 0.95, both right of it, so both pixels belong to
    # cluster 1; sampling the edges 0.35 and 1.15 would shift the image by half a pixel
    # and paint the first pixel as cluster 0.
    points = np.array([[0.0, 0.0], [1.0, 0.0]])
    km = emlib.KMeans(n_clusters=2, init=points).fit(points)
    fig, ax = plt.subplots()
    plot_regions(
        km, ax=ax, xlim=(0.35, 1.15), ylim=(-1, 1), grid=2,
        colors=["#000000", "#ffffff"], tint=1.0,
    )
    np.testing.assert_allclose(ax.images[0].get_array()[..., 0], 1.0)
    plt.close(fig)

def test_an_equal_aspect_set_before_is_kept(two_clusters):
    _, km = two_clusters
    fig, ax = plt.subplots()
    ax.set_aspect("equal")
    plot_regions(km, ax=ax, xlim=(-6, 6), ylim=(-3, 3), grid=10)
    assert ax.get_aspect() == 1.0
    fig2, ax2 = plt.subplots()
    plot_regions(km, ax=ax2, xlim=(-6, 6), ylim=(-3, 3), grid=10)
    assert ax2.get_aspect() == "auto"
    plt.close(fig)
    plt.close(fig2)
