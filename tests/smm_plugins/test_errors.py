"""Every exception class of smm-plugins and its adapters derives from ``smm_plugins.SMMBenchError``."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

import smm_plugins
from smm_plugins import FidelityError, SMMBenchError, fidelity_to_n_problems

PACKAGES = ("smm_plugins", "optuna_ext", "hpobench_ext", "synetune_ext", "carps_ext", "hposuite_ext")

# Runs in a fresh interpreter: importing every adapter registers blackboxes, plugins and loggers that the
# other tests of this process should not inherit.
_WALK = textwrap.dedent(
    """
    import importlib, importlib.util, inspect, json, pkgutil, sys

    out = {"classes": {}, "unavailable": {}, "broken": {}}
    for top in PACKAGES:
        names = [top]
        root = importlib.util.find_spec(top).submodule_search_locations
        names += [m.name for m in pkgutil.walk_packages(root, prefix=top + ".")]
        for name in names:
            try:
                mod = importlib.import_module(name)
            except ImportError as exc:
                # Only a missing optional framework may stop an import: our helper's one-line error, or a
                # module that is not ours.
                missing = getattr(exc, "name", None) or ""
                ours = missing.split(".")[0] in PACKAGES
                kind = "unavailable" if 'pip install "smm-plugins[' in str(exc) or (missing and not ours) else "broken"
                out[kind][name] = str(exc)
                continue
            for cls_name, obj in vars(mod).items():
                if inspect.isclass(obj) and issubclass(obj, Exception) and obj.__module__ == name:
                    base = sys.modules["smm_plugins.errors"].SMMBenchError
                    out["classes"][f"{name}.{cls_name}"] = issubclass(obj, base)
    print(json.dumps(out))
    """
).replace("PACKAGES", repr(PACKAGES))


@pytest.fixture(scope="module")
def walk() -> dict[str, dict[str, object]]:
    res = subprocess.run([sys.executable, "-c", _WALK], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    result: dict[str, dict[str, object]] = json.loads(res.stdout.strip().splitlines()[-1])
    return result


@pytest.mark.slow  # imports every adapter and its framework (torch, Ray, Syne Tune, ...): ~15 s of imports
def test_every_exception_class_derives_from_smmbench_error(walk: dict[str, dict[str, object]]) -> None:
    assert walk["broken"] == {}, "modules that fail to import for a reason other than a missing optional framework"
    classes = walk["classes"]
    # The walk found the package's own error classes (a walk that imports nothing would pass vacuously).
    assert {"smm_plugins.fidelity.FidelityError", "smm_plugins.model_files.ModelFileError"} <= set(classes)
    assert [name for name, ok in classes.items() if not ok] == []


def test_base_is_public_and_keeps_builtin_bases() -> None:
    assert "SMMBenchError" in smm_plugins.__all__ and smm_plugins.SMMBenchError is SMMBenchError
    with pytest.raises(SMMBenchError, match="n_problems"):
        fidelity_to_n_problems({"epochs": 3}, 1069)
    with pytest.raises(ValueError):  # existing `except ValueError` clauses keep catching it
        fidelity_to_n_problems({"epochs": 3}, 1069)
    assert issubclass(FidelityError, ValueError)
