"""Loaders for the real image data bundled with the package.

The archives in ``data/`` are built by ``scripts/build_datasets.py`` from the
official IDX files; ``data/README.md`` records how, their SHA-256 checksums and
the licences. Loading reads only those archives, never the original files.
"""

import numbers
from functools import cache
from importlib.resources import as_file, files

import numpy as np
from sklearn.utils.validation import check_scalar

__all__ = ["FASHION_MNIST_CLASSES", "load_fashion_mnist", "load_mnist"]

FASHION_MNIST_CLASSES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)


@cache
def _read_archive(filename):
    """Return the read-only ``(images, labels)`` uint8 arrays of a bundled archive.

    Cached because chapters load the same data repeatedly; the arrays are made
    read-only so that no caller can alter the cached copy.
    """
    resource = files(__package__).joinpath("data", filename)
    with as_file(resource) as path, np.load(path, allow_pickle=False) as archive:
        images, labels = archive["images"], archive["labels"]
    images.setflags(write=False)
    labels.setflags(write=False)
    return images, labels


def _check_classes(classes, argument, describe):
    """Validate a list of class labels in 0..9 and return it as an int array."""
    labels = np.asarray(classes)
    if labels.ndim != 1 or labels.size == 0 or not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(
            f"{argument} must be a non-empty list of integer labels in 0..9; got {classes!r}."
        )
    unknown = sorted(set(labels.tolist()) - set(range(10)))
    if unknown:
        raise ValueError(f"Unknown {argument} {unknown}; valid labels are {describe}.")
    return labels


def _select(filename, n, classes, argument, describe, binarize, threshold):
    """Select classes, keep the first ``n`` images and scale or binarise them."""
    threshold = check_scalar(
        threshold,
        "threshold",
        numbers.Real,
        min_val=0.0,
        max_val=1.0,
        include_boundaries="neither",
    )
    images, labels = _read_archive(filename)
    if classes is None:
        index = np.arange(labels.shape[0])
    else:
        index = np.flatnonzero(np.isin(labels, _check_classes(classes, argument, describe)))
    if n is not None:
        n = check_scalar(n, "n", numbers.Integral, min_val=1)
        if n > index.shape[0]:
            chosen = "" if classes is None else f" with {argument}={list(classes)}"
            raise ValueError(
                f"n={n} exceeds the {index.shape[0]} images available{chosen}; "
                "ask for fewer, or pass n=None to take them all."
            )
        index = index[:n]

    intensity = images[index] / 255.0
    X = (intensity > threshold).astype(np.uint8) if binarize else intensity
    return X, labels[index].astype(np.int64)


def load_mnist(n=None, *, digits=None, binarize=False, threshold=0.5):
    """Load the bundled MNIST test images (all 10,000 of the official test split).

    Images keep their original order: class selection filters it, then the
    first ``n`` remaining images are returned. Binarisation sets a pixel to 1
    when its scaled intensity ``pixel / 255`` exceeds ``threshold``.

    Parameters
    ----------
    n : int or None, default=None
        Number of images to return after class selection; ``None`` for all.
    digits : list of int or None, default=None
        Digits (0-9) to keep; ``None`` keeps all ten.
    binarize : bool, default=False
        Return 0/1 pixels (uint8) instead of intensities in [0, 1] (float64).
    threshold : float, default=0.5
        Binarisation threshold on the [0, 1] scale, strictly between 0 and 1.

    Returns
    -------
    X : ndarray of shape (n, 784)
        Images flattened row by row; float64 in [0, 1], or uint8 in {0, 1}
        when ``binarize=True``.
    y : ndarray of shape (n,), int64
        The digit shown in each image.

    Raises
    ------
    ValueError
        For an unknown digit, ``n`` larger than the images available or a
        threshold outside (0, 1).
    """
    return _select("mnist_test.npz", n, digits, "digits", "0..9", binarize, threshold)


def load_fashion_mnist(n=None, *, classes=None, binarize=False, threshold=0.5):
    """Load the bundled Fashion-MNIST images (the first 4,000 of the test split).

    Same selection and scaling rules as :func:`load_mnist`. Label ``k`` names
    the garment ``FASHION_MNIST_CLASSES[k]``.

    Parameters
    ----------
    n : int or None, default=None
        Number of images to return after class selection; ``None`` for all.
    classes : list of int or None, default=None
        Class labels (0-9) to keep; ``None`` keeps all ten. Look a label up
        by name with ``FASHION_MNIST_CLASSES.index("Bag")``.
    binarize : bool, default=False
        Return 0/1 pixels (uint8) instead of intensities in [0, 1] (float64).
    threshold : float, default=0.5
        Binarisation threshold on the [0, 1] scale, strictly between 0 and 1.

    Returns
    -------
    X : ndarray of shape (n, 784)
        Images flattened row by row; float64 in [0, 1], or uint8 in {0, 1}
        when ``binarize=True``.
    y : ndarray of shape (n,), int64
        The class label of each image.

    Raises
    ------
    ValueError
        For an unknown class, ``n`` larger than the images available or a
        threshold outside (0, 1).
    """
    describe = ", ".join(f"{k} ({name})" for k, name in enumerate(FASHION_MNIST_CLASSES))
    return _select(
        "fashion_mnist_test4000.npz", n, classes, "classes", describe, binarize, threshold
    )
