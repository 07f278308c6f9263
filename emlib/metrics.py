"""Scores for comparing a clustering with known classes.

Cluster labels are arbitrary names: a mixture that finds the digit classes perfectly may still
call the sevens "cluster 2". The functions here therefore first match clusters to classes
one-to-one so that the number of correctly placed samples is as large as possible, and only
then count agreements. The matching is a linear assignment problem on the contingency table
:math:`C_{ck}` (number of samples of class :math:`c` put in cluster :math:`k`),

.. math::

    \\sigma^\\star = \\arg\\max_{\\sigma} \\sum_{k} C_{\\sigma(k), k}, \\qquad
    \\text{matched accuracy} = \\frac{1}{N} \\sum_{k} C_{\\sigma^\\star(k), k},

where :math:`\\sigma` ranges over one-to-one maps between clusters and classes. It is solved
with the Hungarian method of :func:`scipy.optimize.linear_sum_assignment`.

The same matching lines up fitted components with known ones (:func:`match_components`), and
learns a cluster-to-class map on training labels that is then applied to new data
(:func:`cluster_class_map`): accuracy measured with a map chosen on the test labels themselves is
biased upwards.
"""

from numbers import Integral

import numpy as np
from scipy.optimize import linear_sum_assignment
from scipy.spatial.distance import cdist
from sklearn.metrics.cluster import contingency_matrix
from sklearn.utils import check_scalar

__all__ = [
    "cluster_class_map",
    "cluster_majorities",
    "match_components",
    "matched_accuracy",
    "matched_confusion_matrix",
]


def _check_labels(y_true, y_pred):
    """Return both label vectors as 1-D arrays after checking their shapes agree."""
    y_true = np.asarray(y_true)
    y_pred = np.asarray(y_pred)
    for name, labels in (("y_true", y_true), ("y_pred", y_pred)):
        if labels.ndim != 1:
            raise ValueError(
                f"{name} must be a 1-D array with one label per sample, got an array of "
                f"shape {labels.shape}; flatten it (e.g. with numpy.ravel) first."
            )
    if y_true.shape[0] != y_pred.shape[0]:
        raise ValueError(
            f"y_true has {y_true.shape[0]} labels but y_pred has {y_pred.shape[0]}; pass one "
            "true class and one cluster label for every sample."
        )
    if y_true.shape[0] == 0:
        raise ValueError("y_true and y_pred are empty; at least one sample is needed.")
    return y_true, y_pred


def _best_matching(y_true, y_pred):
    """Contingency table, its sorted class and cluster labels and the optimal matching.

    Returns
    -------
    table : ndarray of shape (n_classes, n_clusters)
        ``table[c, k]`` counts the samples of class ``classes[c]`` in cluster ``clusters[k]``.
    classes, clusters : ndarray
        Sorted distinct labels of ``y_true`` and ``y_pred``.
    class_index, cluster_index : ndarray of int
        Matched pairs of row and column indices, ``min(n_classes, n_clusters)`` of them.
    """
    y_true, y_pred = _check_labels(y_true, y_pred)
    table = contingency_matrix(y_true, y_pred)
    class_index, cluster_index = linear_sum_assignment(table, maximize=True)
    return table, np.unique(y_true), np.unique(y_pred), class_index, cluster_index


def matched_accuracy(y_true, y_pred):
    """Fraction of samples whose cluster is matched to their class.

    Clusters are matched one-to-one to classes so as to maximise the number of agreements
    (the matched accuracy of the module docstring). The numbers of clusters and classes may
    differ: samples in a cluster that no class is matched to count as errors, so splitting a
    class over two clusters is penalised.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True class of every sample.
    y_pred : array-like of shape (n_samples,)
        Cluster label of every sample, e.g. the output of ``model.predict(X)``.

    Returns
    -------
    float
        Matched accuracy in [0, 1]; it is never below the plain accuracy
        ``mean(y_true == y_pred)`` and does not change if the cluster labels are renamed.

    Raises
    ------
    ValueError
        If the inputs are not 1-D, are empty or differ in length.

    Examples
    --------
    >>> matched_accuracy([0, 0, 1, 1, 2], [1, 1, 0, 0, 0])
    0.8
    """
    table, _, _, class_index, cluster_index = _best_matching(y_true, y_pred)
    return float(table[class_index, cluster_index].sum() / table.sum())


def matched_confusion_matrix(y_true, y_pred):
    """Confusion matrix whose columns are the clusters reordered by the optimal matching.

    Rows are the true classes in sorted order. The columns are first the matched clusters,
    in the order of the classes they are matched to, then any unmatched clusters in sorted
    order. With at least as many clusters as classes, column ``j`` is the cluster matched to
    the ``j``-th class, so a good clustering gives a diagonal-dominant matrix; with fewer
    clusters than classes, read the pairs from ``mapping`` instead.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True class of every sample.
    y_pred : array-like of shape (n_samples,)
        Cluster label of every sample.

    Returns
    -------
    matrix : ndarray of shape (n_classes, n_clusters)
        ``matrix[i, j]`` counts the samples of the ``i``-th class put in the ``j``-th cluster
        of the reordered columns. With at least as many clusters as classes, the trace
        divided by the number of samples is :func:`matched_accuracy`.
    mapping : dict
        Cluster label -> matched class label, with keys in column order, so
        ``list(mapping)`` names the columns of ``matrix``. A cluster matched to no class
        maps to None. Labels are returned as plain Python values.

    Raises
    ------
    ValueError
        If the inputs are not 1-D, are empty or differ in length.

    Examples
    --------
    >>> matrix, mapping = matched_confusion_matrix([0, 0, 1, 1], [5, 5, 5, 7])
    >>> matrix.tolist()
    [[2, 0], [1, 1]]
    >>> mapping
    {5: 0, 7: 1}
    """
    table, classes, clusters, class_index, cluster_index = _best_matching(y_true, y_pred)
    # linear_sum_assignment returns the row indices sorted, so the matched clusters come out
    # already in the order of the classes they are matched to.
    unmatched = np.setdiff1d(np.arange(clusters.size), cluster_index)
    column_order = np.concatenate([cluster_index, unmatched])
    pairs = zip(class_index, cluster_index, strict=True)
    mapping = {clusters[k].item(): classes[c].item() for c, k in pairs}
    mapping.update({clusters[k].item(): None for k in unmatched})
    return table[:, column_order], mapping


def match_components(reference_means, fitted_means):
    r"""Pair fitted components with reference ones so that matched means are closest.

    Solves :math:`\min_\sigma \sum_k \lVert m_k - \hat\mu_{\sigma(k)} \rVert` over one-to-one maps
    :math:`\sigma` from reference to fitted components, by the Hungarian method. Use it to compare
    a fit with the parameters that generated the data, whose labels EM cannot know.

    Parameters
    ----------
    reference_means : array-like of shape (n_reference, n_features)
        Means of the reference (for example the true) components.
    fitted_means : array-like of shape (n_fitted, n_features)
        Means of the fitted components; ``n_fitted >= n_reference``.

    Returns
    -------
    order : ndarray of int, shape (n_reference,)
        ``fitted_means[order[k]]`` is the fitted component matched to reference component ``k``,
        so ``model.weights_[order]`` lists the fitted weights in the reference order.

    Raises
    ------
    ValueError
        If the arrays are not 2-D with the same number of columns, or there are fewer fitted
        components than reference ones.

    Examples
    --------
    >>> match_components([[0.0, 0.0], [5.0, 5.0]], [[5.1, 4.9], [0.2, -0.1]]).tolist()
    [1, 0]
    """
    reference = np.asarray(reference_means, dtype=float)
    fitted = np.asarray(fitted_means, dtype=float)
    if reference.ndim != 2 or fitted.ndim != 2 or reference.shape[1] != fitted.shape[1]:
        raise ValueError(
            "reference_means and fitted_means must be 2-D arrays of shape (n_components, "
            f"n_features) with the same n_features, got shapes {reference.shape} and "
            f"{fitted.shape}; reshape 1-D means with reshape(-1, 1)."
        )
    if fitted.shape[0] < reference.shape[0]:
        raise ValueError(
            f"There are {fitted.shape[0]} fitted components but {reference.shape[0]} reference "
            "ones, so some reference component would have no partner; fit at least as many "
            "components."
        )
    _, order = linear_sum_assignment(cdist(reference, fitted))
    return order


def _check_clusters(y_true, y_pred, n_clusters):
    y_true, y_pred = _check_labels(y_true, y_pred)
    for name, labels in (("y_true", y_true), ("y_pred", y_pred)):
        if not np.issubdtype(labels.dtype, np.integer) or labels.min() < 0:
            raise ValueError(
                f"{name} must hold non-negative integer labels (classes 0, 1, ... and cluster "
                "indices from model.predict); encode other labels with "
                "sklearn.preprocessing.LabelEncoder first."
            )
    if y_pred.max() >= n_clusters:
        raise ValueError(
            f"y_pred contains cluster {y_pred.max()} but n_clusters={n_clusters}; pass the "
            "model's n_components."
        )
    return y_true, y_pred


def _cluster_table(y_true, y_pred, n_clusters):
    """Counts ``table[k, c]`` of class ``c`` in cluster ``k``, empty clusters included."""
    n_classes = int(y_true.max()) + 1
    table = np.zeros((n_clusters, n_classes), dtype=np.int64)
    np.add.at(table, (y_pred, y_true), 1)
    return table


def cluster_majorities(y_true, y_pred, n_clusters):
    r"""Most common class in each cluster, its share and the cluster size.

    With :math:`C_{kc}` the number of samples of class :math:`c` in cluster :math:`k`, the
    majority is :math:`\arg\max_c C_{kc}` (the smallest class on ties) and its share
    :math:`\max_c C_{kc} / \sum_c C_{kc}`.

    Parameters
    ----------
    y_true : array-like of int, shape (n_samples,)
        True class of every sample, non-negative integers.
    y_pred : array-like of int, shape (n_samples,)
        Cluster of every sample, integers in ``[0, n_clusters)``.
    n_clusters : int
        Number of clusters, so that empty clusters are reported too.

    Returns
    -------
    majority : ndarray of int, shape (n_clusters,)
        Majority class of each cluster, -1 for an empty cluster.
    share : ndarray of float, shape (n_clusters,)
        Fraction of the cluster in its majority class, 0 for an empty cluster.
    size : ndarray of int, shape (n_clusters,)
        Number of samples in each cluster.

    Raises
    ------
    ValueError
        If the labels are not non-negative integers, a cluster index is out of range, or the
        inputs differ in length.

    Examples
    --------
    >>> majority, share, size = cluster_majorities([0, 0, 1, 2], [1, 1, 1, 0], 3)
    >>> majority.tolist(), share.round(3).tolist(), size.tolist()
    ([2, 0, -1], [1.0, 0.667, 0.0], [1, 3, 0])
    """
    check_scalar(n_clusters, "n_clusters", Integral, min_val=1)
    y_true, y_pred = _check_clusters(y_true, y_pred, n_clusters)
    table = _cluster_table(y_true, y_pred, n_clusters)
    size = table.sum(axis=1)
    majority = np.where(size > 0, table.argmax(axis=1), -1)
    share = table.max(axis=1) / np.maximum(size, 1)
    return majority, share, size


def cluster_class_map(y_true, y_pred, n_clusters, *, one_to_one=True):
    r"""Learn which class each cluster stands for, from labelled (training) samples.

    With ``one_to_one=True`` the map is the matching of the module docstring, each class given
    to at most one cluster; otherwise each cluster takes its majority class
    (:func:`cluster_majorities`), so several clusters may share a class. Applied to held-out
    samples, ``np.mean(mapping[model.predict(X_test)] == y_test)`` is an honest accuracy: the
    map was not chosen with the test labels.

    Parameters
    ----------
    y_true : array-like of int, shape (n_samples,)
        Classes of the training samples, non-negative integers.
    y_pred : array-like of int, shape (n_samples,)
        Clusters of the same samples, integers in ``[0, n_clusters)``.
    n_clusters : int
        Number of clusters of the model.
    one_to_one : bool, default=True
        Match clusters and classes one-to-one (Hungarian method) or by majority.

    Returns
    -------
    mapping : ndarray of int, shape (n_clusters,)
        ``mapping[k]`` is the class of cluster ``k``; -1 for a cluster left without a class
        (unmatched, or empty under the majority rule).

    Raises
    ------
    ValueError
        As :func:`cluster_majorities`.

    Examples
    --------
    >>> cluster_class_map([0, 0, 1, 1, 1], [2, 2, 0, 0, 1], 3).tolist()
    [1, -1, 0]
    >>> cluster_class_map([0, 0, 1, 1, 1], [2, 2, 0, 0, 1], 3, one_to_one=False).tolist()
    [1, 1, 0]
    """
    check_scalar(n_clusters, "n_clusters", Integral, min_val=1)
    if not one_to_one:
        return cluster_majorities(y_true, y_pred, n_clusters)[0]
    y_true, y_pred = _check_clusters(y_true, y_pred, n_clusters)
    table = _cluster_table(y_true, y_pred, n_clusters)
    clusters, classes = linear_sum_assignment(table, maximize=True)
    mapping = np.full(n_clusters, -1)
    mapping[clusters] = classes
    return mapping
