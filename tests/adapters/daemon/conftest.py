"""The daemon tests' fixture (``denv``), from :mod:`daemon_support`."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from daemon_support import denv

__all__ = ["denv"]
