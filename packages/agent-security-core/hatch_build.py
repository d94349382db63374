"""Optional compiled wheel of agent-security-core: the check pipeline's hot path compiled with Cython.

Off by default: ``uv build`` / ``pip wheel`` give the pure-Python wheel (``py3-none-any``), which behaves
identically. With ``HATCH_BUILD_HOOK_ENABLE_CUSTOM=true`` the wheel build also compiles the modules in
:data:`COMPILED` (unchanged Python source, Cython's pure-Python semantics: annotations are not used as C
types) into extension modules next to their ``.py`` files, and the wheel is tagged for the interpreter
and platform that built it. Python imports the extension module when both are present. It also compiles
:data:`EXTENSIONS`, Cython source for a few helpers written at the C level (the pure-Python wheel uses
their Python versions instead).

A module on the list defines no pydantic model (pydantic reads class bodies in ways a compiled class does
not support): the kill switch's state model lives in ``builtin/_kill_switch_state.py``, which stays Python.
``tests/core/test_compiled_build.py`` checks this.

Hook implementations may be compiled: pluggy alone only registers plain Python functions, but the core's
plugin manager (``plugins.make_plugin_manager``) registers compiled ones too, so the built-in plugins,
the SDK's own plugins (``_owned.py``) and the audit sinks run compiled (``test_compiled_build.py`` checks
that they are registered and called in the compiled build).

Set ``AGENT_SECURITY_COMPILE_STRICT=1`` to make a compiler error fail the build instead of falling back to
the pure-Python wheel.
"""

from __future__ import annotations

import os
import shutil
import sys
import sysconfig
import tempfile
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

PACKAGE = "agent_security/core"

COMPILED: tuple[str, ...] = (
    "sdk.py",
    "_drive.py",
    "_fast.py",
    "_ids.py",
    "_util.py",
    "_owned.py",
    "context.py",
    "store.py",
    "jcs.py",
    "audit/chain.py",
    "audit/trail.py",
    "audit/sinks.py",
    "builtin/_base.py",
    "builtin/kill_switch.py",
    "builtin/rate_limiter.py",
    "builtin/session_context.py",
    "policy/conditions.py",
    "policy/engine.py",
    "policy/normalize.py",
    "policy/patterns.py",
)
"""The hot path, relative to ``src/agent_security/core``."""

EXTENSIONS: tuple[str, ...] = ("_fastc.pyx",)
"""Cython source (not Python), compiled into the compiled wheel only: C-level versions of helpers whose
Python versions the pure-Python wheel uses (``_fast.trusted``). The wheels leave the source out."""

DIRECTIVES: dict[str, Any] = {
    "language_level": 3,
    "binding": True,  # functions keep __signature__, __wrapped__ and introspection like Python ones
    "annotation_typing": False,  # annotations stay annotations: no C-level coercion or type checks
    "embedsignature": True,
}


def _stem(rel: str) -> str:
    return rel.rsplit(".", 1)[0]


class CompiledCoreHook(BuildHookInterface):  # type: ignore[type-arg]
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if self.target_name != "wheel" or version == "editable":
            return
        try:
            built = self._compile()
        except Exception as exc:
            if os.environ.get("AGENT_SECURITY_COMPILE_STRICT") == "1":
                raise
            print(f"agent-security-core: compiled build failed ({exc!r}); building the pure-Python wheel",
                  file=sys.stderr)
            return
        for path, target in built:
            build_data["force_include"][str(path)] = target
        build_data["pure_python"] = False
        build_data["infer_tag"] = True

    def _compile(self) -> list[tuple[Path, str]]:
        from Cython.Build import cythonize
        from setuptools import Distribution, Extension

        root = Path(self.root)
        src = root / "src"
        work = Path(tempfile.mkdtemp(prefix="agent-security-compile-"))
        self._work = work
        # Cython and the compiler see a copy, so no generated file lands in the source tree.
        shutil.copytree(src / PACKAGE, work / "src" / PACKAGE)
        flags = [] if os.name == "nt" else ["-g0"]  # no debug sections: a quarter of the size
        if sys.platform.startswith("linux"):  # calls into libpython through the GOT, not a PLT stub: ~1% a check
            flags.append("-fno-plt")
        extensions = [
            Extension(PACKAGE.replace("/", ".") + "." + _stem(rel).replace("/", "."),
                      [str(work / "src" / PACKAGE / rel)], extra_compile_args=flags)
            for rel in COMPILED + EXTENSIONS
        ]
        modules = cythonize(extensions, compiler_directives=DIRECTIVES, quiet=True,
                            nthreads=os.cpu_count() or 1)
        dist = Distribution({"ext_modules": modules, "script_name": "hatch_build.py"})
        cmd = dist.get_command_obj("build_ext")
        cmd.build_lib = str(work / "lib")
        cmd.build_temp = str(work / "tmp")
        cmd.parallel = os.cpu_count() or 1
        cmd.ensure_finalized()
        cmd.run()
        suffix = sysconfig.get_config_var("EXT_SUFFIX")
        built = []
        for rel in COMPILED + EXTENSIONS:
            target = f"{PACKAGE}/{_stem(rel)}{suffix}"
            path = work / "lib" / target
            if not path.is_file():
                raise FileNotFoundError(target)
            built.append((path, target))
        return built

    def finalize(self, version: str, build_data: dict[str, Any], artifact_path: str) -> None:
        work = getattr(self, "_work", None)
        if work is not None:
            shutil.rmtree(work, ignore_errors=True)
