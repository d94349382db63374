"""Configuration: search order, formats, per-plugin sections, and errors that say where."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent_security.core import AgentSecurity, ConfigFileError, Decision
from agent_security.core.config import find_config_file, load_settings
from agent_security.core.errors import ConfigurationError
from agent_security.core.testing import StaticEngine


def _engine() -> StaticEngine:
    return StaticEngine(lambda r: Decision.allow("OK"))


def test_search_order_prefers_explicit_then_env_then_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AGENT_SECURITY_NO_CONFIG")
    cwd_file = tmp_path / "agent-security.toml"
    cwd_file.write_text("[core]\ndefault_environment = 'from-cwd'\n")
    env_file = tmp_path / "env.yaml"
    env_file.write_text("core:\n  default_environment: from-env\n")
    explicit = tmp_path / "explicit.toml"
    explicit.write_text("[core]\ndefault_environment = 'explicit'\n")
    assert find_config_file(cwd=tmp_path) is None  # the working directory is not searched by default
    monkeypatch.setenv("AGENT_SECURITY_CONFIG_SEARCH_CWD", "1")
    assert find_config_file(cwd=tmp_path) == cwd_file
    monkeypatch.setenv("AGENT_SECURITY_CONFIG", str(env_file))
    assert find_config_file(cwd=tmp_path) == env_file
    assert load_settings(cwd=tmp_path).core.default_environment == "from-env"
    assert find_config_file(explicit, cwd=tmp_path) == explicit


def test_xdg_config_home_is_searched_last(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AGENT_SECURITY_NO_CONFIG")
    xdg = tmp_path / "xdg"
    (xdg / "agent-security").mkdir(parents=True)
    (xdg / "agent-security" / "config.toml").write_text("[core]\nmode = 'observe'\n")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(xdg))
    empty = tmp_path / "work"
    empty.mkdir()
    assert load_settings(cwd=empty).core.mode == "observe"


def test_env_var_naming_a_missing_file_is_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGENT_SECURITY_CONFIG", str(tmp_path / "nope.toml"))
    with pytest.raises(ConfigFileError, match=r"nope\.toml"):
        load_settings()


def test_error_names_file_section_and_field(tmp_path: Path) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text("[core]\napproval_timeout_s = -5\n")
    with pytest.raises(ConfigFileError) as info:
        load_settings(cfg)
    assert str(cfg) in str(info.value)
    assert "[core]" in str(info.value) and "approval_timeout_s" in str(info.value)
    assert info.value.section == "core" and info.value.field == "approval_timeout_s"


def test_unknown_core_key_is_an_error(tmp_path: Path) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text("core:\n  defualt_environment: prod\n")
    with pytest.raises(ConfigFileError, match="defualt_environment"):
        load_settings(cfg)


def test_plugin_section_is_validated_by_the_plugin_model(tmp_path: Path) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text("[guardian]\nsurprise = 1\n")
    with pytest.raises(ConfigFileError) as info:
        AgentSecurity(policy_engine=_engine(), config_path=cfg)
    assert info.value.section == "guardian" and info.value.field == "surprise"


def test_section_that_no_plugin_claims_is_an_error(tmp_path: Path) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text("[egres]\n")
    with pytest.raises(ConfigFileError, match=r"\[egres\].*no installed plugin"):
        AgentSecurity(policy_engine=_engine(), config_path=cfg)


def test_oversized_and_malformed_files_are_rejected(tmp_path: Path) -> None:
    big = tmp_path / "big.toml"
    big.write_text("# " + "x" * (1024 * 1024 + 10))
    with pytest.raises(ConfigFileError, match="limit"):
        load_settings(big)
    bad = tmp_path / "bad.yaml"
    bad.write_text("core: [unclosed\n")
    with pytest.raises(ConfigFileError, match="cannot parse"):
        load_settings(bad)
    listy = tmp_path / "list.yaml"
    listy.write_text("- a\n- b\n")
    with pytest.raises(ConfigFileError, match="top level"):
        load_settings(listy)


def test_core_settings_apply_to_agent_security(tmp_path: Path) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text("[core]\ndefault_environment = 'staging'\nmode = 'observe'\napproval_timeout_s = 12\n")
    security = AgentSecurity(policy_engine=_engine(), config_path=cfg, autoload=False)
    assert security.mode == "observe"
    assert security.approval_timeout_s == 12
    assert security.check_tool_call(tool_name="t", agent_id="a").request.environment == "staging"


def test_missing_environment_is_never_permissive() -> None:
    security = AgentSecurity(policy_engine=_engine(), autoload=False)
    assert security.check_tool_call(tool_name="t", agent_id="a").request.environment == "unknown"


# -- review (fix-cli): environment values are hostile input -----------------------------------------------
@pytest.mark.parametrize("value", ["False", "FALSE", "no", "off", " 0 "])
def test_search_cwd_spelled_off_keeps_the_working_directory_out(
    value: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AGENT_SECURITY_NO_CONFIG")
    (tmp_path / "agent-security.toml").write_text("[core]\nmode = 'observe'\n")
    monkeypatch.setenv("AGENT_SECURITY_CONFIG_SEARCH_CWD", value)
    assert find_config_file(cwd=tmp_path) is None


@pytest.mark.parametrize("value", ["False", "no", "off"])
def test_no_config_spelled_off_still_reads_the_config(
    value: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    xdg = tmp_path / "xdg"
    (xdg / "agent-security").mkdir(parents=True)
    (xdg / "agent-security" / "config.toml").write_text("[core]\n")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(xdg))
    monkeypatch.setenv("AGENT_SECURITY_NO_CONFIG", value)
    assert find_config_file(cwd=tmp_path) == xdg / "agent-security" / "config.toml"


@pytest.mark.parametrize("name", ["AGENT_SECURITY_NO_CONFIG", "AGENT_SECURITY_CONFIG_SEARCH_CWD"])
def test_unrecognised_switch_values_are_errors(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AGENT_SECURITY_NO_CONFIG")
    monkeypatch.setenv(name, "maybe")
    with pytest.raises(ConfigurationError, match=name):
        find_config_file(cwd=tmp_path)


def test_unrecognised_autoload_switch_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    # "disable autoload" on a value we do not understand silently dropped every installed protection
    from agent_security.core.pipeline.hooks import new_plugin_manager as make_plugin_manager
    from agent_security.core.plugins import load_entry_points

    monkeypatch.setenv("AGENT_SECURITY_DISABLE_PLUGIN_AUTOLOAD", "nope")
    with pytest.raises(ConfigurationError, match="AGENT_SECURITY_DISABLE_PLUGIN_AUTOLOAD"):
        load_entry_points(make_plugin_manager())


def test_empty_config_env_var_is_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGENT_SECURITY_CONFIG", "")
    with pytest.raises(ConfigurationError, match="set but empty"):
        find_config_file(cwd=tmp_path)


def test_config_env_var_naming_a_fifo_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    fifo = tmp_path / "config.toml"
    os.mkfifo(fifo)
    monkeypatch.setenv("AGENT_SECURITY_CONFIG", str(fifo))
    with pytest.raises(ConfigFileError, match="not a regular file"):
        find_config_file(cwd=tmp_path)


# -- review (fix-cli): YAML config is read as strictly as a YAML policy -----------------------------------
@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("core:\n  mode: enforce\n  mode: observe\n", "duplicate key 'mode'"),
        ("core:\n  mode: enforce\ncore:\n  mode: observe\n", "duplicate key 'core'"),
        ("a: &a [x, x]\ncore:\n  trusted_policy_keys: *a\n", "alias"),
        ("core:\n  default_environment: " + "[" * 50 + "]" * 50 + "\n", "depth"),
    ],
)
def test_yaml_config_refuses_duplicates_aliases_and_depth(text: str, match: str, tmp_path: Path) -> None:
    cfg = tmp_path / "config.yaml"
    cfg.write_text(text)
    with pytest.raises(ConfigFileError, match=match):
        load_settings(cfg)
