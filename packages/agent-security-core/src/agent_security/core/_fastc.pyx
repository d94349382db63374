# cython: language_level=3
"""A C-level version of :func:`agent_security.core._fast.trusted`, for the compiled wheel only.

The pure-Python wheel never imports this file (it is Cython source, not Python): ``_fast`` falls back to
its own Python version, which does the same thing through Python's attribute machinery. Here each step
is one C call: the instance is allocated by the type's own allocator (what ``object.__new__`` does for
these classes, minus the argument handling of a Python-level call), and pydantic's four instance slots
are set with ``PyObject_GenericSetAttr`` (what ``object.__setattr__`` does, minus the call through a
method wrapper): ~150 ns a model instead of ~400, for the four or five models of every check.

``tests/core/test_fast_paths.py`` holds both versions equal; ``tests/core/test_compiled_build.py``
checks that the compiled wheel uses this one.
"""

from cpython.object cimport (
    Py_TPFLAGS_IS_ABSTRACT,
    PyObject_GenericSetAttr,
    PyTypeObject,
)
from cpython.type cimport PyType_Check, PyType_GenericNew

cdef str _DICT = "__dict__"
cdef str _FIELDS_SET = "__pydantic_fields_set__"
cdef str _EXTRA = "__pydantic_extra__"
cdef str _PRIVATE = "__pydantic_private__"
cdef tuple _NO_ARGS = ()


def trusted(cls, values, fields_set):
    """``agent_security.core._fast.trusted``: an instance of ``cls`` holding ``values``, unvalidated."""
    if not PyType_Check(cls):
        raise TypeError(f"cls must be a class, not {type(cls).__name__}")
    if (<PyTypeObject*>cls).tp_flags & Py_TPFLAGS_IS_ABSTRACT:  # refused, as object.__new__ refuses it
        raise TypeError(f"Can't instantiate abstract class {cls.__name__}")
    obj = PyType_GenericNew(cls, _NO_ARGS, None)  # cls->tp_alloc(cls, 0)
    PyObject_GenericSetAttr(obj, _DICT, values)
    PyObject_GenericSetAttr(obj, _FIELDS_SET, fields_set)
    PyObject_GenericSetAttr(obj, _EXTRA, None)
    PyObject_GenericSetAttr(obj, _PRIVATE, None)
    return obj

