"""Keep ``BlackboxRepositoryBackend(blackbox_name="smm-...")`` working, with its settings, in every process.

Syne Tune pickles only a backend's blackbox *name* and looks it up again with ``load_blackbox`` in the
process that unpickles it (``Tuner.load``, Ray workers); there are no entry points, so that process would
need the same registration, made with the same settings. For a name under which an
:class:`~synetune_ext.blackbox.SMMBlackbox` is registered, the pickled state also carries that blackbox
(its name and settings, not its models). Unpickling it imports ``synetune_ext`` (which installs this hook
and registers every benchmark) before the backend's state is set; the backend then uses the carried
blackbox, and registers it under the name where the unpickling process has none.
"""

from __future__ import annotations

from typing import Any

from smm_plugins._deps import require

_tabular = require("syne_tune.blackbox_repository.simulated_tabular_backend", "synetune", who="synetune_ext")
_gop = require("syne_tune.blackbox_repository.global_optimization_problems", "synetune", who="synetune_ext")

_STATE_KEY = "smm_plugins_blackbox"
_MARK = "_smm_plugins"


def _carried_blackbox(backend: Any) -> Any:
    from synetune_ext.blackbox import SMMBlackbox, registered_blackbox

    if isinstance(backend._blackbox, SMMBlackbox):
        return backend._blackbox
    if backend.dataset is None and backend._surrogate is None:
        return registered_blackbox(backend.blackbox_name)
    return None


def install() -> None:
    """Wrap ``BlackboxRepositoryBackend.__getstate__``/``__setstate__`` once (idempotent)."""
    cls = _tabular.BlackboxRepositoryBackend
    get_original, set_original = cls.__getstate__, cls.__setstate__
    if getattr(get_original, _MARK, False):
        return

    def __getstate__(self: Any) -> dict[str, Any]:
        state = get_original(self)
        blackbox = _carried_blackbox(self)
        if blackbox is not None:
            state[_STATE_KEY] = blackbox
        return state

    def __setstate__(self: Any, state: dict[str, Any]) -> None:
        state = dict(state)
        blackbox = state.pop(_STATE_KEY, None)
        set_original(self, state)
        if blackbox is not None:
            self._blackbox = blackbox
            # load_blackbox(name) in this process then finds the same benchmark and settings.
            _gop.global_optimization_problem_collection.setdefault(self.blackbox_name, blackbox)

    for wrapper, original in ((__getstate__, get_original), (__setstate__, set_original)):
        setattr(wrapper, _MARK, True)
        setattr(wrapper, "__wrapped__", original)  # noqa: B010 - two functions of different types in one loop
    cls.__getstate__ = __getstate__
    cls.__setstate__ = __setstate__
