"""Data sets for the course: synthetic mixtures with known parameters, bundled images and
bag-of-words passages of public-domain books."""

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
from .text import PASSAGE_BOOKS, load_passages

__all__ = [
    "BINARY_PATTERN_NAMES",
    "FASHION_MNIST_CLASSES",
    "PASSAGE_BOOKS",
    "load_fashion_mnist",
    "load_mnist",
    "load_passages",
    "make_binary_patterns",
    "make_gaussian_mixture",
    "three_blobs_2d",
    "three_blobs_2d_params",
    "three_clusters_1d",
    "three_clusters_1d_params",
]
