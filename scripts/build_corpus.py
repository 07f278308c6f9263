"""Build the bag-of-words passages that ``emlib.datasets.load_passages`` ships.

Usage (from the repository root)::

    python scripts/build_corpus.py [--source ../shared-text] [--output-dir emlib/datasets/data]

The inputs are six public-domain books as plain-text Project Gutenberg files, taken from
the GITenberg mirrors on GitHub (repository and commit recorded in ``BOOKS``). Each is
checked against its SHA-256 before it is read. The Project Gutenberg header and licence
footer are cut away, leaving the public-domain text, which is split into passages of
``PASSAGE_WORDS`` consecutive words; at most ``MAX_PASSAGES_PER_BOOK`` passages, evenly
spaced through the book, are kept from each. The passages are counted over a vocabulary of
the words that occur in at least ``MIN_DOCUMENT_FREQUENCY`` passages (stop words removed,
at most ``MAX_VOCABULARY`` words), and written as a compressed sparse document-term matrix
together with a generated README recording provenance, licence and checksums. The archive
is byte-for-byte reproducible (fixed zip timestamps, as ``scripts/build_datasets.py``).

Tokenisation: lower-case, then every maximal run of the letters a-z is a word (so
"don't" gives "don" and "t", and digits and punctuation separate words); words of one
letter and scikit-learn's ``ENGLISH_STOP_WORDS`` are not counted, but they do count
towards a passage's ``PASSAGE_WORDS``.
"""

import argparse
import importlib.util
import re
import sys
from collections import Counter
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SOURCE = REPO_ROOT.parent / "shared-text"
DEFAULT_OUTPUT = REPO_ROOT / "emlib" / "datasets" / "data"
ARCHIVE = "passages.npz"
README = "passages_README.md"

PASSAGE_WORDS = 150
MAX_PASSAGES_PER_BOOK = 600
MIN_DOCUMENT_FREQUENCY = 5
MAX_VOCABULARY = 3000

# Gutenberg number, title (the label name), author, first published, file, SHA-256, GITenberg
# repository and commit, and the first line of the book proper (what precedes it after the
# Gutenberg header is a producer's credit or a note of Project Gutenberg's).
BOOKS = (
    {
        "ebook": 1342,
        "title": "Pride and Prejudice",
        "author": "Jane Austen",
        "published": 1813,
        "file": "pg1342.txt",
        "sha256": "48e0522844402a86a3ea98f0947ba85ea54838db3c59022299298ed968a5a163",
        "repository": "GITenberg/Pride-and-Prejudice_1342",
        "path": "1342-0.txt",
        "commit": "81db45c9c48c592f0b77f01fc59e677ad0a5634e",
        "first_line": "PRIDE AND PREJUDICE",
    },
    {
        "ebook": 2701,
        "title": "Moby Dick; or, The Whale",
        "author": "Herman Melville",
        "published": 1851,
        "file": "pg2701.txt",
        "sha256": "baf9b04fcf6e0008f30eaaa6697277751448c1070b20175e0082f28cbb161fd3",
        "repository": "GITenberg/Moby-Dick--Or-The-Whale_2701",
        "path": "2701-0.txt",
        "commit": "bdf1948e6cd00963730971e5624e764a35f238c3",
        "first_line": "MOBY-DICK;",
    },
    {
        "ebook": 1661,
        "title": "The Adventures of Sherlock Holmes",
        "author": "Arthur Conan Doyle",
        "published": 1892,
        "file": "pg1661.txt",
        "sha256": "2a0ce5568625a304f54fbb6bfdeeadf527a1437254b5f0e06b5a9e233d4784a2",
        "repository": "GITenberg/The-Adventures-of-Sherlock-Holmes_1661",
        "path": "1661.txt",
        "commit": "7e5dd2703fbf503c004063e96ab7c61262375e5f",
        "first_line": "THE ADVENTURES OF SHERLOCK HOLMES",
    },
    {
        "ebook": 944,
        "title": "The Voyage of the Beagle",
        "author": "Charles Darwin",
        "published": 1839,
        "file": "pg944.txt",
        "sha256": "24b8d915eb5f61c091ee66403096bb3a950e3c0cb310caf086b6be0cc86781f1",
        "repository": "GITenberg/The-Voyage-of-the-Beagle_944",
        "path": "944.txt",
        "commit": "a26cbdcdc1449627d1594dac877ad11396167791",
        "first_line": "THE VOYAGE OF THE BEAGLE",
    },
    {
        "ebook": 1404,
        "title": "The Federalist Papers",
        "author": "Alexander Hamilton, James Madison and John Jay",
        "published": 1788,
        "file": "pg1404.txt",
        "sha256": "64dd04d805964a7c8f946072fcc8ba11d01613c8e6faf908511a28930dcb28e1",
        "repository": "GITenberg/The-Federalist-Papers_1404",
        "path": "1404.txt",
        "commit": "7effe9c7518aa38e80f23664419a3e28b7993127",
        "first_line": "THE FEDERALIST PAPERS",
    },
    {
        "ebook": 132,
        "title": "The Art of War",
        "author": "Sun Tzu, translated by Lionel Giles",
        "published": 1910,
        "file": "pg132.txt",
        "sha256": "7d97b653a5e458d3023c8da65efc0805eeff62c20937a55b92d6dc6bff705b4e",
        "repository": "GITenberg/The-Art-of-War_132",
        "path": "132.txt",
        "commit": "20f54ddcd9792348e59b3e87e1e694f76e19fb53",
        "first_line": "SUN TZU ON THE ART OF WAR",
    },
)

START_MARKER = re.compile(r"^\*\*\* ?START OF TH(E|IS) PROJECT GUTENBERG EBOOK", re.MULTILINE)
# The footer opens with "End of [the] Project Gutenberg..." or, failing that, the end marker.
END_MARKER = re.compile(
    r"^(End of (the )?Project Gutenberg|\*\*\* ?END OF TH(E|IS) PROJECT GUTENBERG EBOOK)",
    re.MULTILINE,
)
WORD = re.compile(r"[a-z]+")


def _load_build_datasets():
    """The image builder, whose checksum and reproducible-archive helpers are reused."""
    spec = importlib.util.spec_from_file_location(
        "build_datasets", REPO_ROOT / "scripts" / "build_datasets.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


build_datasets = _load_build_datasets()


def verify_inputs(source):
    """Check that every book exists in ``source`` with its recorded SHA-256."""
    for book in BOOKS:
        path = source / book["file"]
        if not path.is_file():
            raise FileNotFoundError(
                f"Input file {book['file']} not found in {source}; save {book['path']} of "
                f"github.com/{book['repository']} at commit {book['commit']} under that "
                "name, or pass --source pointing at the directory that holds it."
            )
        actual = build_datasets.sha256_of(path)
        if actual != book["sha256"]:
            raise ValueError(
                f"SHA-256 mismatch for {book['file']}: expected {book['sha256']}, got "
                f"{actual}. The input is not the recorded file; fetch a clean copy."
            )


def book_text(raw, book):
    """The public-domain text of a Gutenberg file: header, credits and footer cut away."""
    text = raw.replace("\r\n", "\n")
    start = START_MARKER.search(text)
    if start is None:
        raise ValueError(f"{book['file']}: no Project Gutenberg start marker.")
    end = END_MARKER.search(text, start.end())
    if end is None:
        raise ValueError(f"{book['file']}: no Project Gutenberg end marker.")
    body = text[start.end():end.start()]
    first = re.search(rf"^\s*{re.escape(book['first_line'])}\s*$", body, re.MULTILINE)
    if first is None:
        raise ValueError(f"{book['file']}: the first line {book['first_line']!r} is missing.")
    return body[first.start():]


def passages(text):
    """Split the words of a text into consecutive passages of ``PASSAGE_WORDS`` words.

    The incomplete last passage is dropped. Returns a list of word lists, stop words and
    one-letter words already removed.
    """
    words = WORD.findall(text.lower())
    n_full = len(words) // PASSAGE_WORDS
    return [
        [w for w in words[i * PASSAGE_WORDS:(i + 1) * PASSAGE_WORDS]
         if len(w) > 1 and w not in ENGLISH_STOP_WORDS]
        for i in range(n_full)
    ]


def evenly_spaced(n_items, n_kept):
    """Indices of ``n_kept`` items spread evenly through ``n_items`` (all if fewer)."""
    if n_items <= n_kept:
        return np.arange(n_items)
    return np.floor(np.arange(n_kept) * (n_items / n_kept)).astype(np.int64)


def build(source):
    """Return the passages' counts, labels, vocabulary and per-book statistics."""
    docs, labels, stats = [], [], []
    for label, book in enumerate(BOOKS):
        raw = (source / book["file"]).read_text(encoding="utf-8-sig")
        book_passages = passages(book_text(raw, book))
        kept = evenly_spaced(len(book_passages), MAX_PASSAGES_PER_BOOK)
        docs.extend(book_passages[i] for i in kept)
        labels.extend([label] * len(kept))
        stats.append((len(book_passages), len(kept)))

    frequency = Counter(word for doc in docs for word in set(doc))
    eligible = [w for w, df in frequency.items() if df >= MIN_DOCUMENT_FREQUENCY]
    # The most widespread words, ties broken alphabetically so that the choice is unique.
    eligible.sort(key=lambda w: (-frequency[w], w))
    vocabulary = np.array(sorted(eligible[:MAX_VOCABULARY]))
    column = {w: j for j, w in enumerate(vocabulary.tolist())}

    indptr, indices, data = [0], [], []
    for doc in docs:
        counts = Counter(column[w] for w in doc if w in column)
        for j in sorted(counts):
            indices.append(j)
            data.append(counts[j])
        indptr.append(len(indices))
    arrays = {
        "data": np.array(data, dtype=np.uint8),
        "indices": np.array(indices, dtype=np.uint16),
        "indptr": np.array(indptr, dtype=np.int32),
        "shape": np.array([len(docs), len(vocabulary)], dtype=np.int64),
        "labels": np.array(labels, dtype=np.uint8),
        "vocabulary": vocabulary,
        "books": np.array([book["title"] for book in BOOKS]),
    }
    if max(data) >= 2**8 or len(vocabulary) >= 2**16:
        raise ValueError("counts or vocabulary too large for the uint8/uint16 storage.")
    return arrays, stats


def render_readme(arrays, stats, output_sha256):
    """Return the text of the passages README, with counts and checksums filled in."""
    n_passages, n_words = (int(v) for v in arrays["shape"])
    lengths = np.diff(arrays["indptr"])
    counts = np.bincount(arrays["labels"], minlength=len(BOOKS))
    sources = "\n".join(
        f"| {k} | {b['title']} | {b['author']} | {b['published']} | "
        f"[#{b['ebook']}](https://www.gutenberg.org/ebooks/{b['ebook']}) | "
        f"{total} | {int(counts[k])} |"
        for k, (b, (total, _)) in enumerate(zip(BOOKS, stats, strict=True))
    )
    mirrors = "\n".join(
        f"- `{b['file']}`: `{b['path']}` of https://github.com/{b['repository']} at commit "
        f"`{b['commit']}`"
        for b in BOOKS
    )
    inputs = "\n".join(f"    {b['sha256']}  {b['file']}" for b in BOOKS)
    outputs = "\n".join(f"    {digest}  {name}" for name, digest in output_sha256.items())
    tokens = int(arrays["data"].astype(np.int64).sum())
    return f"""\
# Passages of six public-domain books, bundled with `emlib.datasets`

This file is generated by `scripts/build_corpus.py`; change the script, not this file.

`{ARCHIVE}` holds a document-term matrix of {n_passages:,} passages ({PASSAGE_WORDS}
consecutive words each) from six books, over a vocabulary of {n_words:,} words, with the
book each passage comes from. Read it with `emlib.datasets.load_passages`, which returns a
`scipy.sparse.csr_array` of counts, the labels and the vocabulary. The archive stores the
CSR arrays `data` (uint8 counts), `indices` (uint16 columns), `indptr` (int32) and `shape`,
then `labels` (uint8, the row of the table below), `vocabulary` (sorted) and `books` (the
titles). *The Art of War* is Lionel Giles's translation with his introduction and notes.

| label | title | author | published | Gutenberg | passages in the book | kept |
|---|---|---|---|---|---|---|
{sources}

The {tokens:,} counted words give {tokens / n_passages:.1f} per passage on average (from
{int(lengths.min())} to {int(lengths.max())} distinct words per passage).

## How the file was built

From the repository root, with the directory of the Gutenberg files next to it:

    python scripts/build_corpus.py --source ../shared-text

1. Each book's file is checked against its SHA-256 (below), read as UTF-8, and cut to the
   text between the Project Gutenberg header (up to the "START OF" line, then up to the
   book's title line, dropping the producers' credit and, for *The Art of War*, a note of
   Project Gutenberg's) and the footer (from the "End of the Project Gutenberg" line).
2. The text is lower-cased and every maximal run of the letters a-z is a word.
3. The words are cut into consecutive passages of {PASSAGE_WORDS} words (the incomplete
   last one dropped); at most {MAX_PASSAGES_PER_BOOK} passages per book are kept, evenly
   spaced through the book.
4. Words of one letter and the {len(ENGLISH_STOP_WORDS)} stop words of scikit-learn's
   `ENGLISH_STOP_WORDS` are not counted (they do count towards the {PASSAGE_WORDS} words).
5. The vocabulary is the {MAX_VOCABULARY:,} words found in the most passages (ties broken
   alphabetically) among those found in at least {MIN_DOCUMENT_FREQUENCY} passages.
6. The archive is written with fixed zip timestamps, so a rebuild reproduces it byte for
   byte.

The inputs are the plain-text Project Gutenberg files as mirrored by the GITenberg
project on GitHub:

{mirrors}

SHA-256 of the inputs:

{inputs}

SHA-256 of the outputs:

{outputs}

## Licence

The six books are in the public domain in the United States. Project Gutenberg's licence
(https://www.gutenberg.org/policy/license.html) governs its files and its trademark; with
its header and footer removed, as here, what remains is the public-domain text. The counts,
vocabulary and labels derived from it add no restriction of their own.
"""


def main(argv=None):
    """Build the passages archive; return 0 on success and raise on any failed check."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE,
                        help="directory holding the Gutenberg text files "
                             "(default: ../shared-text)")
    parser.add_argument("--output-dir", type=Path, default=DEFAULT_OUTPUT,
                        help="where to write the archive and its README "
                             "(default: emlib/datasets/data)")
    args = parser.parse_args(argv)

    verify_inputs(args.source)
    arrays, stats = build(args.source)
    args.output_dir.mkdir(parents=True, exist_ok=True)
    path = args.output_dir / ARCHIVE
    build_datasets.write_npz(path, arrays)
    output_sha256 = {ARCHIVE: build_datasets.sha256_of(path)}
    print(f"{output_sha256[ARCHIVE]}  {ARCHIVE}")
    (args.output_dir / README).write_text(render_readme(arrays, stats, output_sha256),
                                          encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
