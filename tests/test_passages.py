"""The bundled passages of six books: shape, checksums, labels, vocabulary and build script."""

import hashlib
import re
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from script_modules import load_script
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

from emlib.datasets import PASSAGE_BOOKS, load_passages

REPO_ROOT = Path(__file__).resolve().parents[1]
DATA_DIR = REPO_ROOT / "emlib" / "datasets" / "data"
SHARED_TEXT = REPO_ROOT.parent / "shared-text"
BOOK_COUNTS = [600, 600, 600, 600, 600, 361]


build_corpus = load_script("build_corpus")


def _sha256(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _recorded(suffix):
    text = (DATA_DIR / build_corpus.README).read_text(encoding="utf-8")
    return {name: digest for digest, name in
            re.findall(rf"^\s+([0-9a-f]{{64}})  (\S+\.{suffix})$", text, flags=re.MULTILINE)}


def test_bundled_archive_matches_its_recorded_checksum_and_is_small():
    recorded = _recorded("npz")
    assert set(recorded) == {"passages.npz"}
    assert _sha256(DATA_DIR / "passages.npz") == recorded["passages.npz"]
    assert (DATA_DIR / "passages.npz").stat().st_size < 300_000


def test_recorded_input_checksums_are_the_script_s():
    assert _recorded("txt") == {book["file"]: book["sha256"] for book in build_corpus.BOOKS}


def test_shapes_dtypes_and_labels():
    X, y, vocabulary = load_passages()
    assert isinstance(X, sp.csr_array) and X.dtype == np.int64
    assert X.shape == (3361, 3000) and y.shape == (3361,) and y.dtype == np.int64
    np.testing.assert_array_equal(np.bincount(y), BOOK_COUNTS)
    assert np.all(np.diff(y) >= 0)  # the books in turn, each in reading order
    assert vocabulary.shape == (3000,)
    with np.load(DATA_DIR / "passages.npz") as archive:
        assert tuple(archive["books"]) == PASSAGE_BOOKS
    assert [book["title"] for book in build_corpus.BOOKS] == list(PASSAGE_BOOKS)


def test_counts_and_vocabulary_follow_the_tokenisation():
    X, _, vocabulary = load_passages()
    lengths = X.sum(axis=1)
    assert X.data.min() >= 1 and lengths.max() <= build_corpus.PASSAGE_WORDS
    assert lengths.min() > 0
    assert 44 < lengths.mean() < 46
    assert list(vocabulary) == sorted(set(vocabulary))
    assert all(re.fullmatch(r"[a-z]{2,}", word) for word in vocabulary)
    assert not set(vocabulary) & ENGLISH_STOP_WORDS
    document_frequency = np.bincount(X.indices, minlength=X.shape[1])
    assert document_frequency.min() >= build_corpus.MIN_DOCUMENT_FREQUENCY
    # Words that tell the books apart are in, and so are their counts in the right books.
    column = {word: j for j, word in enumerate(vocabulary)}
    _, y, _ = load_passages()
    for word, book in [("elizabeth", 0), ("whale", 1), ("holmes", 2), ("species", 3),
                       ("constitution", 4), ("enemy", 5)]:
        per_book = np.bincount(y, weights=X[:, [column[word]]].toarray()[:, 0], minlength=6)
        assert per_book.argmax() == book, word


def test_book_selection_and_read_only_cache():
    X, y, vocabulary = load_passages()
    X2, y2, _ = load_passages(books=[5, 1])
    rows = np.flatnonzero(np.isin(y, [1, 5]))
    assert (X2 != X[rows]).nnz == 0
    np.testing.assert_array_equal(y2, y[rows])
    X.data[:] = 0  # the caller's copy; the cached archive is untouched
    vocabulary[0] = "changed"
    again, _, words = load_passages()
    assert again.data.min() >= 1 and words[0] != "changed"


@pytest.mark.parametrize("books", [[], [6], [0.5], "austen", [[0, 1]]])
def test_bad_book_labels_say_what_the_labels_are(books):
    with pytest.raises(ValueError, match=r"books must be a non-empty list .* 0 \(Pride and"):
        load_passages(books=books)


def test_build_script_reproduces_the_bundled_archive(tmp_path):
    recorded = _recorded("npz")
    if not SHARED_TEXT.is_dir():
        # Without the Gutenberg files the recorded checksum is the only reference.
        assert _sha256(DATA_DIR / "passages.npz") == recorded["passages.npz"]
        return
    assert build_corpus.main(["--source", str(SHARED_TEXT), "--output-dir", str(tmp_path)]) == 0
    with np.load(tmp_path / "passages.npz") as rebuilt, \
            np.load(DATA_DIR / "passages.npz") as bundled:
        assert set(rebuilt.files) == set(bundled.files)
        for key in rebuilt.files:
            np.testing.assert_array_equal(rebuilt[key], bundled[key])
    assert _sha256(tmp_path / "passages.npz") == recorded["passages.npz"]
    readme = build_corpus.README
    assert (tmp_path / readme).read_text() == (DATA_DIR / readme).read_text()


def test_build_script_fails_on_missing_or_altered_input(tmp_path):
    with pytest.raises(FileNotFoundError, match="pg1342.txt not found in .* save 1342-0.txt"):
        build_corpus.main(["--source", str(tmp_path), "--output-dir", str(tmp_path / "out")])
    for book in build_corpus.BOOKS:
        (tmp_path / book["file"]).write_bytes(b"not the recorded file")
    with pytest.raises(ValueError, match="SHA-256 mismatch for pg1342.txt"):
        build_corpus.main(["--source", str(tmp_path), "--output-dir", str(tmp_path / "out")])
    assert not (tmp_path / "out").exists()


def test_gutenberg_header_credit_and_footer_are_cut():
    book = {"file": "x.txt", "first_line": "A TALE"}
    raw = ("The Project Gutenberg EBook of A Tale\r\nLicence words\r\n"
           "*** START OF THIS PROJECT GUTENBERG EBOOK A TALE ***\r\n\r\n"
           "Produced by Someone\r\n\r\nA TALE\r\n\r\nOnce upon a time.\r\n\r\n"
           "End of the Project Gutenberg EBook of A Tale\r\n"
           "*** END OF THIS PROJECT GUTENBERG EBOOK A TALE ***\r\nMore licence\r\n")
    assert build_corpus.book_text(raw, book).split() == ["A", "TALE", "Once", "upon", "a",
                                                         "time."]
    with pytest.raises(ValueError, match="no Project Gutenberg start marker"):
        build_corpus.book_text("Just text", book)
    with pytest.raises(ValueError, match="first line 'A STORY' is missing"):
        build_corpus.book_text(raw, {"file": "x.txt", "first_line": "A STORY"})


def test_passages_are_fixed_runs_of_words_without_stop_words(monkeypatch):
    monkeypatch.setattr(build_corpus, "PASSAGE_WORDS", 4)
    # 13 words (digits and punctuation split them; "whale's" is "whale" and "s"): three
    # passages of four, the 13th word dropped; "the", "and", "a" and "s" not counted.
    text = "The whale's jaw -- 2 harpoons!\nThe Whale and a SHIP sank. Leftover words"
    assert build_corpus.passages(text) == [["whale", "jaw"], ["harpoons", "whale"],
                                           ["ship", "sank", "leftover"]]
    np.testing.assert_array_equal(build_corpus.evenly_spaced(10, 4), [0, 2, 5, 7])
    np.testing.assert_array_equal(build_corpus.evenly_spaced(3, 4), [0, 1, 2])
