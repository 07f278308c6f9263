"""emlib: the EM algorithm and mixture models, the companion package of the course.

The estimators follow scikit-learn's conventions (``fit``, ``predict_proba``, ``means_``,
``random_state``, ...) and share one EM engine, :class:`emlib.em.MixtureEM`.

The subpackages that the estimators do not need (``animation``, ``datasets``,
``metrics``, ``plotting``, ``selection``) are imported on first use, as in SciPy and
scikit-learn: ``import emlib`` stays fast and does not load Matplotlib, yet
``emlib.datasets.load_mnist()`` works without a separate ``import emlib.datasets``.
"""

import importlib

from .bernoulli import BernoulliMixture
from .gaussian import GaussianMixture
from .kmeans import KMeans
from .multinomial import MultinomialMixture
from .priors import GaussianPrior
from .student import StudentTMixture
from .variational import VariationalGaussianMixture

__all__ = [
    "BernoulliMixture",
    "GaussianMixture",
    "GaussianPrior",
    "KMeans",
    "MultinomialMixture",
    "StudentTMixture",
    "VariationalGaussianMixture",
]
__version__ = "0.1.0"

_LAZY_SUBMODULES = ("animation", "datasets", "metrics", "plotting", "selection")


def __getattr__(name):
    if name in _LAZY_SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted({*globals(), *_LAZY_SUBMODULES})
