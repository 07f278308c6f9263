"""Where emlib's warnings point: at the user's line, not inside the package."""

import os
import sys

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


def user_stacklevel():
    """The ``stacklevel`` that makes a warning raised by the caller point at user code.

    Counts the frames from the function that calls this one (level 1) up to the first whose
    file lies outside the emlib package: the user's line that called ``fit``, whatever
    chain of emlib methods (``fit``, ``fit_predict``, a family's override) lies between.
    (Python 3.12's ``skip_file_prefixes`` does the same; emlib supports 3.11.)
    """
    frame, level = sys._getframe(1), 1
    while frame.f_back is not None and frame.f_code.co_filename.startswith(_PACKAGE_DIR):
        frame, level = frame.f_back, level + 1
    return level
