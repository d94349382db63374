"""Options and environment variables that make a read-only program run code, load plugins, write, delete or
upload: a rule written for the program's read-only form does not cover them."""

from __future__ import annotations

from collections.abc import Sequence

import re2

from agent_security.supply_chain.commands.model import Part
from agent_security.supply_chain.commands.words import Word

__all__ = ["dangerous_options"]

# ------------------------------------------------------------------------------------------------
# Options that execute code or write, per program. A rule written for the read-only form of a program
# (``"find *"``, ``"git *"``, ``"sed *"``) does not cover them.
# ------------------------------------------------------------------------------------------------

_EXEC_LONG: dict[str, tuple[str, ...]] = {
    "find": ("-exec", "-execdir", "-ok", "-okdir", "-delete", "-fprint", "-fprint0", "-fprintf", "-fls"),
    "tar": (
        "--to-command",
        "--checkpoint-action",
        "--use-compress-program",
        "-I",
        "--rsh-command",
        "--info-script",
        "-F",
        "--new-volume-script",
        "--extract",
        "--get",
        "--overwrite",
        "--unlink-first",
    ),
    "rsync": ("-e", "--rsh", "--rsync-path"),
    "ssh": ("-o", "-F", "-L", "-R", "-D", "-w"),
    "scp": ("-o", "-F", "-S"),
    "zip": ("-T", "-TT", "--unzip-command", "--test"),
    "sort": ("-o", "--output", "--compress-program"),
    "man": ("-P", "--pager", "-H", "--html"),
    "less": ("-o", "--log-file", "-O", "--LOG-FILE"),
    "more": (),
    "curl": (
        "-o",
        "--output",
        "-O",
        "--remote-name",
        "--remote-name-all",
        "-K",
        "--config",
        "-T",
        "--upload-file",
        "--output-dir",
        "-D",
        "--dump-header",
        "-c",
        "--cookie-jar",
        "--trace",
        "--trace-ascii",
        "--libcurl",
        "--create-dirs",
    ),
    "wget": (
        "-O",
        "--output-document",
        "-o",
        "--output-file",
        "-P",
        "--directory-prefix",
        "--post-file",
        "--body-file",
        "-e",
        "--execute",
        "-i",
        "--input-file",
        "-x",
    ),
    "python": ("-c", "-m"),
    "python3": ("-c", "-m"),
    "perl": ("-e", "-E", "-i", "-n", "-p"),
    "ruby": ("-e", "-i"),
    "node": ("-e", "--eval", "-p", "--print", "-r", "--require"),
    "php": ("-r",),
    "npx": ("-c", "--call"),
    "make": ("-f", "--file", "--eval", "-E", "SHELL="),
    "tee": (),
    "xxd": ("-r",),
    "docker": ("run", "exec", "-v", "--volume", "--privileged", "--mount"),
    "kubectl": ("exec", "run", "apply", "delete", "cp", "edit", "patch", "replace"),
    "systemctl": ("start", "stop", "restart", "enable", "disable", "edit", "mask", "kill"),
    "dd": ("of=",),
    "openssl": ("-out", "s_client", "enc"),
    "gzip": ("-f",),
    "unzip": ("-o",),
    "chmod": ("+s", "u+s", "g+s"),
    "vim": ("-c", "+", "--cmd"),
    "vi": ("-c", "+", "--cmd"),
    "nvim": ("-c", "+", "--cmd"),
    "sed": ("--in-place",),
    "rg": ("--pre", "--pre-glob", "--search-zip", "-z"),
    "tree": ("-o",),
    "file": ("-C", "--compile"),
    "ed": (),
    "diff": ("--output",),
    "date": ("-s", "--set"),
    "hostname": (),
}
"""Options (exact token, or ``--opt=`` prefix) that execute or write."""

_EXEC_SHORT: dict[str, str] = {
    "sed": "i",
    "tar": "xFI",
    "perl": "eEinp",
    "ruby": "ei",
    "sort": "o",
    "curl": "oOKT",
    "wget": "OPei",
    "unzip": "o",
    "python": "c",
    "python3": "c",
    "ssh": "oFLRDw",
    "scp": "oFS",
    "gzip": "f",
    "less": "oO",
    "xxd": "r",
}
"""Single-letter options (also inside a cluster such as ``-ni``) that execute or write."""


def _sed_dangerous(args: Sequence[Word]) -> list[str]:
    found: list[str] = []
    scripts: list[str] = []
    take_next = False
    positional = 0
    for w in args:
        t = w.text
        if take_next:
            scripts.append(t)
            take_next = False
            continue
        if t in ("-e", "--expression"):
            take_next = True
            continue
        if t.startswith("--expression="):
            scripts.append(t.split("=", 1)[1])
            continue
        if t in ("-f", "--file") or t.startswith("--file="):
            found.append("-f (script file)")
            continue
        if t.startswith("-") and len(t) > 1:
            continue
        positional += 1
        if positional == 1 and not any(a.text in ("-e", "--expression") for a in args):
            scripts.append(t)
    for s in scripts:
        # 'e' command / 's///e' flag execute; 'w', 'W', 'r', 'R' commands / 's///w' read or write files
        if re2.search(
            r"(?:^|[;{}\n])\s*(?:\d+(?:~\d+)?|\$|/[^/]*/[IM]*|\\[^\w\s][^;\n]*)?"
            r"(?:\s*,\s*(?:\d+|\$|/[^/]*/[IM]*|[+~]\d+|\\[^\w\s][^;\n]*))?\s*!?\s*[ewWrR]",
            s,
        ) or re2.search(r"s/[^/]*/[^/]*/[gpIiMm0-9]*[ewW]", s):
            found.append("sed script runs commands or writes files")
            break
    return found


def _awk_dangerous(args: Sequence[Word]) -> list[str]:
    skip = False
    for w in args:
        t = w.text
        if skip:  # the value of -v / -F
            skip = False
            continue
        if t in ("-v", "--assign", "-F", "--field-separator"):
            skip = True
            continue
        if t in ("-f", "--file", "-i", "--include", "-l", "--load", "-E", "--exec") or t.startswith("-f"):
            return [f"{t} (program from a file)"]
        if t.startswith("-"):
            continue
        if re2.search(r"system\s*\(|\|\s*&?\s*getline|print[f]?[^;}]*(?:>|\|)|@load|ENVIRON|close\s*\(", t):
            return ["awk program runs commands, writes files or reads the environment"]
        return []
    return []


def _option_prefixes(opt: str) -> tuple[str, ...]:
    if opt.startswith("--"):
        return (opt + "=",)
    if opt.endswith("="):
        return (opt,)
    if len(opt) == 2 and opt[0] == "-":
        return (opt,)  # a short option with its value attached: -O'sh -c id', -ccore.pager=x
    return ()


_EXEC_SPEC: dict[str, tuple[frozenset[str], tuple[str, ...]]] = {
    prog: (frozenset(opts), tuple(p for o in opts for p in _option_prefixes(o))) for prog, opts in _EXEC_LONG.items()
}


def dangerous_options(part: Part) -> list[str]:
    name = part.program if part.program == part.base else part.base
    stem = name.rstrip("0123456789.") if name.startswith(("python", "perl", "ruby")) else name
    found: list[str] = []
    args = part.args
    longs = _EXEC_LONG.get(name) or _EXEC_LONG.get(stem) or ()
    exact, prefixes = _EXEC_SPEC.get(name) or _EXEC_SPEC.get(stem) or (frozenset(), ())
    shorts = _EXEC_SHORT.get(name) or _EXEC_SHORT.get(stem) or ""
    for i, w in enumerate(args):
        t = w.text
        if t.startswith("--") and len(t) > 2:
            # GNU getopt_long accepts any unambiguous abbreviation: sed --in-pl, sort --compress-prog=sh
            given = t.split("=", 1)[0]
            for opt in longs:
                if opt.startswith("--") and opt != given and opt.startswith(given):
                    found.append(opt)
        if t in exact or (prefixes and t.startswith(prefixes)):
            for opt in longs:
                if t == opt or any(t.startswith(p) for p in _option_prefixes(opt)):
                    found.append(opt)
        if shorts and t.startswith("-") and not t.startswith("--") and len(t) > 1:
            for ch in t[1:]:
                if ch in shorts:
                    found.append(f"-{ch}")
        if name == "tar" and i == 0 and not t.startswith("-") and shorts:  # old-style 'tar xzf'
            for ch in t:
                if ch in shorts:
                    found.append(f"-{ch}")
        if name in ("less", "more", "vim", "vi", "nvim", "view") and t.startswith("+"):
            found.append("+command")
    if name == "uniq" and len([w for w in args if not w.text.startswith("-")]) >= 2:
        found.append("output file")
    if name == "sed":
        found += _sed_dangerous(args)
    if name in ("awk", "gawk", "mawk", "nawk", "busybox awk"):
        found += _awk_dangerous(args)
    if name == "git":
        found += _git_dangerous([w.text for w in args])
    if name in ("npm", "pnpm", "yarn", "bun"):
        found += _npm_dangerous(name, [w.text for w in args])
    if name in ("pytest", "py.test"):
        found += _pytest_dangerous([w.text for w in args])
    if stem in ("python", "python3") and len(args) >= 2 and args[0].text == "-m" and args[1].text in _PYTEST_MODULES:
        found += _pytest_dangerous([w.text for w in args[2:]])
    if name == "rg" and any(a.text.startswith("--hostname-bin") for a in args):
        found.append("--hostname-bin")
    # dedupe, keep order
    return list(dict.fromkeys(found))


# ------------------------------------------------------------------------------------------------
# Search patterns: arguments that are matched against text, not opened as files.
# ------------------------------------------------------------------------------------------------

_GREP_VALUE_OPTS = frozenset(
    {"-A", "-B", "-C", "-m", "-d", "-D", "--label", "--max-count", "--after-context", "--before-context",
     "--context", "--devices", "--directories", "--color", "--colour", "-g", "--glob", "-t", "--type", "-T",
     "--type-not", "-M", "--max-columns", "-j", "--threads", "--max-depth", "--iglob", "-E", "--encoding",
     "--include", "--exclude", "--exclude-dir", "--binary-files"}
)  # fmt: skip
_GREP_PROGRAMS = frozenset({"grep", "egrep", "fgrep", "rg", "ag", "ack", "zgrep", "git-grep"})
_FIND_PATTERN_OPTS = frozenset(
    {"-name", "-iname", "-path", "-ipath", "-wholename", "-iwholename", "-regex", "-iregex", "-lname", "-ilname"}
)
_GIT_LOG_PATTERN_OPTS = ("-S", "-G", "--grep", "--author", "--committer", "--grep-reflog")


def search_patterns(program: str, args: Sequence[Word]) -> set[int]:
    """Indices of ``args`` that are search patterns, not paths: grep/rg's pattern (the first operand, or
    each ``-e`` value), find's ``-name``/``-path``/``-regex`` values, ``git grep``'s pattern and ``git log``'s
    ``-S``/``-G``/``--grep`` values. A pattern that names a sensitive file reads nothing."""
    texts = [w.text for w in args]
    out: set[int] = set()
    if program == "git" and texts:
        sub = next((i for i, t in enumerate(texts) if not t.startswith("-")), None)
        if sub is not None and texts[sub] == "grep":
            return {sub + 1 + i for i in search_patterns("git-grep", args[sub + 1 :])}
        for i, t in enumerate(texts):
            if t in _GIT_LOG_PATTERN_OPTS and i + 1 < len(texts):
                out.add(i + 1)
            elif t.startswith(_GIT_LOG_PATTERN_OPTS):
                out.add(i)
        return out
    if program == "find":
        return {i + 1 for i, t in enumerate(texts) if t in _FIND_PATTERN_OPTS and i + 1 < len(texts)}
    if program not in _GREP_PROGRAMS:
        return out
    explicit = False
    i = 0
    while i < len(texts):
        t = texts[i]
        if t == "--":
            if not explicit and i + 1 < len(texts):
                out.add(i + 1)
            return out
        if t in ("-e", "--regexp") and i + 1 < len(texts):
            out.add(i + 1)
            explicit = True
            i += 2
            continue
        if t.startswith("--regexp=") or (t.startswith("-e") and len(t) > 2 and not t.startswith("--")):
            out.add(i)
            explicit = True
        elif t in _GREP_VALUE_OPTS:
            i += 2
            continue
        elif not t.startswith("-") and not explicit:
            out.add(i)
            return out
        i += 1
    return out


# ------------------------------------------------------------------------------------------------
# git, npm, pytest: reviewed against their manuals (docs/supply-chain.md lists what a read-only rule covers).
# ------------------------------------------------------------------------------------------------

_GIT_GLOBAL_WITH_VALUE = frozenset(
    {"-c", "-C", "--git-dir", "--work-tree", "--namespace", "--config-env", "--exec-path"}
)
_GIT_GLOBAL_DANGEROUS = ("-c", "--config-env", "--exec-path", "-C", "--git-dir", "--work-tree", "-p", "--paginate")
"""Before the subcommand: set configuration (``core.pager``, ``alias.x=!cmd``, ``core.fsmonitor``,
``diff.external``), the helper directory, or another repository whose configuration then applies."""
_GIT_SUB_DANGEROUS: dict[str, tuple[str, ...]] = {
    "diff": ("--output", "--ext-diff", "--textconv"),
    "log": ("--output", "--ext-diff", "--textconv"),
    "show": ("--output", "--ext-diff", "--textconv"),
    "blame": ("--textconv",),
    "grep": ("-O", "--open-files-in-pager", "--textconv"),
    "branch": ("-d", "-D", "--delete", "-m", "-M", "--move", "-c", "-C", "--copy", "-f", "--force", "-u",
               "--set-upstream-to", "--unset-upstream", "--edit-description", "-t", "--track"),
    "ls-remote": ("--upload-pack", "-u"),
    "fetch": ("--upload-pack",),
    "clone": ("--upload-pack", "-u", "--template", "-c", "--config"),
    "push": ("--receive-pack", "--exec"),
    "archive": ("--exec", "--remote", "-o", "--output"),
    "rebase": ("-x", "--exec"),
    "difftool": ("-x", "--extcmd", "-t", "--tool"),
    "mergetool": ("-t", "--tool"),
    "status": (),
    "rev-parse": (),
    "ls-files": (),
}  # fmt: skip
"""After the subcommand: options that write a file (``--output``), run an external program (``--ext-diff``,
``--textconv`` drivers, ``grep -O`` pager, ``--upload-pack``, ``rebase --exec``), or change branches."""


def _opt_hit(t: str, opts: tuple[str, ...]) -> str | None:
    for o in opts:
        if (
            t == o
            or (o.startswith("--") and t.startswith(o + "="))
            or (len(o) == 2 and t.startswith(o) and len(t) > 2 and not t.startswith("--"))
        ):
            return o
        if o.startswith("--") and t.startswith("--") and len(t) > 3 and o.startswith(t.split("=", 1)[0]):
            return o  # an unambiguous abbreviation
    return None  # fmt: skip


def _git_dangerous(texts: list[str]) -> list[str]:
    found: list[str] = []
    i = 0
    while i < len(texts) and texts[i].startswith("-"):
        hit = _opt_hit(texts[i], _GIT_GLOBAL_DANGEROUS)
        if hit:
            found.append(hit)
        i += 2 if texts[i] in _GIT_GLOBAL_WITH_VALUE else 1
    if i >= len(texts):
        return found
    sub, rest = texts[i], texts[i + 1 :]
    for t in rest:
        if t == "--":
            break
        hit = _opt_hit(t, _GIT_SUB_DANGEROUS.get(sub, ()))
        if hit:
            found.append(hit)
    if sub == "config" and not any(t in ("--get", "--list", "-l", "--get-all", "--get-regexp", "get", "list")
                                   for t in rest):  # fmt: skip
        found.append("git config (writes configuration that later runs commands)")
    if sub in ("filter-branch", "filter-repo") or (sub == "bisect" and "run" in rest):
        found.append(f"git {sub} runs commands")
    if sub == "submodule" and "foreach" in rest:
        found.append("git submodule foreach")
    return found


_NPM_READ_ONLY = frozenset(
    {"ls", "list", "ll", "la", "view", "info", "show", "v", "outdated", "search", "help", "help-search",
     "config", "c", "get", "prefix", "root", "bin", "whoami", "ping", "doctor", "fund", "explain", "why",
     "query", "docs", "bugs", "repo", "--version", "-v", "version", "audit", "sbom", "diff"}
)  # fmt: skip
"""npm subcommands that only read (``config`` and ``version`` only without arguments that set;
``audit`` only without ``fix``)."""
_NPM_OPTIONS = ("--script-shell", "--userconfig", "--globalconfig", "--prefix", "--registry", "--node-options",
                "--call", "-c")  # fmt: skip


def _npm_dangerous(name: str, texts: list[str]) -> list[str]:
    found = [f"{name} {hit}" for t in texts if (hit := _opt_hit(t, _NPM_OPTIONS))]
    sub = next((t for t in texts if not t.startswith("-")), None)
    if sub is None:
        return found
    rest = texts[texts.index(sub) + 1 :]
    writes = (
        sub not in _NPM_READ_ONLY
        or (sub in ("config", "c") and any(t in ("set", "delete", "edit", "fix") for t in rest))
        or (sub == "version" and any(not t.startswith("-") for t in rest))
        or (sub == "audit" and "fix" in rest)
    )
    if writes:
        # install/ci/rebuild run lifecycle scripts, run/test/start/exec run package code, publish uploads
        found.append(f"{name} {sub}")
    return found


_PYTEST_MODULES = frozenset({"pytest", "py.test"})
_PYTEST_DANGEROUS = (
    "-p", "--pyargs", "-c", "--config-file", "--rootdir", "--confcutdir", "-o", "--override-ini", "--basetemp",
    "--junitxml", "--junit-xml", "--resultlog", "--report-log", "--pastebin", "--pdbcls", "--debug",
    "--html", "--cov-report", "--json-report-file", "--import-mode", "--inifile",
)  # fmt: skip
"""Options that load plugins or configuration (``-p``, ``-c``, ``-o addopts=...``, ``--rootdir``, ``--pdbcls``),
write or delete files (``--basetemp`` empties its directory, ``--junitxml``, ``--debug``) or upload
(``--pastebin``). ``-p no:name`` only disables a plugin and is allowed."""


def _pytest_dangerous(texts: list[str]) -> list[str]:
    found: list[str] = []
    for i, t in enumerate(texts):
        hit = _opt_hit(t, _PYTEST_DANGEROUS)
        if hit is None:
            continue
        value = t[2:] if hit == "-p" and len(t) > 2 else (texts[i + 1] if i + 1 < len(texts) else "")
        if hit == "-p" and value.startswith("no:"):
            continue
        found.append(hit)
    return found
