"""SandboxManager.check_constraints: paths as the kernel reads them, every argument that holds a path,
URL, host, environment variable name or timeout, and the original's API."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from agent_security.containment import SandboxManager, SandboxProfile
from agent_security.containment.arguments import MAX_DEPTH, MAX_VALUES


@pytest.fixture
def tree(tmp_path: Path) -> dict[str, Path]:
    data = tmp_path / "data"
    (data / "secrets").mkdir(parents=True)
    (data / "report.csv").write_text("x")
    out = tmp_path / "out"
    out.mkdir()
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "key").write_text("k")
    (data / "escape").symlink_to(outside)  # a link inside the data dir that leads out of it
    (tmp_path / "datafoo").mkdir()
    return {"root": tmp_path, "data": data, "out": out, "outside": outside}


@pytest.fixture
def manager(tree: dict[str, Path]) -> SandboxManager:
    m = SandboxManager(home=str(tree["root"]))
    m.register_sandbox(
        "read_file", {"read_paths": [str(tree["data"])], "denied_paths": [str(tree["data"] / "secrets")]}
    )
    m.register_sandbox("write_file", {"read_paths": [str(tree["data"])], "write_paths": [str(tree["out"])]})
    m.register_sandbox("copy_file", {"read_paths": [str(tree["data"])], "write_paths": [str(tree["out"])]})
    m.register_sandbox("mcp__fs__*", {"allowed_paths": [str(tree["data"])]})
    m.register_sandbox(
        "fetch",
        {
            "network_enabled": True,
            "allowed_hosts": ["api.example.com", "*.example.org"],
            "allowed_ports": [443, 8443],
            "allowed_schemes": ["https"],
        },
    )
    m.register_sandbox("lan", {"network_enabled": True, "allowed_networks": ["10.0.0.0/8"]})
    m.register_sandbox("env_tool", {"allowed_env_vars": ["HOME", "APP_*"], "timeout_s": 10})
    return m


def codes(manager: SandboxManager, tool: str, args: dict[str, Any]) -> list[str]:
    return [v.code for v in manager.check_constraints(tool, args).details]


def test_paths_inside_pass(manager: SandboxManager, tree: dict[str, Path]) -> None:
    result = manager.check_constraints("read_file", {"path": str(tree["data"] / "report.csv")})
    assert result.allowed and result.violations == () and result.profile == "read_file"


@pytest.mark.parametrize(
    "raw",
    [
        "{data}/../outside/key",
        "{data}/./../outside/key",
        "{data}/escape/key",  # symlink out of the allowed dir
        "{root}/datafoo/x",  # prefix trick: /…/datafoo is not inside /…/data
        "/proc/self/root{outside}/key",
        "/etc/passwd",
        "~/outside/key",
    ],
)
def test_path_tricks_are_read_as_the_kernel_reads_them(
    manager: SandboxManager, tree: dict[str, Path], raw: str
) -> None:
    path = raw.format(data=tree["data"], root=tree["root"], outside=tree["outside"])
    assert codes(manager, "read_file", {"path": path}) == ["PATH_NOT_ALLOWED"]


def test_relative_paths_against_the_given_working_directory(manager: SandboxManager, tree: dict[str, Path]) -> None:
    assert codes(manager, "read_file", {"cwd": str(tree["data"]), "path": "report.csv"}) == []
    assert codes(manager, "read_file", {"cwd": str(tree["data"]), "path": "../outside/key"}) == ["PATH_NOT_ALLOWED"]
    # without a working directory a relative path is read against / (never this process's own directory)
    assert codes(manager, "read_file", {"path": "report.csv"}) == ["PATH_NOT_ALLOWED"]


def test_denied_paths_win_and_descriptors_are_refused(manager: SandboxManager, tree: dict[str, Path]) -> None:
    assert codes(manager, "read_file", {"path": str(tree["data"] / "secrets" / "k")}) == ["PATH_DENIED"]
    for fd_path in ("/dev/fd/3", "/proc/self/fd/3", "/dev/stdin", "/proc/1234/fd/0"):
        assert codes(manager, "read_file", {"path": fd_path}) == ["PATH_VIA_FD"], fd_path
    assert codes(manager, "read_file", {"path": "/x\x00y"}) == ["PATH_INVALID"]


def test_every_argument_that_holds_a_path_is_checked(manager: SandboxManager, tree: dict[str, Path]) -> None:
    inside = str(tree["data"] / "report.csv")
    for args in (
        {"file": "/etc/shadow"},
        {"filePath": "/etc/shadow"},
        {"output_dir": "/etc"},
        {"options": {"include": ["/etc/shadow"]}},  # any key: a value shaped like a path
        {"files": [inside, {"name": "/root/.ssh/id_rsa"}]},
        {"argv": ["cat", "../../etc/shadow"]},
        {"target": "/etc/cron.d/x"},
        {"url": "file:///etc/shadow"},
        {"attachment": "file:/etc/shadow"},
    ):
        assert codes(manager, "read_file", args) == ["PATH_NOT_ALLOWED"], args
    # free text is not a path; a key that holds something else is not read as one
    assert codes(manager, "read_file", {"path": inside, "content": "/etc/shadow is secret\nreally"}) == []
    assert codes(manager, "read_file", {"path": inside, "message": "/etc/shadow"}) == []
    assert codes(manager, "read_file", {"path": inside, "target": "production", "location": "Paris"}) == []
    assert codes(manager, "read_file", {"path": inside, "email_address": "a@b.example", "address": "1 Main St"}) == []


def test_read_versus_write(manager: SandboxManager, tree: dict[str, Path]) -> None:
    report, out = str(tree["data"] / "report.csv"), str(tree["out"] / "r.csv")
    assert codes(manager, "write_file", {"path": out, "content": "x"}) == []
    assert codes(manager, "write_file", {"path": report, "content": "x"}) == ["PATH_NOT_ALLOWED"]
    assert codes(manager, "copy_file", {"source": report, "destination": out}) == []
    assert codes(manager, "copy_file", {"source": out, "destination": report}) == ["PATH_NOT_ALLOWED"]
    message = manager.check_constraints("write_file", {"path": report}).violations[0]
    assert "not in writable paths" in message


def test_tool_names_and_patterns(manager: SandboxManager, tree: dict[str, Path]) -> None:
    assert codes(manager, "READ_FILE", {"path": "/etc/passwd"}) == ["PATH_NOT_ALLOWED"]
    assert codes(manager, "Read_File ", {"path": "/etc/passwd"}) == ["PATH_NOT_ALLOWED"]
    assert codes(manager, "mcp__fs__read_text", {"path": "/etc/passwd"}) == ["PATH_NOT_ALLOWED"]
    assert manager.check_constraints("unprofiled", {"path": "/etc/passwd"}).allowed
    strict = SandboxManager(require_profile=True)
    assert [v.code for v in strict.check_constraints("unprofiled", {}).details] == ["NO_PROFILE"]
    strict.register_sandbox("*", {"read_paths": [str(tree["data"])]})
    assert strict.check_constraints("anything", {"path": "/etc"}).profile == "*"
    assert not strict.check_constraints("anything", {"path": "/etc"}).allowed


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ({"url": "https://api.example.com/v1"}, []),
        ({"url": "https://a.b.example.org:8443/"}, []),
        ({"url": "https://example.org/"}, ["HOST_NOT_ALLOWED"]),  # *.example.org is sub-domains only
        ({"url": "https://api.example.com.evil.net/"}, ["HOST_NOT_ALLOWED"]),
        ({"url": "https://api.example.com@evil.net/"}, ["HOST_NOT_ALLOWED"]),
        ({"url": "http://api.example.com/"}, ["URL_SCHEME_NOT_ALLOWED"]),
        ({"url": "https://api.example.com:22/"}, ["PORT_NOT_ALLOWED"]),
        ({"url": "https://2852039166/"}, ["ADDRESS_NOT_ALLOWED"]),
        ({"url": "https://[::ffff:7f00:1]/"}, ["ADDRESS_NOT_ALLOWED"]),
        ({"url": "https://localhost/"}, ["ADDRESS_NOT_ALLOWED"]),
        ({"url": "https://metadata.google.internal/"}, ["ADDRESS_NOT_ALLOWED"]),
        ({"endpoint": "api.example.com/v1"}, ["URL_SCHEME_NOT_ALLOWED"]),  # scheme-less: http
        ({"host": "10.0.0.7"}, ["ADDRESS_NOT_ALLOWED"]),
        ({"server": "127.0.0.1:443"}, ["ADDRESS_NOT_ALLOWED"]),
        ({"webhook": "https://exa mple.com"}, ["URL_INVALID"]),
        ({"message": "https://127.0.0.1 is down"}, []),  # free text, not one URL: egress reads it
        ({"payload": {"links": ["https://0x7f.1/"]}}, ["ADDRESS_NOT_ALLOWED"]),
        ({"url": "https://example.com\\@api.example.com/"}, ["URL_INVALID"]),
        ({"url": "https://256.0.0.1/"}, ["URL_INVALID"]),
    ],
)
def test_urls_and_hosts(manager: SandboxManager, args: dict[str, Any], expected: list[str]) -> None:
    assert codes(manager, "fetch", args) == expected


def test_allowed_networks_and_disabled_network(manager: SandboxManager) -> None:
    assert codes(manager, "lan", {"host": "10.1.2.3"}) == []
    assert codes(manager, "lan", {"url": "http://012.1.2.3/"}) == []  # 10.1.2.3 in octal
    assert codes(manager, "lan", {"url": "http://192.168.1.1/"}) == ["ADDRESS_NOT_ALLOWED"]
    assert codes(manager, "lan", {"url": "http://example.com/"}) == []
    result = manager.check_constraints("read_file", {"url": "https://example.com"})
    assert result.violations == ("Network access is disabled in sandbox (args.url)",)


def test_environment_variables_and_timeouts(manager: SandboxManager) -> None:
    assert codes(manager, "env_tool", {"env_var": "HOME"}) == []
    assert codes(manager, "env_tool", {"env_var": "APP_MODE"}) == []
    assert codes(manager, "env_tool", {"env_var": "AWS_SECRET_ACCESS_KEY"}) == ["ENV_NOT_ALLOWED"]
    assert codes(manager, "env_tool", {"env": {"HOME": "/x", "LD_PRELOAD": "/tmp/x.so"}}) == ["ENV_NOT_ALLOWED"]
    assert codes(manager, "env_tool", {"environment_variables": ["APP_X=1", "PATH=/tmp"]}) == ["ENV_NOT_ALLOWED"]
    message = manager.check_constraints("env_tool", {"env_var": "SECRET"}).violations[0]
    assert message == 'Environment variable "SECRET" not in allowed list'
    assert codes(manager, "env_tool", {"timeout": 5}) == []
    assert codes(manager, "env_tool", {"timeout": 60}) == ["TIMEOUT_NOT_ALLOWED"]
    assert codes(manager, "env_tool", {"timeoutMs": 20_000}) == ["TIMEOUT_NOT_ALLOWED"]
    assert codes(manager, "env_tool", {"options": {"timeout_seconds": "11"}}) == ["TIMEOUT_NOT_ALLOWED"]
    assert codes(manager, "env_tool", {"timeout": -1}) == ["TIMEOUT_NOT_ALLOWED"]


def test_arguments_beyond_the_walk_are_a_violation(manager: SandboxManager) -> None:
    deep: dict[str, Any] = {}
    node = deep
    for _ in range(MAX_DEPTH + 2):
        node["n"] = {}
        node = node["n"]
    assert codes(manager, "read_file", deep) == ["ARGS_UNCHECKABLE"]
    assert codes(manager, "read_file", {"items": list(range(MAX_VALUES + 1))}) == ["ARGS_UNCHECKABLE"]
    assert codes(manager, "read_file", {"items": list(range(MAX_VALUES - 10))}) == []


def test_original_api_and_profile_fields(tree: dict[str, Path]) -> None:
    m = SandboxManager()
    profile = m.register_sandbox("t", {"type": "process", "allowed_paths": ["/srv"], "timeout_ms": 5000})
    assert profile.timeout_s == 5.0 and m.get_sandbox("t") == profile and list(m.list()) == ["t"]
    m.register_sandbox("off", {"type": "none", "allowed_paths": ["/srv"]})
    assert m.check_constraints("off", {"path": "/etc/passwd"}).allowed  # type "none": unchecked, as the original
    assert m.unregister_sandbox("t") and m.get_sandbox("t") is None
    with pytest.raises(ValidationError):
        SandboxProfile.model_validate({"allowed_paths": ["relative/dir"]})
    with pytest.raises(ValidationError):
        SandboxProfile.model_validate({"allowed_hosts": ["bad host"]})
    with pytest.raises(ValidationError):
        SandboxProfile.model_validate({"allowed_networks": ["10.0.0.0/33"]})
    with pytest.raises(ValidationError):
        SandboxProfile.model_validate({"unknown": 1})


def test_a_root_given_through_a_symlink(tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir()
    link = tmp_path / "link"
    link.symlink_to(real)
    m = SandboxManager()
    m.register_sandbox("t", {"read_paths": [str(link)]})
    assert m.check_constraints("t", {"path": str(real / "f")}).allowed
    assert m.check_constraints("t", {"path": str(link / "f")}).allowed
    assert not m.check_constraints("t", {"path": os.fspath(tmp_path / "other")}).allowed
