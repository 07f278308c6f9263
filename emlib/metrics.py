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
"""

import numpy as np
from scipy.optimize import linear_sum_assignment
from sklearn.metrics.cluster import contingency_matrix

__all__ = ["matched_accuracy", "matched_confusion_matrix"]


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
