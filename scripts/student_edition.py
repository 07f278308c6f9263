"""Build the student edition of the book: every page, no solutions.

1. Copy the book sources (``_config.yml``, ``_toc.yml``, ``references.bib``, ``book/``,
   the local Sphinx extension ``_ext/`` and the static files ``_static/``)
   into a scratch folder, so the working tree is never modified.
2. Remove every notebook cell tagged ``solution`` with nbconvert's
   ``TagRemovePreprocessor``: the solution text and code are gone from the notebooks
   themselves, not only hidden in the HTML. A solution with code is written in the gated
   form (``{solution-start}`` ... ``{solution-end}``), every cell of it tagged, so it goes
   whole; a gated directive left behind would crash the build with ``hide_solutions``,
   and the script stops if it finds one.
3. Write a ``_config.yml`` made of the course configuration, the student settings of
   ``scripts/student_config.yml`` and the settings enforced here (``hide_solutions``
   for ``{solution}`` directives in Markdown pages, no copied sources, no download
   button, and no button that opens the solution-bearing repository). A lab's page
   still links its student notebook, which holds no solution.
4. Build with ``jupyter-book build -W -n --keep-going`` and copy the HTML to
   ``_build/student/html`` (or ``--output``).

Usage::

    python scripts/student_edition.py [--output DIR]
"""

from __future__ import annotations

import argparse
import copy
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat
import yaml
from nbconvert.preprocessors import TagRemovePreprocessor

REPO_ROOT = Path(__file__).resolve().parent.parent
STUDENT_CONFIG = Path(__file__).resolve().parent / "student_config.yml"
SOURCES = ("_config.yml", "_toc.yml", "references.bib", "book", "_ext", "_static")
SOLUTION_TAG = "solution"
LABS_DIR = REPO_ROOT / "book" / "labs"

# Settings no student configuration may undo.
ENFORCED = {
    "sphinx": {
        # Without it, html_theme_options below would replace Jupyter Book's theme options.
        "recursive_update": True,
        "config": {
            "hide_solutions": True,
            # Read by _ext/course_site.py: pages then describe this edition, not the full one.
            "course_edition": "student",
            "html_copy_source": False,
            "html_theme_options": {"use_download_button": False},
        },
    },
}
NO_REPOSITORY_LINKS = {
    "repository": {"url": ""},
    "html": {
        "use_repository_button": False,
        "use_issues_button": False,
        "use_edit_page_button": False,
    },
    "launch_buttons": {
        "binderhub_url": "",
        "colab_url": "",
        "jupyterhub_url": "",
        "deepnote_url": "",
        "thebe": False,
    },
}
# sphinx-exercise marks each rendered solution with the class "solution", and myst-nb a
# code cell tagged "solution" with "tag_solution".
RENDERED_SOLUTION = re.compile(r"class=\"[^\"]*\b(?:tag_)?solution\b")
# The gated form of a solution; any left after stripping would crash the build
# (sphinx-exercise with hide_solutions) or show what it encloses.
GATED_SOLUTION = re.compile(r"\{solution-(?:start|end)\}")


def merged(base: dict, update: dict) -> dict:
    """Return ``base`` updated by ``update``: nested dicts merge, other values replace."""
    result = copy.deepcopy(base)
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = merged(result[key], value)
        else:
            result[key] = copy.deepcopy(value)
    return result


def student_config(course: dict, student: dict) -> dict:
    """Return the configuration of the student edition.

    Parameters
    ----------
    course : dict
        The course ``_config.yml``.
    student : dict
        The student settings (``scripts/student_config.yml``).

    Launch, repository, issue and edit buttons are switched off unless ``student``
    names a repository different from the course's, since they would otherwise open
    the sources that hold the solutions.
    """
    config = merged(merged(course, student), ENFORCED)
    course_url = course.get("repository", {}).get("url", "")
    student_url = student.get("repository", {}).get("url", "")
    if not student_url or student_url == course_url:
        config = merged(config, NO_REPOSITORY_LINKS)
    return config


def strip_solutions(notebook_path: Path) -> int:
    """Remove the cells tagged ``solution`` from a notebook in place.

    Returns
    -------
    int
        The number of cells removed.
    """
    nb = nbformat.read(notebook_path, as_version=4)
    before = len(nb.cells)
    remover = TagRemovePreprocessor(remove_cell_tags={SOLUTION_TAG})
    nb, _ = remover.preprocess(nb, {})
    nbformat.write(nb, notebook_path)
    return before - len(nb.cells)


def gated_left(notebook_path: Path) -> bool:
    """Whether a (stripped) notebook still holds a gated solution directive."""
    nb = nbformat.read(notebook_path, as_version=4)
    return any(
        cell.cell_type == "markdown" and GATED_SOLUTION.search(cell.source)
        for cell in nb.cells
    )


def copy_sources(destination: Path) -> None:
    """Copy what the book build reads into ``destination``."""
    ignore = shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__", "_build")
    for name in SOURCES:
        source = REPO_ROOT / name
        if source.is_dir():
            shutil.copytree(source, destination / name, ignore=ignore)
        else:
            shutil.copy2(source, destination / name)


def is_lab_student_notebook(path: Path, labs_dir: Path = LABS_DIR) -> bool:
    """Whether ``path`` is, cell for cell, a lab's student notebook of ``book/labs/``.

    ``make labs`` writes those from the masters, and tests/test_labs_grading.py proves
    that they hold no solution and no hidden test: the labs' pages offer them for
    download (the ``{download}`` link in each lab's introduction).
    """
    lab = labs_dir / path.name
    return lab.is_file() and without_ids(path) == without_ids(lab)


def without_ids(path: Path) -> dict:
    """A notebook's content, its cells' random ids left out."""
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        cell.pop("id", None)
    return nb


def leaks(html_dir: Path, labs_dir: Path = LABS_DIR) -> list[str]:
    """Return the files of a built edition that could reveal solutions: any notebook
    but a lab's student notebook, the page sources, a rendered solution."""
    found = [str(path) for path in html_dir.rglob("*.ipynb")
             if not is_lab_student_notebook(path, labs_dir)]
    found += [str(path) for path in html_dir.glob("_sources")]
    for page in html_dir.rglob("*.html"):
        if RENDERED_SOLUTION.search(page.read_text(encoding="utf-8")):
            found.append(f"{page} (renders a solution)")
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--output", type=Path, default=REPO_ROOT / "_build" / "student" / "html",
        help="where to put the HTML (default: _build/student/html)",
    )
    args = parser.parse_args(argv)

    course = yaml.safe_load((REPO_ROOT / "_config.yml").read_text(encoding="utf-8"))
    student = yaml.safe_load(STUDENT_CONFIG.read_text(encoding="utf-8")) or {}
    jupyter_book = Path(sys.executable).parent / "jupyter-book"

    with tempfile.TemporaryDirectory(prefix="em-student-") as scratch:
        source_dir = Path(scratch)
        copy_sources(source_dir)
        notebooks = sorted(source_dir.rglob("*.ipynb"))
        removed = sum(strip_solutions(path) for path in notebooks)
        print(f"student edition: removed {removed} cell(s) tagged '{SOLUTION_TAG}'")
        untagged = [path.relative_to(source_dir) for path in notebooks if gated_left(path)]
        if untagged:
            print("student edition NOT written; a {solution-start} or {solution-end} cell is "
                  f"not tagged '{SOLUTION_TAG}' in: {', '.join(map(str, untagged))} "
                  "(python scripts/check_notebooks.py says where)")
            return 1
        config = student_config(course, student)
        (source_dir / "_config.yml").write_text(
            yaml.safe_dump(config, sort_keys=False), encoding="utf-8"
        )
        subprocess.run(
            [str(jupyter_book), "build", str(source_dir), "-W", "-n", "--keep-going"],
            check=True,
        )
        built = source_dir / "_build" / "html"
        problems = leaks(built)
        if problems:
            print("student edition NOT written; these files could reveal solutions:")
            print("\n".join(f"  {problem}" for problem in problems))
            return 1
        shutil.rmtree(args.output, ignore_errors=True)
        shutil.copytree(built, args.output)
    print(f"Student edition built. Open {args.output / 'index.html'} in a browser.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
