"""Several processes optimising one Optuna study by name, as docs/adapters.md shows: journal file storage."""

import os
import subprocess
import sys
import textwrap

import pytest

optuna = pytest.importorskip("optuna")
from optuna.storages import JournalStorage
from optuna.storages.journal import JournalFileBackend

import optuna_ext

# One worker: waits until every worker is ready (so that they write to the file at the same time), then runs
# `study.optimize` on the shared study and prints the numbers of the trials it ran.
_WORKER = textwrap.dedent(
    """
    import os, pathlib, sys, time
    import optuna
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend
    import optuna_ext

    journal, n_trials, ready, n_workers = sys.argv[1], int(sys.argv[2]), pathlib.Path(sys.argv[3]), int(sys.argv[4])
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    problem = optuna_ext.Problem("smm-mini-ps")
    storage = JournalStorage(JournalFileBackend(journal))
    study = optuna.create_study(
        study_name="shared", storage=storage, load_if_exists=True, directions=problem.directions
    )
    (ready / str(os.getpid())).touch()
    deadline = time.monotonic() + 120
    while len(list(ready.iterdir())) < n_workers and time.monotonic() < deadline:
        time.sleep(0.05)
    study.optimize(problem, n_trials=n_trials, callbacks=[lambda s, t: print("trial", t.number, flush=True)])
    """
)


@pytest.mark.slow
def test_two_processes_share_one_study_on_a_journal_file(tmp_path):
    n_trials, n_workers = 15, 2
    journal, ready = tmp_path / "study.log", tmp_path / "ready"
    ready.mkdir()
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    args = [sys.executable, "-c", _WORKER, str(journal), str(n_trials), str(ready), str(n_workers)]
    procs = [
        subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        for _ in range(n_workers)
    ]
    outputs = [p.communicate(timeout=300) for p in procs]
    for p, (_, err) in zip(procs, outputs, strict=True):
        assert p.returncode == 0, err[-2000:]
    ran = [{int(line.split()[1]) for line in out.splitlines() if line.startswith("trial ")} for out, _ in outputs]
    assert all(len(numbers) == n_trials for numbers in ran), ran  # every worker ran its own trials ...
    assert len(set().union(*ran)) == n_workers * n_trials  # ... and no trial ran twice

    study = optuna.load_study(study_name="shared", storage=JournalStorage(JournalFileBackend(str(journal))))
    trials = study.get_trials(deepcopy=False)
    assert sorted(t.number for t in trials) == list(range(n_workers * n_trials))  # none lost
    assert {t.state for t in trials} == {optuna.trial.TrialState.COMPLETE}
    problem = optuna_ext.Problem("smm-mini-ps")
    benchmark = problem.benchmark
    for t in trials:
        x = problem.to_vector(t.params)
        assert t.value == pytest.approx(benchmark.evaluate(x))
        assert t.user_attrs["test_acc"] == pytest.approx(benchmark.evaluate(x, "test_acc"))
        assert t.user_attrs["cost_seconds"] == pytest.approx(benchmark.cost(x))
