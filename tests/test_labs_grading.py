"""The labs end to end: build them with otter assign, then grade with otter run.

For every master notebook in ``labs/``:

* the master runs top to bottom in a fresh kernel, its test cells included (they call
  the solutions), and so do the cells tagged ``otter_ignore``, which show the student's
  code on data and which grading skips;
* ``scripts/build_labs.py --check`` builds the student notebook and the autograder and
  fails if the student notebook in ``book/labs/`` (the book's page, which ``make test``
  writes first) is not what the master gives
  (executing the master top to bottom is part of ``otter assign``: its test cells run);
* the student notebook holds no solution code and no hidden test, and carries its
  public tests in its metadata, so that one downloaded file is enough to check answers;
* ``otter run`` scores the solved notebook 100%, question by question;
* every deliberately wrong answer of ``tests/labs/labNN_wrong.py``, put in place of the
  right one, fails exactly the checks listed for it there, with a message that names
  the case and what to look at.

Each lab is built and graded when a test first needs it; its gradings are independent
``otter run`` processes, run two at a time.
"""

from __future__ import annotations

import ast
import importlib.util
import inspect
import json
import os
import pickle
import re
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MASTERS = sorted((ROOT / "labs").glob("*.ipynb"))
TEST_NAME = re.compile(r"^def (test_\w+)\(", re.MULTILINE)

def load(path: Path):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


build_labs = load(ROOT / "scripts" / "build_labs.py")
# The environment otter assign grades in, used for every run here too.
GRADING_ENV = build_labs.GRADING_ENV


def lab_number(master: Path) -> str:
    return re.match(r"lab(\d+)-", master.name).group(1)


def wrong_module(master: Path):
    return load(ROOT / "tests" / "labs" / f"lab{lab_number(master)}_wrong.py")


def source(cell: dict) -> str:
    text = cell.get("source", "")
    return "".join(text) if isinstance(text, list) else text


def question_tests(master: Path) -> dict[str, list[str]]:
    """The test functions of each question of a master, in order (otter's order too)."""
    tests: dict[str, list[str]] = {}
    question = None
    for cell in json.loads(master.read_text(encoding="utf-8"))["cells"]:
        text = source(cell)
        if cell["cell_type"] == "raw" and text.startswith("# BEGIN QUESTION"):
            question = re.search(r"^name:\s*(\S+)", text, re.MULTILINE).group(1)
            tests[question] = []
        elif cell["cell_type"] == "code" and "BEGIN TEST CONFIG" in text:
            tests[question].append(TEST_NAME.search(text).group(1))
    return tests


def substitute(notebook: dict, function: str, replacement: str) -> dict:
    """The notebook with the cell that defines ``function`` replaced by ``replacement``."""
    pattern = re.compile(rf"^def {function}\(", re.MULTILINE)
    cells = [cell for cell in notebook["cells"]
             if cell["cell_type"] == "code" and pattern.search(source(cell))]
    assert len(cells) == 1, f"expected one cell defining {function}, found {len(cells)}"
    cells[0]["source"] = replacement
    return notebook


def wrong_cell(module, name: str, function: str) -> str:
    """The source of a wrong answer as a notebook cell: its imports, then the function
    renamed to the one the question asks for."""
    code = inspect.getsource(getattr(module, name))
    code = code.replace(f"def {name}(", f"def {function}(", 1)
    tree = ast.parse(inspect.getsource(module))
    imports = [ast.unparse(node) for node in tree.body
               if isinstance(node, ast.Import | ast.ImportFrom)]
    return "\n".join(imports) + "\n\n\n" + code


def execute(master: Path, folder: Path) -> dict:
    """Run a copy of a master top to bottom in a fresh kernel, in ``folder`` (otter
    writes its log beside the notebook); return the executed notebook."""
    folder.mkdir(parents=True, exist_ok=True)
    copy = folder / master.name
    shutil.copy2(master, copy)
    done = subprocess.run(
        [sys.executable, "-m", "nbconvert", "--to", "notebook", "--execute", "--inplace",
         "--ExecutePreprocessor.timeout=600", "--ExecutePreprocessor.kernel_name=python3",
         str(copy)],
        cwd=folder, env={**os.environ, **GRADING_ENV}, capture_output=True, text=True,
        check=False)
    assert done.returncode == 0, f"{master.name} did not run:\n{done.stderr[-3000:]}"
    return json.loads(copy.read_text(encoding="utf-8"))


def grade(submission: Path, autograder: Path) -> dict:
    """Grade one submission with ``otter run``; per question: score, possible, results."""
    workdir = submission.parent
    done = subprocess.run(
        [sys.executable, "-m", "otter", "run", "--no-logo", "-p", "-a", str(autograder),
         "-o", str(workdir), str(submission)],
        cwd=workdir, env={**os.environ, **GRADING_ENV}, capture_output=True, text=True,
        check=False)
    assert done.returncode == 0, f"otter run failed:\n{done.stdout}\n{done.stderr}"
    # The pickle is otter's own GradingResults; unpickling needs otter, which we have.
    with open(workdir / "results.pkl", "rb") as f:
        results = pickle.load(f)
    return {
        name: {
            "score": test_file.score,
            "possible": test_file.possible,
            "cases": [(result.passed, result.message, result.test_case.points)
                      for result in test_file.test_case_results],
        }
        for name, test_file in results.results.items()
    }


def grade_lab(master: Path, out: Path) -> dict:
    """Build one lab, run its master, and grade its solution and each wrong answer."""
    status = build_labs.main(["--check", "--no-run-tests", "--output", str(out), str(master)])
    assert status == 0, f"book/labs/{master.name} is missing or stale: run `make labs`"
    autograder = out / master.stem / "autograder"
    solved = json.loads((autograder / master.name).read_text(encoding="utf-8"))
    zip_path = autograder / f"{master.stem}-autograder.zip"
    module = wrong_module(master)
    variants = {"solution": solved}
    for name, (function, _) in module.MISTAKES.items():
        variant = json.loads(json.dumps(solved))
        variants[name] = substitute(variant, function, wrong_cell(module, name, function))
    jobs = {}
    for name, notebook in variants.items():
        folder = out / "submissions" / master.stem / name
        folder.mkdir(parents=True)
        path = folder / master.name
        build_labs.write_notebook(notebook, path)
        jobs[name] = path
    # Each run is a kernel in its own process: two at a time use the two cores.
    with ThreadPoolExecutor(max_workers=2) as pool:
        executed = pool.submit(execute, master, out / "executed" / master.stem)
        futures = {name: pool.submit(grade, path, zip_path) for name, path in jobs.items()}
        return {"results": {name: f.result() for name, f in futures.items()},
                "executed": executed.result()}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """``graded(master)``: that lab built and graded, once per test session. A lab is
    graded when a test first asks for it, so that ``-k lab02`` grades lab 2 only."""
    out = tmp_path_factory.mktemp("labs")
    done = {}

    def lab(master: Path) -> dict:
        if master.stem not in done:
            done[master.stem] = grade_lab(master, out)
        return done[master.stem]

    return lab


@pytest.mark.parametrize("master", MASTERS, ids=lambda path: path.stem)
def test_master_code_fits_the_books_column(master):
    # Solutions included: the autograder's solved notebook is read by people too.
    for index, cell in enumerate(json.loads(master.read_text("utf-8"))["cells"], 1):
        if cell["cell_type"] == "code":
            wide = [line for line in source(cell).splitlines() if len(line) > 80]
            assert not wide, f"{master.name}: cell {index}: lines over 80 characters"


@pytest.mark.parametrize("master", MASTERS, ids=lambda path: path.stem)
def test_master_runs_top_to_bottom(graded, master):
    cells = [cell for cell in graded(master)["executed"]["cells"]
             if cell["cell_type"] == "code"]
    assert all(cell["execution_count"] for cell in cells), "a cell did not run"
    errors = [output for cell in cells for output in cell["outputs"]
              if output["output_type"] == "error"]
    assert not errors, f"{master.name} raised: {errors[0]['ename']}: {errors[0]['evalue']}"
    shown = [cell for cell in cells if "otter_ignore" in cell["metadata"].get("tags", [])]
    assert shown and all(cell["outputs"] for cell in shown)


def test_every_lab_has_a_master_and_three_planted_mistakes():
    assert MASTERS, "no master notebooks in labs/"
    for master in MASTERS:
        module = wrong_module(master)
        assert len(module.MISTAKES) >= 3, f"{master.name}: plant at least three mistakes"


@pytest.mark.parametrize("master", MASTERS, ids=lambda path: path.stem)
def test_student_notebook_has_public_tests_and_no_solution(graded, master):
    graded(master)  # builds the lab and checks that its page in book/labs/ is current
    page = ROOT / "book" / "labs" / master.name
    notebook = json.loads(page.read_text(encoding="utf-8"))
    text = "\n".join(source(cell) for cell in notebook["cells"])
    for marker in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN TESTS", "BEGIN QUESTION",
                   "BEGIN TEST CONFIG", "ASSIGNMENT CONFIG"):
        assert marker not in text, f"{page.name} still holds '{marker}'"
    # No line of the solutions (between # BEGIN SOLUTION and # END SOLUTION) is left.
    solution_lines = set()
    for cell in json.loads(master.read_text(encoding="utf-8"))["cells"]:
        inside = False
        for line in source(cell).splitlines():
            if line.strip() in ("# BEGIN SOLUTION", "# END SOLUTION"):
                inside = line.strip() == "# BEGIN SOLUTION"
            elif inside and len(line.strip()) > 8:
                solution_lines.add(line.strip())
    student_lines = {line.strip() for line in text.splitlines()}
    assert solution_lines and not solution_lines & student_lines, (
        f"solution code left in {page.name}: {sorted(solution_lines & student_lines)}")
    tests = notebook["metadata"]["otter"]["tests"]
    expected = question_tests(master)
    assert sorted(tests) == sorted(expected)
    for question, code in tests.items():
        assert "hidden=True" not in code, f"{question}: a hidden test reached the students"
        assert "hidden=False" in code, f"{question}: no public test"
    assert not any(cell.get("outputs") for cell in notebook["cells"]
                   if cell["cell_type"] == "code")


@pytest.mark.parametrize("master", MASTERS, ids=lambda path: path.stem)
def test_the_solution_scores_full_marks(graded, master):
    results = graded(master)["results"]["solution"]
    assert set(results) == set(question_tests(master))
    for question, result in results.items():
        failed = [message for passed, message, _ in result["cases"] if not passed]
        assert result["score"] == result["possible"] > 0, f"{question}: {failed}"


def mistakes():
    for master in MASTERS:
        for name in wrong_module(master).MISTAKES:
            yield pytest.param(master, name, id=f"{master.stem}-{name}")


@pytest.mark.parametrize(("master", "mistake"), list(mistakes()))
def test_each_planted_mistake_fails_exactly_its_checks(graded, master, mistake):
    _, expected_failures = wrong_module(master).MISTAKES[mistake]
    results = graded(master)["results"][mistake]
    for question, names in question_tests(master).items():
        result = results[question]
        failed = {name for name, (passed, _, _) in zip(names, result["cases"], strict=True)
                  if not passed}
        assert failed == expected_failures.get(question, set()), (
            f"{mistake}, {question}: failed {sorted(failed)}")
        lost = sum(points for passed, _, points in result["cases"] if not passed)
        assert lost > 0 or not failed
        assert result["score"] == result["possible"] - lost
        for passed, message, _ in result["cases"]:
            if not passed:
                # The student sees which case failed and what to look at.
                assert "case '" in message and "Look at:" in message, message
