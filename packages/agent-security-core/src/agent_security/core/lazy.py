"""A package's public names resolved on first use (PEP 562), for the distributions' ``__init__`` modules.

``import agent_security.core`` (or ``agent_security.egress``) then loads nothing but the package itself: a
hook's client that the daemon answers never pays for pydantic or the pipeline, and a check does not load
what it does not use (verification, signing, reports). Standard library only.

Usage, at the end of a package's ``__init__.py``::

    __getattr__, __dir__ = lazy_exports(__name__, {"PolicyEngine": "agent_security.core.policy.engine"},
                                        distribution="agent-security-core")
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from typing import Any

__all__ = ["lazy_exports"]


def lazy_exports(
    package: str, names: Mapping[str, str], *, distribution: str | None = None
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The ``__getattr__`` and ``__dir__`` of ``package``: each of ``names`` is imported from the module it
    maps to on first use and kept in the package; ``__version__`` is ``distribution``'s installed version."""
    namespace = sys.modules[package].__dict__

    def __getattr__(name: str) -> Any:
        module = names.get(name)
        if module is not None:
            __import__(module)
            value = getattr(sys.modules[module], name)
        elif name == "__version__" and distribution is not None:
            from importlib import metadata

            value = metadata.version(distribution)
        else:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted({*namespace, *namespace.get("__all__", ())})

    return __getattr__, __dir__
