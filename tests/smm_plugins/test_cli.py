"""The smm-bench command line, in-process through main([...]) and once as the console script."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from smm_plugins import cli
from smm_plugins.cli import main
from smm_plugins.surrogate import SurrogateBenchmark


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _floats(text: str) -> np.ndarray:
    return np.array([float(v) for v in text.split()])


def test_list(capsys: pytest.CaptureFixture[str], data_dir: Path) -> None:
    code, out, _ = _run(capsys, "list")
    assert code == 0
    assert "smm-bench-ps" in out and "smm-mini-dfs-true" in out and f"data directory: {data_dir}" in out
    code, out, _ = _run(capsys, "list", "--json")
    doc = json.loads(out)
    by_name = {b["name"]: b for b in doc["benchmarks"]}
    assert by_name["smm-bench-ps"]["available"] is False and doc["data_dir"] == str(data_dir)


def test_list_by_suite(capsys: pytest.CaptureFixture[str], scratch_registry) -> None:
    from smm_plugins.registry import list_benchmarks, register_benchmark

    register_benchmark("toy-member", "smm_plugins.testing:SyntheticBenchmark", suites=("toys",))
    code, out, _ = _run(capsys, "list")
    assert code == 0 and out.splitlines()[0].split() == ["name", "suite", "description"]
    rows = {line.split()[1]: line.split()[2] for line in out.splitlines() if line[:3] in ("ok ", "-- ")}
    assert rows["smm-mini-ps-true"] == "smm-mini" and rows["smm-mini-ps"] == "-" and rows["toy-member"] == "toys"
    assert "suite toys: 1 benchmarks" in out
    code, out, _ = _run(capsys, "list", "--suite", "smm-mini")
    listed = [line.split()[1] for line in out.splitlines() if line[:3] in ("ok ", "-- ")]
    assert code == 0 and listed == list_benchmarks(suite="smm-mini") and "toy-member" not in out
    code, out, _ = _run(capsys, "list", "--suite", "smm-mini", "--json")
    doc = json.loads(out)
    assert [b["name"] for b in doc["benchmarks"]] == list_benchmarks(suite="smm-mini")
    assert all("smm-mini" in b["suites"] and b["kind"] == "true" for b in doc["benchmarks"])
    assert {"smm-mini", "toys"} <= set(doc["suites"])
    code, out, _ = _run(capsys, "info", "smm-mini-ps-true")
    assert code == 0 and "suites:      smm-mini" in out.splitlines()
    code, out, _ = _run(capsys, "info", "smm-mini-ps", "--json")
    assert code == 0 and json.loads(out)["suites"] == []
    code, _, err = _run(capsys, "list", "--suite", "no-such-suite")
    assert code == 1 and "suite = 'no-such-suite' is not a registered suite; known suites:" in err and "toys" in err


def test_install_then_info_and_eval_by_name(
    capsys: pytest.CaptureFixture[str], data_dir: Path, tmp_path: Path, ps_dir: Path, dfs_dir: Path
) -> None:
    archive = tmp_path / "dl.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for d in (ps_dir, dfs_dir):
            for p in d.iterdir():
                zf.write(p, f"SMM-Bench/{d.name}/{p.name}")
    code, out, err = _run(capsys, "install", str(archive))
    assert code == 0, err
    assert "installed smm-bench-ps (64 variables; train_acc: 3 folds, test_acc: 3 folds)" in out
    assert "installed smm-bench-dfs" in out
    code, out, _ = _run(capsys, "list", "--json")
    assert all(b["available"] for b in json.loads(out)["benchmarks"] if b["kind"] == "official")

    code, out, _ = _run(capsys, "info", "smm-bench-dfs")
    assert code == 0
    assert "variables:   95 (63 continuous, 32 categorical)" in out and "2509.02555" in out
    assert "layer_00" in out and "one of {0, 1, 2}" in out and "[0.4, 1.5]" in out
    code, out, _ = _run(capsys, "info", "smm-bench-ps", "--json")
    doc = json.loads(out)
    assert doc["dim"] == 64 and doc["space"]["parameters"][0]["upper"] == 1.0 and doc["kind"] == "official"
    assert doc["fidelity"]["range"] == [39, 1069] and doc["fidelity"]["ladder"] == [39, 118, 356, 1069]
    assert doc["meta"]["task"].startswith("accuracy of a merge of two Mistral-7B")

    code, out, _ = _run(capsys, "eval", "smm-bench-ps", "--random", "7", "--seed", "3", "--objective", "test_acc")
    assert code == 0
    bench = SurrogateBenchmark(ps_dir)
    expected = bench.evaluate(bench.space.sample(7, 3), "test_acc")
    np.testing.assert_array_equal(_floats(out), expected)  # repr round-trips exactly


def test_info_says_what_the_embedded_benchmarks_are(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "info", "smm-mini-dfs-true")
    assert code == 0
    assert "n_problems in [37, 1000]" in out and "[37, 111, 333, 1000]" in out
    assert "exact: evaluated on the seed's fixed subset" in out and "Japanese" not in out
    assert "OfficialCostModel" in out and "train_acc 310.0 s" in out  # a real merge: minutes
    code, out, _ = _run(capsys, "info", "smm-mini-ps", "--json")
    doc = json.loads(out)
    assert "SubsetNoiseModel(difficulty_spread=5.0)" in doc["fidelity"]["low_fidelity"]
    assert doc["cost_seconds_default_config"] == {"train_acc": 310.0, "test_acc": 310.0}


def test_eval_config_files(capsys: pytest.CaptureFixture[str], tmp_path: Path, dfs_dir: Path) -> None:
    bench = SurrogateBenchmark(dfs_dir)
    X = bench.space.sample(6, 1)
    expected = bench.evaluate(X)
    np.save(tmp_path / "c.npy", X)
    order = list(range(95))[::-1]  # CSV columns in any order, matched by header names
    lines = [",".join(bench.space.names[j] for j in order)] + [
        ",".join(repr(float(row[j])) for j in order) for row in X
    ]
    (tmp_path / "c.csv").write_text("\n".join(lines) + "\n")
    (tmp_path / "n.csv").write_text("\n".join(",".join(repr(float(v)) for v in row) for row in X) + "\n")
    with open(tmp_path / "c.jsonl", "w") as fh:
        for i, row in enumerate(X):
            fh.write(json.dumps(bench.space.to_config(row) if i % 2 else row.tolist()) + "\n\n")
    for name in ("c.npy", "c.csv", "n.csv", "c.jsonl"):
        code, out, err = _run(capsys, "eval", str(dfs_dir), "--configs", str(tmp_path / name))
        assert code == 0, (name, err)
        np.testing.assert_array_equal(_floats(out), expected)


@pytest.mark.parametrize("suffix", [".npy", ".csv", ".jsonl", ".txt"])
def test_eval_out_file(capsys: pytest.CaptureFixture[str], tmp_path: Path, ps_dir: Path, suffix: str) -> None:
    out_file = tmp_path / ("res" + suffix)
    code, out, _ = _run(capsys, "eval", str(ps_dir), "--random", "4", "--seed", "0", "--out", str(out_file))
    assert code == 0 and out == ""
    bench = SurrogateBenchmark(ps_dir)
    expected = bench.evaluate(bench.space.sample(4, 0))
    if suffix == ".npy":
        got = np.load(out_file)
    elif suffix == ".csv":
        lines = out_file.read_text().split()
        assert lines[0] == "train_acc"
        got = _floats(" ".join(lines[1:]))
    elif suffix == ".jsonl":
        got = np.array([json.loads(line)["train_acc"] for line in out_file.read_text().splitlines()])
    else:
        got = _floats(out_file.read_text())
    np.testing.assert_array_equal(got, expected)


def test_eval_large_batch_uses_chunks(
    capsys: pytest.CaptureFixture[str], ps_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cli, "_CHUNK", 10)
    code, out, _ = _run(capsys, "eval", str(ps_dir), "--random", "35", "--seed", "5")
    assert code == 0
    bench = SurrogateBenchmark(ps_dir)
    np.testing.assert_array_equal(_floats(out), bench.evaluate(bench.space.sample(35, 5)))


def test_strict_and_clip(capsys: pytest.CaptureFixture[str], tmp_path: Path, ps_dir: Path) -> None:
    X = np.full((3, 64), 0.5)
    X[2, 9] = 1.7
    np.save(tmp_path / "bad.npy", X)
    code, out, err = _run(capsys, "eval", str(ps_dir), "--configs", str(tmp_path / "bad.npy"))
    assert code == 1 and out == ""
    assert (
        err
        == "smm-bench: error: configs[2] variable 'w_A_09' = 1.7 is out of range; allowed: a finite number in [0, 1]\n"
    )
    code, out, err = _run(capsys, "eval", str(ps_dir), "--configs", str(tmp_path / "bad.npy"), "--clip")
    assert code == 0
    X[2, 9] = 1.0
    np.testing.assert_array_equal(_floats(out), SurrogateBenchmark(ps_dir).evaluate(X))


@pytest.mark.parametrize(
    "content, name, match",
    [
        ("w_A_00,bogus\n0.1,0.2\n", "h.csv", "header does not match the variables of smm-bench-ps; unknown: ['bogus']"),
        ("0.1,0.2\n", "short.csv", "line 1 has 2 values; smm-bench-ps needs 64"),
        ('{"w_A_00": "x"}\n', "s.jsonl", "line 1: config is missing 63 parameter(s)"),
        ("[1, 2\n", "b.jsonl", "line 1 is not valid JSON"),
        ("", "e.jsonl", "holds no configurations"),
        ("abc", "c.yaml", "unknown configuration format .yaml"),
        ("[[0.5]]", "seed.jsonl --seed 3", "--seed only applies to --random N"),
    ],
)
def test_config_file_errors_are_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, ps_dir: Path, content: str, name: str, match: str
) -> None:
    name, *extra = name.split()
    (tmp_path / name).write_text(content)
    code, out, err = _run(capsys, "eval", str(ps_dir), "--configs", str(tmp_path / name), *extra)
    assert code == 1 and match in err and err.count("\n") == 1 and "Traceback" not in err


def test_csv_non_number_names_variable(capsys: pytest.CaptureFixture[str], tmp_path: Path, ps_dir: Path) -> None:
    names = SurrogateBenchmark(ps_dir).space.names
    row = ["0.5"] * 64
    row[3] = "abc"
    (tmp_path / "x.csv").write_text(",".join(names) + "\n" + ",".join(row) + "\n")
    code, _, err = _run(capsys, "eval", str(ps_dir), "--configs", str(tmp_path / "x.csv"))
    assert code == 1 and "line 2: variable 'w_A_03' = 'abc' is not a number" in err


def test_errors_without_and_with_debug(capsys: pytest.CaptureFixture[str], data_dir: Path) -> None:
    code, out, err = _run(capsys, "eval", "smm-bench-ps", "--random", "3")
    assert code == 1 and out == ""
    assert err.startswith("smm-bench: error: smm-bench-ps is not installed") and "smm-bench install PATH" in err
    assert err.count("\n") == 1 and "Traceback" not in err
    code, _, err = _run(capsys, "--debug", "eval", "smm-bench-ps", "--random", "3")
    assert code == 1 and "Traceback (most recent call last)" in err and "BenchmarkNotInstalledError" in err
    code, _, err = _run(capsys, "info", "nope-bench")
    assert code == 1 and "no benchmark named 'nope-bench'" in err


def test_usage_errors(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert main(["eval", "x"]) == 2  # --configs or --random is required
    assert main(["eval", "x", "--random", "0"]) == 2
    assert main(["eval", "x", "--random", "2", "--objective", "val_acc"]) == 2
    assert main(["--help"]) == 0
    capsys.readouterr()


def test_verbose_logging(capsys: pytest.CaptureFixture[str], tmp_path: Path, ps_dir: Path) -> None:
    code, _, err = _run(capsys, "eval", str(ps_dir), "--random", "2", "-v", "--out", str(tmp_path / "r.txt"))
    assert code == 0 and "wrote 2 results" in err
    code, _, err = _run(capsys, "eval", str(ps_dir), "--random", "2", "--out", str(tmp_path / "r.txt"))
    assert code == 0 and "wrote" not in err


def test_install_error_is_one_line(capsys: pytest.CaptureFixture[str], data_dir: Path, tmp_path: Path) -> None:
    code, _, err = _run(capsys, "install", str(tmp_path / "nothing-here"))
    assert code == 1 and "does not exist" in err and err.count("\n") == 1


@pytest.mark.slow
def test_console_script(tmp_path: Path, ps_dir: Path) -> None:
    exe = shutil.which("smm-bench", path=str(Path(sys.executable).parent)) or shutil.which("smm-bench")
    assert exe, "the smm-bench console script is not installed"
    env = {**os.environ, "SMM_BENCH_DATA_DIR": str(tmp_path / "data"), "OMP_NUM_THREADS": "1"}
    res = subprocess.run(
        [exe, "eval", str(ps_dir), "--random", "3", "--seed", "2"], capture_output=True, text=True, env=env, timeout=120
    )
    assert res.returncode == 0, res.stderr
    bench = SurrogateBenchmark(ps_dir)
    np.testing.assert_array_equal(_floats(res.stdout), bench.evaluate(bench.space.sample(3, 2)))
    res = subprocess.run([exe, "info", "smm-bench-ps"], capture_output=True, text=True, env=env, timeout=120)
    assert res.returncode == 1 and res.stderr.startswith("smm-bench: error: smm-bench-ps is not installed")
    assert "Traceback" not in res.stderr


@pytest.mark.slow
def test_readme_python_api_block_runs(data_dir: Path) -> None:
    import re

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Python API", 1)[1].split("\n## ", 1)[0]
    (code,) = re.findall(r"```python\n(.*?)```", section, flags=re.S)
    namespace: dict = {}
    # Runs on the embedded benchmarks, with an empty data directory: as on a fresh machine.
    exec(compile(code, "README.md#python-api", "exec"), namespace)
    assert namespace["bench"].name == "smm-mini-ps" and namespace["dfs"].space.dim == 95
