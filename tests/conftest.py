"""Test-session settings."""

import os

import matplotlib
import matplotlib.pyplot as plt
import pytest
from hypothesis import settings

# Figures are drawn off-screen; switching after pyplot is imported is allowed.
matplotlib.use("Agg")

# scikit-learn runs its array-API estimator check (here with plain NumPy arrays) only when
# SciPy's array-API mode is on, and SciPy reads this variable once, at import.
os.environ.setdefault("SCIPY_ARRAY_API", "1")

# CI (CI=true) draws the same property-test examples on every run, so that a submission's
# result does not depend on luck; a contributor's runs draw new ones, and hypothesis keeps
# any failure it finds in .hypothesis/ and replays it first next time.
settings.register_profile("ci", derandomize=True)
if os.environ.get("CI"):
    settings.load_profile("ci")


@pytest.fixture(autouse=True)
def close_figures():
    """Close every figure a test opened, so that none leaks into the next test."""
    yield
    plt.close("all")
