"""Tests for the top-words panels of emlib.plotting used in chapter 8."""

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.colors import to_hex

from emlib.plotting import PALETTE, plot_top_words


def _model(n_components=4, n_features=10):
    rng = np.random.default_rng(0)
    means = rng.random((n_components, n_features))
    return means / means.sum(axis=1, keepdims=True)


VOCABULARY = [f"w{j}" for j in range(10)]


def test_each_panel_lists_the_most_probable_words_from_the_top():
    means = _model()
    axes = plot_top_words(means, VOCABULARY, n_words=3, ncols=2)
    assert axes.shape == (2, 2)
    for k, ax in enumerate(axes.flat):
        order = np.argsort(-means[k])[:3]
        labels = [tick.get_text() for tick in ax.get_yticklabels()]
        positions = list(ax.get_yticks())
        # Read the labels from top (largest position) to bottom.
        top_down = [labels[i] for i in np.argsort(positions)[::-1]]
        assert top_down == [VOCABULARY[j] for j in order]
        widths = sorted((bar.get_width() for bar in ax.patches), reverse=True)
        np.testing.assert_allclose(widths, means[k, order])
    plt.close("all")


def test_extra_panels_are_switched_off_and_titles_and_colours_are_used():
    means = _model(n_components=4)
    axes = plot_top_words(means, VOCABULARY, titles=list("abcd"), ncols=3)
    assert axes.shape == (2, 3)
    assert [ax.get_title() for ax in axes.flat[:4]] == list("abcd")
    assert [ax.axison for ax in axes.flat[4:]] == [False, False]
    for k in range(4):
        assert to_hex(axes.flat[k].patches[0].get_facecolor()) == PALETTE[k].lower()
    plt.close("all")


def test_bad_arguments_are_explained():
    means = _model()
    with pytest.raises(ValueError, match="one word per feature"):
        plot_top_words(means, VOCABULARY[:5])
    with pytest.raises(ValueError, match="n_words"):
        plot_top_words(means, VOCABULARY, n_words=11)
    with pytest.raises(ValueError, match="titles"):
        plot_top_words(means, VOCABULARY, titles=["a"])
    plt.close("all")
