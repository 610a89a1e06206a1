"""Keep ``BlackboxRepositoryBackend(blackbox_name="smm-...")`` working in every process that unpickles it.

Syne Tune pickles only the blackbox *name* and looks it up again with ``load_blackbox`` in the process
that unpickles the backend; there are no entry points, so that process must have registered the name.
For names registered by this package, the pickled state carries one extra entry whose unpickling
imports ``synetune_ext`` (which registers every benchmark) before the backend needs its blackbox.
"""

from __future__ import annotations

from typing import Any

from smm_plugins._deps import require

_tabular = require("syne_tune.blackbox_repository.simulated_tabular_backend", "synetune", who="synetune_ext")

_STATE_KEY = "smm_plugins_registration"


def _reregister(name: str) -> str:
    # Runs while unpickling: importing this module has already imported (and so registered) synetune_ext.
    from synetune_ext.blackbox import register_blackbox, registered_blackboxes

    if name not in registered_blackboxes():
        register_blackbox(name)
    return name


class _Registration:
    """Pickles as a call to :func:`_reregister` (so unpickling imports this package)."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        return (_reregister, (self.name,))


def install() -> None:
    """Wrap ``BlackboxRepositoryBackend.__getstate__`` once (idempotent)."""
    cls = _tabular.BlackboxRepositoryBackend
    original = cls.__getstate__
    if getattr(original, "_smm_plugins", False):
        return

    def __getstate__(self: Any) -> dict[str, Any]:
        from synetune_ext.blackbox import registered_blackboxes

        state = original(self)
        if self.blackbox_name in registered_blackboxes():
            state[_STATE_KEY] = _Registration(self.blackbox_name)
        return state

    __getstate__._smm_plugins = True  # type: ignore[attr-defined]
    __getstate__.__wrapped__ = original  # type: ignore[attr-defined]
    cls.__getstate__ = __getstate__
