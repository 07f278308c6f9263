"""Check that the notebooks of the book were executed cleanly and store their outputs.

The book renders the outputs stored in each notebook and nbval only compares the cells
that were run, so a notebook saved half-executed, or with its outputs cleared, would pass
both. This script closes that gap. For every notebook it requires that

* the code cells were run top to bottom in one kernel: execution counts exactly 1..n;
* the notebook shows something, and no cell that must print or plot is silent;
* no cell raised, unless it is tagged ``raises-exception``;
* no output contains a memory address, a local path or a temporary kernel file;
* every figure is numbered, captioned and described: a code cell that stores an image
  draws exactly one, and carries myst-nb metadata ``mystnb.figure.name`` (a label
  ``fig-...``, unique in the book, for ``{numref}``), ``mystnb.figure.caption`` (what to
  notice) and ``mystnb.image.alt`` (what the figure shows, for a reader who cannot see it);
* the first code cell installs the course's package when the notebook runs on Colab, from
  the repository that ``_config.yml`` names (so a fork that changes the URL there is told
  to change it here too), and is hidden from the site (tag ``remove-cell``);
* no code line is longer than the rendered column (80 characters), where it would scroll;
* prose names only public emlib API that exists: a code span in a markdown cell may not
  name a private function (``_e_step``), and a dotted name such as ``emlib.em.elbo`` or
  ``GaussianMixture.n_parameters`` must resolve in the installed package; code cells do not
  call private attributes either;
* a lab (a student notebook made by ``otter assign``, recognised by its ``otter``
  metadata; see ``scripts/build_labs.py``) is the exception to the rules on execution:
  students download it and run it themselves, so it must have *no* outputs and no
  execution counts, and its Colab cell installs ``emlib-course[notebook,labs]``, the
  extra that brings the autograder; every other rule applies to it as to a chapter (a
  chapter's Colab cell installs ``emlib-course[notebook]``, or
  ``emlib-course[notebook,dask]`` when the chapter imports Dask);
* solutions follow the course convention (see the *For instructors* page): every
  ``{solution}`` directive sits in a markdown cell tagged ``solution`` and is folded
  (``:class: dropdown``); a solution with code uses the gated form, a
  ``{solution-start}`` cell (options only: sphinx-exercise drops text written inside it),
  the text and code cells, then a ``{solution-end}`` cell, every one of them tagged
  ``solution``, so that the code and its output fold with the text and leave the student
  edition with it; and no cell tagged ``solution`` lies outside a solution, where it
  would show unfolded.

Usage::

    python scripts/check_notebooks.py [FOLDER_OR_NOTEBOOK ...]    # default: book

Exit status 0 when every notebook passes, 1 otherwise, with one line per problem.
"""

from __future__ import annotations

import argparse
import ast
import importlib
import re
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

import nbformat
import yaml
from IPython.core.inputtransformer2 import TransformerManager

REPO_ROOT = Path(__file__).resolve().parent.parent

# Calls that always write to the cell's output area when they run.
OUTPUT_CALLS = frozenset({"print", "display", "show", "glue", "pprint"})

FORBIDDEN_IN_OUTPUTS = (
    ("a memory address", re.compile(r"\b0x[0-9a-fA-F]{6,}\b")),
    ("a temporary kernel path", re.compile(r"ipykernel_\d+")),
    (
        "a local path",
        re.compile(
            r"(?<![\w./])/(?:home|Users|root|tmp|var|private|work|opt|usr|mnt|srv)/"
            r"|site-packages|[A-Za-z]:\\Users\\"
        ),
    ),
)
# Characters of code that fit the book's text column without a horizontal scroll bar.
MAX_CODE_LINE = 80
ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
# The opening line of a solution directive: plain, or the start or end of the gated form.
SOLUTION_OPENING = re.compile(
    r"^\s*(?P<fence>`{3,}|:{3,})\s*\{(?P<kind>solution(?:-start|-end)?)\}(?P<argument>.*)$"
)
DIRECTIVE_OPTION = re.compile(r"^\s*:(?P<name>[\w-]+):\s*(?P<value>.*)$")
FOLDED_CLASS = "dropdown"
SOLUTION_TAG = "solution"

# Inline code in markdown, and the dotted names inside it.
CODE_SPAN = re.compile(r"(?<!`)`([^`\n]+)`(?!`)")
DOTTED_NAME = re.compile(r"(?<![\w./])[A-Za-z_][\w]*(?:\.[A-Za-z_]\w*)*")
# A single leading underscore marks a private name; dunders and a lone "_" are not.
PRIVATE = re.compile(r"^_(?!_)[A-Za-z]\w*$")
PUBLIC_CLASSES = ("GaussianMixture", "KMeans", "BernoulliMixture")

# An import of Dask, of its distributed scheduler or of emlib's Dask module.
DASK_IMPORT = re.compile(
    r"^\s*(?:(?:from|import)\s+(?:dask|distributed|emlib\.daskfit)\b"
    r"|from\s+emlib\s+import\s+(?:\(\s*)?(?:[\w\s,]*,\s*)?daskfit\b)",
    re.MULTILINE,
)

EXECUTE_HINT = "re-run the whole notebook in a fresh kernel: make execute NB={path}"


def find_notebooks(paths: Iterable[Path]) -> list[Path]:
    """Return the notebooks named by ``paths``, searching folders recursively.

    Checkpoint copies and anything under a build folder are left out, since they are
    not sources of the book.
    """
    found = set()
    for path in paths:
        candidates = [path] if path.is_file() else path.rglob("*.ipynb")
        for candidate in candidates:
            if not {".ipynb_checkpoints", "_build"} & set(candidate.parts):
                found.add(candidate)
    return sorted(found)


def _parse(source: str) -> ast.Module | None:
    """Parse a cell after turning IPython syntax (magics, ``!`` commands) into Python."""
    try:
        return ast.parse(TransformerManager().transform_cell(source))
    except SyntaxError:
        return None


def _calls_that_run(tree: ast.Module) -> Iterator[ast.Call]:
    """Yield the calls a cell makes itself, not those inside functions it only defines."""
    stack: list[ast.AST] = list(tree.body)
    while stack:
        node = stack.pop()
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Lambda):
            continue
        if isinstance(node, ast.Call):
            yield node
        stack.extend(ast.iter_child_nodes(node))


def _call_name(call: ast.Call) -> str | None:
    if isinstance(call.func, ast.Name):
        return call.func.id
    if isinstance(call.func, ast.Attribute):
        return call.func.attr
    return None


def must_have_output(source: str) -> bool:
    """Tell whether a cell's source certainly produces output when it runs.

    True when the cell calls ``print``, ``display``, ``glue`` or a ``show`` method
    outside a function definition, or ends with a bare expression that is not a call
    (a call may return None and show nothing). Anything else may legitimately be
    silent: imports, assignments, definitions.
    """
    tree = _parse(source)
    if tree is None or not tree.body:
        return False
    if any(_call_name(call) in OUTPUT_CALLS for call in _calls_that_run(tree)):
        return True
    last = tree.body[-1]
    if not isinstance(last, ast.Expr) or isinstance(last.value, ast.Call):
        return False
    if isinstance(last.value, ast.Constant) and last.value.value in (None, Ellipsis):
        return False
    return not source.rstrip().endswith(";")


def ends_with_suppressed_expression(source: str) -> bool:
    """Tell whether a cell relies on a trailing ``;`` to hide its last value.

    Jupyter honours the semicolon but a kernel driven by nbval does not, so the stored
    notebook and the replay disagree.
    """
    tree = _parse(source)
    if tree is None or not tree.body or not isinstance(tree.body[-1], ast.Expr):
        return False
    lines = [line.split("#", 1)[0].rstrip() for line in source.strip().splitlines()]
    code_lines = [line for line in lines if line]
    return bool(code_lines) and code_lines[-1].endswith(";")


def _output_texts(output: dict) -> Iterator[str]:
    """Yield the human-readable text of one output (images and binary data are skipped)."""
    kind = output.get("output_type")
    if kind == "stream":
        yield output.get("text", "")
    elif kind == "error":
        yield output.get("ename", "")
        yield output.get("evalue", "")
        yield from (ANSI_ESCAPE.sub("", line) for line in output.get("traceback", []))
    elif kind in ("display_data", "execute_result"):
        for mime, value in output.get("data", {}).items():
            textual = "image/" not in mime or mime.endswith("svg+xml")
            if textual and "pdf" not in mime and not mime.endswith("json"):
                yield value if isinstance(value, str) else "".join(value)


def check_cell_outputs(cell: dict) -> list[str]:
    """Return the problems found in the stored outputs of one code cell."""
    problems = []
    tags = cell.get("metadata", {}).get("tags", [])
    for output in cell.get("outputs", []):
        if output.get("output_type") == "error" and "raises-exception" not in tags:
            problems.append(
                f"raised {output.get('ename')}: {output.get('evalue')} "
                "(fix it, or tag the cell raises-exception if the error is the point)"
            )
        if (
            output.get("output_type") == "execute_result"
            and output.get("execution_count") != cell.get("execution_count")
        ):
            problems.append("result stored from another run of the cell")
        for text in _output_texts(output):
            for what, pattern in FORBIDDEN_IN_OUTPUTS:
                match = pattern.search(text)
                if match:
                    problems.append(
                        f"output contains {what} ({match.group(0)!r}); avoid printing it "
                        "(e.g. catch an expected error and print only its message)"
                    )
    return problems


def _resolves(dotted: str) -> bool:
    """Whether ``emlib.a.b`` (or ``GaussianMixture.a``) names something in emlib."""
    parts = dotted.split(".")
    if parts[0] in PUBLIC_CLASSES:
        parts = ["emlib", *parts]
    obj = importlib.import_module("emlib")
    for depth, part in enumerate(parts[1:], start=2):
        if not hasattr(obj, part):
            try:
                obj = importlib.import_module(".".join(parts[:depth]))
                continue
            except ImportError:
                return False
        obj = getattr(obj, part)
    return True


def check_prose_names(source: str) -> list[str]:
    """Problems with the emlib names that a markdown cell's inline code mentions."""
    problems = []
    for span in CODE_SPAN.findall(source):
        for name in DOTTED_NAME.findall(span):
            parts = name.split(".")
            if any(PRIVATE.match(part) for part in parts):
                problems.append(
                    f"names the private {name!r}; describe the public way (a parameter, "
                    "a public method or the module file) instead"
                )
            elif parts[0] == "emlib" or (parts[0] in PUBLIC_CLASSES and len(parts) > 1):
                if not _resolves(name):
                    problems.append(f"names {name!r}, which emlib does not have")
    return problems


def check_code_names(source: str) -> list[str]:
    """Problems with private attributes that a code cell uses."""
    tree = _parse(source)
    if tree is None:
        return []
    private = sorted({
        node.attr for node in ast.walk(tree)
        if isinstance(node, ast.Attribute) and PRIVATE.match(node.attr)
    } | {
        alias.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
        for alias in node.names if PRIVATE.match(alias.name)
    })
    return [
        f"uses the private {name!r}; students should see only public API"
        for name in private
    ]


def solution_parts(source: str) -> list[tuple[str, dict, bool]]:
    """Split a markdown cell into its solution directives and the text around them.

    Returns
    -------
    list of (str, dict, bool)
        In the order of the cell: ``(kind, options, has_body)`` for each solution
        directive, where ``kind`` is ``solution``, ``solution-start`` or ``solution-end``,
        ``options`` maps option names to values and ``has_body`` tells whether the
        directive holds anything after its options; and ``("text", {}, True)`` for each
        stretch of other non-blank text.
    """
    parts: list[tuple[str, dict, bool]] = []
    lines = source.splitlines()
    index = 0
    while index < len(lines):
        opening = SOLUTION_OPENING.match(lines[index])
        if not opening:
            if lines[index].strip() and not (parts and parts[-1][0] == "text"):
                parts.append(("text", {}, True))
            index += 1
            continue
        fence = opening.group("fence")
        closing = re.compile(rf"^\s*{re.escape(fence[0])}{{{len(fence)},}}\s*$")
        index += 1
        options: dict[str, str] = {}
        while index < len(lines) and (option := DIRECTIVE_OPTION.match(lines[index])):
            options[option.group("name")] = option.group("value").strip()
            index += 1
        has_body = False
        while index < len(lines) and not closing.match(lines[index]):
            has_body = has_body or bool(lines[index].strip())
            index += 1
        index += 1  # the closing fence
        parts.append((opening.group("kind"), options, has_body))
    return parts


def check_solutions(cells: list[dict], path: str) -> list[str]:
    """Problems with how a notebook's solutions are written, tagged and folded.

    A solution folds as one piece only when everything it shows (text, code, output)
    is inside its directive; in a notebook, code gets there through the gated form,
    ``{solution-start}`` ... ``{solution-end}``. Every cell of a solution is tagged
    ``solution``, since the student edition is made by deleting the tagged cells.
    """
    problems = []
    open_at = None  # the cell of the solution-start not yet ended
    for index, cell in enumerate(cells, start=1):
        where = f"{path}: cell {index}"
        tags = cell.get("metadata", {}).get("tags", [])
        tagged = SOLUTION_TAG in tags
        parts = []
        if cell.get("cell_type") == "markdown":
            parts = solution_parts(cell.get("source", ""))
        directives = [part for part in parts if part[0] != "text"]
        if open_at is not None and not tagged:
            problems.append(
                f"{where}: inside the solution started at cell {open_at} but not tagged "
                "solution; the student edition would keep it"
            )
        if directives and not tagged:
            problems.append(f"{where}: a {{solution}} directive in a cell not tagged solution")
        if tagged and not directives and open_at is None:
            what = "code" if cell.get("cell_type") == "code" else "a cell"
            problems.append(
                f"{where}: {what} tagged solution outside any solution shows unfolded; put it "
                "between a {solution-start} cell and a {solution-end} cell"
            )
        for kind, options, has_body in parts:
            if kind == "text":
                if tagged and open_at is None:
                    problems.append(
                        f"{where}: text outside the solution directive shows unfolded; "
                        "move it into the solution"
                    )
                continue
            if kind != "solution-end":
                classes = options.get("class", "").split()
                if FOLDED_CLASS not in classes:
                    problems.append(
                        f"{where}: {{{kind}}} is not folded; add the option "
                        f":class: {FOLDED_CLASS}"
                    )
            if kind == "solution-start" and has_body:
                problems.append(
                    f"{where}: text inside {{solution-start}} is dropped from the page; close "
                    "the directive after its options and write the solution below it"
                )
            if kind != "solution-end" and open_at is not None:
                problems.append(
                    f"{where}: a {{{kind}}} inside the solution started at cell {open_at}; "
                    "end that one first with {solution-end}"
                )
            if kind == "solution-start":
                open_at = index
            elif kind == "solution-end":
                if open_at is None:
                    problems.append(f"{where}: {{solution-end}} without a {{solution-start}}")
                open_at = None
    if open_at is not None:
        problems.append(
            f"{path}: cell {open_at}: {{solution-start}} has no {{solution-end}} after it"
        )
    return problems


IMAGE_TYPES = ("image/png", "image/jpeg", "image/svg+xml")
FIGURE_NAME = re.compile(r"fig-[a-z0-9]+(?:-[a-z0-9]+)*")


def check_figure(cell: dict) -> list[str]:
    """Return the problems of one code cell's figure: one image, named, captioned, described.

    A cell without an image output has none. Whether labels are unique across the book is
    checked by :func:`main`, which sees every notebook.
    """
    images = [
        output for output in cell.get("outputs", [])
        if any(kind in output.get("data", {}) for kind in IMAGE_TYPES)
    ]
    if not images:
        return []
    problems = []
    if len(images) > 1:
        problems.append(
            f"stores {len(images)} images, which would share one caption; draw one figure "
            "per cell (subplots for panels)"
        )
    mystnb = cell.get("metadata", {}).get("mystnb", {})
    figure, image = mystnb.get("figure", {}), mystnb.get("image", {})
    if not FIGURE_NAME.fullmatch(str(figure.get("name", ""))):
        problems.append(
            "figure has no label: set metadata mystnb.figure.name to 'fig-<chapter>-<what>' "
            "(lower case, digits and hyphens) so that the text can cite it with {numref}"
        )
    if len(str(figure.get("caption", "")).split()) < 6:
        problems.append(
            "figure has no caption: set metadata mystnb.figure.caption to a sentence or two "
            "saying what to notice"
        )
    if len(str(image.get("alt", "")).split()) < 4:
        problems.append(
            "figure has no alt text: set metadata mystnb.image.alt to what the figure shows"
        )
    return problems


def is_lab(nb: dict) -> bool:
    """Whether a notebook is a lab's student notebook (made by otter assign)."""
    return "otter" in nb.get("metadata", {})


def uses_dask(nb: dict) -> bool:
    """Whether a code cell of the notebook imports Dask (or emlib's Dask module)."""
    return any(
        DASK_IMPORT.search(cell.get("source", ""))
        for cell in nb.get("cells", []) if cell.get("cell_type") == "code"
    )


def colab_package(nb: dict) -> str:
    """What the notebook's Colab cell must install: exactly one of three extras' sets.

    A chapter installs ``emlib-course[notebook]``; a chapter that imports Dask also needs
    the ``dask`` extra (``emlib-course[notebook,dask]``); a lab also needs the ``labs``
    extra (otter-grader, which runs its checks), so it installs
    ``emlib-course[notebook,labs]``.
    """
    if is_lab(nb):
        return "emlib-course[notebook,labs]"
    return "emlib-course[notebook,dask]" if uses_dask(nb) else "emlib-course[notebook]"


def check_colab_cell(nb: dict, repository: str) -> list[str]:
    """Return the problems of the notebook's Colab install cell (its first code cell).

    It must install :func:`colab_package` from the repository of ``_config.yml``.
    """
    code = [cell for cell in nb.get("cells", []) if cell.get("cell_type") == "code"]
    if not code:
        return []
    cell = code[0]
    source = cell.get("source", "")
    if "google.colab" not in source:
        return [
            "the first code cell must install the package on Colab (see the other chapters' "
            "first cell, id 'colab-install')"
        ]
    problems = []
    package = colab_package(nb)
    if f'"git+{repository}"' not in source or package not in source:
        problems.append(
            f"the Colab install cell must install {package} from git+{repository}, "
            "the repository of _config.yml"
        )
    if "remove-cell" not in cell.get("metadata", {}).get("tags", []):
        problems.append("the Colab install cell must be tagged remove-cell (hidden on the site)")
    return problems


def figure_name(cell: dict) -> str | None:
    """The ``{numref}`` label of a code cell's figure, or None."""
    return cell.get("metadata", {}).get("mystnb", {}).get("figure", {}).get("name")


def check_notebook(nb: dict, path: str = "<notebook>") -> list[str]:
    """Return every problem found in one notebook, each prefixed with where it is.

    Parameters
    ----------
    nb : dict
        The notebook, as read by :func:`nbformat.read` (format 4).
    path : str
        How to name the notebook in messages.
    """
    problems = []
    code_cells = [
        (index, cell) for index, cell in enumerate(nb.get("cells", []), start=1)
        if cell.get("cell_type") == "code"
    ]
    counts = [cell.get("execution_count") for _, cell in code_cells]
    hint = EXECUTE_HINT.format(path=path)
    never_run = []
    lab = is_lab(nb)

    for index, cell in enumerate(nb.get("cells", []), start=1):
        where = f"{path}: cell {index}"
        source = cell.get("source", "")
        if cell.get("cell_type") == "markdown":
            problems.extend(f"{where}: {problem}" for problem in check_prose_names(source))
            continue
        if cell.get("cell_type") != "code":
            continue
        if not source.strip():
            problems.append(f"{where}: empty code cell; delete it")
            continue
        if lab:
            # Handed out to be run by the student: nothing may be stored.
            if cell.get("execution_count") is not None or cell.get("outputs"):
                problems.append(
                    f"{where}: a lab's student notebook must be unexecuted (no outputs, no "
                    "execution count); rebuild it from its master with make labs"
                )
        elif cell.get("execution_count") is None:
            never_run.append(index)
            continue
        long_lines = [n for n, line in enumerate(source.splitlines(), 1)
                      if len(line) > MAX_CODE_LINE]
        if long_lines:
            problems.append(
                f"{where}: code line(s) {long_lines} longer than {MAX_CODE_LINE} characters "
                "scroll sideways on the site; wrap them"
            )
        problems.extend(f"{where}: {problem}" for problem in check_code_names(source))
        if ends_with_suppressed_expression(source):
            problems.append(
                f"{where}: ends with ';' to hide a value, which nbval ignores; "
                "end with plt.show() or assign the value (_ = ...)"
            )
        if not lab and not cell.get("outputs") and must_have_output(source):
            problems.append(f"{where}: should show output but has none stored; {hint}")
        problems.extend(f"{where}: {problem}" for problem in check_cell_outputs(cell))
        problems.extend(f"{where}: {problem}" for problem in check_figure(cell))

    if lab:
        pass  # a lab runs on the student's machine; its cells were checked above
    elif never_run and len(never_run) == len(code_cells):
        problems.append(f"{path}: none of its {len(code_cells)} code cells was executed; {hint}")
    elif never_run:
        cells = ", ".join(map(str, never_run))
        problems.append(f"{path}: cell(s) {cells} never executed; {hint}")
    elif counts != list(range(1, len(counts) + 1)):
        problems.append(f"{path}: execution counts are {counts}, not 1..{len(counts)}; {hint}")
    if (not lab and len(never_run) < len(code_cells)
            and not any(cell.get("outputs") for _, cell in code_cells)):
        problems.append(f"{path}: no code cell has any output stored; {hint}")
    problems.extend(check_solutions(nb.get("cells", []), path))
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "paths", nargs="*", type=Path, default=[REPO_ROOT / "book"],
        help="notebooks, or folders to search for notebooks (default: book/)",
    )
    args = parser.parse_args(argv)

    notebooks = find_notebooks(args.paths)
    if not notebooks:
        print("check_notebooks: no notebooks found; nothing to check")
        return 0
    problems = []
    labels: dict[str, str] = {}
    config = yaml.safe_load((REPO_ROOT / "_config.yml").read_text(encoding="utf-8"))
    repository = config["repository"]["url"]
    for path in notebooks:
        if path.is_absolute() and path.is_relative_to(Path.cwd()):
            path = path.relative_to(Path.cwd())
        try:
            nb = nbformat.read(path, as_version=4)
            nbformat.validate(nb)
        except (nbformat.ValidationError, ValueError) as err:
            problems.append(f"{path}: not a valid notebook ({err}); re-save it from Jupyter")
            continue
        problems.extend(check_notebook(nb, str(path)))
        problems.extend(f"{path}: {problem}" for problem in check_colab_cell(nb, repository))
        for index, cell in enumerate(nb.cells, start=1):
            name = figure_name(cell) if cell.get("cell_type") == "code" else None
            if name and name in labels:
                problems.append(
                    f"{path}: cell {index}: figure label {name!r} is already used by "
                    f"{labels[name]}; labels must be unique in the book"
                )
            elif name:
                labels[name] = f"{path}: cell {index}"
    for problem in problems:
        print(problem)
    verdict = "all good" if not problems else f"{len(problems)} problem(s)"
    print(f"check_notebooks: {len(notebooks)} notebook(s) checked, {verdict}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
