"""The order in which scripts/replay_notebooks.py hands notebooks to nbval's workers."""

import json
from pathlib import Path

import pytest
from script_modules import load_script

ROOT = Path(__file__).resolve().parent.parent
replay = load_script("replay_notebooks")


@pytest.fixture
def seconds_file(tmp_path, monkeypatch):
    path = tmp_path / "notebook_seconds.json"
    monkeypatch.setattr(replay, "SECONDS_FILE", path)
    return path


def test_longest_first_and_unrecorded_notebooks_before_all(seconds_file):
    seconds_file.write_text(json.dumps({"book/a.ipynb": 10.0, "book/b.ipynb": 30.0,
                                        "book/c.ipynb": 20.0}))
    notebooks = ["book/a.ipynb", "book/new.ipynb", "book/b.ipynb", "book/c.ipynb"]
    assert replay.longest_first(notebooks) == [
        "book/new.ipynb", "book/b.ipynb", "book/c.ipynb", "book/a.ipynb"]


def test_without_a_record_the_given_order_is_kept(seconds_file):
    notebooks = ["book/b.ipynb", "book/a.ipynb"]
    assert replay.longest_first(notebooks) == notebooks  # no file
    seconds_file.write_text("not json")
    assert replay.longest_first(notebooks) == notebooks


def test_the_command_keeps_that_order_for_whole_notebooks(seconds_file):
    seconds_file.write_text(json.dumps({"book/a.ipynb": 1.0, "book/b.ipynb": 2.0}))
    command = replay.nbval_command(["book/a.ipynb", "book/b.ipynb"], workers=2)
    # xdist would otherwise reorder the notebooks by their number of cells.
    assert command[command.index("--dist") + 1] == "loadfile"
    assert "--no-loadscope-reorder" in command
    assert command[-2:] == ["book/b.ipynb", "book/a.ipynb"]
    assert "no:hypothesispytest" in command


def test_the_recorded_seconds_name_every_chapter():
    recorded = json.loads(replay.SECONDS_FILE.read_text())
    chapters = {str(p.relative_to(ROOT)) for p in (ROOT / "book").glob("*.ipynb")}
    assert set(recorded) == chapters, (
        "tests/notebook_seconds.json does not list the chapters in book/: run "
        "`.venv/bin/python benchmarks/bench.py book`, which rewrites it")
    assert all(seconds > 0 for seconds in recorded.values())
