"""Paths are judged after the shell's expansion and the kernel's resolution, against one list of credential
locations (issue 20 item 6): table tests that fail with the old governor's text-only patterns."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from agent_security.supply_chain import DEFAULT_RULES, CommandGovernor
from agent_security.supply_chain.commands.credentials import CATEGORIES, LOCATIONS
from agent_security.supply_chain.commands.paths import credential_hits, path_hits, text_hits

GOV = CommandGovernor(DEFAULT_RULES, default_action="require_approval")


def sensitive(command: str) -> bool:
    result = GOV.check(command)
    return any(f.startswith("sensitive path") for p in result.parts for f in p.features)


@pytest.mark.parametrize(
    "command",
    [
        "cat /etc/./shadow",
        "cat /etc//shadow",
        "cat /tmp/../etc/shadow",
        "cat /proc/self/root/etc/shadow",
        "cat /proc/1/root/etc/sudoers",
        "cat /etc/sha*",
        "cat /etc/shad?w",
        "cat ~/.s?h/id_*",
        "cat ~/.a*/cred*",
        "cat $HOME/.aws/credentials",
        "cat ${HOME}/.kube/config",
        "cat .e*",
        "cat *.pem",
        "cat /proc/self/fd/7",
        "cat /dev/fd/9",
        "head ~/.config/gh/hosts.yml",
        "cat /var/run/secrets/kubernetes.io/serviceaccount/token",
        "cat ~/.docker/config.json",
        "cat ~/.pgpass",
        "cat ~/.mozilla/firefox/abc.default/logins.json",
        "tail ~/.config/google-chrome/Default/Login\\ Data",
        "cat ~/.npmrc",
        "cat ~/.cargo/credentials.toml",
        "echo x > ~/.ssh/authorized_keys",
        "echo x >> /etc/./sudoers",
        "cat < /etc/../etc/shadow",
    ],
)
def test_sensitive_paths_after_resolution(command: str) -> None:
    assert sensitive(command), command
    assert GOV.check(command).action != "allow"


@pytest.mark.parametrize(
    "command",
    [
        "ls *",
        "cat *.py",
        "cat *.json",
        "cat src/main.py",
        "ls -la ~/projects",
        "grep -rn id_rsa src",
        "grep -e .env -r .",
        "rg --type py AWS_SECRET_ACCESS_KEY",
        "find . -name id_rsa -type f",
        "find . -path '*/.ssh/*'",
        "git log -S aws_secret_access_key",
        "git log --grep=.npmrc",
        "echo done 2>/dev/fd/2",
        "cat /dev/stdin",
    ],
)
def test_search_patterns_and_ordinary_paths_are_not_sensitive(command: str) -> None:
    assert not sensitive(command), GOV.check(command).parts
    assert GOV.check(command).action == "allow"


def test_a_symlink_to_a_credential_is_judged_by_its_target(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / ".env").write_text("TOKEN=x")
    link = tmp_path / "notes.txt"
    os.symlink(project / ".env", link)
    assert path_hits(str(link)) == [".env"]
    assert sensitive(f"cat {link}")
    assert path_hits(str(tmp_path / "plain.txt")) == []


def test_every_category_has_locations_and_each_location_is_recognised() -> None:
    assert {loc.category for loc in LOCATIONS} == set(CATEGORIES)
    for loc in LOCATIONS:
        sample = loc.pattern.replace("*", "x")
        path = "/home/alice/" + sample[2:] if sample.startswith("~/") else sample.replace("**/", "/srv/app/")
        assert credential_hits(path), loc
        assert text_hits(f"read {sample} now") or text_hits(f"read {path} now"), loc


@pytest.mark.parametrize(
    ("category", "path"),
    [
        ("cloud", "/home/u/.aws/credentials"),
        ("cloud", "/home/u/.config/gcloud/application_default_credentials.json"),
        ("cloud", "/home/u/.azure/accessTokens.json"),
        ("container", "/home/u/.kube/config"),
        ("container", "/run/secrets/db_password"),
        ("registry", "/home/u/.pypirc"),
        ("registry", "/home/u/.m2/settings.xml"),
        ("database", "/home/u/.my.cnf"),
        ("browser", "/home/u/.config/chromium/Default/Cookies"),
        ("ci", "/home/u/.config/glab-cli/config.yml"),
        ("ci", "/home/u/.circleci/cli.yml"),
    ],
)
def test_locations_by_category(category: str, path: str) -> None:
    assert category in {loc.category for loc in credential_hits(path)}


@pytest.mark.parametrize(
    ("command", "sensitive_part"),
    [
        ("cd /etc; cat shadow", "cat"),
        ("cd /etc && cat ./sudoers", "cat"),
        ("cd /tmp && cat ../etc/shadow", "cat"),
        ("cd /home/alice/.aws && head credentials", "head"),
        ("pushd /etc >/dev/null; cat shadow", "cat"),
    ],
)
def test_relative_paths_after_cd_are_resolved_against_the_new_directory(command: str, sensitive_part: str) -> None:
    result = GOV.check(command)
    part = next(p for p in result.parts if p.program == sensitive_part)
    assert any(f.startswith("sensitive path") for f in part.features), result.parts
    assert result.action != "allow"


def test_cd_into_an_ordinary_directory_stays_allowed() -> None:
    assert GOV.check("cd src && cat main.py && ls -la").action == "allow"
    assert GOV.check("cd $UNKNOWN && cat notes.txt").action != "allow"  # the directory is unknown
