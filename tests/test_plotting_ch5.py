"""Tests for the legend and class-matched colours of emlib.plotting used in chapter 5."""

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.colors import to_hex

from emlib.plotting import PALETTE, class_matched_colors, color_legend

# Render off-screen; switching after pyplot is imported is allowed.
matplotlib.use("Agg")


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_color_legend_on_a_figure_has_one_entry_per_label():
    fig, axes = plt.subplots(1, 2)
    colors = {"full": "#0072B2", "diag": "#E69F00"}
    legend = color_legend(fig, colors, loc="lower center", ncol=2)
    assert legend in fig.legends
    assert [text.get_text() for text in legend.get_texts()] == ["full", "diag"]
    lines = legend.legend_handles
    assert [to_hex(line.get_color()) for line in lines] == ["#0072b2", "#e69f00"]
    assert all(ax.get_legend() is None for ax in axes)


def test_color_legend_star_entry_and_axes_target():
    _, ax = plt.subplots()
    legend = color_legend(ax, {1: "red"}, linestyle="none", star_label="best")
    assert ax.get_legend() is legend
    assert [text.get_text() for text in legend.get_texts()] == ["1", "best"]
    assert legend.legend_handles[0].get_linestyle() == "None"
    assert legend.legend_handles[1].get_marker() == "*"


def test_color_legend_rejects_bad_colours():
    _, ax = plt.subplots()
    with pytest.raises(ValueError, match="empty"):
        color_legend(ax, {})
    with pytest.raises(ValueError, match="Not a matplotlib colour"):
        color_legend(ax, {"a": "not-a-colour"})


def test_classes_coloured_by_themselves_follow_the_palette():
    y = np.array([2, 0, 1, 1, 0, 2])
    colors = class_matched_colors(y, y)
    expected = [PALETTE[k].lower() for k in y]
    assert colors.tolist() == expected


def test_clusters_take_the_colour_of_their_matched_class():
    y_true = [0, 0, 0, 1, 1, 1]
    # Cluster 7 holds class 0, cluster 3 holds class 1 with one mistake.
    y_pred = [7, 7, 7, 3, 3, 7]
    colors = class_matched_colors(y_true, y_pred, colors=["red", "blue"])
    assert colors.tolist() == [to_hex("red")] * 3 + [to_hex("blue")] * 2 + [to_hex("red")]


def test_unmatched_clusters_get_the_next_colours():
    y_true = [0, 0, 1, 1, 1, 1]
    # Cluster 9 takes class 1; clusters 2 and 5 are left without a class.
    y_pred = [0, 0, 9, 9, 5, 2]
    colors = class_matched_colors(y_true, y_pred, colors=["k", "r", "g", "b"])
    # Unmatched clusters 2 and 5 get colours 2 and 3, in sorted order of their labels.
    assert colors.tolist() == [to_hex(c) for c in ["k", "k", "r", "r", "b", "g"]]


def test_class_matched_colors_rejects_too_few_colours():
    with pytest.raises(ValueError, match="unmatched clusters"):
        class_matched_colors([0, 1, 1], [0, 1, 2], colors=["red", "blue"])
    with pytest.raises(ValueError, match="same|one true class"):
        class_matched_colors([0, 1], [0, 1, 1])


def test_matched_clusters_keep_the_class_colours_beyond_eight_colours():
    # 3 classes and 12 clusters: 9 clusters stay unmatched, 12 colours in all.
    y_true = np.repeat([0, 1, 2], 12)
    y_pred = np.arange(36) // 3
    classes = class_matched_colors(y_true, y_true)
    clusters = class_matched_colors(y_true, y_pred)
    assert classes.tolist() == [PALETTE[k].lower() for k in y_true]
    _, first = np.unique(y_pred, return_index=True)
    cluster_colors = clusters[first]
    # Clusters 0, 4 and 8 are matched to the classes and take their colours.
    assert cluster_colors[[0, 4, 8]].tolist() == [p.lower() for p in PALETTE[:3]]
    assert len(set(cluster_colors.tolist())) == 12


def test_class_matched_colors_says_when_too_many_colours_are_needed():
    y_true = np.repeat([0, 1, 2], 25)
    y_pred = np.arange(75) // 3  # 25 clusters, 22 of them unmatched
    with pytest.raises(ValueError, match="3 classes \\+ 22 unmatched clusters"):
        class_matched_colors(y_true, y_pred)
    colors = [to_hex(plt.get_cmap("viridis")(k / 24)) for k in range(25)]
    assert len(set(class_matched_colors(y_true, y_pred, colors=colors))) == 25
