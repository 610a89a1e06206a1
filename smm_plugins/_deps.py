"""Optional dependencies: import them or fail with one line naming the fix."""

from __future__ import annotations

import importlib
from types import ModuleType


def require(module: str, extra: str, *, who: str = "smm-plugins") -> ModuleType:
    """Import ``module`` or raise ``ImportError`` naming the ``pip install`` that provides it."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ImportError(
            f'{who} needs {module.split(".")[0]}: pip install "smm-plugins[{extra}]" (import failed: {exc})'
        ) from None


def available(module: str) -> bool:
    """True if ``module`` can be imported."""
    try:
        importlib.import_module(module)
    except ImportError:
        return False
    return True
