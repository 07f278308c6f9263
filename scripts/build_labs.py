"""Build the labs: a student notebook and an autograder for every master notebook.

Each lab has one master notebook, ``labs/<lab>.ipynb``, in the format of otter-grader's
``otter assign`` (solutions between ``# BEGIN SOLUTION`` and ``# END SOLUTION``, public
and hidden tests, see the *For instructors* page of the book). For each master this
script

1. runs ``otter assign``, which writes the student notebook (no solution code, the public
   tests stored in its metadata, no hidden test) and the autograder (the solved notebook
   and a zip holding every test, public and hidden), then grades the solved notebook with
   that autograder and stops if it scores less than 100%;
2. gives the cells that otter adds (the ``grader.check`` cells) ids derived from their
   place and content instead of random ones, so that rebuilding an unchanged master gives
   an identical student notebook, and names the autograder zip ``<lab>-autograder.zip``
   (otter stamps the time into the name);
3. writes the result to ``_build/labs/<lab>/student/<lab>.ipynb`` and
   ``_build/labs/<lab>/autograder/<lab>-autograder.zip``, and copies the student notebook
   to ``book/labs/<lab>.ipynb``, the page of the book (the book shows the student version,
   and its download button hands out exactly that file). That copy is not kept in the
   repository (an unexecuted notebook among the executed chapters): ``make book``,
   ``make test`` and ``make student`` write it first.

With ``--check`` nothing in ``book/`` is written: the script exits with status 1 if a
student notebook in ``book/labs/`` is missing or differs from what its master gives now.

Usage::

    python scripts/build_labs.py [--check] [--no-run-tests] [--output DIR] [MASTER ...]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
LABS = REPO_ROOT / "labs"
BOOK_LABS = REPO_ROOT / "book" / "labs"
OUTPUT = REPO_ROOT / "_build" / "labs"
# The environment of `make execute` and nbval: the grading run must not depend on threads.
GRADING_ENV = {"PYTHONHASHSEED": "0", "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
               "MKL_NUM_THREADS": "1"}


def masters(paths: list[Path] | None = None) -> list[Path]:
    """The master notebooks: those named, or every ``labs/*.ipynb``."""
    if paths:
        return sorted(path.resolve() for path in paths)
    return sorted(LABS.glob("*.ipynb"))


def read_notebook(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def write_notebook(notebook: dict, path: Path) -> None:
    """Write as the course's notebooks are written: indent 1, UTF-8, final newline."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(notebook, indent=1, ensure_ascii=False) + "\n"
    path.write_text(text, encoding="utf-8")


def stable_ids(notebook: dict, master: dict) -> dict:
    """Replace the random ids of the cells otter added by ids made from their content.

    Cells copied from the master keep the master's ids; an added cell gets the first
    eight hex digits of the SHA-1 of its position and source, which change only when
    the notebook does.
    """
    kept = {cell.get("id") for cell in master["cells"]}
    for index, cell in enumerate(notebook["cells"]):
        if cell.get("id") not in kept:
            source = "".join(cell.get("source", ""))
            digest = hashlib.sha1(f"{index}\n{source}".encode()).hexdigest()
            cell["id"] = f"otter-{digest[:8]}"
    return notebook


def assign(master: Path, destination: Path, run_tests: bool = True) -> tuple[Path, Path]:
    """Run ``otter assign`` on one master; return the student notebook and autograder zip.

    Raises
    ------
    RuntimeError
        If otter fails, for example because the solutions score less than 100%.
    """
    with tempfile.TemporaryDirectory(prefix="em-lab-") as scratch:
        result = Path(scratch) / "dist"
        command = [sys.executable, "-m", "otter", "assign", str(master), str(result)]
        if not run_tests:
            command.append("--no-run-tests")
        done = subprocess.run(command, capture_output=True, text=True,
                              env={**os.environ, **GRADING_ENV}, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"otter assign failed on {master.name}:\n"
                               f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
        stem = master.stem
        student = stable_ids(read_notebook(result / "student" / master.name),
                             read_notebook(master))
        zips = sorted((result / "autograder").glob(f"{stem}-autograder_*.zip"))
        if len(zips) != 1:
            raise RuntimeError(f"expected one autograder zip for {stem}, found {len(zips)}")
        shutil.rmtree(destination, ignore_errors=True)
        student_path = destination / "student" / master.name
        write_notebook(student, student_path)
        autograder = destination / "autograder"
        shutil.copytree(result / "autograder", autograder, ignore=shutil.ignore_patterns(
            "*.zip"))
        solved = read_notebook(autograder / master.name)
        write_notebook(stable_ids(solved, read_notebook(master)), autograder / master.name)
        zip_path = autograder / f"{stem}-autograder.zip"
        shutil.copy2(zips[0], zip_path)
    return student_path, zip_path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("masters", nargs="*", type=Path,
                        help="master notebooks (default: labs/*.ipynb)")
    parser.add_argument("--check", action="store_true",
                        help="only report student notebooks in book/labs/ that are stale")
    parser.add_argument("--no-run-tests", action="store_true",
                        help="do not grade the solutions (faster; the tests grade them)")
    parser.add_argument("--output", type=Path, default=OUTPUT,
                        help="where to write the labs (default: _build/labs)")
    args = parser.parse_args(argv)

    found = masters(args.masters)
    if not found:
        print("build_labs: no master notebooks in labs/; nothing to build")
        return 0
    stale = []
    for master in found:
        student, zip_path = assign(master, args.output / master.stem,
                                   run_tests=not args.no_run_tests)
        page = BOOK_LABS / master.name
        if args.check:
            if not page.is_file() or page.read_bytes() != student.read_bytes():
                stale.append(page)
            continue
        BOOK_LABS.mkdir(parents=True, exist_ok=True)
        shutil.copy2(student, page)
        shown = [path.relative_to(REPO_ROOT) if path.is_relative_to(REPO_ROOT) else path
                 for path in (student, zip_path, page)]
        print(f"build_labs: {master.name}: student notebook {shown[0]}, autograder "
              f"{shown[1]}, book page {shown[2]}")
    if stale:
        for page in stale:
            print(f"build_labs: {page.relative_to(REPO_ROOT)} is not what its master gives "
                  "now; run `make labs`")
        return 1
    if args.check:
        print(f"build_labs: the {len(found)} student notebook(s) in book/labs/ are up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
