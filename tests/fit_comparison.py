"""Helpers shared by the tests that compare two fits of one mixture (Dask against NumPy,
online against batch)."""

import numpy as np

PARAMETER_NAMES = ("weights_", "means_", "covariances_", "precisions_cholesky_")


def relative_difference(a, b):
    """Largest difference relative to the parameter's scale (its largest magnitude)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-300))


def parameters(model):
    """The fitted parameters a mixture has, by attribute name."""
    return {name: getattr(model, name) for name in PARAMETER_NAMES if hasattr(model, name)}
