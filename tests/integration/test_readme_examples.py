"""Every example in the READMEs and in examples/ runs as shown and decides what the text says it decides.

The READMEs follow three conventions that this test reads:

* a ``yaml`` or ``json`` block whose first line is a comment naming a file (``# policy.yaml``) is that
  file: it is written to the example's working directory before the code blocks run;
* a ``python`` block is run as a script in that directory, in a fresh process; when the next block is a
  ``text`` block, that is what the script prints, exactly;
* a ``bash`` line running ``agent-security`` and ending in ``# exit N: CODE`` exits with N, and the
  decision it prints has CODE as its first reason.

A ``toml`` block in a package README is a config example: ``AgentSecurity(config=...)`` must accept it
and configure the plugin it documents.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from agent_security.core import AgentSecurity
from agent_security.core.policy import PolicyEngine, load_policy

ROOT = Path(__file__).resolve().parents[2]
READMES = [ROOT / "README.md", *sorted(ROOT.glob("packages/*/README.md")), ROOT / "docs" / "getting-started.md"]
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.MULTILINE | re.DOTALL)
FILE_COMMENT = re.compile(r"(?:#|//)\s*([\w.-]+\.(?:yaml|yml|json))\s*$")
EXIT_COMMENT = re.compile(r"^(?P<command>.*\S)\s+#\s*exit (?P<code>\d+): (?P<reason>[A-Z_]+)\s*$")


@dataclass(frozen=True)
class Block:
    lang: str
    body: str


def blocks(readme: Path) -> list[Block]:
    return [Block(m.group(1), m.group(2)) for m in FENCE.finditer(readme.read_text())]


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AGENT_SECURITY_")}
    bin_dir = str(Path(sys.executable).parent)
    env.update(
        {
            "AGENT_SECURITY_NO_CONFIG": "1",
            "XDG_CONFIG_HOME": str(tmp_path / "config"),
            "XDG_STATE_HOME": str(tmp_path / "state"),
            "XDG_DATA_HOME": str(tmp_path / "data"),
            "HOME": str(tmp_path),
            "PATH": f"{bin_dir}{os.pathsep}{env.get('PATH', '')}",
            **extra,
        }
    )
    return env


def write_files(readme_blocks: list[Block], where: Path) -> list[Path]:
    written = []
    for block in readme_blocks:
        first = block.body.splitlines()[0] if block.body else ""
        named = FILE_COMMENT.fullmatch(first.strip())
        if block.lang in ("yaml", "json") and named:
            path = where / named.group(1)
            path.write_text(block.body if block.lang == "yaml" else "\n".join(block.body.splitlines()[1:]))
            written.append(path)
    return written


def _readme_id(readme: Path) -> str:
    return str(readme.relative_to(ROOT))


def test_the_conventions_find_the_main_readme_s_examples() -> None:
    main = blocks(ROOT / "README.md")
    langs = [b.lang for b in main]
    assert "python" in langs and "text" in langs[langs.index("python") :]
    assert any(FILE_COMMENT.fullmatch(b.body.splitlines()[0]) for b in main if b.lang == "yaml")
    assert sum(bool(EXIT_COMMENT.match(line)) for b in main if b.lang == "bash" for line in b.body.splitlines()) >= 3


@pytest.mark.parametrize("readme", READMES, ids=_readme_id)
def test_policy_files_load_and_stay_valid_for_decades(readme: Path, tmp_path: Path) -> None:
    for path in write_files(blocks(readme), tmp_path):
        bundle = load_policy(path)
        assert bundle.expires_at_dt.year >= 2090, f"{path.name} in {_readme_id(readme)} expires soon"
        PolicyEngine(bundle)


@pytest.mark.parametrize("autoload", [True, False], ids=["every-plugin", "core-alone"])
@pytest.mark.parametrize("readme", READMES, ids=_readme_id)
def test_python_examples_run_and_print_what_the_readme_shows(readme: Path, autoload: bool, tmp_path: Path) -> None:
    readme_blocks = blocks(readme)
    write_files(readme_blocks, tmp_path)
    env = _env(tmp_path, **({} if autoload else {"AGENT_SECURITY_DISABLE_PLUGIN_AUTOLOAD": "1"}))
    for i, block in enumerate(readme_blocks):
        if block.lang != "python":
            continue
        script = tmp_path / f"example_{i}.py"
        script.write_text(block.body)
        proc = subprocess.run(
            [sys.executable, str(script)], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120
        )
        assert proc.returncode == 0, f"{_readme_id(readme)} block {i}:\n{proc.stdout}\n{proc.stderr}"
        following = readme_blocks[i + 1] if i + 1 < len(readme_blocks) else None
        if following is not None and following.lang == "text":
            assert proc.stdout == following.body, f"{_readme_id(readme)} block {i} printed:\n{proc.stdout}"


@pytest.mark.parametrize("readme", READMES, ids=_readme_id)
def test_shell_examples_exit_with_the_code_the_readme_states(readme: Path, tmp_path: Path) -> None:
    readme_blocks = blocks(readme)
    write_files(readme_blocks, tmp_path)
    for block in readme_blocks:
        if block.lang != "bash":
            continue
        for line in block.body.splitlines():
            stated = EXIT_COMMENT.match(line)
            if stated is None or "agent-security" not in line:
                continue
            proc = subprocess.run(
                ["bash", "-c", stated["command"]],
                capture_output=True,
                text=True,
                env=_env(tmp_path),
                cwd=tmp_path,
                timeout=120,
            )
            assert proc.returncode == int(stated["code"]), f"{line}\n{proc.stdout}\n{proc.stderr}"
            assert json.loads(proc.stdout)["reasons"][0]["code"] == stated["reason"], line


def _files_a_config_refers_to(data: dict[str, Any], where: Path) -> None:
    """What the user makes before using such a config: a signed MCP lock (``agent-security mcp pin``)."""
    section = data.get("supply_chain") or {}
    if section.get("lock_file"):
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        from agent_security.supply_chain.pinning import McpLock

        key = Ed25519PrivateKey.generate()
        McpLock().save(where / section["lock_file"], private_key=key)
        if section.get("lock_public_key"):
            (where / section["lock_public_key"]).write_bytes(
                key.public_key().public_bytes(
                    serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
                )
            )


@pytest.mark.parametrize("readme", READMES, ids=_readme_id)
def test_config_examples_configure_their_plugin(readme: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    for block in blocks(readme):
        if block.lang != "toml":
            continue
        data = tomllib.loads(block.body)
        _files_a_config_refers_to(data, tmp_path)
        security = AgentSecurity(config=data)
        for section in data:
            assert security.settings.section(section) is not None, f"[{section}] in {_readme_id(readme)}"
        security.shutdown()


def test_examples_quickstart_runs(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "quickstart.py")],
        capture_output=True,
        text=True,
        env=_env(tmp_path),
        cwd=tmp_path,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert "bulk export: DENY ('DENY_BULK_EXPORT',)" in lines
    assert "payment: ALLOW ('REQUIRE_APPROVAL_PAYMENT_PROD', 'APPROVED')" in lines
    assert "send_email: sent to all@company.example" in lines
    assert "after kill: ('AGENT_KILL_SWITCH',)" in lines


def test_example_policy_cases_pass(tmp_path: Path) -> None:
    cases = ROOT / "examples" / "policies" / "default-policy.cases.yaml"
    for policy in ("default-policy.yaml", "default-policy.json"):
        proc = subprocess.run(
            ["agent-security", "policy", "test", str(cases), "--policy", str(cases.parent / policy)],
            capture_output=True,
            text=True,
            env=_env(tmp_path),
            cwd=tmp_path,
            timeout=120,
        )
        assert proc.returncode == 0, proc.stdout + proc.stderr
    for policy in sorted((ROOT / "examples" / "policies").glob("default-policy.*")):
        if ".cases." not in policy.name:
            assert load_policy(policy).expires_at_dt.year >= 2090
