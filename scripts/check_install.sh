#!/usr/bin/env bash
# What a reader of the site gets from a launch button, reproduced here: Binder and Colab
# install the package from the repository, not from this checkout. So: clone the committed
# state, build its wheel, install the wheel with the `notebook` extra (what the Colab cell
# of every chapter installs) into a fresh virtual environment outside the checkout, and
# execute a chapter there. It fails if the distribution misses a module or a bundled data
# file, if a chapter imports something the package does not declare, or if `emlib` would
# be imported from the checkout instead of the installed wheel.
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
