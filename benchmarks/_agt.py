"""Run the shared pipeline workload through Microsoft's Agent Governance Toolkit, in its own venv.

Usage (from ``benchmarks/bench_pipeline.py``, same process that measures ours)::

    from _agt import run_agt          # benchmarks/ is sys.path[0] when a bench script runs
    agt = run_agt(n=20_000)           # dict (see agt_workload.py) or None when AGT is unavailable
    if agt is not None:
        ratio = ours_p50_us / agt["p50_us"]

``run_agt`` creates (once) the virtual environment ``.bench-venvs/agt`` at the repository root (git-
ignored) with the same Python interpreter that runs the caller, installs the pinned
``agent-governance-toolkit-core`` into it with uv, or with the standard library's ``venv`` and pip when
uv is missing or fails (a CI image with nothing but Python and pip), dumps ``_workload.WORKLOAD``
to a temporary JSON file and runs ``agt_workload.py`` with the venv's interpreter in isolated mode
(``-I``: nothing of this workspace, ``agent_security`` included, is importable there). It never raises:
on any failure (no network, no uv, a crash in the AGT run) it prints why and returns ``None``.

``python benchmarks/_agt.py [N]`` runs it standalone and prints the result.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from types import ModuleType
from typing import Any

AGT_DIST = "agent-governance-toolkit-core"
AGT_VERSION = "5.0.0"

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
VENV_DIR = REPO_ROOT / ".bench-venvs" / "agt"
SCRIPT = BENCH_DIR / "agt_workload.py"

INSTALL_TIMEOUT_S = 900
RUN_TIMEOUT_S = 900


def _say(msg: str) -> None:
    print(f"[agt] {msg}", file=sys.stderr, flush=True)


def _venv_python(venv: Path) -> Path:
    if os.name == "nt":
        return venv / "Scripts" / "python.exe"
    return venv / "bin" / "python"


def _run(cmd: list[str], timeout: float) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in {"VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME"}}
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env, check=False)


def _uv_commands() -> list[list[str]]:
    """Ways to call uv, best first: the caller's interpreter, a uv on PATH, python3 -m uv."""
    candidates: list[list[str]] = [[sys.executable, "-m", "uv"]]
    uv = shutil.which("uv")
    if uv:
        candidates.append([uv])
    py3 = shutil.which("python3")
    if py3 and Path(py3).resolve() != Path(sys.executable).resolve():
        candidates.append([py3, "-m", "uv"])
    working = []
    for cmd in candidates:
        try:
            if _run([*cmd, "--version"], 60).returncode == 0:
                working.append(cmd)
        except (OSError, subprocess.SubprocessError):
            continue
    return working


def _installed_version(python: Path) -> str | None:
    if not python.exists():
        return None
    probe = f"import importlib.metadata as m; print(m.version({AGT_DIST!r}))"
    try:
        proc = _run([str(python), "-I", "-c", probe], 120)
    except (OSError, subprocess.SubprocessError):
        return None
    return proc.stdout.strip() if proc.returncode == 0 else None


def _tail(text: str, lines: int = 15) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def ensure_venv(venv: Path = VENV_DIR) -> Path | None:
    """Return the interpreter of a venv holding ``agent-governance-toolkit-core==AGT_VERSION``, creating
    or repairing the venv when needed; ``None`` (with an explanation on stderr) when that fails."""
    python = _venv_python(venv)
    if _installed_version(python) == AGT_VERSION:
        return python
    requirement = f"{AGT_DIST}=={AGT_VERSION}"
    _say(f"installing {requirement} into {venv} (one-off) ...")
    venv.parent.mkdir(parents=True, exist_ok=True)
    errors: list[str] = []
    for uv in _uv_commands():
        try:
            made = _run(
                [*uv, "venv", "--quiet", "--allow-existing", "--python", sys.executable, str(venv)], INSTALL_TIMEOUT_S
            )
            if made.returncode != 0:
                errors.append(f"{' '.join(uv)} venv: {_tail(made.stderr)}")
                continue
            inst = _run([*uv, "pip", "install", "--quiet", "--python", str(python), requirement], INSTALL_TIMEOUT_S)
            if inst.returncode != 0:
                errors.append(f"{' '.join(uv)} pip install: {_tail(inst.stderr)}")
                continue
        except (OSError, subprocess.SubprocessError) as exc:
            errors.append(f"{' '.join(uv)}: {exc}")
            continue
        if _installed_version(python) == AGT_VERSION:
            return python
        errors.append(f"{' '.join(uv)}: installed, but {AGT_DIST} {AGT_VERSION} is not importable")
    # No uv, or uv failed: the standard library's venv and pip (all a bare CI image has).
    try:
        made = _run([sys.executable, "-m", "venv", "--clear", str(venv)], INSTALL_TIMEOUT_S)
        if made.returncode == 0:
            inst = _run(
                [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", requirement],
                INSTALL_TIMEOUT_S,
            )
            if inst.returncode == 0 and _installed_version(python) == AGT_VERSION:
                return python
            errors.append(f"pip install: {_tail(inst.stderr)}")
        else:
            errors.append(f"python -m venv: {_tail(made.stderr)}")
    except (OSError, subprocess.SubprocessError) as exc:
        errors.append(f"venv/pip: {exc}")
    _say(f"could not install {requirement}; skipping the AGT comparison.")
    for err in errors:
        _say(err)
    return None


def _workload_module() -> ModuleType:
    """The ``_workload`` module the caller already imported (so both sides dump the very same object),
    else ``benchmarks/_workload.py`` loaded by path."""
    loaded = sys.modules.get("_workload")
    origin = getattr(loaded, "__file__", None)
    if loaded is not None and origin and Path(origin).resolve() == BENCH_DIR / "_workload.py":
        return loaded
    spec = importlib.util.spec_from_file_location("_agt_shared_workload", BENCH_DIR / "_workload.py")
    if spec is None or spec.loader is None:
        raise ImportError("benchmarks/_workload.py not found")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_agt(n: int = 20_000, warmup: int | None = None) -> dict[str, Any] | None:
    """Time ``n`` decisions of the shared workload through AGT; return ``agt_workload.py``'s JSON
    (``tool``, ``version``, ``p50_us``, ``p90_us``, ``p99_us``, ``mean_us``, ``n``, ``features``, ...)
    or ``None`` after printing why it could not be measured. Never raises (except KeyboardInterrupt)."""
    try:
        to_json = _workload_module().to_json
    except Exception as exc:
        _say(f"cannot load the shared workload: {exc!r}")
        return None
    try:
        python = ensure_venv()
        if python is None:
            return None
        with tempfile.TemporaryDirectory(prefix="agt-workload-") as tmp:
            workload = Path(tmp) / "workload.json"
            workload.write_text(to_json(), encoding="utf-8")
            cmd = [str(python), "-I", str(SCRIPT), "--workload", str(workload), "--n", str(int(n))]
            if warmup is not None:
                cmd += ["--warmup", str(int(warmup))]
            proc = _run(cmd, RUN_TIMEOUT_S)
        if proc.returncode != 0:
            _say(f"the AGT run failed (exit {proc.returncode}):\n{_tail(proc.stderr or proc.stdout, 25)}")
            return None
        lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
        if not lines:
            _say(f"the AGT run printed no JSON result:\n{_tail(proc.stdout + proc.stderr, 25)}")
            return None
        result: dict[str, Any] = json.loads(lines[-1])
        if not isinstance(result.get("p50_us"), int | float):
            _say(f"unexpected AGT result: {lines[-1][:500]}")
            return None
        return result
    except subprocess.TimeoutExpired as exc:
        _say(f"the AGT run timed out after {exc.timeout:.0f}s")
    except Exception as exc:
        _say(f"the AGT comparison failed: {exc!r}")
    return None


if __name__ == "__main__":
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    res = run_agt(count)
    print(json.dumps(res, indent=2))
    sys.exit(0 if res is not None else 1)
