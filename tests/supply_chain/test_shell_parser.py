"""The fail-closed shell tokenizer behind CommandGovernor."""

from __future__ import annotations

import pytest

from agent_security.supply_chain import ShellParseError, parse_command_line


def argvs(line: str) -> list[list[str]]:
    return [c.argv for c in parse_command_line(line)]


def test_operators_split_commands() -> None:
    assert argvs("a 1; b 2 && c || d & e | f\ng") == [["a", "1"], ["b", "2"], ["c"], ["d"], ["e"], ["f"], ["g"]]
    cmds = parse_command_line("a | b |& c")
    assert [c.piped_input for c in cmds] == [False, True, True]
    assert parse_command_line("a &")[0].background


def test_quotes_escapes_and_ansi_c() -> None:
    assert argvs("echo 'a b' \"c $X d\" e\\ f") == [["echo", "a b", "c $X d", "e f"]]
    assert argvs("echo $'\\x41\\101\\u00e9\\n'") == [["echo", "AAé\n"]]
    assert argvs('echo "a\\"b" \'c\'"d"') == [["echo", 'a"b', "cd"]]
    assert argvs("ec\\\nho x") == [["echo", "x"]]


def test_substitutions_are_commands_of_their_own() -> None:
    cmds = parse_command_line('echo $(id -u) `whoami` <(ls) "$(date)"')
    assert [c.argv[0] for c in cmds] == ["echo", "id", "whoami", "ls", "date"]
    assert {c.origin for c in cmds[1:]} == {"substitution", "process-substitution"}
    outer = cmds[0]
    assert all(w.substitution for w in outer.words[1:])


def test_redirections() -> None:
    (c,) = parse_command_line("cmd 2>&1 >out.txt <in.txt 3>>log &>all >|clob <>rw")
    got = [(r.fd, r.op, r.target.text) for r in c.redirects]
    assert got == [
        ("2", ">&", "1"),
        ("", ">", "out.txt"),
        ("", "<", "in.txt"),
        ("3", ">>", "log"),
        ("", "&>", "all"),
        ("", ">|", "clob"),
        ("", "<>", "rw"),
    ]


def test_heredocs() -> None:
    (c,) = parse_command_line("cat <<EOF\nline $x\nEOF")
    assert c.redirects[0].heredoc_body == "line $x" and c.redirects[0].heredoc_expands
    (c,) = parse_command_line("cat <<'EOF'\n$(id)\nEOF")
    assert c.redirects[0].heredoc_body == "$(id)" and not c.redirects[0].heredoc_expands
    cmds = parse_command_line("cat <<EOF\n$(id)\nEOF\nls")
    assert [x.argv[0] for x in cmds] == ["cat", "id", "ls"]
    (c,) = parse_command_line("cat <<-EOF\n\tx\n\tEOF")
    assert c.redirects[0].heredoc_body == "x"


def test_assignments_and_dynamic_words() -> None:
    (c,) = parse_command_line('A=1 B="x y" cmd $HOME ${X} *.py {a,b}')
    assert c.assignments == ["A=1", "B=x y"] and c.argv[0] == "cmd"
    assert [w.dynamic for w in c.words] == [False, True, True, False, True]
    assert c.words[3].glob


def test_subshells() -> None:
    cmds = parse_command_line("(a; b) > out")
    assert [c.argv for c in cmds] == [["a"], ["b"]]
    assert all(c.redirects[0].target.text == "out" for c in cmds)


@pytest.mark.parametrize(
    "line",
    [
        "if x; then y; fi",
        "while true; do x; done",
        "case a in a) x;; esac",
        "{ x; }",
        "f() { x; }",
        "echo 'open",
        'echo "open',
        "echo $(open",
        "echo `open",
        "echo $((1+1))",
        "((x++))",
        "echo ${a:-$(id)}",
        "x && ",
        "| x",
        "x |",
        "cat <<EOF\nno end",
        "echo $'\\q'",
        "a=(1 2)",
        "echo \x00",
        "[[ -f x ]]",
        "echo \\",
        "x ;; y",
        "echo > ",
        "function f { x; }",
        "! x",
        "coproc x",
    ],
)
def test_unsupported_or_broken_lines_raise(line: str) -> None:
    with pytest.raises(ShellParseError):
        parse_command_line(line)


def test_brace_look_ahead_is_bounded_per_word() -> None:
    # every unquoted '{' scanned the rest of the word: 16,000 of them took seconds (quadratic)
    from agent_security.supply_chain.shell import MAX_BRACES_PER_WORD, _Parser

    calls = 0
    original = _Parser.brace_expansion_ahead

    def counting(self: _Parser) -> bool:
        nonlocal calls
        calls += 1
        return original(self)

    _Parser.brace_expansion_ahead = counting  # type: ignore[method-assign]
    try:
        with pytest.raises(ShellParseError, match="braces in one word"):
            parse_command_line("echo " + "{" * 16_000)
    finally:
        _Parser.brace_expansion_ahead = original  # type: ignore[method-assign]
    assert calls <= MAX_BRACES_PER_WORD
    assert parse_command_line("echo {a,b}{c,d} x{1..3}")[0].words[1].dynamic
