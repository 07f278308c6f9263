"""Test-session settings."""

import os

# scikit-learn runs its array-API estimator check (here with plain NumPy arrays) only when
# SciPy's array-API mode is on, and SciPy reads this variable once, at import.
os.environ.setdefault("SCIPY_ARRAY_API", "1")
