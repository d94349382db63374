"""Write docs/hooks.md from the hook specifications (``agent_security.core.hookspecs``).

The docstrings in the hookspec module are the one description of every hook; this page is generated
from them and ``tests/core/test_docs.py`` fails when it is out of date. Run: ``python scripts/gen_hooks_doc.py``.
"""

from __future__ import annotations

import inspect
import sys
from pathlib import Path

from agent_security.core import hookspecs

ROOT = Path(__file__).resolve().parents[1]
TARGET = ROOT / "docs" / "hooks.md"


def render() -> str:
    out = [
        "# Hook reference",
        "",
        "<!-- Generated from agent_security.core.hookspecs by scripts/gen_hooks_doc.py: edit the docstrings there. -->",
        "",
        inspect.cleandoc(hookspecs.__doc__ or ""),
        "",
    ]
    for name in hookspecs.hook_names():
        fn = getattr(hookspecs, name)
        args = ", ".join(inspect.signature(fn).parameters)
        opts = getattr(fn, f"{hookspecs.PROJECT_NAME}_spec", {}) or {}
        flags = [flag for flag in ("firstresult", "historic") if opts.get(flag)]
        family = "check hook" if name in hookspecs.CHECK_HOOKS else "distribution hook"
        out += [
            f"## `{name}({args})`",
            "",
            f"*{family}*" + (f" ({', '.join(flags)})" if flags else ""),
            "",
            inspect.cleandoc(fn.__doc__ or ""),
            "",
        ]
    return "\n".join(out).rstrip() + "\n"


def main() -> int:
    TARGET.write_text(render(), encoding="utf-8")
    print(f"wrote {TARGET.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
