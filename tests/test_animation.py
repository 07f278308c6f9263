"""Tests of emlib.animation.animate_em and animation_to_html (chapter 3's animation of EM)."""

import base64
import io
import re

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.animation import AbstractMovieWriter
from matplotlib.colors import to_rgb
from PIL import Image

import emlib
from emlib.animation import animate_em, animation_to_html
from emlib.plotting import plot_gmm_ellipses


class FrameRecorder(AbstractMovieWriter):
    """A movie writer that keeps, for every frame, what its Axes show."""

    def setup(self, fig, outfile, dpi=None):
        self.fig, self.frames = fig, []

    def grab_frame(self, **savefig_kwargs):
        ax = self.fig.axes[0]
        self.frames.append(
            {
                "ellipses": [_ellipse(p) for p in ax.patches],
                "points": ax.collections[0].get_facecolors()[:, :3].copy(),
                "title": ax.get_title(),
            }
        )

    def finish(self):
        pass


def _ellipse(patch):
    return (*patch.get_center(), patch.get_width(), patch.get_height(), patch.get_angle())


def _record(anim):
    recorder = FrameRecorder()
    anim.save("unused.html", writer=recorder)
    return recorder.frames


@pytest.fixture(scope="module")
def blobs_run():
    X, _ = emlib.datasets.three_blobs_2d(n_samples=200, random_state=0)
    model = emlib.GaussianMixture(
        3, init_params="random", tol=1e-4, random_state=0, keep_history=True
    ).fit(X)
    return X, model


def test_one_frame_per_stored_iteration_and_the_last_is_the_fit(blobs_run):
    X, model = blobs_run
    frames = _record(animate_em(model, X))
    assert len(frames) == len(model.params_history_) == model.n_iter_ + 1
    assert frames[0]["title"].startswith("iteration 0:")
    assert frames[-1]["title"].startswith(f"iteration {model.n_iter_}:")
    # The last frame's ellipses are those of the fitted model, drawn the usual way.
    fig, ax = plt.subplots()
    plot_gmm_ellipses(model, ax=ax, n_std=(1, 2))
    np.testing.assert_allclose(frames[-1]["ellipses"], [_ellipse(p) for p in ax.patches])
    plt.close(fig)
    # EM moved the components, so the first frame's ellipses differ from the last.
    assert not np.allclose(frames[0]["ellipses"], frames[-1]["ellipses"])


def test_points_and_title_follow_the_chosen_iteration(blobs_run):
    X, model = blobs_run
    colors = ["#ff0000", "#00ff00", "#0000ff"]
    frames = _record(animate_em(model, X, iterations=[0, 2], colors=colors))
    assert len(frames) == 2
    params = model.params_history_[2]
    snapshot = emlib.GaussianMixture.from_parameters(
        params["weights"], params["means"], params["covariances"]
    )
    expected = snapshot.predict_proba(X) @ np.array([to_rgb(c) for c in colors])
    np.testing.assert_allclose(frames[1]["points"], expected, atol=1e-12)
    assert frames[1]["title"] == (f"iteration 2: log-likelihood per point {snapshot.score(X):.3f}")
    grey = _record(animate_em(model, X, iterations=[1], color_points=False))
    np.testing.assert_allclose(grey[0]["points"], [to_rgb("0.6")])


def test_bad_input_is_refused_clearly(blobs_run):
    X, model = blobs_run
    no_history = emlib.GaussianMixture(3, random_state=0).fit(X)
    with pytest.raises(ValueError, match="keep_history=True"):
        animate_em(no_history, X)
    with pytest.raises(ValueError, match="increasing indices"):
        animate_em(model, X, iterations=[0, len(model.params_history_)])
    with pytest.raises(ValueError, match="increasing indices"):
        animate_em(model, X, iterations=[2, 1])
    with pytest.raises(ValueError, match="increasing indices"):
        animate_em(model, X, iterations=[0, 1.5])
    with pytest.raises(ValueError, match="shape"):
        animate_em(model, X[:, :1])
    binary = (X > np.median(X, axis=0)).astype(float)
    bernoulli = emlib.BernoulliMixture(2, random_state=0, keep_history=True).fit(binary)
    with pytest.raises(ValueError, match="GaussianMixture"):
        animate_em(bernoulli, binary)


def test_html_is_reproducible_offline_and_described(blobs_run):
    X, model = blobs_run
    iterations = [0, 1, model.n_iter_]
    html = [
        animation_to_html(
            animate_em(model, X, iterations=iterations),
            element_id="em_test",
            alt="Three ellipses & a cloud.",
            n_colors=16,
        )
        for _ in range(2)
    ]
    assert html[0] == html[1]
    text = html[0]
    assert 'id="_anim_imgem_test" alt="Three ellipses &amp; a cloud."' in text
    assert "anim_em_test" not in text and "animem_test.set_frame" in text
    assert not re.search(r"[0-9a-f]{32}", text)
    assert "https://" not in text
    frames = re.findall(r'"data:image/png;base64,([^"]*)"', text)
    assert len(frames) == len(iterations)
    image = Image.open(io.BytesIO(base64.b64decode(frames[-1])))
    assert image.mode == "P" and len(image.getcolors()) <= 16
    assert "Software" not in image.info


def test_html_player_fits_a_narrow_column(blobs_run):
    # matplotlib sizes the slider in pixels, which made the player wider than a phone.
    X, model = blobs_run
    text = animation_to_html(
        animate_em(model, X, iterations=[0]), element_id="em_narrow", alt="A frame."
    )
    style = text[text.index("<style>") + len("<style>") : text.index("</style>")]
    rules = {
        selector.strip(): body for selector, body in re.findall(r"([^{}]+)\{([^}]*)\}", style)
    }
    assert "max-width: 100%" in rules[".animation"]
    assert "width: 100%" in rules["input[type=range].anim-slider"]
    assert "max-width: 9%" in rules[".anim-buttons button"]
    # Every width in pixels is capped by a relative one.
    for rule in rules.values():
        if re.search(r"(?<!-)width: \d+px", rule):
            assert re.search(r"max-width: \d+%", rule)
    assert 'style="max-width: 100%; height: auto;"' in text


def test_html_options_are_checked(blobs_run):
    X, model = blobs_run
    anim = animate_em(model, X, iterations=[0])
    with pytest.raises(ValueError, match="element_id"):
        animation_to_html(anim, element_id="1-bad", alt="some text")
    with pytest.raises(ValueError, match="alt"):
        animation_to_html(anim, element_id="ok", alt="  ")
    with pytest.raises(ValueError, match="n_colors"):
        animation_to_html(anim, element_id="ok", alt="some text", n_colors=1)
    with pytest.raises(ValueError, match="fps"):
        animation_to_html(anim, element_id="ok", alt="some text", fps=0)
    assert len(_record(anim)) == 1  # rendered, so matplotlib does not warn


def test_every_frame_keeps_the_fixed_margins_under_the_course_style(blobs_run):
    # savefig restores "no layout engine" from rcParams, which the course style sets to
    # constrained layout: the frames after the first were once laid out again, and moved.
    X, model = blobs_run
    with plt.rc_context():
        emlib.plotting.use_course_style()
        anim = animate_em(model, X, iterations=[0, 1, 2])
        fig = anim._fig
        boxes = []
        # Any way of saving: through this module's player, or matplotlib's own.
        for save in (lambda: animation_to_html(anim, element_id="em_margins", alt="Ellipses."),
                     anim.to_jshtml):
            save()
            # The box before the equal aspect shrinks it, as the last frame left it.
            boxes.append(fig.axes[0].get_position(original=True).bounds)
    np.testing.assert_allclose(boxes, [(0.13, 0.12, 0.84, 0.80)] * 2)
