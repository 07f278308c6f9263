"""The modules of scripts/, which is not a package, for the tests that call their functions."""

import importlib.util
import sys
from pathlib import Path

SCRIPTS = Path(__file__).resolve().parent.parent / "scripts"


def load_script(name):
    """Import ``scripts/<name>.py`` as the module ``name``."""
    spec = importlib.util.spec_from_file_location(name, SCRIPTS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    # Registered first, as an import would: a dataclass looks its module up there.
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module
