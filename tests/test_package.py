"""The package itself: subpackages reachable from ``import emlib``, and a light import."""

import subprocess
import sys

import pytest

import emlib


def run_python(code):
    """Run ``code`` in a fresh interpreter (this one has imported everything already)."""
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_subpackages_load_on_first_use():
    out = run_python(
        "import sys, emlib\n"
        "before = 'emlib.datasets' in sys.modules\n"
        "X, y = emlib.datasets.load_mnist(5)\n"
        "print(before, X.shape, 'emlib.datasets' in sys.modules)"
    )
    assert out == "False (5, 784) True"


def test_import_emlib_does_not_load_matplotlib_or_the_subpackages():
    out = run_python(
        "import sys, emlib\n"
        "print(sorted(m for m in ('matplotlib', 'emlib.plotting', 'emlib.selection',"
        " 'emlib.metrics', 'emlib.datasets') if m in sys.modules))"
    )
    assert out == "[]"


@pytest.mark.parametrize("name", ["animation", "datasets", "metrics", "plotting", "selection"])
def test_every_lazy_subpackage_is_listed_and_loads(name):
    assert name in dir(emlib)
    module = getattr(emlib, name)
    assert module.__name__ == f"emlib.{name}"


def test_unknown_attribute_is_an_attribute_error():
    with pytest.raises(AttributeError, match="module 'emlib' has no attribute 'dataset'"):
        _ = emlib.dataset
