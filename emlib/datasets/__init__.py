"""Data sets for the course: synthetic mixtures with known parameters and bundled images."""

from .real import FASHION_MNIST_CLASSES, load_fashion_mnist, load_mnist
from .synthetic import (
    BINARY_PATTERN_NAMES,
    make_binary_patterns,
    make_gaussian_mixture,
    three_blobs_2d,
    three_blobs_2d_params,
    three_clusters_1d,
    three_clusters_1d_params,
)

__all__ = [
    "BINARY_PATTERN_NAMES",
    "FASHION_MNIST_CLASSES",
    "load_fashion_mnist",
    "load_mnist",
    "make_binary_patterns",
    "make_gaussian_mixture",
    "three_blobs_2d",
    "three_blobs_2d_params",
    "three_clusters_1d",
    "three_clusters_1d_params",
]
