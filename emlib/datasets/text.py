"""Loader for the bag-of-words passages bundled with the package.

The archive ``data/passages.npz`` is built by ``scripts/build_corpus.py`` from six
public-domain books (Project Gutenberg texts with the Gutenberg header and footer removed);
``data/passages_README.md`` records how, the checksums of inputs and output, and the
licence. Loading reads only that archive.
"""

from functools import cache
from importlib.resources import as_file, files

import numpy as np
import scipy.sparse as sp

__all__ = ["PASSAGE_BOOKS", "load_passages"]

PASSAGE_BOOKS = (
    "Pride and Prejudice",
    "Moby Dick; or, The Whale",
    "The Adventures of Sherlock Holmes",
    "The Voyage of the Beagle",
    "The Federalist Papers",
    "The Art of War",
)


@cache
def _read_passages():
    """Return the read-only CSR arrays, labels and vocabulary of the bundled archive.

    Cached because chapters load the same data repeatedly; the arrays are made read-only
    so that no caller can alter the cached copy.
    """
    resource = files(__package__).joinpath("data", "passages.npz")
    with as_file(resource) as path, np.load(path, allow_pickle=False) as archive:
        arrays = {key: archive[key] for key in archive.files}
    for array in arrays.values():
        array.setflags(write=False)
    return arrays


def load_passages(*, books=None):
    """Load the word counts of 3,361 passages of 150 words from six public-domain books.

    Each row counts, over a vocabulary of 3,000 words, the words of 150 consecutive words of
    one book (lower-cased, letters only, without scikit-learn's English stop words and
    one-letter words, so about 45 counted words per passage). Label ``k`` names the book
    ``PASSAGE_BOOKS[k]``: 600 passages, evenly spaced through the book, from each of the
    first five and all 361 of *The Art of War*. ``data/passages_README.md`` in the package
    says how they were built.

    Parameters
    ----------
    books : list of int or None, default=None
        Labels (0-5) of the books to keep, in the original order of the passages;
        ``None`` keeps all six.

    Returns
    -------
    X : scipy.sparse.csr_array of shape (n_passages, 3000), int64
        Word counts; column ``j`` counts ``vocabulary[j]``.
    y : ndarray of shape (n_passages,), int64
        The book of each passage.
    vocabulary : ndarray of shape (3000,), str
        The words, in alphabetical order.

    Raises
    ------
    ValueError
        For a book label outside 0..5.

    Examples
    --------
    >>> X, y, vocabulary = load_passages(books=[0, 1])
    >>> X.shape, [PASSAGE_BOOKS[k] for k in np.unique(y)]
    ((1200, 3000), ['Pride and Prejudice', 'Moby Dick; or, The Whale'])
    """
    arrays = _read_passages()
    X = sp.csr_array(
        (arrays["data"].astype(np.int64), arrays["indices"].astype(np.int32),
         arrays["indptr"]),
        shape=tuple(int(n) for n in arrays["shape"]),
    )
    y = arrays["labels"].astype(np.int64)
    if books is not None:
        chosen = np.asarray(books)
        if (chosen.ndim != 1 or chosen.size == 0
                or not np.issubdtype(chosen.dtype, np.integer)
                or not np.isin(chosen, np.arange(len(PASSAGE_BOOKS))).all()):
            describe = ", ".join(f"{k} ({title})" for k, title in enumerate(PASSAGE_BOOKS))
            raise ValueError(
                f"books must be a non-empty list of book labels; got {books!r}. "
                f"The labels are {describe}."
            )
        rows = np.flatnonzero(np.isin(y, chosen))
        X, y = X[rows], y[rows]
    return X, y, arrays["vocabulary"].copy()
