"""Putting a model back as it was when a fit or an online step fails."""

import contextlib


@contextlib.contextmanager
def restored_on_failure(model):
    """Inside the block, a failure restores every attribute the model had before it, and
    the per-fit scratch (``_fit_scratch``) is dropped on leaving, whatever happens.

    A fit or a step that raises must leave the model as it was: an unfitted model stays
    unfitted (``predict`` then raises ``NotFittedError``, not an ``AttributeError`` about an
    attribute the failed fit had not yet set). Every step of a fit assigns new attributes
    rather than changing arrays in place, so a shallow copy of the attributes is enough.
    """
    before = dict(vars(model))
    try:
        yield
    except BaseException:
        vars(model).clear()
        vars(model).update(before)
        raise
    finally:
        vars(model).pop("_fit_scratch", None)
