"""Where credentials live: the one maintained list the command governor and the MCP scanner read.

Each entry is a path pattern: ``~/...`` under any user's home directory, ``/...`` absolute, ``**/...`` in any
directory. ``*`` matches within one path component. A location that is a directory covers everything
below it. Add a location here, with its category, and both the governor (paths a command reads, writes or
redirects to, after resolution) and the scanner (texts that mention them) know it.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["CATEGORIES", "LOCATIONS", "CredentialLocation"]


@dataclass(frozen=True, slots=True)
class CredentialLocation:
    pattern: str
    category: str
    what: str


CATEGORIES = (
    "ssh-gpg",
    "cloud",
    "container",
    "registry",
    "database",
    "browser",
    "ci",
    "vcs",
    "secrets-file",
    "system",
    "agent",
    "shell-history",
    "keyring",
)

_L = CredentialLocation
LOCATIONS: tuple[CredentialLocation, ...] = (
    # SSH, GPG, TLS keys
    _L("~/.ssh", "ssh-gpg", "SSH keys, authorized_keys, known_hosts"),
    _L("**/id_rsa*", "ssh-gpg", "SSH private key"),
    _L("**/id_dsa*", "ssh-gpg", "SSH private key"),
    _L("**/id_ecdsa*", "ssh-gpg", "SSH private key"),
    _L("**/id_ed25519*", "ssh-gpg", "SSH private key"),
    _L("**/authorized_keys", "ssh-gpg", "SSH login keys"),
    _L("**/known_hosts", "ssh-gpg", "SSH known hosts (where you connect)"),
    _L("~/.gnupg", "ssh-gpg", "GPG keys"),
    _L("**/*.pem", "ssh-gpg", "PEM key or certificate"),
    _L("**/*.key", "ssh-gpg", "private key"),
    _L("**/*.p12", "ssh-gpg", "PKCS#12 key store"),
    _L("**/*.pfx", "ssh-gpg", "PKCS#12 key store"),
    _L("**/*.keystore", "ssh-gpg", "Java key store"),
    _L("**/*.jks", "ssh-gpg", "Java key store"),
    _L("/etc/ssl/private", "ssh-gpg", "TLS private keys"),
    _L("/etc/ssh/ssh_host_*_key", "ssh-gpg", "SSH host keys"),
    # cloud CLIs
    _L("~/.aws", "cloud", "AWS CLI credentials and config"),
    _L("~/.config/gcloud", "cloud", "Google Cloud SDK credentials"),
    _L("**/application_default_credentials.json", "cloud", "Google application default credentials"),
    _L("~/.azure", "cloud", "Azure CLI tokens"),
    _L("~/.oci", "cloud", "Oracle Cloud CLI keys"),
    _L("~/.config/doctl", "cloud", "DigitalOcean CLI token"),
    _L("~/.bluemix", "cloud", "IBM Cloud CLI"),
    _L("~/.aliyun", "cloud", "Alibaba Cloud CLI"),
    _L("~/.config/hcloud", "cloud", "Hetzner Cloud CLI token"),
    _L("~/.config/linode-cli", "cloud", "Linode CLI token"),
    _L("~/.config/scw", "cloud", "Scaleway CLI"),
    _L("~/.fly", "cloud", "Fly.io CLI token"),
    _L("~/.config/heroku", "cloud", "Heroku CLI"),
    _L("~/.terraform.d/credentials.tfrc.json", "cloud", "Terraform Cloud token"),
    _L("**/terraform.tfstate*", "cloud", "Terraform state (holds secrets)"),
    _L("~/.pulumi/credentials.json", "cloud", "Pulumi token"),
    _L("~/.vault-token", "cloud", "HashiCorp Vault token"),
    _L("~/.config/op", "cloud", "1Password CLI"),
    # containers and orchestrators
    _L("~/.docker/config.json", "container", "Docker registry credentials"),
    _L("~/.config/containers/auth.json", "container", "Podman registry credentials"),
    _L("/run/containers/*/auth.json", "container", "Podman registry credentials"),
    _L("~/.kube", "container", "Kubernetes kubeconfig"),
    _L("/var/run/secrets", "container", "Kubernetes service-account token and mounted secrets"),
    _L("/run/secrets", "container", "Docker/Kubernetes mounted secrets"),
    _L("/etc/kubernetes", "container", "Kubernetes control-plane credentials"),
    _L("/etc/rancher/k3s/k3s.yaml", "container", "k3s admin kubeconfig"),
    _L("~/.minikube", "container", "minikube client keys"),
    _L("~/.config/helm/repositories.yaml", "container", "Helm repository credentials"),
    _L("~/.talos", "container", "Talos client config"),
    # package registries
    _L("**/.npmrc", "registry", "npm token"),
    _L("~/.yarnrc.yml", "registry", "Yarn token"),
    _L("**/.pypirc", "registry", "PyPI token"),
    _L("~/.config/pip/pip.conf", "registry", "pip index credentials"),
    _L("~/.gem/credentials", "registry", "RubyGems key"),
    _L("~/.cargo/credentials*", "registry", "crates.io token"),
    _L("~/.m2/settings*.xml", "registry", "Maven repository credentials"),
    _L("~/.gradle/gradle.properties", "registry", "Gradle repository credentials"),
    _L("~/.nuget/NuGet/NuGet.Config", "registry", "NuGet credentials"),
    _L("~/.composer/auth.json", "registry", "Composer credentials"),
    _L("~/.config/composer/auth.json", "registry", "Composer credentials"),
    _L("~/.pub-cache/credentials.json", "registry", "Dart pub credentials"),
    _L("~/.config/hatch", "registry", "Hatch index credentials"),
    _L("~/.local/share/python_keyring", "registry", "Python keyring"),
    # databases
    _L("~/.pgpass", "database", "PostgreSQL passwords"),
    _L("~/.my.cnf", "database", "MySQL client password"),
    _L("~/.mylogin.cnf", "database", "MySQL login path"),
    _L("~/.mongorc.js", "database", "MongoDB shell"),
    _L("~/.mongosh", "database", "MongoDB shell history and config"),
    _L("~/.dbshell", "database", "MongoDB shell history"),
    _L("~/.psql_history", "database", "psql history"),
    _L("~/.mysql_history", "database", "MySQL history"),
    _L("~/.rediscli_history", "database", "redis-cli history"),
    _L("~/.cassandra/cqlshrc", "database", "Cassandra credentials"),
    _L("~/.config/redis", "database", "Redis client config"),
    # browsers
    _L("~/.mozilla/firefox", "browser", "Firefox profiles (logins.json, key4.db, cookies)"),
    _L("~/.config/google-chrome", "browser", "Chrome profiles (Login Data, Cookies)"),
    _L("~/.config/chromium", "browser", "Chromium profiles"),
    _L("~/.config/BraveSoftware", "browser", "Brave profiles"),
    _L("~/.config/microsoft-edge", "browser", "Edge profiles"),
    _L("~/Library/Application Support/Google/Chrome", "browser", "Chrome profiles (macOS)"),
    _L("~/Library/Application Support/Firefox", "browser", "Firefox profiles (macOS)"),
    _L("~/Library/Cookies", "browser", "Safari cookies"),
    _L("**/Login Data", "browser", "Chromium saved passwords"),
    _L("**/logins.json", "browser", "Firefox saved passwords"),
    _L("**/key4.db", "browser", "Firefox key database"),
    # CI and forge tools
    _L("~/.config/gh", "ci", "GitHub CLI token"),
    _L("~/.config/hub", "ci", "hub token"),
    _L("~/.config/glab-cli", "ci", "GitLab CLI token"),
    _L("~/.travis", "ci", "Travis CI token"),
    _L("~/.circleci", "ci", "CircleCI token"),
    _L("~/.jenkins", "ci", "Jenkins home (credentials.xml, secrets)"),
    _L("/var/lib/jenkins/secrets", "ci", "Jenkins secrets"),
    _L("~/.buildkite-agent", "ci", "Buildkite agent token"),
    _L("~/.config/act", "ci", "act secrets"),
    _L("~/.git-credentials", "vcs", "git stored credentials"),
    _L("~/.config/git/credentials", "vcs", "git stored credentials"),
    _L("**/.netrc", "vcs", "netrc logins"),
    # secrets files in projects
    _L("**/.env", "secrets-file", "dotenv secrets"),
    _L("**/.env.*", "secrets-file", "dotenv secrets"),
    _L("**/.envrc", "secrets-file", "direnv secrets"),
    _L("**/credentials.json", "secrets-file", "credentials file"),
    _L("**/secrets.json", "secrets-file", "secrets file"),
    _L("**/secrets.yaml", "secrets-file", "secrets file"),
    _L("**/secrets.yml", "secrets-file", "secrets file"),
    _L("**/secrets.toml", "secrets-file", "secrets file"),
    _L("**/secret.yaml", "secrets-file", "secrets file"),
    _L("**/.secrets", "secrets-file", "secrets file"),
    # system
    _L("/etc/shadow", "system", "password hashes"),
    _L("/etc/gshadow", "system", "group password hashes"),
    _L("/etc/sudoers", "system", "sudo rules"),
    _L("/etc/sudoers.d", "system", "sudo rules"),
    _L("/proc/*/environ", "system", "a process's environment (secrets)"),
    # agents and MCP configuration
    _L("**/mcp.json", "agent", "MCP server configuration (tokens)"),
    _L("**/claude_desktop_config.json", "agent", "Claude Desktop MCP configuration"),
    _L("~/.cursor", "agent", "Cursor configuration"),
    _L("~/.claude", "agent", "Claude Code configuration"),
    _L("~/.claude.json", "agent", "Claude Code configuration"),
    _L("~/.codex", "agent", "Codex configuration"),
    # shell history
    _L("~/.bash_history", "shell-history", "bash history"),
    _L("~/.zsh_history", "shell-history", "zsh history"),
    _L("~/.local/share/fish/fish_history", "shell-history", "fish history"),
    _L("~/.python_history", "shell-history", "Python REPL history"),
    _L("~/.node_repl_history", "shell-history", "Node REPL history"),
    # key rings and password stores
    _L("~/.password-store", "keyring", "pass store"),
    _L("~/.local/share/keyrings", "keyring", "GNOME keyring"),
    _L("~/Library/Keychains", "keyring", "macOS keychains"),
    _L("**/*.kdbx", "keyring", "KeePass database"),
)
"""Credential locations by category: cloud CLIs, containers and orchestrators, package registries,
databases, browsers, CI tools, plus keys, secrets files, system files, agent configuration and histories."""
