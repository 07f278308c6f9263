"""Tests for the seed-band curves of emlib.plotting used in chapter 9."""

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.colors import to_hex

from emlib.plotting import PALETTE, plot_seed_band


def test_the_line_is_the_median_and_the_band_the_range_over_seeds():
    x = np.array([1.0, 2.0, 3.0])
    values = np.array([[0.0, 1.0, 5.0], [2.0, 3.0, 4.0], [1.0, 0.0, 6.0]])
    fig, ax = plt.subplots()
    assert plot_seed_band(x, values, ax=ax, label="run", color=PALETTE[2]) is ax
    (line,) = ax.get_lines()
    np.testing.assert_array_equal(line.get_xdata(), x)
    np.testing.assert_array_equal(line.get_ydata(), [1.0, 1.0, 5.0])
    assert line.get_label() == "run"
    assert to_hex(line.get_color()) == PALETTE[2].lower()
    (band,) = ax.collections
    vertices = band.get_paths()[0].vertices
    # The band's outline runs along the minima and back along the maxima.
    assert vertices[:, 1].min() == 0.0 and vertices[:, 1].max() == 6.0
    assert to_hex(band.get_facecolor()[0]) == PALETTE[2].lower()
    plt.close(fig)


def test_the_band_takes_the_next_colour_of_the_cycle_and_the_current_axes():
    fig, ax = plt.subplots()
    plot_seed_band([0, 1], [[0, 1], [1, 2]])
    plot_seed_band([0, 1], [[0, 1], [1, 2]])
    first, second = ax.get_lines()
    assert first.get_color() != second.get_color()
    assert to_hex(ax.collections[1].get_facecolor()[0]) == to_hex(second.get_color())
    plt.close(fig)


def test_values_must_have_one_column_per_x():
    with pytest.raises(ValueError, match="one row per seed"):
        plot_seed_band([0, 1, 2], [[0, 1], [1, 2]])
    with pytest.raises(ValueError, match="one row per seed"):
        plot_seed_band([0, 1], [0, 1])
    plt.close("all")
