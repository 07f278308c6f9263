"""Tests for the legend and class-matched colours of emlib.plotting used in chapter 5."""

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.colors import to_hex

from emlib.plotting import (
    PALETTE,
    class_matched_colors,
    color_legend,
    plot_selection_summary,
)


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


def _selection_table(heldout=True):
    # Two covariance types, K = 1..4; K = 1 is far worse than the rest on every criterion.
    table = {
        "covariance_type": ["full"] * 4 + ["diag"] * 4,
        "n_components": [1, 2, 3, 4] * 2,
        "n_parameters": [5, 11, 17, 23, 4, 9, 14, 19],
        "log_likelihood": [-900.0, -500.0, -480.0, -478.0, -950.0, -520.0, -490.0, -485.0],
        "bic": [1800.0, 1030.0, 1000.0, 1010.0, 1900.0, 1060.0, 1020.0, 1025.0],
        "aic": [1810.0, 1022.0, 994.0, 990.0, 1908.0, 1058.0, 1008.0, 1008.0],
        "heldout_log_likelihood": [-9.0, -5.1, -4.9, -5.0, -9.5, -5.3, -5.0, -5.05],
    }
    if not heldout:
        table["heldout_log_likelihood"] = [None] * 8
    return table


def _star(ax):
    # The best value is the only line drawn with a star marker.
    (star,) = [line for line in ax.get_lines() if line.get_marker() == "*"]
    return star.get_xdata()[0], star.get_ydata()[0]


def test_selection_summary_panels_stars_and_one_legend():
    axes = plot_selection_summary(_selection_table())
    fig = axes.flat[0].figure
    assert axes.shape == (2, 2)
    titles = [ax.get_title() for ax in axes.flat]
    assert titles[0].startswith("training")
    assert [t.split()[0] for t in titles[1:]] == ["BIC", "AIC", "held-out"]
    # One line per covariance type in the training panel, in the legend's colours.
    colors = [to_hex(line.get_color()) for line in axes[0, 0].get_lines()]
    assert colors == [PALETTE[0].lower(), PALETTE[1].lower()]
    assert [_star(ax) for ax in axes.flat[1:]] == [(3, 1000.0), (4, 990.0), (3, -4.9)]
    assert len(fig.legends) == 1
    assert all(ax.get_legend() is None for ax in axes.flat)
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["full", "diag", "best"]
    # Only the bottom row labels the shared K axis.
    assert [ax.get_xlabel() != "" for ax in axes.flat] == [False, False, True, True]


def test_selection_summary_crops_the_worst_candidates_but_keeps_the_best():
    axes = plot_selection_summary(_selection_table(), crop=0.75)
    bic_low, bic_high = axes[0, 1].get_ylim()
    assert bic_low < 1000.0 < bic_high < 1800.0  # K = 1 is cropped away
    held_low, held_high = axes[1, 1].get_ylim()
    assert held_low > -9.0 and held_low < -4.9 < held_high
    # Training is never cropped, and crop=None shows every value.
    assert axes[0, 0].get_ylim()[0] < -950.0
    plt.close("all")
    axes = plot_selection_summary(_selection_table(), crop=None)
    assert axes[0, 1].get_ylim()[1] > 1900.0


def test_selection_summary_without_heldout_switches_the_last_panel_off():
    axes = plot_selection_summary(_selection_table(heldout=False), training=True)
    assert not axes[1, 1].axison
    # The top-right panel is now the lowest of its column, so it labels K.
    assert axes[0, 1].get_xlabel() == "number of components K"
    assert [t.get_text() for t in axes[0, 0].figure.legends[0].get_texts()][-1] == "best"


def test_selection_summary_rejects_bad_input():
    with pytest.raises(ValueError, match="crop"):
        plot_selection_summary(_selection_table(), crop=0.0)
    with pytest.raises(ValueError, match="empty"):
        plot_selection_summary([])
    table = _selection_table(heldout=False)
    table["bic"] = table["aic"] = [None] * 8
    with pytest.raises(ValueError, match="no BIC, AIC or held-out"):
        plot_selection_summary(table)
