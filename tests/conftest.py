"""Test-session settings."""

import os

import matplotlib
import matplotlib.pyplot as plt
import pytest

# Figures are drawn off-screen; switching after pyplot is imported is allowed.
matplotlib.use("Agg")

# scikit-learn runs its array-API estimator check (here with plain NumPy arrays) only when
# SciPy's array-API mode is on, and SciPy reads this variable once, at import.
os.environ.setdefault("SCIPY_ARRAY_API", "1")


@pytest.fixture(autouse=True)
def close_figures():
    """Close every figure a test opened, so that none leaks into the next test."""
    yield
    plt.close("all")
