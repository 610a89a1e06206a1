"""The OptunaHub registry entry: the template's files and README sections, an honest install line, runnable examples."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("optuna")
pytest.importorskip("optunahub")

import optunahub
from packaging.requirements import Requirement

import optuna_ext

FOLDER = Path(optuna_ext.REGISTRY_ROOT) / optuna_ext.REGISTRY_PACKAGE
README = (FOLDER / "README.md").read_text(encoding="utf-8")


def test_folder_has_the_template_files_and_readme_sections_in_order() -> None:
    for name in ("__init__.py", "README.md", "LICENSE", "requirements.txt", "example.py"):
        assert (FOLDER / name).is_file(), name
    headings = re.findall(r"^## (.+)$", README, flags=re.MULTILINE)
    assert headings == ["Abstract", "APIs", "Installation", "Example", "Others"]
    assert "### Reference" in README and "### Bibtex" in README


def test_install_line_says_where_the_package_comes_from() -> None:
    lines = [ln for ln in (FOLDER / "requirements.txt").read_text().splitlines() if ln and not ln.startswith("#")]
    assert len(lines) == 1
    req = Requirement(lines[0].replace("<owner>", "owner"))
    assert (req.name, req.extras) == ("smm-plugins", {"optuna"})
    assert req.url is not None and req.url.startswith("git+https://github.com/")
    assert f'pip install "{lines[0]}"' in README
    assert "not on PyPI" in README and "ship on PyPI" not in README


def test_readme_example_runs_against_the_local_folder(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    # The README loads the published package; here the same code loads this folder.
    code = re.search(r"## Example\n\n```python\n(.*?)```", README, flags=re.DOTALL)
    assert code is not None
    local = optunahub.load_local_module
    monkeypatch.setattr(
        optunahub, "load_module", lambda package, **kw: local(package, registry_root=optuna_ext.REGISTRY_ROOT)
    )
    exec(compile(code.group(1).replace("n_trials=30", "n_trials=5"), "README example", "exec"), {})
    best, test_acc = (float(v) for v in capsys.readouterr().out.split())
    assert 0 <= best <= 1 and 0 <= test_acc <= 1


@pytest.mark.slow
def test_example_script_runs_from_a_checkout() -> None:
    env = dict(os.environ, OMP_NUM_THREADS="1")
    res = subprocess.run(
        [sys.executable, str(FOLDER / "example.py")], capture_output=True, text=True, timeout=300, env=env
    )
    assert res.returncode == 0, res.stderr
    out = res.stdout.splitlines()
    assert out[0].startswith("PS, TPE: best train_acc 0.") and "its test_acc 0." in out[0]
    assert out[1].startswith("DFS, NSGA-II Pareto front (hops, train_acc): (")


def test_without_smm_plugins_the_entry_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    monkeypatch.setitem(sys.modules, "optuna_ext", None)  # as if smm-plugins were not installed
    spec = importlib.util.spec_from_file_location("smm_bench_entry", FOLDER / "__init__.py")
    assert spec is not None and spec.loader is not None
    with pytest.raises(ImportError, match=r"not on PyPI yet\): pip install .*git\+https://github\.com/") as info:
        spec.loader.exec_module(importlib.util.module_from_spec(spec))
    assert "\n" not in str(info.value)
