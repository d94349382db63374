"""A small, fail-closed parser for the shell command lines an agent asks to run.

Why our own tokenizer and not a library: ``bashlex`` (the only pure-Python bash parser on PyPI of note)
is GPLv3+ (this project is MIT), had its last release in 2023, raises ``NotImplementedError`` on
``case``, ``coproc`` and ``$(( ))`` and a parse error on ``[[ ]]``; its parse of ``${x:-$(id)}`` does not
expose the nested command. ``tree-sitter-bash`` is error-tolerant by design (it returns a tree with
``ERROR`` nodes for anything it does not understand), the opposite of what a security check wants. What a governor
needs is narrower than a full bash grammar: the *simple commands* a line would run, with their words
after quote removal, their redirections, and every place where text becomes code (substitutions, ``sh
-c``, ``eval``, heredocs fed to a shell). This module recognises exactly that subset and raises
:class:`ShellParseError` for everything else (control structures, functions, arithmetic, unbalanced
quotes, unknown escapes), which the governor turns into a block with a clear reason.

Supported: ``'...'``, ``"..."``, ``$'...'`` (ANSI-C escapes decoded), backslash escapes, line
continuations, ``;`` ``&&`` ``||`` ``|`` ``|&`` ``&`` and newlines, ``( ... )`` subshells, ``$( ... )``,
backticks, ``<( ... )`` / ``>( ... )``, every redirection form (``>``, ``>>``, ``<``, ``<>``, ``>|``,
``&>``, ``&>>``, ``>&``, ``<&``, ``<<``, ``<<-``, ``<<<``, with an optional fd number), heredocs (quoted
and unquoted delimiters), ``VAR=value`` prefixes, ``$VAR`` / ``${...}`` (recorded as *dynamic*: the
value is unknown at check time), globs and brace expansion (recorded as dynamic in a command name).
"""

from __future__ import annotations

import re

from agent_security.supply_chain.commands.words import (
    _ANSI,
    _KEYWORDS,
    MAX_BRACES_PER_WORD,
    MAX_COMMAND_LENGTH,
    MAX_DEPTH,
    MAX_PARTS,
    Redirect,
    ShellParseError,
    SimpleCommand,
    Word,
)

__all__ = [
    "MAX_BRACES_PER_WORD",
    "MAX_COMMAND_LENGTH",
    "MAX_DEPTH",
    "MAX_PARTS",
    "Redirect",
    "ShellParseError",
    "SimpleCommand",
    "Word",
    "parse_command_line",
]

_PLAIN_RUN = re.compile(r"[^\s;&|<>()'\"\\$`*?\[{]+")
"""Characters with no special meaning inside a word (a fixed character class: linear time)."""


class _Parser:
    def __init__(self, src: str, depth: int, origin: str) -> None:
        if depth > MAX_DEPTH:
            raise ShellParseError(f"nesting deeper than {MAX_DEPTH} levels")
        self.s = src
        self.i = 0
        self.depth = depth
        self.origin = origin
        self.out: list[SimpleCommand] = []
        self.pending_heredocs: list[Redirect] = []

    # ---- helpers -------------------------------------------------------------------------------
    def peek(self, k: int = 0) -> str:
        j = self.i + k
        return self.s[j] if j < len(self.s) else ""

    def emit(self, cmds: list[SimpleCommand]) -> None:
        self.out.extend(cmds)
        if len(self.out) > MAX_PARTS:
            raise ShellParseError(f"more than {MAX_PARTS} commands in one line")

    def no_pending_heredoc_across(self, text: str) -> None:
        """Bash reads a pending heredoc body at the first newline, even one inside ``( )``, ``$( )`` or
        backticks; this parser reads bodies only at its own level, so such a line is refused rather than
        misread (``cat <<ls | (cat\nls\n)\nrm -rf ~\nls`` runs ``rm``)."""
        if self.pending_heredocs and "\n" in text:
            raise ShellParseError("a heredoc body would start inside a subshell or substitution")

    def sub(self, text: str, origin: str) -> list[SimpleCommand]:
        self.no_pending_heredoc_across(text)
        p = _Parser(text, self.depth + 1, origin)
        p.parse_list(end="")
        return p.out

    def skip_blanks(self) -> None:
        while True:
            c = self.peek()
            if c in (" ", "\t"):
                self.i += 1
            elif c == "\\" and self.peek(1) == "\n":
                self.i += 2
            elif c == "#":
                while self.peek() not in ("", "\n"):
                    self.i += 1
            else:
                return

    # ---- grammar -------------------------------------------------------------------------------
    def parse_list(self, end: str) -> None:
        """list := pipeline ((';' | '&' | '&&' | '||' | '\\n') pipeline)* ; stops at ``end`` (')' or '')."""
        while True:
            self.skip_blanks()
            c = self.peek()
            if c == "":
                if end:
                    raise ShellParseError("unbalanced parenthesis: missing ')'")
                return
            if c == end:
                return
            if c == "\n":
                self.i += 1
                self.read_heredoc_bodies()
                continue
            if c == ";":
                if self.peek(1) == ";":
                    raise ShellParseError("';;' outside a case statement")
                self.i += 1
                continue
            cmds = self.parse_pipeline()
            self.skip_blanks()
            c = self.peek()
            if c == "&" and self.peek(1) != "&":
                self.i += 1
                for cmd in cmds:
                    cmd.background = True
            elif c == "&" or (c == "|" and self.peek(1) == "|"):
                self.i += 2
                self.skip_blanks()
                while self.peek() == "\n":
                    self.i += 1
                    self.read_heredoc_bodies()
                    self.skip_blanks()
                if self.peek() in ("", ")", ";", "&", "|"):
                    raise ShellParseError("'&&' or '||' without a command after it")
            self.emit(cmds)

    def parse_pipeline(self) -> list[SimpleCommand]:
        cmds: list[SimpleCommand] = []
        piped = False
        while True:
            self.skip_blanks()
            group = self.parse_command()
            if piped:
                for sc in group:
                    if sc.origin not in ("substitution", "process-substitution"):
                        sc.piped_input = True
            cmds.extend(group)
            self.skip_blanks()
            if self.peek() == "|" and self.peek(1) != "|":
                self.i += 2 if self.peek(1) == "&" else 1
                piped = True
                self.skip_blanks()
                while self.peek() == "\n":
                    self.i += 1
                    self.read_heredoc_bodies()
                    self.skip_blanks()
                continue
            return cmds

    def parse_command(self) -> list[SimpleCommand]:
        if self.peek() == "(":
            if self.peek(1) == "(":
                raise ShellParseError("arithmetic command '(( ))' is not supported")
            self.i += 1
            inner = _Parser(self.s, self.depth + 1, "subshell")
            inner.i = self.i
            inner.parse_list(end=")")
            self.no_pending_heredoc_across(self.s[self.i : inner.i])
            self.i = inner.i + 1
            result = inner.out
            # redirections after a subshell apply to every command in it
            extra = SimpleCommand(depth=self.depth)
            self.parse_words_into(extra, allow_words=False)
            for sc in result:
                sc.redirects.extend(extra.redirects)
            if not result:
                raise ShellParseError("empty subshell")
            return result
        cmd = SimpleCommand(depth=self.depth, origin=self.origin)
        nested = self.parse_words_into(cmd, allow_words=True)
        if not cmd.words and not cmd.assignments and not cmd.redirects:
            c = self.peek()
            raise ShellParseError(f"unexpected {c!r}" if c else "empty command")
        return [cmd, *nested]

    def parse_words_into(self, cmd: SimpleCommand, *, allow_words: bool) -> list[SimpleCommand]:
        nested: list[SimpleCommand] = []
        while True:
            self.skip_blanks()
            c = self.peek()
            if c in ("", "\n", ";", "|", ")") or (c == "&" and self.peek(1) != ">"):
                return nested
            if c == "(":
                raise ShellParseError("unexpected '(' (function definitions and arrays are not supported)")
            red = self.try_redirect(nested)
            if red is not None:
                cmd.redirects.append(red)
                continue
            if not allow_words:
                raise ShellParseError("unexpected word after ')'")
            start = self.i
            word = self.read_word(nested)
            raw = self.s[start : self.i]
            if not cmd.words and _is_assignment(raw):  # the value may be quoted; the name may not
                cmd.assignments.append(word.text)
                continue
            if not cmd.words and not word.quoted and word.text in _KEYWORDS:
                raise ShellParseError(
                    f"shell keyword {word.text!r}: control structures and groups are not supported "
                    "(put the logic in a script and allow that script)"
                )
            if word.text.endswith("()") and not word.quoted:
                raise ShellParseError("function definitions are not supported")
            cmd.words.append(word)

    def try_redirect(self, nested: list[SimpleCommand]) -> Redirect | None:
        j = self.i
        fd = ""
        while j < len(self.s) and self.s[j].isdigit():
            j += 1
        if j < len(self.s) and self.s[j] == "{":
            return None
        fd = self.s[self.i : j]
        rest = self.s[j : j + 3]
        op = ""
        for cand in ("<<<", "<<-", "&>>", "<<", ">>", "<>", ">|", ">&", "<&", "&>", ">", "<"):
            if rest.startswith(cand):
                op = cand
                break
        if not op:
            return None
        if op in ("<", ">") and self.s[j + 1 : j + 2] == "(":
            if fd:
                return None
            return None  # process substitution: handled as a word
        self.i = j + len(op)
        self.skip_blanks()
        if self.peek() in ("", "\n", ";", "|", "&", ")", "<", ">"):
            raise ShellParseError(f"redirection {op!r} without a target")
        if op in ("<<", "<<-"):
            start = self.i
            target = self.read_word(nested)
            raw = self.s[start : self.i]
            expands = not any(q in raw for q in ("'", '"', "\\"))
            red = Redirect(op=op, target=target, fd=fd, heredoc_expands=expands)
            self.pending_heredocs.append(red)
            return red
        target = self.read_word(nested)
        return Redirect(op=op, target=target, fd=fd)

    def read_heredoc_bodies(self) -> None:
        for red in self.pending_heredocs:
            delim = red.target.text
            strip_tabs = red.op == "<<-"
            lines: list[str] = []
            while True:
                if self.i >= len(self.s):
                    raise ShellParseError(f"heredoc delimiter {delim!r} not found")
                nl = self.s.find("\n", self.i)
                line = self.s[self.i :] if nl < 0 else self.s[self.i : nl]
                self.i = len(self.s) if nl < 0 else nl + 1
                check = line.lstrip("\t") if strip_tabs else line
                if check == delim:
                    break
                lines.append(check)
            red.heredoc_body = "\n".join(lines)
            if red.heredoc_expands and _has_substitution(red.heredoc_body):
                # the body's substitutions run when the heredoc is expanded: check them as commands
                for sub in _extract_substitutions(red.heredoc_body):
                    self.emit(self.sub(sub, "substitution"))
        self.pending_heredocs = []

    def read_word(self, nested: list[SimpleCommand]) -> Word:
        buf: list[str] = []
        w = Word(text="")
        braces = 0
        while True:
            m = _PLAIN_RUN.match(self.s, self.i)
            if m is not None:  # fast path: a run of ordinary characters
                buf.append(m.group())
                self.i = m.end()
            c = self.peek()
            if c == "" or c in " \t\n;&|)" or (c in "<>" and self.peek(1) != "("):
                break
            if c == "(":
                raise ShellParseError("unexpected '(' inside a word")
            if c in "<>" and self.peek(1) == "(":
                inner = self.read_balanced(self.i + 2)
                nested.extend(self.sub(inner, "process-substitution"))
                buf.append(f"{c}(...)")
                w.dynamic = w.substitution = True
                continue
            if c == "\\":
                n = self.peek(1)
                if n == "":
                    raise ShellParseError("trailing backslash")
                if n == "\n":
                    self.i += 2
                    continue
                buf.append(n)
                w.quoted = True
                self.i += 2
                continue
            if c == "'":
                end = self.s.find("'", self.i + 1)
                if end < 0:
                    raise ShellParseError("unterminated single quote")
                buf.append(self.s[self.i + 1 : end])
                w.quoted = True
                self.i = end + 1
                continue
            if c == "$" and self.peek(1) == "'":
                buf.append(self.read_ansi_c())
                w.quoted = True
                continue
            if c == '"' or (c == "$" and self.peek(1) == '"'):
                if c == "$":
                    self.i += 1
                self.read_double_quoted(buf, w, nested)
                w.quoted = True
                continue
            if c == "$":
                self.read_dollar(buf, w, nested)
                continue
            if c == "`":
                self.read_backtick_into(buf, w, nested)
                continue
            if c in "*?[":
                w.glob = True
            if c == "{" and not w.dynamic:
                braces += 1
                if braces > MAX_BRACES_PER_WORD:  # each look-ahead scans the rest of the word
                    raise ShellParseError(f"more than {MAX_BRACES_PER_WORD} braces in one word")
                if self.brace_expansion_ahead():
                    w.dynamic = True
            buf.append(c)
            self.i += 1
        w.text = "".join(buf)
        return w

    def brace_expansion_ahead(self) -> bool:
        j = self.i + 1
        level = 1
        while j < len(self.s) and self.s[j] not in " \t\n;&|<>()":
            if self.s[j] == "{":
                level += 1
            elif self.s[j] == "}":
                level -= 1
                if level == 0:
                    inner = self.s[self.i + 1 : j]
                    return "," in inner or ".." in inner
            j += 1
        return False

    def read_double_quoted(self, buf: list[str], w: Word, nested: list[SimpleCommand]) -> None:
        self.i += 1  # opening quote
        while True:
            c = self.peek()
            if c == "":
                raise ShellParseError("unterminated double quote")
            if c == '"':
                self.i += 1
                return
            if c == "\\":
                n = self.peek(1)
                if n in ('"', "\\", "$", "`"):
                    buf.append(n)
                    self.i += 2
                elif n == "\n":
                    self.i += 2
                else:
                    buf.append("\\")
                    self.i += 1
                continue
            if c == "$":
                self.read_dollar(buf, w, nested)
                continue
            if c == "`":
                self.read_backtick_into(buf, w, nested)
                continue
            buf.append(c)
            self.i += 1

    def read_dollar(self, buf: list[str], w: Word, nested: list[SimpleCommand]) -> None:
        n = self.peek(1)
        if n == "(":
            if self.peek(2) == "(":
                raise ShellParseError("arithmetic expansion '$(( ))' is not supported")
            inner = self.read_balanced(self.i + 2)
            nested.extend(self.sub(inner, "substitution"))
            buf.append("$(...)")
            w.dynamic = w.substitution = True
            return
        if n == "[":
            # the legacy arithmetic expansion ``$[ ]``: its array subscripts are expanded again at run time,
            # so even a quoted ``$(...)`` inside runs (``echo $['a[$(id)]']``)
            raise ShellParseError("arithmetic expansion '$[ ]' is not supported")
        if n == "{":
            end = self.s.find("}", self.i + 2)
            if end < 0:
                raise ShellParseError("unterminated '${'")
            inner = self.s[self.i + 2 : end]
            if any(x in inner for x in ("$", "`", "{", "(", "'", '"', "\\")):
                raise ShellParseError("nested expansions inside '${...}' are not supported")
            buf.append(self.s[self.i : end + 1])
            self.i = end + 1
            w.dynamic = True
            return
        if n.isalnum() or n in "_@*#?$!-":
            j = self.i + 1
            if n.isalpha() or n == "_":
                while j < len(self.s) and (self.s[j].isalnum() or self.s[j] == "_"):
                    j += 1
            else:
                j += 1
            buf.append(self.s[self.i : j])
            self.i = j
            w.dynamic = True
            return
        buf.append("$")
        self.i += 1

    def read_balanced(self, start: int) -> str:
        """Text between ``start`` and the matching ')' (quotes, escapes and nesting respected)."""
        level = 1
        j = start
        s = self.s
        while j < len(s):
            c = s[j]
            if c == "\\":
                j += 2
                continue
            if c == "'":
                k = s.find("'", j + 1)
                if k < 0:
                    raise ShellParseError("unterminated single quote")
                j = k + 1
                continue
            if c == '"':
                j += 1
                while j < len(s) and s[j] != '"':
                    j += 2 if s[j] == "\\" else 1
                j += 1
                continue
            if c == "(":
                level += 1
            elif c == ")":
                level -= 1
                if level == 0:
                    self.i = j + 1
                    return s[start:j]
            elif c == "#" and (j == start or s[j - 1] in " \t\n"):
                raise ShellParseError("comments inside a substitution are not supported")
            elif c == "<" and s[j + 1 : j + 2] == "<":
                raise ShellParseError("heredocs inside a substitution are not supported")
            j += 1
        raise ShellParseError("unbalanced parenthesis in substitution")

    def read_backtick_into(self, buf: list[str], w: Word, nested: list[SimpleCommand]) -> None:
        """A backtick substitution, bare or inside double quotes: parse its command as a nested one and
        leave a placeholder in the word, which becomes run-time dynamic."""
        nested.extend(self.sub(self.read_backtick(), "substitution"))
        buf.append("$(...)")
        w.dynamic = w.substitution = True

    def read_backtick(self) -> str:
        j = self.i + 1
        out: list[str] = []
        while j < len(self.s):
            c = self.s[j]
            if c == "\\" and j + 1 < len(self.s):
                n = self.s[j + 1]
                if n in ("`", "\\", "$"):
                    out.append(n)
                else:
                    out.append(c + n)
                j += 2
                continue
            if c == "`":
                self.i = j + 1
                return "".join(out)
            out.append(c)
            j += 1
        raise ShellParseError("unterminated backtick")

    def read_ansi_c(self) -> str:
        j = self.i + 2
        out: list[str] = []
        s = self.s
        while j < len(s):
            c = s[j]
            if c == "'":
                self.i = j + 1
                return "".join(out)
            if c != "\\":
                out.append(c)
                j += 1
                continue
            n = s[j + 1 : j + 2]
            if n in _ANSI:
                out.append(_ANSI[n])
                j += 2
            elif n in ("x", "u", "U"):
                width = {"x": 2, "u": 4, "U": 8}[n]
                k = j + 2
                digits = ""
                while k < len(s) and len(digits) < width and s[k] in "0123456789abcdefABCDEF":
                    digits += s[k]
                    k += 1
                if not digits:
                    raise ShellParseError(f"bad \\{n} escape in $'...'")
                try:
                    out.append(chr(int(digits, 16)))
                except (ValueError, OverflowError):
                    raise ShellParseError("escape out of range in $'...'") from None
                j = k
            elif n.isdigit() and n in "01234567":
                k = j + 1
                digits = ""
                while k < len(s) and len(digits) < 3 and s[k] in "01234567":
                    digits += s[k]
                    k += 1
                out.append(chr(int(digits, 8) & 0xFF))
                j = k
            elif n == "c":
                raise ShellParseError("control-character escape \\c in $'...' is not supported")
            else:
                raise ShellParseError(f"unknown escape \\{n} in $'...'")
        raise ShellParseError("unterminated $'...'")


def _is_assignment(raw: str) -> bool:
    eq = raw.find("=")
    if eq <= 0:
        return False
    name = raw[:eq].removesuffix("+")
    return name.replace("_", "a").isalnum() and not name[0].isdigit() and name.isascii()


def _has_substitution(text: str) -> bool:
    return "$(" in text or "`" in text or "<(" in text or "$[" in text


def _extract_substitutions(text: str) -> list[str]:
    """The command texts of ``$(...)`` and backticks in an expanding heredoc body."""
    p = _Parser(text, 0, "heredoc")
    found: list[str] = []
    i = 0
    while i < len(text):
        if text[i] == "\\":
            i += 2
            continue
        if text.startswith(("$((", "$["), i):
            raise ShellParseError("arithmetic expansion in a heredoc body is not supported")
        if text.startswith("$(", i):
            p.i = i
            found.append(p.read_balanced(i + 2))
            i = p.i
            continue
        if text[i] == "`":
            p.i = i
            found.append(p.read_backtick())
            i = p.i
            continue
        i += 1
    return found


def parse_command_line(command: str, *, depth: int = 0, origin: str = "command") -> list[SimpleCommand]:
    """Every simple command ``command`` would run (substitutions included), or :class:`ShellParseError`.

    ``sh -c`` strings, ``eval`` arguments and wrapped commands are *not* unwrapped here: the governor does
    that, because whether a word is a wrapper depends on the program name.
    """
    if len(command) > MAX_COMMAND_LENGTH:
        raise ShellParseError(f"command is {len(command)} characters; the limit is {MAX_COMMAND_LENGTH}")
    if "\x00" in command:
        raise ShellParseError("NUL byte in command")
    p = _Parser(command, depth, origin)
    p.parse_list(end="")
    if p.pending_heredocs:
        p.read_heredoc_bodies()
    return p.out
