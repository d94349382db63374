"""Spare a hook's fresh process pydantic's search for pydantic plugins when none is installed.

pydantic looks for its plugins (entry-point group ``pydantic``) when it builds its first validator:
``pydantic.plugin._loader`` imports :mod:`importlib.metadata` (with :mod:`email`, :mod:`zipfile`,
:mod:`csv`...) and reads every installed distribution's entry points. In a hook's in-process check that is
about 4% of the call (some 57 million instructions) spent to find nothing. When
:func:`agent_security.core.entry_points.declares` reads that no installed distribution declares the group
(read exactly, or not at all), :func:`skip_search` puts in the loader's place a module whose
``get_plugins()`` returns what pydantic's would: no plugin. Any other name asked of it loads pydantic's
own loader, so a pydantic that needs more of it gets the real one. Nothing is done when pydantic's loader
is already imported, or when the group is declared or cannot be read exactly: pydantic then searches as
it always does.
"""

from __future__ import annotations

import sys
from types import ModuleType

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["LOADER", "skip_search"]

LOADER = "pydantic.plugin._loader"


class _NoPlugins(ModuleType):
    """Stands in for ``pydantic.plugin._loader`` while no pydantic plugin is installed."""

    @staticmethod
    def get_plugins() -> tuple[()]:
        return ()

    def __getattr__(self, name: str) -> Any:
        # a name pydantic's own loader has and this one does not: hand over to the real one
        if name.startswith("__"):
            raise AttributeError(name)
        if sys.modules.get(LOADER) is self:
            del sys.modules[LOADER]
        import importlib

        return getattr(importlib.import_module(LOADER), name)


def skip_search() -> bool:
    """Install the stand-in when no distribution declares a pydantic plugin; whether it was installed."""
    if LOADER in sys.modules:
        return False
    from agent_security.core.entry_points import declares

    if declares("pydantic") is not False:
        return False
    sys.modules[LOADER] = _NoPlugins(LOADER, __doc__)
    return True
