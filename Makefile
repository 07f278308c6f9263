# Two commands matter: `make book` and `make test` (see README.md).
# Every target works from a fresh clone: the first one that needs Python creates .venv.

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
LAB_STAMP := $(VENV)/.installed-lab

# Notebooks are executed and tested with the same environment, so that outputs stored
# by `make execute` are reproduced bit for bit by nbval. MPLBACKEND is deliberately
# left unset: kernels would inherit it and figures would vanish.
NB_ENV := PYTHONHASHSEED=0 OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
# Notebooks also keep Numba to one thread: nbval replays two at once on two cores, and
# k-means gives the same bits on any number of threads (emlib/lloyd.py). The unit tests
# need more than one, to check exactly that.
NB_KERNEL_ENV := $(NB_ENV) NUMBA_NUM_THREADS=1

NOTEBOOKS = $(sort $(wildcard book/*.ipynb))
NB ?= $(NOTEBOOKS)

# Stored outputs must not depend on how the processor rounds: nbval replays the notebooks
# with this machine's own BLAS kernels, then with older x86 kernels forced (see
# scripts/replay_notebooks.py). "auto" picks two that this processor can run; name them to
# choose, e.g. `make replay KERNELS=Sandybridge NB=book/03-em-theory.ipynb`.
KERNELS ?= auto

.PHONY: help book test execute replay lab labs lab-pages student clean distclean

help:
	@echo "make book     build the HTML book into _build/html (stored outputs, no execution)"
	@echo "make test     lint, unit tests, notebook checks, nbval, a strict book build, browser test"
	@echo "make execute  re-execute notebooks in place (one: make execute NB=book/02-kmeans.ipynb)"
	@echo "make replay   nbval on this machine's BLAS kernels and on older ones (KERNELS=..., NB=...)"
	@echo "make lab      open the chapters in JupyterLab"
	@echo "make labs     student notebooks and autograders of the labs into _build/labs"
	@echo "make student  build the student edition (no solutions) into _build/student/html"
	@echo "make clean    remove build products (keeps .venv); distclean also removes .venv"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Reinstall only when the declared or locked dependencies change.
$(STAMP): pyproject.toml requirements/lock.txt | $(BIN)/python
	$(BIN)/python -m pip install --disable-pip-version-check --quiet \
		-c requirements/lock.txt -e ".[book,notebook,labs,dask,test]"
	touch $@

# The labs' pages, book/labs/<lab>.ipynb, are student notebooks: unexecuted by design (a
# student's answers are missing), so they are written from the masters before every build
# instead of being kept in the repository beside the executed chapters.
lab-pages: $(STAMP)
	$(NB_ENV) $(BIN)/python scripts/build_labs.py --no-run-tests

book: lab-pages
	$(BIN)/jupyter-book build .
	@echo
	@echo "Book built. Open $(CURDIR)/_build/html/index.html in a browser."

test: lab-pages
	$(BIN)/ruff check .
	$(NB_ENV) $(BIN)/python -m pytest tests
	$(NB_ENV) $(BIN)/python -m pytest -p no:cacheprovider --doctest-modules emlib
	$(BIN)/python scripts/check_notebooks.py book
	$(NB_KERNEL_ENV) $(BIN)/python scripts/replay_notebooks.py --kernels $(KERNELS) $(NOTEBOOKS)
	rm -rf _build/html _build/.doctrees _build/jupyter_execute
	$(BIN)/jupyter-book build . -W -n --keep-going
	@# A formula that Markdown broke apart (a line of inline math read as a list item) builds
	@# without a warning but shows raw TeX: look for TeX outside math in the pages.
	$(BIN)/python scripts/check_html.py _build/html
	@# Math must typeset with no network: MathJax is served from _static, never a CDN.
	@grep -q '_static/mathjax/tex-chtml.js' _build/html/book/intro.html \
		|| { echo "MathJax is not served locally (sphinx-mathjax-offline missing?)"; exit 1; }
	@! grep -rlE --include='*.html' '<script[^>]+src="https?://[^"]*mathjax' _build/html \
		|| { echo "pages above load MathJax from the network"; exit 1; }
	@# What only a browser shows: menus on a phone, pages no wider than the screen, captions,
	@# folded solution code, no console error, no request off the site. Needs Chromium.
	$(BIN)/python scripts/browser_check.py _build/html --screenshots _build/browser-check
	@# What a launch button or a lab's download gives a reader: the wheel, installed outside
	@# the checkout, runs a chapter and a lab (scripts/check_install.sh).
	PYTHON=$(BIN)/python bash scripts/check_install.sh

execute: $(STAMP)
	@if [ -z "$(strip $(NB))" ]; then echo "No notebooks to execute."; exit 0; fi; \
	$(NB_KERNEL_ENV) $(BIN)/jupyter nbconvert --to notebook --execute --inplace \
		--ExecutePreprocessor.record_timing=False \
		--ExecutePreprocessor.timeout=600 \
		--ExecutePreprocessor.kernel_name=python3 \
		$(NB)

replay: $(STAMP)
	$(NB_KERNEL_ENV) $(BIN)/python scripts/replay_notebooks.py --kernels $(KERNELS) $(NB)

# JupyterLab is a tool for authors and readers, not a dependency of the package, so it
# is installed here only (constrained by the lock for everything the two share).
$(LAB_STAMP): $(STAMP)
	$(BIN)/python -m pip install --disable-pip-version-check --quiet \
		-c requirements/lock.txt jupyterlab
	touch $@

# Jupyter refuses to start as root unless told to; containers often run as root.
LAB_ARGS ?= $(if $(filter 0,$(shell id -u)),--allow-root)

lab: $(LAB_STAMP)
	$(NB_ENV) $(BIN)/jupyter lab $(LAB_ARGS) book/

# otter assign turns each master notebook labs/<lab>.ipynb into a student notebook and an
# autograder (and grades the solutions, which must score 100%); the student notebook is
# also written to book/labs/, the page the book shows (scripts/build_labs.py).
labs: $(STAMP)
	$(NB_ENV) $(BIN)/python scripts/build_labs.py

student: lab-pages
	$(BIN)/python scripts/student_edition.py

clean:
	rm -rf _build
	find . -path ./$(VENV) -prune -o -name .ipynb_checkpoints -type d -prune \
		-exec rm -rf {} +

distclean: clean
	rm -rf $(VENV)
