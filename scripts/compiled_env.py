"""Build the compiled agent-security-core wheel and a virtual environment that runs it.

``python scripts/compiled_env.py`` (``make compiled-env``) builds the core wheel with its Cython hook on
(``packages/agent-security-core/hatch_build.py``; a compiler error fails the build), then creates
``.compiled/venv`` with that wheel, the seven other distributions (regular, not editable, installs) and
the dev dependencies at the versions in ``uv.lock``. ``make test-compiled`` runs the whole test suite in
it and ``benchmarks/bench_pipeline.py`` measures the compiled pipeline there.

The wheel is rebuilt, and the environment recreated, only when a source file of the core changed
(``.compiled/stamp`` holds their hash). Prints the environment's Python executable.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORE = ROOT / "packages" / "agent-security-core"
OUT = ROOT / ".compiled"
VENV = OUT / "venv"
WHEELS = OUT / "wheels"
STAMP = OUT / "stamp"
UV: list[str] = []


def uv_command() -> list[str]:
    """uv as a module of this interpreter, else the one on PATH (``make`` installs it with pip)."""
    probe = subprocess.run([sys.executable, "-m", "uv", "--version"], capture_output=True, check=False)
    if probe.returncode == 0:
        return [sys.executable, "-m", "uv"]
    found = shutil.which("uv")
    if found is None:
        sys.exit("compiled-env: uv not found (make uv installs it)")
    return [found]


def uv(*args: str, env: dict[str, str] | None = None, capture: bool = False) -> str:
    result = subprocess.run([*UV, *args], cwd=ROOT, env=env, check=True, text=True,
                            stdout=subprocess.PIPE if capture else subprocess.DEVNULL)
    return result.stdout if capture else ""


def source_hash() -> str:
    digest = hashlib.sha256()
    for path in sorted([*CORE.rglob("*.py"), *CORE.rglob("*.pyx"), CORE / "pyproject.toml", ROOT / "uv.lock"]):
        if "__pycache__" in path.parts:
            continue
        digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes() + b"\0")
    digest.update(sys.version.encode())
    return digest.hexdigest()


def python_in(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def main() -> None:
    global UV
    UV = uv_command()
    stamp = source_hash()
    python = python_in(VENV)
    if python.exists() and STAMP.exists() and STAMP.read_text() == stamp:
        print(python)
        return
    shutil.rmtree(OUT, ignore_errors=True)
    WHEELS.mkdir(parents=True)
    env = {**os.environ, "HATCH_BUILD_HOOK_ENABLE_CUSTOM": "true", "AGENT_SECURITY_COMPILE_STRICT": "1"}
    uv("build", "--wheel", "--no-sources", "--quiet", "--python", sys.executable, "-o", str(WHEELS), str(CORE),
       env=env)
    wheel = next(WHEELS.glob("agent_security_core-*.whl"))
    if wheel.name.endswith("-none-any.whl"):
        sys.exit(f"compiled-env: {wheel.name} is not a compiled wheel")
    # Third-party packages (runtime and dev) pinned by the lock; the workspace members come next.
    requirements = OUT / "requirements.txt"
    requirements.write_text(uv("export", "--frozen", "--all-packages", "--group", "dev", "--all-extras",
                               "--no-emit-workspace", "--no-hashes", "--quiet", capture=True))
    uv("venv", "--quiet", "--python", sys.executable, str(VENV))
    target = ["--python", str(python)]
    uv("pip", "install", "--quiet", *target, "-r", str(requirements))
    members = [str(p) for p in sorted((ROOT / "packages").iterdir()) if p.name != CORE.name]
    uv("pip", "install", "--quiet", "--no-deps", *target, str(wheel), *members)
    STAMP.write_text(stamp)
    print(python)


if __name__ == "__main__":
    main()
