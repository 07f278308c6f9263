"""Replay the notebooks with nbval on this processor's arithmetic and on older processors'.

The stored outputs of the book must not depend on how a processor rounds. OpenBLAS picks
its kernels (matrix products, factorisations) for the processor it runs on, and NumPy
picks its SIMD loops (``exp``, ``log``, reductions) the same way; different kernels
round differently. A residual printed as ``2.7e-15`` on one machine is ``6.2e-15`` on
another, ``0.000000`` becomes ``-0.000000``, and an EM run that passes close to a tie
can end in another local optimum. A notebook that passes nbval on the machine that
stored its outputs can therefore fail on the next one.

This script replays the notebooks with nbval

1. with this machine's own kernels (a failure here means stale outputs), then
2. under other OpenBLAS kernel families that the processor can run, forced with
   ``OPENBLAS_CORETYPE``, each with NumPy's SIMD dispatch limited to what a processor of
   that family has (``NPY_DISABLE_CPU_FEATURES``), so that each replay does the
   arithmetic of an older machine.

Forcing a kernel the processor lacks would crash with an illegal instruction, so the
kernels are chosen from the processor's flags (``/proc/cpuinfo``, or NumPy's own
detection elsewhere), and only kernels whose family differs from the default one count.
Before each replay a fresh interpreter reports, through threadpoolctl, the kernel that
NumPy's and SciPy's OpenBLAS really run and which NumPy SIMD targets are off; a forced
setting that was silently ignored stops the script. A one-cell probe notebook replayed
with the chapters checks the same inside the Jupyter kernels that nbval starts.

The environment is inherited (``make test`` passes single-threaded BLAS and a fixed hash
seed). The kernel table below is for x86 processors only; on any other processor the
script replays with the default kernels and says so.

Usage::

    python scripts/replay_notebooks.py [--kernels auto|NAME[,NAME...]] [NOTEBOOK ...]

``auto`` (the default) picks two kernels. Exit status 0 when every replay passes.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import nbformat

REPO_ROOT = Path(__file__).resolve().parent.parent
PROBE_DIR = REPO_ROOT / "_build" / "replay"
SANITIZE = "tests/nbval_sanitize.cfg"
N_AUTO = 2

# Variables this script sets per replay; inherited values would blur the default run.
FORCING_VARIABLES = ("OPENBLAS_CORETYPE", "NPY_DISABLE_CPU_FEATURES")


@dataclass(frozen=True)
class Kernel:
    """An OpenBLAS kernel family that can be forced with ``OPENBLAS_CORETYPE``.

    ``reported`` lists the names OpenBLAS gives once forced (threadpoolctl's
    ``architecture``; builds without the oldest targets report Prescott as Katmai).
    ``cpu_flags`` are the ``/proc/cpuinfo`` flags its instructions need, and
    ``simd_level`` the newest NumPy SIMD group (see ``SIMD_LEVELS``) such a processor has.
    """

    name: str
    reported: frozenset
    cpu_flags: frozenset
    simd_level: int
    simd_description: str


# In order of preference: the first two that this processor can run and that differ from
# its default kernel are replayed. Haswell (AVX2) and Prescott (SSE3) are the families of
# most older machines and round differently from each other; the others stand in when
# the default is one of those two or the processor lacks AVX2.
KERNELS = (
    Kernel("Haswell", frozenset({"Haswell"}), frozenset({"avx2", "fma"}), 3, "up to AVX2"),
    Kernel("Prescott", frozenset({"Prescott", "Katmai"}), frozenset({"pni"}), 1,
           "baseline only"),
    Kernel("Sandybridge", frozenset({"Sandybridge"}), frozenset({"avx"}), 2, "up to AVX"),
    Kernel("SkylakeX", frozenset({"SkylakeX"}),
           frozenset({"avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"}), 4,
           "up to AVX-512 (Skylake)"),
    Kernel("Nehalem", frozenset({"Nehalem"}), frozenset({"ssse3", "sse4_1", "sse4_2"}), 1,
           "baseline only"),
)
KERNELS_BY_NAME = {kernel.name.lower(): kernel for kernel in KERNELS}

# Kernel names that OpenBLAS reports for its own choice, mapped to the family whose double-
# precision kernels they use, so that e.g. a Zen default is not "replayed" again as Haswell.
SAME_FAMILY = {"Zen": "Haswell", "Cooperlake": "SkylakeX", "SapphireRapids": "SkylakeX",
               "Katmai": "Prescott"}

# NumPy's dispatch targets by processor generation (names of NumPy 1.x and 2.x); a target
# not listed is newer than all of these and is switched off in every forced replay.
SIMD_LEVELS = {
    **dict.fromkeys(("SSE", "SSE2", "SSE3", "SSSE3", "SSE41", "POPCNT", "SSE42", "X86_V2"), 1),
    "AVX": 2,
    **dict.fromkeys(("F16C", "FMA3", "AVX2", "X86_V3"), 3),
    **dict.fromkeys(("AVX512F", "AVX512CD", "AVX512_SKX", "X86_V4"), 4),
}

# /proc/cpuinfo flag -> NumPy feature name, to read the flags from NumPy where there is no
# /proc/cpuinfo (macOS, Windows).
CPUINFO_FROM_NUMPY = {"pni": "SSE3", "avx": "AVX", "avx2": "AVX2", "fma": "FMA3",
                      "avx512f": "AVX512F", "avx512cd": "AVX512CD", "avx512bw": "AVX512BW",
                      "avx512dq": "AVX512DQ", "avx512vl": "AVX512VL"}

# Runs in a fresh interpreter (and, as the probe notebook, in a Jupyter kernel): which
# kernel each OpenBLAS runs, and NumPy's SIMD state.
REPORT_CODE = """\
import json, os
import numpy, scipy.linalg  # loading scipy.linalg loads SciPy's own OpenBLAS
from threadpoolctl import threadpool_info
try:
    from numpy._core import _multiarray_umath as simd
except ImportError:  # NumPy 1.x
    from numpy.core import _multiarray_umath as simd

def owner(path):
    parts = [part.lower() for part in path.replace(os.sep, "/").split("/")]
    for name in ("numpy", "scipy"):
        if any(part == name or part.startswith(name + ".") for part in parts):
            return {"numpy": "NumPy", "scipy": "SciPy"}[name]
    return "another library"

blas = sorted((owner(lib["filepath"]), lib.get("architecture") or "unknown")
              for lib in threadpool_info() if lib["internal_api"] == "openblas")
report = {"blas": blas, "simd_dispatch": list(simd.__cpu_dispatch__),
          "simd_on": sorted(k for k, v in simd.__cpu_features__.items() if v)}
"""
PROBE_PRINT = """\
on = [t for t in report["simd_dispatch"] if t in report["simd_on"]]
print("OpenBLAS kernels:",
      ", ".join(f"{who} {arch}" for who, arch in report["blas"]) or "none found")
print("NumPy SIMD dispatch targets on:", ", ".join(on) or "none (baseline only)")
"""

# Seconds each notebook took in the last `python benchmarks/bench.py book`, which rewrites
# the file. xdist hands whole notebooks to its workers in the order it is given them, and by
# default reorders them by their number of cells: chapter 8, short in cells and long in
# time, went last and left one worker idle for 8 s at the end. Longest first, the idle
# tail is at most the shortest notebooks' time. A stale or missing entry changes only the
# order.
SECONDS_FILE = REPO_ROOT / "tests" / "notebook_seconds.json"

# Plugins the notebooks do not use. hypothesis's plugin imports the whole library at the
# end of every session to write its summary: without it a replay of two one-cell notebooks on two
# workers took 2.1 to 2.8 s instead of 4.7 to 6.3 s.
QUIET_PLUGINS = ("-p", "no:cacheprovider", "-p", "no:hypothesispytest")

ADVICE = ("a stored output depends on how this processor rounds: print a bound or round "
          "(see 'Re-executing notebooks' in README.md)")


@dataclass
class Replay:
    """One nbval run: its label, the variables it sets, and what the check found."""

    label: str
    kernel: Kernel | None = None
    env: dict | None = None
    report: dict | None = None
    status: str = "not run"


def is_x86() -> bool:
    return platform.machine().lower() in {"x86_64", "amd64", "i386", "i686", "x86"}


def base_environment() -> dict:
    env = dict(os.environ)
    for name in FORCING_VARIABLES:
        env.pop(name, None)
    return env


def interpreter_report(env: dict) -> dict:
    """Run REPORT_CODE in a fresh interpreter with ``env``; raise with its error if it fails."""
    code = REPORT_CODE + "print(json.dumps(report))"
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                            text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(
            f"the kernel check crashed (exit status {result.returncode}); a forced kernel "
            f"may need instructions this processor lacks.\n{result.stderr.strip()}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def cpu_flags(default_report: dict) -> set[str]:
    """Flags of this processor, in /proc/cpuinfo's names."""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text(errors="replace").splitlines():
            if line.startswith("flags"):
                return set(line.partition(":")[2].split())
    on = set(default_report["simd_on"])
    return {flag for flag, feature in CPUINFO_FROM_NUMPY.items() if feature in on}


def family(architecture: str) -> str:
    return SAME_FAMILY.get(architecture, architecture)


def simd_to_disable(kernel: Kernel, default_report: dict) -> list[str]:
    """NumPy dispatch targets that a processor of ``kernel``'s family would not have."""
    on = set(default_report["simd_on"])
    return [target for target in default_report["simd_dispatch"]
            if target in on and SIMD_LEVELS.get(target, 99) > kernel.simd_level]


def choose_kernels(request: str, default_report: dict) -> list[Kernel]:
    flags = cpu_flags(default_report)
    default_families = {family(arch) for _, arch in default_report["blas"]}
    if request == "auto":
        usable = [k for k in KERNELS if k.cpu_flags <= flags and k.name not in default_families]
        return usable[:N_AUTO]
    chosen = []
    for name in filter(None, (part.strip() for part in request.split(","))):
        kernel = KERNELS_BY_NAME.get(name.lower())
        if kernel is None:
            known = ", ".join(k.name for k in KERNELS)
            raise SystemExit(f"replay: unknown kernel {name!r}; known kernels: {known}")
        missing = kernel.cpu_flags - flags
        if missing:
            raise SystemExit(
                f"replay: this processor cannot run the {kernel.name} kernels (it lacks "
                f"{', '.join(sorted(missing))}); forcing them would crash")
        chosen.append(kernel)
    return chosen


def check_forced(replay: Replay, disabled: list[str]) -> list[str]:
    """Problems with a forced replay: a kernel or SIMD setting that did not take."""
    report, kernel = replay.report, replay.kernel
    problems = []
    if not report["blas"]:
        problems.append("no OpenBLAS is loaded by NumPy or SciPy, so OPENBLAS_CORETYPE "
                        "cannot change their kernels")
    owners = {who for who, _ in report["blas"]}
    for who in ("NumPy", "SciPy"):
        if report["blas"] and who not in owners:
            problems.append(f"{who}'s OpenBLAS was not found, so its kernel is unchecked")
    for who, arch in report["blas"]:
        if arch not in kernel.reported:
            problems.append(
                f"OPENBLAS_CORETYPE={kernel.name} was ignored by {who}'s OpenBLAS, which "
                f"still runs its {arch} kernels (an OpenBLAS built without DYNAMIC_ARCH "
                f"cannot switch kernels)")
    still_on = sorted(set(disabled) & set(report["simd_on"]))
    if still_on:
        problems.append(f"NPY_DISABLE_CPU_FEATURES was ignored: NumPy still dispatches to "
                        f"{', '.join(still_on)}")
    return problems


def blas_line(report: dict) -> str:
    """E.g. ``NumPy Haswell, SciPy Haswell``: each OpenBLAS and the kernel it runs."""
    return ", ".join(f"{who} {arch}" for who, arch in report["blas"]) or "none found"


def simd_line(report: dict) -> str:
    """NumPy's SIMD dispatch targets that are switched on."""
    on = [t for t in report["simd_dispatch"] if t in report["simd_on"]]
    return ", ".join(on) or "none (baseline only)"


def write_probe(replay: Replay, index: int) -> Path:
    """A one-cell notebook whose stored output is what the checked interpreter reported."""
    PROBE_DIR.mkdir(parents=True, exist_ok=True)
    path = PROBE_DIR / f"probe-{index}.ipynb"
    lines = [f"OpenBLAS kernels: {blas_line(replay.report)}",
             f"NumPy SIMD dispatch targets on: {simd_line(replay.report)}"]
    cell = nbformat.v4.new_code_cell(
        REPORT_CODE + PROBE_PRINT, execution_count=1,
        outputs=[nbformat.v4.new_output("stream", name="stdout", text="\n".join(lines) + "\n")])
    notebook = nbformat.v4.new_notebook(cells=[cell])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                       "language": "python"}
    nbformat.write(notebook, path)
    return path


def longest_first(notebooks: list[str]) -> list[str]:
    """``notebooks`` (paths from the repository root) in decreasing order of their recorded
    replay time (:data:`SECONDS_FILE`); those without a record first, in the given order,
    since any of them may be the longest."""
    try:
        seconds = json.loads(SECONDS_FILE.read_text())
    except (OSError, ValueError):
        seconds = {}
    unknown = [nb for nb in notebooks if nb not in seconds]
    known = sorted((nb for nb in notebooks if nb in seconds), key=lambda nb: -seconds[nb])
    return unknown + known


def nbval_command(notebooks: list[str], workers: int) -> list[str]:
    """The pytest command that replays ``notebooks`` with nbval on ``workers`` workers, each
    taking whole notebooks, longest first."""
    return [sys.executable, "-m", "pytest", "--nbval", "--nbval-current-env",
            "--nbval-sanitize-with", SANITIZE, *QUIET_PLUGINS, "-n", str(workers),
            "--dist", "loadfile", "--no-loadscope-reorder", *longest_first(notebooks)]


def run_nbval(notebooks: list[str], probe: Path, env: dict, workers: int) -> list[tuple]:
    """Replay with nbval, echoing its output; return the failing (notebook, nbval cell)."""
    command = [*nbval_command(notebooks, workers), str(probe.relative_to(REPO_ROOT))]
    failing = re.compile(r"^(?:FAILED|ERROR) (?P<path>\S.*?\.ipynb)(?:::Cell (?P<cell>\d+))?")
    failures = []
    with subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, bufsize=1) as process:
        for line in process.stdout:
            print(line, end="", flush=True)
            match = failing.match(line)
            if match:
                cell = match.group("cell")
                failures.append((match.group("path"), None if cell is None else int(cell)))
    if process.returncode != 0 and not failures:
        failures.append(("(nbval itself)", None))
    return failures


def where(path: str, nbval_cell: int | None) -> str:
    """Name a failing cell by its index in the notebook as well as nbval's count."""
    if nbval_cell is None:
        return path
    try:
        cells = nbformat.read(REPO_ROOT / path, as_version=4).cells
        code = [i for i, cell in enumerate(cells) if cell.cell_type == "code"]
        return (f"{path}, cell {code[nbval_cell]} (nbval's 'Cell {nbval_cell}', which "
                "counts code cells only)")
    except (OSError, IndexError, ValueError):
        return f"{path}, nbval's 'Cell {nbval_cell}'"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", help="notebooks to replay (default: book/*.ipynb)")
    parser.add_argument("--kernels", default="auto",
                        help="'auto' (two kernels this processor can run, other than its "
                             "default), or a comma-separated list such as Sandybridge")
    parser.add_argument("--workers", type=int, default=2, help="pytest-xdist workers")
    args = parser.parse_args(argv)

    # nbval runs from the repository root, so name the notebooks from there.
    found = [Path(nb).resolve() for nb in args.notebooks] or sorted(
        (REPO_ROOT / "book").glob("*.ipynb"))
    notebooks = [str(p.relative_to(REPO_ROOT)) if p.is_relative_to(REPO_ROOT) else str(p)
                 for p in found]
    if not notebooks:
        print("replay: no notebooks in book/, nothing to compare")
        return 0

    base = base_environment()
    default = Replay("this machine's own kernels", env=base)
    try:
        default.report = interpreter_report(base)
    except RuntimeError as error:
        print(f"replay: {error}")
        return 1
    replays = [default]
    alone = ""
    if not is_x86():
        alone = (f"the forced-kernel replays are x86-only and this processor is "
                 f"{platform.machine()}, so nbval ran with its default kernels only")
    else:
        kernels = choose_kernels(args.kernels, default.report)
        if not kernels:
            alone = ("this processor can run no OpenBLAS kernel family other than its "
                     "default, so nbval ran with the default kernels only")
        elif args.kernels == "auto" and len(kernels) < N_AUTO:
            print(f"replay: this processor can run only {len(kernels)} kernel family other "
                  "than its default.")
        for kernel in kernels:
            disabled = simd_to_disable(kernel, default.report)
            env = {**base, "OPENBLAS_CORETYPE": kernel.name}
            if disabled:
                env["NPY_DISABLE_CPU_FEATURES"] = " ".join(disabled)
            replay = Replay(f"OPENBLAS_CORETYPE={kernel.name} and NumPy SIMD "
                            f"{kernel.simd_description}", kernel=kernel, env=env)
            try:
                replay.report = interpreter_report(env)
            except RuntimeError as error:
                print(f"replay: with OPENBLAS_CORETYPE={kernel.name}, {error}")
                return 1
            problems = check_forced(replay, disabled)
            if problems:
                print(f"replay: the {kernel.name} replay would not change the arithmetic:")
                for problem in problems:
                    print(f"  - {problem}")
                return 1
            replays.append(replay)

    if alone:
        print(f"replay: {alone}.")
    plan = "; ".join(r.label for r in replays)
    print(f"replay: {len(notebooks)} notebook(s) under {len(replays)} setting(s): {plan}",
          flush=True)
    messages = []
    for index, replay in enumerate(replays):
        print(f"\n=== nbval with {replay.label}\n    OpenBLAS kernels: "
              f"{blas_line(replay.report)}\n    NumPy SIMD dispatch targets on: "
              f"{simd_line(replay.report)}", flush=True)
        if replay.kernel is not None:
            renamed = {arch for _, arch in replay.report["blas"]} - {replay.kernel.name}
            if renamed:
                print(f"    ({', '.join(sorted(renamed))} is how this OpenBLAS build names "
                      f"the {replay.kernel.name} kernels)", flush=True)
        probe = write_probe(replay, index)
        failures = run_nbval(notebooks, probe, replay.env, args.workers)
        replay.status = "passed" if not failures else f"{len(failures)} failure(s)"
        probe_name = str(probe.relative_to(REPO_ROOT))
        for path, cell in failures:
            if cell is None and not path.endswith(".ipynb"):
                messages.append(f"{replay.label}: nbval failed without naming a cell (see "
                                "its output above)")
            elif path == probe_name:
                messages.append(f"{replay.label}: inside the Jupyter kernels nbval started, "
                                "OpenBLAS or NumPy did not run the checked kernels (see the "
                                "probe's diff above)")
            elif replay.kernel is None:
                messages.append(f"{where(path, cell)}: the stored output differs from a fresh "
                                "run on this machine; re-execute it (make execute NB=...) or "
                                "fix the cell")
            else:
                messages.append(f"{where(path, cell)}: reproduced with this machine's own "
                                f"kernels but not under {replay.label}: {ADVICE}")
        if failures and replay.kernel is None:
            print("\nreplay: the default replay failed, so the kernel replays were skipped.")
            break

    print("\nreplay summary:")
    for replay in replays:
        print(f"  {replay.status:<12} {replay.label}\n  {'':<12} (OpenBLAS kernels: "
              f"{blas_line(replay.report)}; NumPy SIMD targets on: "
              f"{simd_line(replay.report)})")
    if alone:
        print(f"  note: {alone}.")
    for message in messages:
        print(f"FAILED {message}")
    return 1 if messages else 0


if __name__ == "__main__":
    sys.exit(main())
