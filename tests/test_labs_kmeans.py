"""Tests of emlib.labs.kmeans, the checks of lab 2: right answers (scikit-learn's and
emlib's among them) pass, wrong ones fail with a message that names the case and says
what to look at."""

import itertools
import warnings

import numpy as np
import pytest
from sklearn.cluster import KMeans as SklearnKMeans
from sklearn.cluster import kmeans_plusplus as sklearn_kmeans_plusplus
from sklearn.metrics import pairwise_distances_argmin

import emlib
from emlib.datasets import three_blobs_2d
from emlib.labs import Case
from emlib.labs.kmeans import (
    check_centre_update,
    check_lloyd_fixed_point,
    check_lloyd_matches,
    check_seeding_distinct,
    check_seeding_distribution,
    check_seeding_repeatable,
    d2_sampling_probabilities,
)

X_BLOBS, _ = three_blobs_2d(300, random_state=6)


def update_case(centres, name="blobs"):
    centres = np.asarray(centres, dtype=float)
    return Case(name, (X_BLOBS, pairwise_distances_argmin(X_BLOBS, centres), centres),
                "the relocation rule")


ONE_EMPTY = update_case([[-1.0, 0.0], [2.0, 1.0], [0.0, 4.0], [40.0, -40.0]])
TWO_EMPTY = update_case([[-50.0, 50.0], [-1.0, 0.0], [2.0, 1.0], [60.0, 60.0], [0.0, 4.0]])


def one_iteration(library):
    """The centres after one iteration of a library's k-means, as an update function."""
    def update(X, labels, centres):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if library == "sklearn":
                return SklearnKMeans(len(centres), init=centres, n_init=1, max_iter=1,
                                     algorithm="lloyd").fit(X).cluster_centers_
            return emlib.KMeans(len(centres), init=centres, max_iter=1).fit(X).cluster_centers_
    return update


def means_only(X, labels, centres):
    new = centres.copy()
    for k in range(len(centres)):
        if (labels == k).any():
            new[k] = X[labels == k].mean(axis=0)
    return new


@pytest.mark.parametrize("library", ["sklearn", "emlib"])
@pytest.mark.parametrize("case", [ONE_EMPTY, TWO_EMPTY, update_case([[0, 0], [2, 1], [0, 4]])])
def test_one_iteration_of_either_library_passes(library, case):
    check_centre_update(one_iteration(library), case)


def test_any_pairing_of_the_farthest_points_with_the_empty_clusters_passes():
    reference = one_iteration("emlib")(*TWO_EMPTY.fresh()[0])

    def swapped(X, labels, centres):
        new = reference.copy()
        new[[0, 3]] = new[[3, 0]]
        return new

    check_centre_update(swapped, TWO_EMPTY)


def test_any_point_tied_at_the_largest_distance_may_move():
    X = np.array([[-1.0], [1.0], [10.0]])
    centres = np.array([[0.0], [10.0], [50.0]])
    case = Case("tie", (X, np.array([0, 0, 1]), centres), "ties")
    for point in (0, 1):  # both at squared distance 1 from centre 0
        def update(X, labels, centres, point=point):
            return np.array([X[1 - point], X[2], X[point]])
        check_centre_update(update, case)


@pytest.mark.parametrize(("update", "message"), [
    (lambda X, labels, C: np.full(C.shape, np.nan),
     "centre 0 is [nan, nan]"),
    (means_only, "cluster 3 has no point, and its new centre is still where it was"),
    (lambda X, labels, C: np.vstack([means_only(X, labels, C)[:3], X[:1]]),
     "its new centre is point 0, at squared distance"),
    (lambda X, labels, C: np.vstack([means_only(X, labels, C)[:3], [[7.0, 7.0]]]),
     "which is no data point"),
])
def test_wrong_updates_fail_with_what_to_look_at(update, message):
    with pytest.raises(AssertionError) as failure:
        check_centre_update(update, ONE_EMPTY)
    assert message in str(failure.value)
    assert str(failure.value).startswith("case 'blobs': ")
    assert str(failure.value).endswith("Look at: the relocation rule")


def test_a_donor_that_keeps_the_moved_point_in_its_mean_fails():
    right = one_iteration("sklearn")(*ONE_EMPTY.fresh()[0])
    X, labels, centres = ONE_EMPTY.fresh()[0]

    def donor_keeps(X, labels, centres):
        new = means_only(X, labels, centres)
        new[3] = right[3]
        return new

    with pytest.raises(AssertionError, match="gave point.* to an empty cluster"):
        check_centre_update(donor_keeps, ONE_EMPTY)


def test_a_case_where_a_cluster_gives_its_only_point_away_is_refused():
    X = np.array([[0.0], [0.1], [5.0]])
    case = Case("lonely", (X, np.array([0, 0, 1]), np.array([[0.05], [1.0], [99.0]])), "")
    with pytest.raises(ValueError, match="gives away its only point"):
        check_centre_update(lambda X, labels, C: np.array([[0.05], [5.0], [5.0]]), case)


def lloyd(X, centres, max_iter=300, update=None):
    update = update or one_iteration("sklearn")
    history, old = [], None
    for _ in range(max_iter):
        labels = pairwise_distances_argmin(X, centres)
        history.append(((X - centres[labels]) ** 2).sum())
        centres = update(X, labels, centres)
        if old is not None and np.array_equal(labels, old):
            break
        old = labels
    return centres, labels, np.array(history)


def emlib_run(X, C):
    km = emlib.KMeans(len(C), init=C, tol=0).fit(X)
    return {"centres": km.cluster_centers_, "labels": km.labels_, "n_iter": km.n_iter_,
            "history": km.inertia_history_}


START = np.array([[0.0, 0.0], [3.0, 3.0], [50.0, 50.0], [-1.0, 4.0]])
RUN = Case("blobs from a start with an empty cluster", (X_BLOBS, START), "the loop")


def test_a_right_loop_matches_emlib_and_ends_at_a_fixed_point():
    check_lloyd_matches(lloyd, emlib_run, RUN, name="emlib")
    check_lloyd_fixed_point(lloyd, RUN)


def test_a_loop_that_never_stops_early_fails_on_the_number_of_iterations():
    def no_stop(X, centres):
        return lloyd(X, centres, max_iter=1000)[:2] + (np.zeros(300),)

    with pytest.raises(AssertionError, match="your loop ran 300 iteration"):
        check_lloyd_matches(no_stop, emlib_run, RUN, name="emlib")


def test_a_loop_that_stops_too_soon_is_no_fixed_point():
    with pytest.raises(AssertionError, match="not a fixed point"):
        check_lloyd_fixed_point(lambda X, C: lloyd(X, C, max_iter=2), RUN)
    with pytest.raises(AssertionError, match="labels differ from emlib's"):
        check_lloyd_matches(lambda X, C: lloyd(X, C, max_iter=2), emlib_run, RUN,
                            name="emlib")


def test_a_rising_inertia_is_reported():
    def rising(X, centres):
        centres, labels, history = lloyd(X, centres)
        return centres, labels, history[::-1]

    with pytest.raises(AssertionError, match="the inertia rose from"):
        check_lloyd_fixed_point(rising, RUN)


X5 = np.array([[0.0], [1.0], [2.0], [10.0], [11.0]])


def test_d2_probabilities_are_those_of_the_chapters_exercise():
    # Chapter 2, exercise km-ex-4: from the first centre 0, the second is 10 or 11
    # with probability 221/226.
    table = d2_sampling_probabilities(X5, 2)
    assert sum(table.values()) == pytest.approx(1.0, rel=1e-12)
    assert table[(0, 3)] + table[(0, 4)] == pytest.approx(221 / 226 / 5, rel=1e-12)
    assert (0, 0) not in table


def sklearn_plain(X, n_clusters, rng):
    # scikit-learn's k-means++ with one candidate per step is plain D^2 sampling.
    seed = int(rng.integers(2**31))
    return sklearn_kmeans_plusplus(X, n_clusters, random_state=seed, n_local_trials=1)[1]


def test_scikit_learns_plain_kmeans_plusplus_passes():
    # Few draws: each call of scikit-learn's function costs about a millisecond, and a
    # correct seeding passes with any number of draws (false failures below 1e-8).
    X6 = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 2.0], [5.0, 5.0], [6.0, 4.0], [-3.0, 4.0]])
    check_seeding_distribution(sklearn_plain, Case("x5", (X5, 2, np.random.default_rng(0)),
                                                   ""), depth=2, n_draws=1000)
    check_seeding_distribution(sklearn_plain, Case("x6", (X6, 3, np.random.default_rng(1)),
                                                   ""), depth=3, n_draws=1000)


def farthest(X, n_clusters, rng):
    chosen = [int(rng.integers(len(X)))]
    d2 = ((X - X[chosen[0]]) ** 2).sum(axis=1)
    for _ in range(1, n_clusters):
        chosen.append(int(d2.argmax()))
        d2 = np.minimum(d2, ((X - X[chosen[-1]]) ** 2).sum(axis=1))
    return np.array(chosen)


def test_the_farthest_point_rule_fails_with_the_conditional_frequency():
    case = Case("five points", (X5, 2, np.random.default_rng(2)), "D^2, drawn")
    with pytest.raises(AssertionError, match=r"after the first centre \d, your seeding chose "
                                             r"point \d in \d+ of \d+ draws") as failure:
        check_seeding_distribution(farthest, case, depth=2, n_draws=2000)
    assert str(failure.value).endswith("Look at: D^2, drawn")


def uniform_with_replacement(X, n_clusters, rng):
    return rng.integers(len(X), size=n_clusters)


def test_a_repeated_point_has_probability_zero():
    case = Case("five points", (X5, 3, np.random.default_rng(3)), "D = 0")
    with pytest.raises(AssertionError, match="which has probability 0"):
        check_seeding_distribution(uniform_with_replacement, case, depth=3, n_draws=2000)
    copies = np.repeat(X5[:3], 3, axis=0)
    case = Case("copies", (copies, 3, np.random.default_rng(4)), "D = 0")
    check_seeding_distinct(sklearn_plain, case, n_draws=200)
    with pytest.raises(AssertionError, match="in draw \\d+, centres"):
        check_seeding_distinct(uniform_with_replacement, case, n_draws=200)


def test_points_instead_of_indices_are_explained():
    case = Case("five points", (X5, 2, np.random.default_rng(5)), "indices")
    with pytest.raises(AssertionError, match="return the indices of the chosen points"):
        check_seeding_distinct(lambda X, k, rng: X[:k], case, n_draws=1)


def test_a_seeding_with_a_fixed_first_centre_is_told_about_the_first_centre():
    # Its second centre follows D^2 given the first, so only the first level shows it.
    def first_is_zero(X, n_clusters, rng):
        d2 = ((X - X[0]) ** 2).sum(axis=1)
        return np.array([0, rng.choice(len(X), p=d2 / d2.sum())])

    case = Case("five points", (X5, 2, np.random.default_rng(6)), "uniform first")
    with pytest.raises(AssertionError, match="your seeding chose point 0 as the first "
                                             "centre in 2000 of 2000 draws; the first "
                                             "centre is uniform over the 5 points"):
        check_seeding_distribution(first_is_zero, case, depth=2, n_draws=2000)


def test_a_seeding_that_adds_up_the_distances_fails():
    def summed(X, n_clusters, rng):
        chosen = [rng.integers(len(X))]
        d2 = ((X - X[chosen[0]]) ** 2).sum(axis=1)
        for _ in range(1, n_clusters):
            chosen.append(rng.choice(len(X), p=d2 / d2.sum()))
            d2 = d2 + ((X - X[chosen[-1]]) ** 2).sum(axis=1)
        return np.array(chosen)

    X6 = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 2.0], [5.0, 5.0], [6.0, 4.0], [-3.0, 4.0]])
    case = Case("six points", (X6, 3, np.random.default_rng(7)), "nearest")
    with pytest.raises(AssertionError, match="probability 0|after the centres"):
        check_seeding_distribution(summed, case, depth=3, n_draws=2000)


def test_a_seeding_that_ignores_its_generator_is_not_repeatable():
    calls = itertools.count()

    def outside_state(X, n_clusters, rng):
        # Like np.random.*: a state outside rng, which every call advances (seeded here,
        # so that the test is deterministic).
        return np.random.default_rng(next(calls)).choice(len(X), n_clusters, replace=False)

    X6 = np.array([[0.0], [1.0], [2.0], [10.0], [11.0], [30.0]])
    case = Case("six points", (X6, 4, np.random.default_rng(8)), "rng")
    check_seeding_repeatable(sklearn_plain, case)
    with pytest.raises(AssertionError, match="two calls with generators in the same state "
                                             "chose"):
        check_seeding_repeatable(outside_state, case)


def relocate_same_point(X, labels, centres):
    # Every empty cluster gets the one farthest point.
    new = means_only(X, labels, centres)
    d2 = ((X - centres[labels]) ** 2).sum(axis=1)
    n = int(d2.argmax())
    empty = np.flatnonzero(np.bincount(labels, minlength=len(centres)) == 0)
    new[empty] = X[n]
    rest = (labels == labels[n]) & (np.arange(len(X)) != n)
    new[labels[n]] = X[rest].mean(axis=0)
    return new


def _relocated(X, labels, reference):
    # The relocation rule with the distances measured from ``reference``.
    new = means_only(X, labels, reference)
    empty = np.flatnonzero(np.bincount(labels, minlength=len(reference)) == 0)
    d2 = ((X - reference[labels]) ** 2).sum(axis=1)
    far = np.argsort(d2)[::-1][:empty.size]
    keep = np.ones(len(X), dtype=bool)
    keep[far] = False
    new[empty] = X[far]
    for k in set(labels[far]):
        new[k] = X[keep & (labels == k)].mean(axis=0)
    return new


def test_the_same_point_for_two_empty_clusters_is_named_as_such():
    with pytest.raises(AssertionError, match=r"its new centre is point \d+, which you also "
                                             r"gave to cluster \d; with 2 empty clusters, "
                                             r"the rule moves the 2 points farthest"):
        check_centre_update(relocate_same_point, TWO_EMPTY)


def test_distances_from_the_new_means_fail():
    # In this case the second farthest point from the old centres is not among the two
    # farthest from the new means.
    with pytest.raises(AssertionError, match="from the centre it was assigned to; with 2 "
                                             "empty clusters"):
        check_centre_update(lambda X, labels, C: _relocated(X, labels,
                                                            means_only(X, labels, C)),
                            TWO_EMPTY)
    check_centre_update(lambda X, labels, C: _relocated(X, labels, C), TWO_EMPTY)


POOR_START = np.array([[-2.0, -2.0], [0.0, -2.5], [2.0, -2.0]])


def test_the_large_case_of_the_fixed_point_check_ends_with_a_tiny_move():
    # Lab 2's fixed-point check runs 20,000 points of the three blobs from the chapter's
    # poor start; the lab says that the last label change moves one point and no
    # coordinate of a centre by as much as 0.001, so that a loop that stops when the
    # centres move little stops one iteration before the fixed point.
    X, _ = three_blobs_2d(20_000, random_state=0)
    centres, old, moves, changes = POOR_START, None, [], []
    while True:
        labels = pairwise_distances_argmin(X, centres)
        if old is not None:
            changes.append(int((labels != old).sum()))
            if changes[-1] == 0:
                break
        new = np.array([X[labels == k].mean(axis=0) for k in range(3)])
        moves.append(np.abs(new - centres).max())
        centres, old = new, labels
    assert changes[-2] == 1 and moves[-1] < 1e-3

    def settles(X, centres, max_iter=300):
        history, tol = [], 1e-4 * X.var(axis=0).mean()
        for _ in range(max_iter):
            labels = pairwise_distances_argmin(X, centres)
            history.append(((X - centres[labels]) ** 2).sum())
            new = _relocated(X, labels, centres)
            shift, centres = ((new - centres) ** 2).sum(), new
            if shift <= tol:
                break
        return centres, labels, np.array(history)

    case = Case("20,000 points", (X, POOR_START), "stop when the labels repeat")
    check_lloyd_fixed_point(lambda X, C: lloyd(X, C, update=_relocated), case)
    with pytest.raises(AssertionError, match="not a fixed point: 1 point"):
        check_lloyd_fixed_point(settles, case)


def test_loops_that_miscount_or_record_j_after_the_update_fail():
    def drops_last(X, centres, max_iter=300):
        history, old = [], None
        for _ in range(max_iter):
            labels = pairwise_distances_argmin(X, centres)
            if old is not None and np.array_equal(labels, old):
                break
            history.append(((X - centres[labels]) ** 2).sum())
            centres = _relocated(X, labels, centres)
            old = labels
        return centres, labels, np.array(history)

    def after_update(X, centres, max_iter=300):
        history, old = [], None
        for _ in range(max_iter):
            labels = pairwise_distances_argmin(X, centres)
            centres = _relocated(X, labels, centres)
            history.append(((X - centres[labels]) ** 2).sum())
            if old is not None and np.array_equal(labels, old):
                break
            old = labels
        return centres, labels, np.array(history)

    with pytest.raises(AssertionError, match="your loop ran \\d+ iteration"):
        check_lloyd_matches(drops_last, emlib_run, RUN, name="emlib")
    with pytest.raises(AssertionError, match="your inertia history differs"):
        check_lloyd_matches(after_update, emlib_run, RUN, name="emlib")
