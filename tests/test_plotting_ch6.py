"""Tests for the image table of emlib.plotting used in chapter 6."""

import matplotlib.pyplot as plt
import numpy as np
import pytest

from emlib.plotting import plot_image_table


def _table(n_rows, n_cols, side=4):
    # Every image is constant, with a value that names its place in the table.
    values = np.arange(n_rows * n_cols).reshape(n_rows, n_cols) / (n_rows * n_cols)
    return np.broadcast_to(values[:, :, None], (n_rows, n_cols, side * side)).copy()


def test_each_axes_shows_the_image_at_its_place_across_blocks():
    images = _table(3, 7)
    axes = plot_image_table(images, shape=(4, 4), max_cols=3)
    assert axes.shape == (3, 7)
    for r in range(3):
        for c in range(7):
            shown = axes[r, c].images[0].get_array()
            np.testing.assert_array_equal(shown, images[r, c].reshape(4, 4))
    # The figure it created; Axes.get_figure(root=True) needs matplotlib 3.10,
    # and the package supports 3.8.
    fig = plt.gcf()
    # Seven columns in blocks of three: three blocks, the last with one column.
    assert len(fig.subfigs) == 3
    assert axes[0, 6].get_figure() is fig.subfigs[2]
    assert axes[0, 3].get_figure() is not axes[0, 2].get_figure()
    switched_off = [ax for ax in fig.subfigs[2].axes if not ax.axison]
    assert len(switched_off) == 3 * 2


def test_figure_keeps_its_width_and_grows_in_height():
    plot_image_table(_table(2, 5), shape=(4, 4), width=6.4)
    fig5 = plt.gcf()
    plot_image_table(_table(2, 10), shape=(4, 4), width=6.4)
    fig10 = plt.gcf()
    assert fig5.get_figwidth() == fig10.get_figwidth() == pytest.approx(6.4)
    assert fig10.get_figheight() > 1.9 * fig5.get_figheight()
    assert not fig5.subfigs  # a single block draws on the figure itself


def test_column_titles_and_row_labels_repeat_in_every_block():
    axes = plot_image_table(
        _table(2, 4),
        shape=(4, 4),
        titles=["a", "b", "c", "d"],
        row_labels=["mean", "sample"],
        max_cols=2,
    )
    assert [axes[0, c].get_title() for c in range(4)] == ["a", "b", "c", "d"]
    assert all(axes[1, c].get_title() == "" for c in range(4))
    assert [axes[r, 2].get_ylabel() for r in range(2)] == ["mean", "sample"]
    assert axes[0, 1].get_ylabel() == ""


def test_bad_arguments_are_explained():
    with pytest.raises(ValueError, match="plot_image_grid"):
        plot_image_table(np.zeros((5, 16)), shape=(4, 4))
    with pytest.raises(ValueError, match="titles must have shape"):
        plot_image_table(_table(2, 3), shape=(4, 4), titles=["a", "b"])
    with pytest.raises(ValueError, match="unequal length"):
        # Two ragged rows for a 2 x 2 table: not two column titles.
        plot_image_table(_table(2, 2), shape=(4, 4), titles=[["a", "b"], ["c"]])
    with pytest.raises(ValueError, match="row labels"):
        plot_image_table(_table(2, 3), shape=(4, 4), row_labels=["x"])
    with pytest.raises(ValueError, match="max_cols"):
        plot_image_table(_table(2, 3), shape=(4, 4), max_cols=0)
