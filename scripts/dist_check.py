"""Check the built distributions (run by ``make dist-check`` after ``make build``).

1. Eight wheels and eight sdists exist, one per distribution.
2. No wheel ships anything directly in ``agent_security/`` (a stray ``__init__.py`` there would turn the
   namespace into a regular package and break every other distribution's imports).
3. Every wheel ships ``agent_security/<leaf>/py.typed`` and only files under its own leaf.
4. Every non-core wheel, installed with only the core wheel into a fresh virtual environment, is
   discovered: ``AgentSecurity()`` loads its plugin from its entry point and the plugin contributes hooks;
   ``agent-security --version`` lists exactly those two distributions, and where supply-chain is not
   installed, ``agent-security mcp`` names it as the distribution to install.
"""

from __future__ import annotations

import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

LEAVES = {
    "agent_security_core": "core",
    "agent_security_identity": "identity",
    "agent_security_egress": "egress",
    "agent_security_supply_chain": "supply_chain",
    "agent_security_guardian": "guardian",
    "agent_security_posture": "posture",
    "agent_security_containment": "containment",
    "agent_security_adapters": "adapters",
}

PROBE = """
import sys
from agent_security.core import AgentSecurity
name = sys.argv[1]
security = AgentSecurity(config={})
loaded = {r.name: r for r in security.loaded_plugins}
assert name in loaded, f"plugin {name!r} not discovered: {sorted(loaded)}"
rec = loaded[name]
assert rec.status == "loaded", f"plugin {name!r} status {rec.status}: {rec.detail}"
callers = security.plugin_manager.get_hookcallers(rec.plugin) or []
assert callers, f"plugin {name!r} contributes no hook implementation"
print(f"ok {name}: {rec.distribution} {rec.version}, hooks: {sorted(c.name for c in callers)}")
"""


def fail(msg: str) -> None:
    print(f"dist-check: FAIL: {msg}")
    sys.exit(1)


def check_wheel(path: Path, leaf: str) -> None:
    with zipfile.ZipFile(path) as zf:
        names = zf.namelist()
    code = [n for n in names if not n.split("/")[0].endswith(".dist-info")]
    top = [n for n in code if n.startswith("agent_security/") and n.count("/") == 1]
    if top:
        fail(f"{path.name} ships files in the shared namespace folder: {top}")
    if f"agent_security/{leaf}/py.typed" not in names:
        fail(f"{path.name} lacks agent_security/{leaf}/py.typed")
    stray = [n for n in code if not n.startswith(f"agent_security/{leaf}/")]
    if stray:
        fail(f"{path.name} ships files outside agent_security/{leaf}/: {stray[:5]}")
    print(f"ok {path.name}: {len(code)} files under agent_security/{leaf}/")


def check_sdist(path: Path, leaf: str) -> None:
    with tarfile.open(path) as tf:
        names = tf.getnames()
    if any(n.endswith("/src/agent_security/__init__.py") for n in names):
        fail(f"{path.name} ships src/agent_security/__init__.py")
    if not any(n.endswith(f"/src/agent_security/{leaf}/py.typed") for n in names):
        fail(f"{path.name} lacks src/agent_security/{leaf}/py.typed")
    for required in ("README.md", "LICENSE", "CHANGELOG.md", "pyproject.toml"):
        if not any(n.endswith("/" + required) and n.count("/") == 1 for n in names):
            fail(f"{path.name} lacks {required}")
    print(f"ok {path.name}")


def check_cli(exe: Path, dist_name: str, env: dict[str, str], cwd: str) -> None:
    """``--version`` lists core and the one distribution installed next to it; a missing ``mcp`` command
    names the distribution that adds it."""
    dist = dist_name.replace("_", "-")
    proc = subprocess.run([str(exe), "--version"], capture_output=True, text=True, env=env, cwd=cwd)
    names = [line.split(" ")[0] for line in proc.stdout.splitlines()]
    if proc.returncode != 0 or names != ["agent-security-core", dist]:
        fail(f"agent-security --version next to {dist}: {proc.stdout}{proc.stderr}")
    if dist == "agent-security-supply-chain":
        return
    proc = subprocess.run([str(exe), "mcp", "scan"], capture_output=True, text=True, env=env, cwd=cwd)
    if proc.returncode != 2 or "pip install agent-security-supply-chain" not in proc.stderr:
        fail(f"agent-security mcp without supply-chain: exit {proc.returncode}: {proc.stderr}")


def main() -> None:
    dist = Path(sys.argv[1] if len(sys.argv) > 1 else "dist")
    wheels = {w.name.split("-")[0]: w for w in dist.glob("*.whl")}
    sdists = {s.name.rsplit("-", 1)[0].replace("-", "_"): s for s in dist.glob("*.tar.gz")}
    if set(wheels) != set(LEAVES):
        fail(f"expected wheels for {sorted(LEAVES)}, found {sorted(wheels)}")
    if set(sdists) != set(LEAVES):
        fail(f"expected sdists for {sorted(LEAVES)}, found {sorted(sdists)}")
    for dist_name, leaf in LEAVES.items():
        check_wheel(wheels[dist_name], leaf)
        check_sdist(sdists[dist_name], leaf)
    core = wheels["agent_security_core"]
    uv = [sys.executable, "-m", "uv"]
    for dist_name, leaf in LEAVES.items():
        if leaf == "core":
            continue
        with tempfile.TemporaryDirectory(prefix=f"dist-check-{leaf}-") as tmp:
            venv = Path(tmp) / "venv"
            subprocess.run([*uv, "venv", "--quiet", "--python", sys.executable, str(venv)], check=True)
            py = venv / "bin" / "python"
            subprocess.run(
                [*uv, "pip", "install", "--quiet", "--python", str(py), str(core), str(wheels[dist_name])], check=True
            )
            env = {"PATH": "/usr/bin:/bin", "AGENT_SECURITY_NO_CONFIG": "1", "HOME": tmp}
            proc = subprocess.run([str(py), "-I", "-c", PROBE, leaf], capture_output=True, text=True, env=env, cwd=tmp)
            if proc.returncode != 0:
                fail(f"{dist_name} next to core alone: {proc.stdout}{proc.stderr}")
            print(proc.stdout.strip())
            check_cli(venv / "bin" / "agent-security", dist_name, env, tmp)
    print("dist-check: all eight distributions OK")


if __name__ == "__main__":
    main()
