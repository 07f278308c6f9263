"""Tests of the project's tooling: environments, CI entry point, book configuration,
the notebook checker and the student edition."""

from __future__ import annotations

import importlib
import importlib.util
import re
import tomllib
from pathlib import Path
from types import SimpleNamespace

import nbformat
import pytest
import yaml
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from pybtex.database import parse_file
from script_modules import load_script

ROOT = Path(__file__).resolve().parent.parent


check_notebooks = load_script("check_notebooks")
student_edition = load_script("student_edition")


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def pyproject_requirements() -> dict[str, SpecifierSet]:
    project = pyproject()["project"]
    lines = list(project["dependencies"])
    for extra in ("test", "book", "notebook", "labs", "dask"):
        lines += project["optional-dependencies"][extra]
    requirements = [Requirement(line) for line in lines]
    return {normalise(req.name): req.specifier for req in requirements}


def conda_environment() -> dict:
    return yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))


def split_spec(line: str) -> tuple[str, SpecifierSet]:
    name, spec = re.fullmatch(r"([A-Za-z0-9_.\-]+)\s*(.*)", line.strip()).groups()
    return normalise(name), SpecifierSet(spec.replace(" ", ""))


def environment_requirements() -> tuple[dict[str, SpecifierSet], list[str]]:
    """Return the packages of environment.yml (conda and pip parts) and all names seen."""
    found: dict[str, SpecifierSet] = {}
    names = []
    for entry in conda_environment()["dependencies"]:
        lines = entry["pip"] if isinstance(entry, dict) else [entry]
        for line in lines:
            name, spec = split_spec(line)
            names.append(name)
            found[name] = spec
    return found, names


def test_environment_yml_matches_pyproject():
    found, _ = environment_requirements()
    found.pop("pip")
    found.pop("python")
    expected = pyproject_requirements()
    assert sorted(found) == sorted(expected), "environment.yml and pyproject.toml differ"
    for name, spec in expected.items():
        assert found[name] == spec, f"{name}: {found[name]} (environment.yml) != {spec}"


def test_environment_yml_lists_each_package_once_and_python_as_pyproject():
    found, names = environment_requirements()
    assert len(names) == len(set(names)), "a package is listed twice in environment.yml"
    assert found["python"] == SpecifierSet(pyproject()["project"]["requires-python"])


def test_environment_yml_uses_conda_forge_and_pip_section():
    env = conda_environment()
    assert env["channels"] == ["conda-forge"]
    pip_sections = [entry for entry in env["dependencies"] if isinstance(entry, dict)]
    assert len(pip_sections) == 1 and set(pip_sections[0]) == {"pip"}
    assert "pip" in env["dependencies"], "the pip section needs pip itself"


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    first_block = re.search(r"```bash\n(.*?)```", text, re.DOTALL).group(1)
    return [line.split("#", 1)[0].strip() for line in first_block.splitlines() if line.strip()]


def test_readme_starts_with_the_two_commands():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert readme_commands() == ["make book", "make test"]
    before_block = text.split("```bash", 1)[0]
    assert before_block.count("\n## ") == 0, "the two commands must come before any section"


def test_ci_runs_the_readme_test_command():
    lines = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert lines[0] in ("#!/usr/bin/env bash", "#!/bin/bash")
    stripped = (line.strip() for line in lines[1:])
    code = [line for line in stripped if line and not line.startswith("#")]
    assert code[0] == "set -euo pipefail"
    assert readme_commands()[1] in code


def test_makefile_has_the_documented_targets():
    text = (ROOT / "Makefile").read_text(encoding="utf-8")
    targets = set(re.findall(r"^([a-z][\w-]*):", text, re.MULTILINE))
    assert {"book", "test", "execute", "lab", "labs", "student", "clean"} <= targets
    assert "MPLBACKEND" not in re.sub(r"#.*", "", text), "kernels would inherit MPLBACKEND"


def test_deploy_workflow_builds_and_publishes_pages():
    workflow = yaml.safe_load((ROOT / ".github/workflows/deploy.yml").read_text(encoding="utf-8"))
    # YAML 1.1 reads the key `on` as True.
    triggers = workflow.get("on", workflow.get(True))
    assert "push" in triggers
    steps = [step for job in workflow["jobs"].values() for step in job["steps"]]
    uses = {step.get("uses", "").split("@")[0]: step for step in steps}
    assert uses["actions/upload-pages-artifact"]["with"]["path"] == "_build/html"
    assert "actions/deploy-pages" in uses
    assert workflow["permissions"]["pages"] == "write"
    assert workflow["permissions"]["id-token"] == "write"


def book_config() -> dict:
    return yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))


def test_book_config_builds_from_stored_outputs_with_offline_math():
    config = book_config()
    assert config["execute"]["execute_notebooks"] == "off"
    assert config["only_build_toc_files"] is True
    extensions = config["sphinx"]["extra_extensions"]
    assert "sphinx-mathjax-offline" in extensions
    for extension in extensions:
        importlib.import_module(extension)
    assert (ROOT / config["bibtex_bibfiles"][0]).is_file()


def toc_files(node) -> list[str]:
    if isinstance(node, dict):
        own = [node["file"]] if "file" in node else []
        return own + [name for value in node.values() for name in toc_files(value)]
    if isinstance(node, list):
        return [name for item in node for name in toc_files(item)]
    return []


def test_toc_lists_existing_files_and_every_chapter():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    listed = [toc["root"], *toc_files(toc["parts"])]
    for name in listed:
        assert any((ROOT / f"{name}{suffix}").is_file() for suffix in (".md", ".ipynb")), name
    unlisted = [
        path.relative_to(ROOT).with_suffix("").as_posix()
        for path in sorted([*(ROOT / "book").glob("*.ipynb"),
                            *(ROOT / "book" / "labs").glob("*.ipynb")])
        if path.relative_to(ROOT).with_suffix("").as_posix() not in listed
    ]
    assert not unlisted, f"notebooks missing from _toc.yml: {unlisted}"


def test_bibliography_entries_are_complete_and_every_citation_resolves():
    entries = parse_file(str(ROOT / "references.bib")).entries
    for key, entry in entries.items():
        assert {"title", "year"} <= set(entry.fields), key
        assert entry.persons.get("author"), key
    cited = set()
    for path in [*(ROOT / "book").glob("*.md"), *(ROOT / "book").glob("*.ipynb")]:
        for keys in re.findall(r"\{cite(?::\w+)?\}`([^`]+)`", path.read_text(encoding="utf-8")):
            cited.update(key.strip() for key in keys.split(","))
    assert cited, "the introduction pages cite works"
    assert not cited - set(entries), f"cited but not in references.bib: {cited - set(entries)}"



def load_local_extensions() -> dict:
    """Import the local Sphinx extensions that _config.yml names, as Jupyter Book does."""
    modules = {}
    for name, folder in book_config()["sphinx"]["local_extensions"].items():
        spec = importlib.util.spec_from_file_location(name, ROOT / folder / f"{name}.py")
        modules[name] = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(modules[name])
    return modules


def test_bibliography_labels_read_like_author_year_citations():
    config = book_config()["sphinx"]["config"]
    assert config["bibtex_reference_style"] == "author_year"
    course_site = load_local_extensions()["course_site"]
    course_site.register_bibtex_styles()
    from pybtex.plugin import find_plugin

    style = find_plugin("pybtex.style.formatting", config["bibtex_default_style"])()
    entries = parse_file(str(ROOT / "references.bib")).entries
    labels = dict(zip(entries, style.format_labels(entries.values()), strict=True))
    assert labels["dempster1977maximum"] == "Dempster et al., 1977"
    assert labels["mclachlan2000finite"] == "McLachlan and Peel, 2000"
    assert labels["bishop2006pattern"] == "Bishop, 2006"
    assert len(set(labels.values())) == len(labels)
    # Works with the same authors and year are told apart as in author-year styles.
    twins = [entries["bishop2006pattern"], entries["bishop2006pattern"]]
    assert list(style.format_labels(twins)) == ["Bishop, 2006a", "Bishop, 2006b"]


@pytest.mark.parametrize(
    ("edition", "theme_options", "expected"),
    [
        ("full", {"launch_buttons": {"binderhub_url": "https://binder.example"},
                  "use_download_button": True},
         {"edition_full", "launch_buttons", "download_button"}),
        ("student", {"launch_buttons": {"binderhub_url": "", "colab_url": ""},
                     "use_download_button": False},
         {"edition_student"}),
    ],
)
def test_pages_are_tagged_with_their_edition_and_buttons(edition, theme_options, expected):
    course_site = load_local_extensions()["course_site"]
    app = SimpleNamespace(tags=set())
    config = SimpleNamespace(course_edition=edition, html_theme_options=theme_options)
    course_site.set_edition_tags(app, config)
    assert app.tags == expected


def launch_group(*names):
    return {"label": "launch-buttons", "type": "group",
            "buttons": [{"text": name, "type": "link"} for name in names]}


def test_lab_pages_have_no_colab_button_and_chapters_keep_it():
    # On Colab, otter-grader 7 cannot read the checks stored in a lab's notebook.
    drop = load_local_extensions()["course_site"].drop_colab_button_on_labs
    download = {"label": "download-buttons", "buttons": []}
    chapter = {"header_buttons": [launch_group("Binder", "Colab"), download]}
    drop(None, "book/01-gaussian-mixtures", "page.html", chapter, None)
    assert [b["text"] for b in chapter["header_buttons"][0]["buttons"]] == ["Binder", "Colab"]
    lab = {"header_buttons": [launch_group("Binder", "Colab"), download]}
    drop(None, "book/labs/lab01-sampling-and-e-step", "page.html", lab, None)
    assert [b["text"] for b in lab["header_buttons"][0]["buttons"]] == ["Binder"]
    only_colab = {"header_buttons": [launch_group("Colab"), download]}
    drop(None, "book/labs/lab01-sampling-and-e-step", "page.html", only_colab, None)
    assert only_colab["header_buttons"] == [download]


def test_unnumbered_pages_number_their_equations_and_figures_from_one():
    # Sphinx counts them with one counter for every page outside a numbered part.
    renumber = load_local_extensions()["course_site"].number_unnumbered_pages_from_one
    env = SimpleNamespace(
        toc_secnumbers={"book/01-gaussian-mixtures": {"": (1,)}, "book/notation": {}},
        toc_fignumbers={
            "book/01-gaussian-mixtures": {"displaymath": {"a": (1, 1), "b": (1, 2)}},
            "book/notation": {"displaymath": {"n1": (1,), "n2": (2,)}},
            "book/labs/lab01": {"displaymath": {"e2": (4,), "e1": (3,)},
                                "figure": {"f": (2,)}},
        },
    )
    assert renumber(None, env) == ["book/labs/lab01"]
    assert env.toc_fignumbers["book/labs/lab01"] == {
        "displaymath": {"e2": (2,), "e1": (1,)}, "figure": {"f": (1,)}}
    assert env.toc_fignumbers["book/01-gaussian-mixtures"]["displaymath"]["b"] == (1, 2)
    assert renumber(None, env) == []


def test_an_unknown_edition_is_refused():
    course_site = load_local_extensions()["course_site"]
    config = SimpleNamespace(course_edition="teacher", html_theme_options={})
    with pytest.raises(ValueError, match="course_edition is 'teacher'"):
        course_site.set_edition_tags(SimpleNamespace(tags=set()), config)


def test_intro_describes_each_edition_and_the_buttons_only_where_they_exist():
    intro = (ROOT / "book" / "intro.md").read_text(encoding="utf-8")
    blocks = dict(re.findall(r"```\{only\} (\w+)\n(.*?)```", intro, re.DOTALL))
    assert "worked solution" in blocks["edition_full"]
    assert "leaves out their" in blocks["edition_student"]
    assert "rocket" in blocks["launch_buttons"] and "download" in blocks["download_button"]
    outside = re.sub(r"```\{only\}.*?```", "", intro, flags=re.DOTALL)
    assert not re.search(r"worked solution|rocket|download icon", outside)


def test_student_edition_copies_what_the_config_refers_to():
    config = book_config()
    folders = set(config["sphinx"]["local_extensions"].values())
    favicon = Path(config["html"]["favicon"])
    assert (ROOT / favicon).is_file()
    for needed in [*folders, favicon.parts[0], *config["bibtex_bibfiles"]]:
        assert needed in student_edition.SOURCES, needed


# --- scripts/check_notebooks.py ------------------------------------------------------


def executed(source: str, count: int, outputs=(), tags=()) -> nbformat.NotebookNode:
    cell = new_code_cell(source, execution_count=count, outputs=list(outputs))
    if tags:
        cell.metadata["tags"] = list(tags)
    return cell


def stream(text: str) -> nbformat.NotebookNode:
    return new_output("stream", name="stdout", text=text)


def good_notebook() -> nbformat.NotebookNode:
    return new_notebook(cells=[
        new_markdown_cell("# A chapter"),
        executed("import numpy as np", 1),
        executed("x = np.arange(3)\nprint(f'{x.sum()}')", 2, [stream("3\n")]),
        executed("def f():\n    print('later')", 3),
    ])


def problems_of(nb) -> list[str]:
    return check_notebooks.check_notebook(nb, "nb.ipynb")


def test_check_accepts_a_cleanly_executed_notebook():
    assert problems_of(good_notebook()) == []


def test_check_rejects_unexecuted_and_out_of_order_cells():
    nb = good_notebook()
    nb.cells[2].execution_count = None
    assert any("cell(s) 3 never executed" in problem for problem in problems_of(nb))
    nb = good_notebook()
    nb.cells[1].execution_count, nb.cells[2].execution_count = 2, 1
    assert any("execution counts are [2, 1, 3]" in problem for problem in problems_of(nb))
    nb = good_notebook()
    nb.cells[3].execution_count = 7
    assert any("not 1..3" in problem for problem in problems_of(nb))


def test_check_rejects_a_notebook_with_outputs_cleared():
    nb = good_notebook()
    nb.cells[2].outputs = []
    found = problems_of(nb)
    assert any("cell 3: should show output" in problem for problem in found)
    assert any("no code cell has any output" in problem for problem in found)


def test_check_flags_addresses_paths_and_kernel_files_in_outputs():
    for text in (
        "<Figure at 0x7f3a2b1c4d50>",
        "see /home/alice/em/data.npz",
        "/tmp/ipykernel_4242/123.py:3: UserWarning",
        "File /usr/lib/python3/site-packages/emlib/gmm.py:12",
    ):
        nb = good_notebook()
        nb.cells[2].outputs = [stream(text)]
        assert any("output contains" in problem for problem in problems_of(nb)), text


def test_check_accepts_ordinary_text_with_slashes_and_hex():
    nb = good_notebook()
    nb.cells[2].outputs = [stream("ratio 3/4 at https://example.org/usr/x, colour 0xff\n")]
    assert problems_of(nb) == []


def test_check_requires_the_raises_exception_tag_for_errors():
    error = new_output("error", ename="ValueError", evalue="bad K", traceback=["ValueError"])
    nb = good_notebook()
    nb.cells.append(executed("model.fit(X)", 4, [error]))
    assert any("raised ValueError: bad K" in problem for problem in problems_of(nb))
    nb.cells[-1].metadata["tags"] = ["raises-exception"]
    assert problems_of(nb) == []


def solution_cell(source: str, tagged: bool = True) -> nbformat.NotebookNode:
    cell = new_markdown_cell(source)
    if tagged:
        cell.metadata["tags"] = ["solution"]
    return cell


PLAIN = "```{solution} ex-one\n:label: sol-one\n:class: dropdown\n\nAnswer.\n```"
START = "```{solution-start} ex-two\n:class: dropdown\n```\n\nThe code below checks it."
END = "```{solution-end}\n```"


def gated_notebook() -> nbformat.NotebookNode:
    """A chapter with a folded text-only solution and a folded solution with code."""
    nb = good_notebook()
    nb.cells += [
        solution_cell(PLAIN),
        solution_cell(START),
        executed("print('checked')", 4, [stream("checked\n")], tags=["solution"]),
        solution_cell(END),
        new_markdown_cell("## After the exercises"),
    ]
    return nb


def test_check_accepts_plain_and_gated_folded_solutions():
    assert problems_of(gated_notebook()) == []
    parts = check_notebooks.solution_parts(START)
    assert parts == [("solution-start", {"class": "dropdown"}, False), ("text", {}, True)]


def test_check_enforces_the_solution_convention():
    nb = good_notebook()
    nb.cells.append(new_markdown_cell(PLAIN))
    assert any("not tagged solution" in problem for problem in problems_of(nb))
    nb.cells[-1].metadata["tags"] = ["solution"]
    assert problems_of(nb) == []
    nb.cells[-1].source = PLAIN.replace(":class: dropdown\n", "")
    assert any("{solution} is not folded" in problem for problem in problems_of(nb))


def test_check_rejects_solution_code_that_is_not_folded():
    nb = good_notebook()
    nb.cells.append(solution_cell(PLAIN))
    nb.cells.append(executed("print('open')", 4, [stream("open\n")], tags=["solution"]))
    found = problems_of(nb)
    assert any("cell 6: code tagged solution outside any solution" in p for p in found)


@pytest.mark.parametrize(("index", "change", "message"), [
    (5, lambda c: c.update(source=START.replace("```\n\n", "\n")),
     "text inside {solution-start} is dropped"),
    (5, lambda c: c.update(source=START.replace(":class: dropdown\n", "")),
     "{solution-start} is not folded"),
    (6, lambda c: c.metadata.update(tags=[]), "cell 7: inside the solution started at cell 6"),
    (7, lambda c: c.metadata.update(tags=[]), "cell 8: a {solution} directive in a cell not"),
    (7, lambda c: c.update(source="Just text."), "{solution-start} has no {solution-end}"),
    (7, lambda c: c.update(source=END + "\n\nMore."), "text outside the solution directive"),
    (8, lambda c: c.update(source=END), "{solution-end} without a {solution-start}"),
    (8, lambda c: c.update(source=PLAIN.replace("one", "three")),
     "cell 9: a {solution} directive in a cell not"),
])
def test_check_rejects_broken_gated_solutions(index, change, message):
    nb = gated_notebook()
    change(nb.cells[index])
    found = problems_of(nb)
    assert any(message in problem for problem in found), found


def test_check_rejects_a_solution_started_inside_another():
    nb = gated_notebook()
    nb.cells.insert(6, solution_cell(START.replace("two", "three")))
    found = problems_of(nb)
    assert any("cell 7: a {solution-start} inside the solution started at cell 6" in p
               for p in found), found


def test_check_rejects_empty_cells_and_trailing_semicolons():
    nb = good_notebook()
    nb.cells.append(new_code_cell("", execution_count=None))
    assert any("empty code cell" in problem for problem in problems_of(nb))
    nb = good_notebook()
    nb.cells.append(executed("plt.plot([1, 2]);", 4, [stream("\n")]))
    assert any("ends with ';'" in problem for problem in problems_of(nb))


def test_check_rejects_code_lines_wider_than_the_column():
    nb = good_notebook()
    nb.cells.append(executed("x = 1  # " + "a" * 72, 4))
    problems = problems_of(nb)
    assert any("code line(s) [1] longer than 80 characters" in p for p in problems)
    nb = good_notebook()
    nb.cells.append(executed("x = 1  # " + "a" * 71, 4))
    assert problems_of(nb) == []


def test_check_holds_prose_to_the_public_api_that_exists():
    def prose_problems(text):
        nb = good_notebook()
        nb.cells.append(new_markdown_cell(text))
        return problems_of(nb)

    assert prose_problems(
        "The E-step is `emlib.em.log_normalize`; count with `model.n_parameters()`, "
        "`GaussianMixture.full_covariances` or `emlib.selection.n_parameters`; "
        "`means_`, `n_init` and `__init__` are fine."
    ) == []
    assert any("private 'MixtureEM._e_step'" in p
               for p in prose_problems("see `MixtureEM._e_step`"))
    assert any("private 'fit._n_parameters'" in p
               for p in prose_problems("`fit._n_parameters()` counts them"))
    assert any("'emlib.em.logsumexp_fast', which emlib does not have" in p
               for p in prose_problems("it calls `emlib.em.logsumexp_fast`"))
    assert any("'GaussianMixture.n_params', which emlib does not have" in p
               for p in prose_problems("`GaussianMixture.n_params()`"))


def test_check_rejects_private_attributes_in_code_cells():
    nb = good_notebook()
    nb.cells.append(executed("p = model._n_parameters()\n_ = p", 4))
    assert any("uses the private '_n_parameters'" in p for p in problems_of(nb))
    nb = good_notebook()
    nb.cells.append(executed("from emlib.em import _checked_responsibilities", 4))
    assert any("private '_checked_responsibilities'" in p for p in problems_of(nb))


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("print('hi')", True),
        ("for k in range(3):\n    print(k)", True),
        ("plt.plot(x)\nplt.show()", True),
        ("glue('n_iter', 12)", True),
        ("x.mean()", False),
        ("model", True),
        ("x[0] + 1", True),
        ("x = 1", False),
        ("import numpy as np", False),
        ("def f():\n    print('x')", False),
        ("%matplotlib inline\nx = 2", False),
        ("None", False),
    ],
)
def test_must_have_output(source, expected):
    assert check_notebooks.must_have_output(source) is expected


def figure_output() -> nbformat.NotebookNode:
    return new_output("display_data", data={"image/png": "iVBORw0KGgo=", "text/plain": "<Figure>"})


def figure_notebook(**mystnb) -> nbformat.NotebookNode:
    nb = good_notebook()
    cell = executed("plt.plot([1, 2])\nplt.show()", 4, [figure_output()])
    cell.metadata["mystnb"] = mystnb
    nb.cells.append(cell)
    return nb


GOOD_FIGURE = {
    "figure": {"name": "fig-demo-line", "caption": "The line rises: notice its slope of one."},
    "image": {"alt": "A straight line rising from left to right."},
}


def test_check_accepts_a_named_captioned_described_figure():
    assert problems_of(figure_notebook(**GOOD_FIGURE)) == []


@pytest.mark.parametrize(
    ("part", "key", "value", "message"),
    [
        ("figure", "name", None, "no label"),
        ("figure", "name", "Figure 1", "no label"),
        ("figure", "caption", None, "no caption"),
        ("figure", "caption", "A line.", "no caption"),
        ("image", "alt", None, "no alt text"),
    ],
)
def test_check_rejects_figures_without_label_caption_or_alt(part, key, value, message):
    mystnb = {name: dict(fields) for name, fields in GOOD_FIGURE.items()}
    if value is None:
        del mystnb[part][key]
    else:
        mystnb[part][key] = value
    assert any(message in problem for problem in problems_of(figure_notebook(**mystnb)))


def test_check_rejects_two_images_in_one_cell_and_repeated_labels(tmp_path, capsys):
    nb = figure_notebook(**GOOD_FIGURE)
    nb.cells[-1].outputs.append(figure_output())
    assert any("stores 2 images" in problem for problem in problems_of(nb))
    for name in ("a.ipynb", "b.ipynb"):
        nb = figure_notebook(**GOOD_FIGURE)
        nb.cells.insert(1, colab_cell(book_config()["repository"]["url"]))
        nbformat.write(nb, tmp_path / name)
    assert check_notebooks.main([str(tmp_path)]) == 1
    assert "'fig-demo-line' is already used" in capsys.readouterr().out


def colab_cell(url: str, tags=("remove-cell",)) -> nbformat.NotebookNode:
    source = (
        'import sys\n\nif "google.colab" in sys.modules:\n'
        f'    REPO = "git+{url}"\n'
        '    %pip install -q "emlib-course[notebook] @ {REPO}"'
    )
    return executed(source, 1, tags=tags)


def chapter_notebook(url: str | None = None, **colab) -> nbformat.NotebookNode:
    """A good notebook whose first code cell is the Colab install cell."""
    nb = good_notebook()
    url = url or book_config()["repository"]["url"]
    nb.cells.insert(1, colab_cell(url, **colab))
    for count, cell in enumerate(nb.cells[2:], start=2):
        cell.execution_count = count
    return nb


def test_check_main_reports_and_fails(tmp_path, capsys):
    nb = chapter_notebook()
    nbformat.write(nb, tmp_path / "ok.ipynb")
    assert check_notebooks.main([str(tmp_path)]) == 0
    nb.cells[3].outputs = [stream("0x7f00deadbeef")]
    nbformat.write(nb, tmp_path / "bad.ipynb")
    assert check_notebooks.main([str(tmp_path)]) == 1
    assert "bad.ipynb: cell 4: output contains a memory address" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("notebook", "message"),
    [
        (good_notebook(), "must install the package on Colab"),
        (chapter_notebook("https://github.com/someone/else"), "the repository of _config.yml"),
        (chapter_notebook(tags=()), "tagged remove-cell"),
    ],
)
def test_check_main_requires_the_colab_cell_of_this_repository(tmp_path, capsys, notebook,
                                                                message):
    nbformat.write(notebook, tmp_path / "chapter.ipynb")
    assert check_notebooks.main([str(tmp_path)]) == 1
    assert message in capsys.readouterr().out


def lab_notebook(extras: str = "notebook,labs") -> nbformat.NotebookNode:
    """A lab's student notebook: otter metadata, a Colab cell with the labs extra, and
    nothing executed."""
    url = book_config()["repository"]["url"]
    colab = new_code_cell(
        'import sys\n\nif "google.colab" in sys.modules:\n'
        f'    REPO = "git+{url}"\n'
        f'    %pip install -q "emlib-course[{extras}] @ {{REPO}}"',
        metadata={"tags": ["remove-cell"]})
    nb = new_notebook(cells=[
        new_markdown_cell("# Lab 1"),
        colab,
        new_code_cell("import numpy as np\nimport otter\n\n"
                      'grader = otter.Notebook("lab.ipynb")'),
        new_code_cell("def answer(x):\n    ..."),
        new_code_cell('grader.check("q1")'),
    ])
    nb.metadata["otter"] = {"OK_FORMAT": False, "tests": {"q1": "..."}}
    return nb


def test_check_accepts_an_unexecuted_lab_and_nothing_executed_in_it(tmp_path, capsys):
    nbformat.write(lab_notebook(), tmp_path / "lab.ipynb")
    assert check_notebooks.main([str(tmp_path)]) == 0
    # The same notebook without its otter metadata is a chapter nobody ran.
    chapter = lab_notebook()
    del chapter.metadata["otter"]
    assert "none of its 4 code cells was executed" in " ".join(problems_of(chapter))
    executed_lab = lab_notebook()
    executed_lab.cells[4].execution_count = 1
    executed_lab.cells[4].outputs = [stream("q1 results: All test cases passed!\n")]
    assert problems_of(executed_lab) == [
        "nb.ipynb: cell 5: a lab's student notebook must be unexecuted (no outputs, no "
        "execution count); rebuild it from its master with make labs"]
    too_wide = lab_notebook()
    too_wide.cells[3].source = "x = " + "1 + " * 25 + "1"
    assert "longer than 80 characters" in " ".join(problems_of(too_wide))


def test_check_requires_the_labs_extra_in_a_labs_colab_cell(tmp_path, capsys):
    nbformat.write(lab_notebook(extras="notebook"), tmp_path / "lab.ipynb")
    assert check_notebooks.main([str(tmp_path)]) == 1
    assert "must install emlib-course[notebook,labs]" in capsys.readouterr().out


def dask_chapter(extras: str) -> nbformat.NotebookNode:
    """A chapter that imports Dask, its Colab cell installing ``emlib-course[extras]``."""
    nb = chapter_notebook()
    nb.cells[1].source = nb.cells[1].source.replace("[notebook]", f"[{extras}]")
    nb.cells[2].source = "from dask.distributed import Client\n" + nb.cells[2].source
    return nb


def test_check_requires_the_dask_extra_exactly_where_dask_is_imported(tmp_path, capsys):
    plain = chapter_notebook()
    plain.cells[1].source = plain.cells[1].source.replace("[notebook]", "[notebook,dask]")
    cases = [
        (dask_chapter("notebook,dask"), None),
        (dask_chapter("notebook"), "must install emlib-course[notebook,dask]"),
        # A chapter without Dask keeps the plain extra: the dask one is refused there.
        (plain, "must install emlib-course[notebook] from"),
    ]
    for nb, message in cases:
        nbformat.write(nb, tmp_path / "chapter.ipynb")
        status = check_notebooks.main([str(tmp_path)])
        out = capsys.readouterr().out
        if message is None:
            assert status == 0, out
        else:
            assert status == 1 and message in out, out


def test_check_main_with_no_notebooks_succeeds(tmp_path):
    assert check_notebooks.main([str(tmp_path)]) == 0


# --- scripts/student_edition.py ------------------------------------------------------


def test_student_config_enforces_hidden_solutions_and_drops_repository_links():
    student = {
        "sphinx": {"config": {"hide_solutions": False, "course_edition": "full"}},
        "html": {"use_issues_button": True},
    }
    config = student_edition.student_config(book_config(), student)
    sphinx_config = config["sphinx"]["config"]
    assert sphinx_config["hide_solutions"] is True
    assert sphinx_config["course_edition"] == "student"
    assert sphinx_config["html_copy_source"] is False
    assert sphinx_config["html_theme_options"]["use_download_button"] is False
    assert config["sphinx"]["recursive_update"] is True
    assert config["launch_buttons"]["binderhub_url"] == ""
    assert config["launch_buttons"]["colab_url"] == ""
    assert not any(config["html"][key] for key in ("use_repository_button", "use_issues_button"))
    assert config["repository"]["url"] == ""
    assert config["bibtex_bibfiles"] == book_config()["bibtex_bibfiles"]


def test_student_config_keeps_launch_buttons_for_a_student_repository():
    student = {"repository": {"url": "https://example.org/student-notebooks"}}
    config = student_edition.student_config(book_config(), student)
    assert config["repository"]["url"] == "https://example.org/student-notebooks"
    assert config["launch_buttons"]["binderhub_url"] == "https://mybinder.org"
    assert config["sphinx"]["config"]["hide_solutions"] is True


def test_strip_solutions_removes_only_tagged_cells(tmp_path):
    nb = good_notebook()
    nb.cells.append(solution_cell("```{solution} ex-one\n:class: dropdown\n\nSECRET\n```"))
    nb.cells.append(solution_cell(START + " SECRET"))
    nb.cells.append(executed("print('SECRET')", 4, [stream("SECRET\n")], tags=["solution"]))
    nb.cells.append(solution_cell(END))
    nb.cells.append(executed("print('kept')", 5, [stream("kept\n")], tags=["hide-input"]))
    path = tmp_path / "chapter.ipynb"
    nbformat.write(nb, path)
    assert student_edition.strip_solutions(path) == 4
    text = path.read_text(encoding="utf-8")
    assert "SECRET" not in text and "solution" not in text and "kept" in text
    assert len(nbformat.read(path, as_version=4).cells) == len(good_notebook().cells) + 1
    assert not student_edition.gated_left(path)


def test_student_edition_notices_a_gated_cell_left_untagged(tmp_path):
    nb = gated_notebook()
    nb.cells[7].metadata["tags"] = []  # the {solution-end} cell
    path = tmp_path / "chapter.ipynb"
    nbformat.write(nb, path)
    student_edition.strip_solutions(path)
    assert student_edition.gated_left(path)


def test_student_edition_leak_detection(tmp_path):
    (tmp_path / "page.html").write_text('<div class="admonition note">fine</div>')
    assert student_edition.leaks(tmp_path) == []
    (tmp_path / "other.html").write_text('<div class="solution admonition" id="sol">x</div>')
    (tmp_path / "chapter.ipynb").write_text("{}")
    assert len(student_edition.leaks(tmp_path)) == 2
    (tmp_path / "code.html").write_text('<div class="cell tag_solution docutils">x</div>')
    assert len(student_edition.leaks(tmp_path)) == 3


def test_student_edition_lets_a_labs_student_notebook_through_and_nothing_else(tmp_path):
    labs = tmp_path / "labs"
    labs.mkdir()
    nbformat.write(lab_notebook(), labs / "lab.ipynb")
    html = tmp_path / "html"
    (html / "_downloads" / "abc").mkdir(parents=True)
    nbformat.write(lab_notebook(), html / "_downloads" / "abc" / "lab.ipynb")
    assert student_edition.leaks(html, labs) == []
    # The same name with a cell more (a solution, say) is a leak.
    changed = lab_notebook()
    changed.cells.append(new_code_cell("def answer(x):\n    return 2 * x"))
    nbformat.write(changed, html / "_downloads" / "abc" / "lab.ipynb")
    assert len(student_edition.leaks(html, labs)) == 1
