# SPDX-License-Identifier: Apache-2.0
"""Old names kept for one release: each use warns (DeprecationWarning)."""

from typing import Any, Callable, Mapping, Tuple


def module_getattr(module: str, old_names: Mapping[str, Tuple[str, Any]]) -> Callable[[str], Any]:
    """A module ``__getattr__`` (PEP 562) that answers each old name with its
    new object, warning on every use (``from sdtls import Old`` too)."""

    def __getattr__(name: str) -> Any:
        if name in old_names:
            import warnings

            new_name, obj = old_names[name]
            warnings.warn(f"{module}.{name} is deprecated and goes in sdtls 0.2: use {module}.{new_name}",
                          DeprecationWarning, stacklevel=2)
            return obj
        raise AttributeError(f"module {module!r} has no attribute {name!r}")

    return __getattr__
