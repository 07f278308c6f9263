"""Build the image data that ``emlib.datasets`` ships from the shared IDX files.

Usage (from the repository root)::

    python scripts/build_datasets.py [--source ../shared/data] [--output-dir emlib/datasets/data]

Every input is checked against its SHA-256 before it is parsed, the MNIST
label counts are checked against the official test split, and the outputs are
written as compressed ``.npz`` archives together with a generated
``README.md`` that records the checksums of inputs and outputs. The archives
are byte-for-byte reproducible (fixed zip timestamps), so rebuilding with the
same zlib gives files whose checksums match the README.
"""

import argparse
import gzip
import hashlib
import io
import sys
import zipfile
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SOURCE = REPO_ROOT.parent / "shared" / "data"
DEFAULT_OUTPUT = REPO_ROOT / "emlib" / "datasets" / "data"

# Taken from the README of the shared data directory.
INPUT_SHA256 = {
    "fashion-t10k-images-first4000-idx3-ubyte.gz":
        "86494aaf45bbaf54fcf72a25d576a565a876564029a10667162a6f854d2ec842",
    "fashion-t10k-labels-idx1-ubyte.gz":
        "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
    "mnist-t10k-images-idx3-ubyte.gz":
        "9fe7630f90c0e670227960a294637bc2e78a29d724810e24204eb342c9f033a1",
    "mnist-t10k-labels-idx1-ubyte.gz":
        "2c54c993d38068b3c3adb720a5cdee07065a066a7b36e7d1df720548d6359eba",
}
MNIST_TEST_LABEL_COUNTS = (980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009)
FASHION_N_IMAGES = 4000
IDX_MAGIC = {1: 0x00000801, 3: 0x00000803}  # unsigned-byte data, by number of dimensions
# The DOS epoch: the earliest time a zip entry can carry, used so rebuilds are identical.
ZIP_TIMESTAMP = (1980, 1, 1, 0, 0, 0)


def sha256_of(path):
    """Return the hex SHA-256 digest of a file."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify_inputs(source):
    """Check that every expected input exists in ``source`` with its recorded SHA-256."""
    for name, expected in INPUT_SHA256.items():
        path = source / name
        if not path.is_file():
            raise FileNotFoundError(
                f"Input file {name} not found in {source}; pass --source pointing at the "
                "shared data directory."
            )
        actual = sha256_of(path)
        if actual != expected:
            raise ValueError(
                f"SHA-256 mismatch for {name}: expected {expected}, got {actual}. "
                "The input is not the recorded file; fetch a clean copy before building."
            )


def read_idx(path, ndim):
    """Parse a gzipped IDX file of unsigned bytes into an array.

    The IDX header is a big-endian uint32 magic number (0x0801 for vectors,
    0x0803 for stacks of images) followed by one big-endian uint32 per
    dimension; the raw bytes follow.
    """
    with gzip.open(path, "rb") as handle:
        raw = handle.read()
    name = Path(path).name
    header_size = 4 * (1 + ndim)
    if len(raw) < header_size:
        raise ValueError(
            f"{name}: {len(raw)} bytes cannot hold the {header_size}-byte header of "
            f"{ndim}-D IDX data; the file is truncated or not IDX."
        )
    header = np.frombuffer(raw, dtype=">u4", count=1 + ndim)
    if header[0] != IDX_MAGIC[ndim]:
        raise ValueError(
            f"{name}: IDX magic number {int(header[0]):#010x}, expected "
            f"{IDX_MAGIC[ndim]:#010x} for {ndim}-D unsigned-byte data."
        )
    shape = tuple(int(size) for size in header[1:])
    data = np.frombuffer(raw, dtype=np.uint8, offset=header_size)
    if data.size != np.prod(shape):
        raise ValueError(
            f"{name}: header promises shape {shape} ({np.prod(shape)} bytes) but "
            f"{data.size} data bytes follow; the file is truncated or corrupt."
        )
    return data.reshape(shape)


def check_label_counts(labels, expected, name):
    """Raise if the per-class counts of ``labels`` differ from ``expected``."""
    counts = tuple(int(c) for c in np.bincount(labels, minlength=len(expected)))
    if counts != tuple(expected):
        raise ValueError(f"{name}: label counts {counts} differ from the expected {expected}.")


def load_inputs(source):
    """Read, check and reshape both data sets; return ``{output name: (images, labels)}``."""
    mnist_images = read_idx(source / "mnist-t10k-images-idx3-ubyte.gz", 3)
    mnist_labels = read_idx(source / "mnist-t10k-labels-idx1-ubyte.gz", 1)
    check_label_counts(mnist_labels, MNIST_TEST_LABEL_COUNTS, "MNIST test labels")

    fashion_images = read_idx(source / "fashion-t10k-images-first4000-idx3-ubyte.gz", 3)
    fashion_labels = read_idx(source / "fashion-t10k-labels-idx1-ubyte.gz", 1)
    if fashion_images.shape[0] != FASHION_N_IMAGES:
        raise ValueError(
            f"Fashion-MNIST images: expected {FASHION_N_IMAGES} images, "
            f"found {fashion_images.shape[0]}."
        )
    # The image file holds only the first 4,000 test images; pair them with their labels.
    fashion_labels = fashion_labels[:FASHION_N_IMAGES]

    datasets = {
        "mnist_test.npz": (mnist_images, mnist_labels),
        "fashion_mnist_test4000.npz": (fashion_images, fashion_labels),
    }
    for name, (images, labels) in datasets.items():
        if images.shape[1:] != (28, 28) or images.shape[0] != labels.shape[0]:
            raise ValueError(
                f"{name}: images of shape {images.shape} do not match {labels.shape[0]} "
                "labels of 28x28 images."
            )
        if labels.max() > 9:
            raise ValueError(f"{name}: labels must lie in 0..9; found {labels.max()}.")
    return {name: (images.reshape(images.shape[0], -1), labels)
            for name, (images, labels) in datasets.items()}


def write_npz(path, arrays):
    """Write arrays to a compressed ``.npz`` that is identical on every rebuild.

    ``numpy.savez_compressed`` stamps each member with the current time, so
    its output changes from run to run; here every member gets the same fixed
    timestamp and attributes instead.
    """
    with zipfile.ZipFile(path, "w") as archive:
        for key, array in arrays.items():
            buffer = io.BytesIO()
            np.lib.format.write_array(buffer, array, allow_pickle=False)
            member = zipfile.ZipInfo(f"{key}.npy", date_time=ZIP_TIMESTAMP)
            member.create_system = 3  # Unix, whatever the platform, for identical bytes
            member.external_attr = 0o644 << 16
            archive.writestr(member, buffer.getvalue(),
                             compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)


def render_readme(datasets, output_sha256):
    """Return the text of the data README, with counts and checksums filled in."""
    def counts(labels):
        return " ".join(str(c) for c in np.bincount(labels, minlength=10))

    mnist_labels = datasets["mnist_test.npz"][1]
    fashion_labels = datasets["fashion_mnist_test4000.npz"][1]
    inputs = "\n".join(f"    {digest}  {name}" for name, digest in INPUT_SHA256.items())
    outputs = "\n".join(f"    {digest}  {name}" for name, digest in output_sha256.items())
    return f"""\
# Image data bundled with `emlib.datasets`

This file is generated by `scripts/build_datasets.py`; change the script, not this file.

- `mnist_test.npz`: the whole MNIST test split, as `images` (uint8, shape
  (10000, 784)) and `labels` (uint8, shape (10000,)).
- `fashion_mnist_test4000.npz`: the first 4,000 Fashion-MNIST test images, as
  `images` (uint8, shape (4000, 784)) and their `labels` (uint8, shape (4000,)).

Each row of `images` is a 28x28 greyscale image flattened row by row, with 0 for
background and 255 for full ink. Read them with `emlib.datasets.load_mnist` and
`emlib.datasets.load_fashion_mnist`, which scale to [0, 1] or binarise.

Images per class (labels 0 to 9):

- MNIST: {counts(mnist_labels)}
- Fashion-MNIST (first 4,000): {counts(fashion_labels)}

## How the files were built

From the repository root, with the course's shared data directory next to it:

    python scripts/build_datasets.py --source ../shared/data

The script verifies the SHA-256 of each input, parses the IDX files (big-endian
header, then raw bytes), checks that the MNIST test labels have the official
per-digit counts, keeps the first 4,000 Fashion-MNIST labels to match the 4,000
images, and writes the archives with fixed zip timestamps so that a rebuild
reproduces them byte for byte.

SHA-256 of the inputs:

{inputs}

SHA-256 of the outputs:

{outputs}

## Licences and credit

- MNIST: Yann LeCun, Corinna Cortes and Christopher J. C. Burges. Licensed under
  Creative Commons Attribution-Share Alike 3.0 (CC BY-SA 3.0).
- Fashion-MNIST: Han Xiao, Kashif Rasul and Roland Vollgraf (2017), "Fashion-MNIST:
  a Novel Image Dataset for Benchmarking Machine Learning Algorithms",
  arXiv:1708.07747. MIT licence, Copyright (c) 2017 Zalando SE.
"""


def main(argv=None):
    """Build the bundled data; return 0 on success and raise on any failed check."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE,
                        help="directory holding the shared IDX files (default: ../shared/data)")
    parser.add_argument("--output-dir", type=Path, default=DEFAULT_OUTPUT,
                        help="where to write the archives and README "
                             "(default: emlib/datasets/data)")
    args = parser.parse_args(argv)

    verify_inputs(args.source)
    datasets = load_inputs(args.source)
    args.output_dir.mkdir(parents=True, exist_ok=True)
    output_sha256 = {}
    for name, (images, labels) in datasets.items():
        path = args.output_dir / name
        write_npz(path, {"images": images, "labels": labels})
        output_sha256[name] = sha256_of(path)
        print(f"{output_sha256[name]}  {name}")
    (args.output_dir / "README.md").write_text(render_readme(datasets, output_sha256),
                                               encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
