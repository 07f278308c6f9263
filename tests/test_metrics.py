"""Tests for emlib.metrics: matched accuracy and the matched confusion matrix."""

from itertools import permutations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics.cluster import contingency_matrix

from emlib.metrics import (
    cluster_class_map,
    cluster_majorities,
    match_components,
    matched_accuracy,
    matched_confusion_matrix,
)


@st.composite
def labellings(draw, max_classes=4, max_clusters=5, max_samples=40):
    """Pairs (y_true, y_pred) of equal length with small label alphabets."""
    n = draw(st.integers(1, max_samples))
    y_true = draw(st.lists(st.integers(0, max_classes - 1), min_size=n, max_size=n))
    y_pred = draw(st.lists(st.integers(0, max_clusters - 1), min_size=n, max_size=n))
    return np.array(y_true), np.array(y_pred)


def brute_force_matched_accuracy(y_true, y_pred):
    """Best one-to-one matching found by trying every permutation of a zero-padded table."""
    table = contingency_matrix(y_true, y_pred)
    size = max(table.shape)
    square = np.zeros((size, size), dtype=int)
    square[: table.shape[0], : table.shape[1]] = table
    best = max(square[np.arange(size), list(perm)].sum() for perm in permutations(range(size)))
    return best / len(y_true)


def test_hand_worked_example():
    # Class 0 -> cluster 1 (2 right), class 1 -> cluster 0 (2 right); the class-2 sample
    # sits in cluster 0, which is already taken, so it is the single error: 4/5.
    assert matched_accuracy([0, 0, 1, 1, 2], [1, 1, 0, 0, 0]) == pytest.approx(0.8)


def test_perfect_clustering_with_renamed_labels_scores_one():
    y_true = np.array([0, 0, 1, 1, 2, 2])
    y_pred = np.array([7, 7, 3, 3, 5, 5])
    assert matched_accuracy(y_true, y_pred) == 1.0
    assert np.mean(y_true == y_pred) == 0.0


def test_unmatched_extra_cluster_counts_as_errors():
    # Cluster 1 splits class 0; only one of clusters 0 and 1 can be matched to class 0.
    y_true = [0, 0, 0, 1, 1, 1]
    y_pred = [0, 0, 1, 2, 2, 2]
    assert matched_accuracy(y_true, y_pred) == pytest.approx(5 / 6)


def test_fewer_clusters_than_classes():
    # Cluster 0 holds classes 0 and 1 (two each); cluster 1 holds class 2.
    y_true = [0, 0, 1, 1, 2, 2]
    y_pred = [0, 0, 0, 0, 1, 1]
    assert matched_accuracy(y_true, y_pred) == pytest.approx(4 / 6)


def test_returns_python_float():
    assert type(matched_accuracy([0, 1], [1, 0])) is float


def test_confusion_matrix_hand_worked():
    y_true = [0, 0, 0, 1, 1, 2, 2, 2]
    y_pred = [2, 2, 1, 0, 0, 1, 1, 1]
    matrix, mapping = matched_confusion_matrix(y_true, y_pred)
    # Columns are clusters 2, 0, 1: the clusters matched to classes 0, 1 and 2.
    assert mapping == {2: 0, 0: 1, 1: 2}
    assert list(mapping) == [2, 0, 1]
    np.testing.assert_array_equal(matrix, [[2, 0, 1], [0, 2, 0], [0, 0, 3]])
    assert np.trace(matrix) / len(y_true) == pytest.approx(matched_accuracy(y_true, y_pred))


def test_confusion_matrix_extra_clusters_come_last_and_map_to_none():
    y_true = [0, 0, 0, 1, 1, 1]
    y_pred = [4, 4, 9, 2, 2, 2]
    matrix, mapping = matched_confusion_matrix(y_true, y_pred)
    assert mapping == {4: 0, 2: 1, 9: None}
    assert list(mapping) == [4, 2, 9]
    np.testing.assert_array_equal(matrix, [[2, 0, 1], [0, 3, 0]])


def test_confusion_matrix_fewer_clusters_than_classes():
    y_true = [0, 0, 1, 1, 1, 2, 2]
    y_pred = [0, 0, 1, 1, 1, 1, 1]
    matrix, mapping = matched_confusion_matrix(y_true, y_pred)
    assert matrix.shape == (3, 2)
    assert mapping == {0: 0, 1: 1}
    np.testing.assert_array_equal(matrix, [[2, 0], [0, 3], [0, 2]])


def test_string_labels_come_back_as_plain_python_values():
    matrix, mapping = matched_confusion_matrix(["cat", "cat", "dog"], ["b", "b", "a"])
    assert mapping == {"b": "cat", "a": "dog"}
    assert all(type(k) is str and type(v) is str for k, v in mapping.items())
    np.testing.assert_array_equal(matrix, [[2, 0], [0, 1]])


@pytest.mark.parametrize("function", [matched_accuracy, matched_confusion_matrix])
def test_rejects_labels_of_different_lengths(function):
    with pytest.raises(ValueError, match="y_true has 3 labels but y_pred has 2"):
        function([0, 1, 1], [0, 1])


@pytest.mark.parametrize("function", [matched_accuracy, matched_confusion_matrix])
def test_rejects_two_dimensional_labels(function):
    with pytest.raises(ValueError, match=r"y_pred must be a 1-D array.*shape \(2, 1\)"):
        function([0, 1], [[0], [1]])


@pytest.mark.parametrize("function", [matched_accuracy, matched_confusion_matrix])
def test_rejects_empty_labels(function):
    with pytest.raises(ValueError, match="empty"):
        function([], [])


@settings(max_examples=200, deadline=None)
@given(labellings(), st.randoms(use_true_random=False))
def test_renaming_clusters_leaves_matched_accuracy_unchanged(labels, random):
    y_true, y_pred = labels
    names = list(range(10, 20))
    random.shuffle(names)
    renamed = np.array(names)[y_pred]
    assert matched_accuracy(y_true, renamed) == pytest.approx(matched_accuracy(y_true, y_pred))


@settings(max_examples=200, deadline=None)
@given(labellings())
def test_matched_accuracy_is_at_least_plain_accuracy(labels):
    y_true, y_pred = labels
    assert matched_accuracy(y_true, y_pred) >= np.mean(y_true == y_pred) - 1e-12


@settings(max_examples=200, deadline=None)
@given(labellings())
def test_matched_accuracy_equals_brute_force_optimum(labels):
    y_true, y_pred = labels
    assert matched_accuracy(y_true, y_pred) == pytest.approx(
        brute_force_matched_accuracy(y_true, y_pred)
    )


@settings(max_examples=200, deadline=None)
@given(labellings())
def test_confusion_matrix_is_a_column_permutation_consistent_with_mapping(labels):
    y_true, y_pred = labels
    matrix, mapping = matched_confusion_matrix(y_true, y_pred)
    classes = np.unique(y_true).tolist()
    clusters = list(mapping)
    assert sorted(clusters) == np.unique(y_pred).tolist()
    for j, cluster in enumerate(clusters):
        for i, cls in enumerate(classes):
            assert matrix[i, j] == np.sum((y_true == cls) & (y_pred == cluster))
    matched = [(classes.index(c), j) for j, c in enumerate(mapping.values()) if c is not None]
    correct = sum(matrix[i, j] for i, j in matched)
    assert correct / len(y_true) == pytest.approx(matched_accuracy(y_true, y_pred))
    if len(clusters) >= len(classes):
        # Every class has a matched cluster, placed on the diagonal.
        assert [classes.index(c) for c in list(mapping.values())[: len(classes)]] == list(
            range(len(classes))
        )


@settings(max_examples=60, deadline=None)
@given(
    st.integers(2, 5).flatmap(
        lambda k: st.tuples(st.just(k), st.integers(0, 2), st.integers(0, 10**6))
    )
)
def test_match_components_minimises_total_distance(args):
    n_reference, extra, seed = args
    rng = np.random.default_rng(seed)
    reference = rng.normal(size=(n_reference, 2))
    fitted = rng.normal(size=(n_reference + extra, 2))
    order = match_components(reference, fitted)
    cost = np.linalg.norm(reference - fitted[order], axis=1).sum()
    best = min(
        np.linalg.norm(reference - fitted[list(p)], axis=1).sum()
        for p in permutations(range(len(fitted)), n_reference)
    )
    assert len(set(order.tolist())) == n_reference
    assert cost <= best + 1e-12


def test_match_components_recovers_a_shuffle_and_rejects_bad_shapes():
    reference = np.array([[0.0, 0.0], [4.0, 0.0], [0.0, 4.0]])
    shuffle = np.array([2, 0, 1])
    fitted = np.empty_like(reference)
    fitted[shuffle] = reference + 0.1
    np.testing.assert_array_equal(match_components(reference, fitted), shuffle)
    with pytest.raises(ValueError, match="same n_features"):
        match_components(reference, fitted[:, :1])
    with pytest.raises(ValueError, match="fewer|fit at least"):
        match_components(reference, fitted[:2])


def random_clustering(seed, min_clusters, n_samples=50):
    """Random classes 0-3 and a random assignment to 1-5 clusters."""
    rng = np.random.default_rng(seed)
    n_clusters = int(rng.integers(min_clusters, 6))
    y_true = rng.integers(0, 4, size=n_samples)
    y_pred = rng.integers(0, n_clusters, size=n_samples)
    return n_clusters, y_true, y_pred


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 10**6))
def test_cluster_majorities_agree_with_counting_each_cluster(seed):
    n_clusters, y_true, y_pred = random_clustering(seed, min_clusters=1)
    majority, share, size = cluster_majorities(y_true, y_pred, n_clusters + 1)
    assert majority[-1] == -1 and share[-1] == 0 and size[-1] == 0  # the empty cluster
    for k in range(n_clusters):
        members = y_true[y_pred == k]
        assert size[k] == members.size
        if members.size:
            counts = np.bincount(members)
            assert majority[k] == np.argmax(counts)
            assert share[k] == counts.max() / members.size


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 10**6))
def test_one_to_one_class_map_reaches_the_matched_accuracy(seed):
    """On the labels it was learned from, the map scores exactly the matched accuracy."""
    n_clusters, y_true, y_pred = random_clustering(seed, min_clusters=2)
    mapping = cluster_class_map(y_true, y_pred, n_clusters)
    used = mapping[mapping >= 0]
    assert len(set(used.tolist())) == used.size  # one-to-one
    np.testing.assert_allclose(
        np.mean(mapping[y_pred] == y_true), matched_accuracy(y_true, y_pred)
    )
    majority = cluster_class_map(y_true, y_pred, n_clusters, one_to_one=False)
    assert np.mean(majority[y_pred] == y_true) >= np.mean(mapping[y_pred] == y_true)


def test_class_map_rejects_labels_it_cannot_index():
    with pytest.raises(ValueError, match="non-negative integer"):
        cluster_class_map(["a", "b"], [0, 1], 2)
    with pytest.raises(ValueError, match="n_clusters=2"):
        cluster_majorities([0, 1, 1], [0, 1, 2], 2)
    with pytest.raises(ValueError, match="n_clusters"):
        cluster_class_map([0, 1], [0, 1], 0)
