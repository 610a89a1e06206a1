"""A quiet simulated tuning run on an SMM-Bench blackbox (Syne Tune simulator, simulated seconds)."""

from __future__ import annotations

import contextlib
import io
import logging
import os
import tempfile
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from smm_plugins._deps import require
from smm_plugins.benchmark import Benchmark
from synetune_ext.blackbox import ELAPSED_TIME, FIDELITY, SMMBlackbox
from synetune_ext.results import FULL_FIDELITY_ATTR

_baselines = require("syne_tune.optimizer.baselines", "synetune", who="synetune_ext")
_tuner = require("syne_tune.tuner", "synetune", who="synetune_ext")
_stop = require("syne_tune.stopping_criterion", "synetune", who="synetune_ext")
_simcb = require("syne_tune.backend.simulator_backend.simulator_callback", "synetune", who="synetune_ext")
_tabular = require("syne_tune.blackbox_repository.simulated_tabular_backend", "synetune", who="synetune_ext")
if TYPE_CHECKING:
    from syne_tune import tuner_logger as _tlog
else:
    _tlog = require("syne_tune.tuner_logger", "synetune", who="synetune_ext")

__all__ = ["run_simulated_tuning", "tuner_sleep_time", "MULTI_FIDELITY_SCHEDULERS"]


#: Schedulers built with ``time_attr="n_problems"``, ``grace_period`` = smallest and ``max_t`` = largest size.
MULTI_FIDELITY_SCHEDULERS = ("ASHA", "BOHB", "ASHABORE", "ASHACQR")


class _SilentTunerLogger(_tlog.TunerLogger):
    """Syne Tune's user-facing output, switched off (the results frame is the output)."""


for _name in dir(_tlog.TunerLogger):
    if _name.startswith("print"):
        setattr(_SilentTunerLogger, _name, lambda self, *args, **kwargs: None)


def _make_scheduler(name: str, blackbox: SMMBlackbox, metric: str, seed: int, kwargs: dict[str, Any]) -> Any:
    cls = getattr(_baselines, name, None)
    if not isinstance(cls, type):
        raise ValueError(f"scheduler = {name!r} is not a Syne Tune baseline; e.g. RandomSearch, TPE, REA, ASHA, BOHB")
    args: dict[str, Any] = {"config_space": blackbox.configuration_space, "do_minimize": False, "random_seed": seed}
    if name in MULTI_FIDELITY_SCHEDULERS:
        levels = blackbox.fidelity_values
        args.update(metric=metric, time_attr=FIDELITY, max_t=int(levels.max()), grace_period=int(levels.min()))
    elif name in ("RandomSearch", "EHVI"):
        args["metrics"] = [metric]
    else:
        args["metric"] = metric
    args.update(kwargs)
    return cls(**args)


@contextlib.contextmanager
def _quiet_experiment(output_dir: str | None) -> Iterator[None]:
    # The Tuner writes under $SYNETUNE_FOLDER and prints via print(): point it at a folder, swallow stdout,
    # and keep the caller's global numpy RNG (RandomSearch draws from it) as it was.
    saved_env = os.environ.get("SYNETUNE_FOLDER")
    saved_rng = np.random.get_state()  # noqa: NPY002 - RandomSearch reads the legacy global state
    # Syne Tune's ASHA/BOHB baselines always trigger this searcher warning about their own arguments.
    noisy = logging.getLogger("syne_tune.optimizer.schedulers.searchers.last_value_multi_fidelity_searcher")
    saved_level = noisy.level
    noisy.setLevel(logging.ERROR)
    with contextlib.ExitStack() as stack:
        folder = output_dir or stack.enter_context(tempfile.TemporaryDirectory(prefix="smm-synetune-"))
        os.environ["SYNETUNE_FOLDER"] = str(folder)
        stack.enter_context(contextlib.redirect_stdout(io.StringIO()))
        try:
            yield
        finally:
            np.random.set_state(saved_rng)  # noqa: NPY002 - see above
            noisy.setLevel(saved_level)
            if saved_env is None:
                os.environ.pop("SYNETUNE_FOLDER", None)
            else:
                os.environ["SYNETUNE_FOLDER"] = saved_env


def run_simulated_tuning(
    benchmark: str | Benchmark | SMMBlackbox,
    scheduler: str | Any = "RandomSearch",
    *,
    max_trials: int = 50,
    max_simulated_seconds: float | None = None,
    n_workers: int = 1,
    seed: int = 0,
    fidelities: Sequence[int] | bool | None = None,
    metric: str = "train_acc",
    scheduler_kwargs: dict[str, Any] | None = None,
    output_dir: str | None = None,
) -> pd.DataFrame:
    """Run Syne Tune's simulator on a benchmark and return the results ``DataFrame`` (one row per report).

    ``scheduler``: a baseline name (``"RandomSearch"``, ``"TPE"``, ``"REA"``, ``"ASHA"``, ``"BOHB"``, ...) or a
    scheduler instance; it maximises ``metric``. ``fidelities`` as in :class:`SMMBlackbox`; ``None`` gives the
    fidelity ladder to multi-fidelity schedulers (:data:`MULTI_FIDELITY_SCHEDULERS` and scheduler instances)
    and the full split only to the others, which learn from a trial's full-size value either way. Stops after
    ``max_trials`` finished trials or ``max_simulated_seconds`` of simulated time, on ``n_workers`` simulated
    workers. ``st_tuner_time`` is simulated seconds (the benchmark's cost model plus the scheduler's real
    compute time, as Syne Tune's simulator intends, so it varies by milliseconds between runs). The incumbent
    is :func:`~synetune_ext.best_full_fidelity` of the frame (not its noisy low-fidelity maximum). Quiet:
    nothing is printed; files go to a temporary folder unless ``output_dir``. Same arguments and seed give
    the same trials and values.
    """
    if fidelities is None:
        fidelities = not isinstance(scheduler, str) or scheduler in MULTI_FIDELITY_SCHEDULERS
    blackbox = (
        benchmark if isinstance(benchmark, SMMBlackbox) else SMMBlackbox(benchmark, fidelities=fidelities, seed=seed)
    )
    backend = _tabular.UserBlackboxBackend(
        blackbox=blackbox, elapsed_time_attr=ELAPSED_TIME, seed=seed, tuner_sleep_time=tuner_sleep_time(blackbox)
    )
    stop = _stop.StoppingCriterion(max_num_trials_finished=max_trials, max_wallclock_time=max_simulated_seconds)
    callback = _simcb.SimulatorCallback()
    with _quiet_experiment(output_dir):
        np.random.seed(seed)  # noqa: NPY002 - RandomSearch reads the legacy global state
        sched = (
            _make_scheduler(scheduler, blackbox, metric, seed, dict(scheduler_kwargs or {}))
            if isinstance(scheduler, str)
            else scheduler
        )
        tuner = _tuner.Tuner(
            trial_backend=backend,
            scheduler=sched,
            stop_criterion=stop,
            n_workers=n_workers,
            sleep_time=0,
            callbacks=[callback],
            save_tuner=False,
            tuner_name=f"smm-{blackbox.benchmark.name}",
            output_logger=_SilentTunerLogger(use_colors=False, use_emojis=False),
        )
        tuner.run()
    results = callback.dataframe()
    results.attrs[FULL_FIDELITY_ATTR] = blackbox.full_fidelity
    return results


def tuner_sleep_time(blackbox: SMMBlackbox, fraction: float = 0.02) -> float:
    """Simulated seconds per idle tuner loop: ``fraction`` of the cheapest evaluation (at the lowest fidelity).

    The simulator advances its clock by this much whenever all workers are busy, so a worker that becomes
    free waits up to this long for its next trial; a small fraction of the cheapest evaluation keeps that
    idle time negligible, and not smaller, since every loop costs real compute time. At least 1 ms.
    """
    x0 = blackbox.benchmark.space.default_vector()
    cheapest = float(blackbox.benchmark.cost(x0, "train_acc", int(blackbox.fidelity_values.min())))
    return max(fraction * cheapest, 1e-3)
