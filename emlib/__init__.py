"""emlib: the EM algorithm and mixture models, the companion package of the course.

The estimators follow scikit-learn's conventions (``fit``, ``predict_proba``, ``means_``,
``random_state``, ...) and share one EM engine, :class:`emlib.em.MixtureEM`.
"""

from .bernoulli import BernoulliMixture
from .gaussian import GaussianMixture
from .kmeans import KMeans

__all__ = ["BernoulliMixture", "GaussianMixture", "KMeans"]
__version__ = "0.1.0"
