#!/usr/bin/env bash
# What a reader of the site gets from a launch button, reproduced here: Binder and Colab
# install the package from the repository, not from this checkout. So: clone the committed
# state, build its wheel, install the wheel with the `notebook` extra (what the Colab cell
# of every chapter installs) into a fresh virtual environment outside the checkout, and
# execute a chapter there. It fails if the distribution misses a module or a bundled data
# file, if a chapter imports something the package does not declare, or if `emlib` would
# be imported from the checkout instead of the installed wheel.
#
# Then a lab, as a student does it: the wheel gets the `labs` extra (what a lab's Colab
# cell installs), the first lab's student notebook (the file the link in the lab's
# introduction hands out) gets its answers from the lab's master, and it must run top to
# bottom with every public check passing, read by otter-grader from the notebook itself.
#
# Last, Binder's postBuild, run in the clone, must write the labs' student notebooks.
#
# Usage: scripts/check_install.sh [NOTEBOOK]    (default: book/02-kmeans.ipynb, which
# loads the bundled MNIST subset)
set -euo pipefail

repo=$(git rev-parse --show-toplevel)
notebook=${1:-book/02-kmeans.ipynb}
python=${PYTHON:-python3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# pip warns about every local index folder that this machine's pip configuration names
# and that does not exist; keep its real errors, drop that noise.
quiet() { "$@" 2>&1 | { grep -v "^WARNING: Location 'file:" || true; }; }

git clone --quiet --no-local "$repo" "$work/src"
quiet "$python" -m pip wheel --quiet --disable-pip-version-check --no-deps \
    --wheel-dir "$work/dist" "$work/src"
wheel=$(ls "$work"/dist/emlib_course-*.whl)
"$python" -m venv "$work/venv"
quiet "$work/venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    -c "$repo/requirements/lock.txt" "${wheel}[notebook]" nbconvert ipykernel

mkdir "$work/run"
cp "$work/src/$notebook" "$work/run/"
cd "$work/run"
"$work/venv/bin/python" - <<'PY'
import importlib.metadata
import pathlib

import emlib

where = pathlib.Path(emlib.__file__).resolve()
assert "site-packages" in where.parts, f"emlib imported from {where}, not from the wheel"
print(f"emlib-course {importlib.metadata.version('emlib-course')} installed from its wheel")
PY
PYTHONHASHSEED=0 OPENBLAS_NUM_THREADS=1 "$work/venv/bin/jupyter" nbconvert --to notebook \
    --execute --ExecutePreprocessor.timeout=600 --ExecutePreprocessor.kernel_name=python3 \
    --output executed.ipynb "$(basename "$notebook")" 2>&1 | grep -v "Kernel is running over TCP"
echo "check_install: $(basename "$notebook") ran top to bottom against the installed wheel"

# The page the book offers for download, which make writes from the master before a build.
lab=$(cd "$repo" && ls book/labs/*.ipynb | head -n 1)
quiet "$work/venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    -c "$repo/requirements/lock.txt" "${wheel}[notebook,labs]"
mkdir "$work/lab"
cp "$repo/$lab" "$work/lab/"
"$work/venv/bin/python" - "$work/src/labs/$(basename "$lab")" "$work/lab/$(basename "$lab")" <<'PY'
import json
import sys

master, student = (json.load(open(path, encoding="utf-8")) for path in sys.argv[1:])
solutions = {cell["id"]: cell for cell in master["cells"]}
answers = [cell for cell in student["cells"]
           if "otter_answer_cell" in cell["metadata"].get("tags", [])]
for cell in answers:
    lines = "".join(solutions[cell["id"]]["source"]).splitlines()
    cell["source"] = "\n".join(line for line in lines
                               if line.strip() not in ("# BEGIN SOLUTION", "# END SOLUTION"))
json.dump(student, open(sys.argv[2], "w", encoding="utf-8"))
print(f"{len(answers)} answers filled in")
PY
cd "$work/lab"
PYTHONHASHSEED=0 OPENBLAS_NUM_THREADS=1 "$work/venv/bin/jupyter" nbconvert --to notebook \
    --execute --inplace --ExecutePreprocessor.timeout=600 \
    --ExecutePreprocessor.kernel_name=python3 "$(basename "$lab")" 2>&1 \
    | grep -v "Kernel is running over TCP"
"$work/venv/bin/python" - "$(basename "$lab")" <<'PY'
import json
import re
import sys

nb = json.load(open(sys.argv[1], encoding="utf-8"))
questions = sorted(nb["metadata"]["otter"]["tests"])
text = json.dumps(nb)
passed = set(re.findall(r"(\w+) results: All test cases passed!", text))
assert passed >= set(questions), f"checks that did not pass: {set(questions) - passed}"
print(f"check_install: {sys.argv[1]} ran against the installed wheel; "
      f"its public checks of {', '.join(questions)} passed")
PY

# Binder: postBuild, run in the clone with this environment first on PATH, must write the
# labs' student notebooks that the lab pages' Binder buttons open, as make writes them.
(cd "$work/src" && PATH="$work/venv/bin:$PATH" quiet bash postBuild)
for page in "$repo"/book/labs/*.ipynb; do
    cmp -s "$page" "$work/src/book/labs/$(basename "$page")" \
        || { echo "check_install: postBuild did not write book/labs/$(basename "$page")"; exit 1; }
done
echo "check_install: postBuild wrote the labs' student notebooks that Binder opens"
