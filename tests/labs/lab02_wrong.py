"""Deliberately wrong answers to lab 2, each with one mistake that students make.

``tests/test_labs_grading.py`` puts each one in place of the right answer in the solved lab
(every other answer stays correct), grades the result with otter-grader and asserts
which checks fail: exactly those in ``MISTAKES``, no more and no fewer. A check that
passes one of these is too weak; a check that fails an answer it is not aimed at
punishes the student twice.

Each function is written as a student would write it in the notebook, with the
notebook's names (``np``, ``assign``, ``update_centres``) taken from the notebook's
globals; the test renames it to the function the question asks for.
"""

import numpy as np

assign = None  # the notebook's own assign, at grading time
update_centres = None  # the notebook's own update_centres, at grading time


def assign_argmin_over_samples(X, centres):
    # Mistake: argmin along the wrong axis, the nearest point of every centre
    # instead of the nearest centre of every point.
    d2 = ((X**2).sum(axis=1)[:, np.newaxis] - 2.0 * X @ centres.T
          + (centres**2).sum(axis=1))
    labels = d2.argmin(axis=0)
    return labels, d2.min(axis=0).sum()


def update_centres_nan_for_empty(X, labels, centres):
    # Mistake: the mean of every cluster, also of an empty one: 0/0 = nan.
    with np.errstate(invalid="ignore"):
        return np.array([X[labels == k].mean(axis=0) if (labels == k).any()
                         else np.full(X.shape[1], np.nan)
                         for k in range(len(centres))])


def update_centres_keeps_empty(X, labels, centres):
    # Mistake: an empty cluster keeps its old centre, which may never win a
    # point again.
    new = centres.copy()
    for k in range(len(centres)):
        if (labels == k).any():
            new[k] = X[labels == k].mean(axis=0)
    return new


def lloyd_runs_max_iter(X, centres, max_iter=300):
    # Mistake: no stopping rule; always max_iter iterations.
    history = []
    for _ in range(max_iter):
        labels, J = assign(X, centres)
        history.append(J)
        centres = update_centres(X, labels, centres)
    return centres, labels, np.array(history)


def lloyd_assigns_once(X, centres, max_iter=300):
    # Mistake: the assignment is computed once, before the loop, and only the
    # centres are updated, until they stop moving.
    labels, J = assign(X, centres)
    history = [J]
    for _ in range(max_iter):
        new = update_centres(X, labels, centres)
        if np.array_equal(new, centres):
            break
        centres = new
        history.append(J)
    return centres, labels, np.array(history)


def lloyd_stops_when_centres_settle(X, centres, max_iter=300):
    # Mistake: stop when the centres have almost stopped moving (scikit-learn's
    # default tol=1e-4 times the mean variance), not when the labels repeat: in
    # a large data set the run ends one iteration before a fixed point.
    history = []
    tol = 1e-4 * X.var(axis=0).mean()
    for _ in range(max_iter):
        labels, J = assign(X, centres)
        history.append(J)
        new = update_centres(X, labels, centres)
        shift = ((new - centres) ** 2).sum()
        centres = new
        if shift <= tol:
            break
    return centres, labels, np.array(history)


def kmeans_plusplus_distance_not_squared(X, n_clusters, rng):
    # Mistake: probabilities proportional to D, not D^2.
    n_samples = len(X)
    chosen = [rng.integers(n_samples)]
    d = np.sqrt(((X - X[chosen[0]]) ** 2).sum(axis=1))
    for _ in range(1, n_clusters):
        nxt = rng.choice(n_samples, p=d / d.sum())
        chosen.append(nxt)
        d = np.minimum(d, np.sqrt(((X - X[nxt]) ** 2).sum(axis=1)))
    return np.array(chosen)


def kmeans_plusplus_farthest_point(X, n_clusters, rng):
    # Mistake: the next centre is the farthest point (argmax), not a draw.
    n_samples = len(X)
    chosen = [rng.integers(n_samples)]
    d2 = ((X - X[chosen[0]]) ** 2).sum(axis=1)
    for _ in range(1, n_clusters):
        nxt = int(d2.argmax())
        chosen.append(nxt)
        d2 = np.minimum(d2, ((X - X[nxt]) ** 2).sum(axis=1))
    return np.array(chosen)


def kmeans_plusplus_last_centre_only(X, n_clusters, rng):
    # Mistake: D is the distance to the last centre chosen, not to the nearest
    # of all the centres chosen so far.
    n_samples = len(X)
    chosen = [rng.integers(n_samples)]
    for _ in range(1, n_clusters):
        d2 = ((X - X[chosen[-1]]) ** 2).sum(axis=1)
        chosen.append(rng.choice(n_samples, p=d2 / d2.sum()))
    return np.array(chosen)



def kmeans_plusplus_global_generator(X, n_clusters, rng):
    # Mistake: NumPy's global generator instead of rng. The draws follow D^2
    # sampling, but no seed makes a run repeatable.
    n_samples = len(X)
    chosen = [np.random.randint(n_samples)]  # noqa: NPY002 (the mistake)
    d2 = ((X - X[chosen[0]]) ** 2).sum(axis=1)
    for _ in range(1, n_clusters):
        nxt = np.random.choice(n_samples, p=d2 / d2.sum())  # noqa: NPY002
        chosen.append(nxt)
        d2 = np.minimum(d2, ((X - X[nxt]) ** 2).sum(axis=1))
    return np.array(chosen)


# For each wrong answer: the function it replaces, and the checks (test functions of the
# master notebook, by question) that must fail. Every check not listed must pass. Lloyd's
# loop calls the student's own assign and update_centres, so a mistake there also fails
# the checks of question 3 whose runs meet it: every run for the assignment, and the run
# that starts with an empty cluster for the update. Those checks are aimed at exactly
# that mistake too: the loop cannot follow scikit-learn's path with a wrong step. Further
# wrong answers are tested against the check functions directly in
# tests/test_labs_kmeans.py (fast, and without lengthening the grading of `make test`): an
# update that leaves the moved point in its old cluster's mean, one that gives the same
# farthest point to every empty cluster, one that measures the distances from the new
# means; seedings with a fixed first centre or with the sum of the distances in place of
# the nearest one; loops that do not count the last iteration or record J after the update.
MISTAKES = {
    "assign_argmin_over_samples": (
        "assign", {"q1": {"test_labels", "test_inertia", "test_784d",
                          "test_1d_and_one_centre"},
                   "q3": {"test_same_as_sklearn", "test_fixed_point", "test_784d",
                          "test_empty_during_run"}}),
    "update_centres_nan_for_empty": (
        "update_centres", {"q2": {"test_empty_cluster", "test_two_empty", "test_784d"},
                           "q3": {"test_empty_during_run"}}),
    "update_centres_keeps_empty": (
        "update_centres", {"q2": {"test_empty_cluster", "test_two_empty", "test_784d"},
                           "q3": {"test_empty_during_run"}}),
    "lloyd_runs_max_iter": (
        "lloyd", {"q3": {"test_same_as_sklearn", "test_784d", "test_empty_during_run"}}),
    "lloyd_assigns_once": (
        "lloyd", {"q3": {"test_same_as_sklearn", "test_fixed_point", "test_784d",
                         "test_empty_during_run"}}),
    # Only the public check on 20,000 points sees it: in the other runs the last label
    # change still moves the centres by more than the tolerance.
    "lloyd_stops_when_centres_settle": ("lloyd", {"q3": {"test_fixed_point"}}),
    "kmeans_plusplus_distance_not_squared": (
        "kmeans_plusplus", {"q4": {"test_second_centre", "test_third_centre",
                                   "test_784d"}}),
    "kmeans_plusplus_farthest_point": (
        "kmeans_plusplus", {"q4": {"test_second_centre", "test_third_centre",
                                   "test_784d"}}),
    "kmeans_plusplus_last_centre_only": (
        "kmeans_plusplus", {"q4": {"test_repeatable_no_copies", "test_third_centre"}}),
    # Its draws have the right distribution (it passes the statistical checks, which a
    # correct seeding fails with probability below 1e-8); only the repeatability fails.
    "kmeans_plusplus_global_generator": (
        "kmeans_plusplus", {"q4": {"test_repeatable_no_copies"}}),
}
