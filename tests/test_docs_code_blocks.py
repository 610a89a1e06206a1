"""Every code block of the guides (``docs/*.md``) runs, as the README's quickstarts do.

How a block is treated depends on its fence's language:

- ``python``: run with this interpreter, in the page's working folder;
- ``sh``: run with ``bash -e`` in the same folder, with this environment's console scripts (``smm-bench``) first
  on ``PATH`` and ``benchmarks/`` linked in, as from a checkout;
- ``toml``, ``json``, ``yaml``: parsed (an experiment file is also read by ``load_experiment``), in the fast tests;
- ``text``: not run (output samples, error messages, formulas).

The blocks of one page run in order in one temporary folder, so a block may use the files an earlier one wrote.
A block that must not run (it takes minutes to hours, or needs several machines) is preceded by the line
``<!-- no-test: REASON -->``; such exclusions are counted and capped. Indented code blocks are refused (use a
fence with a language).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
PAGES = sorted(DOCS.glob("*.md"))
RUN = {"python", "sh"}
PARSE = {"toml", "json", "yaml"}
NOT_RUN = {"text"}
NO_TEST = re.compile(r"<!--\s*no-test:\s*(.*?)\s*-->")
#: At most this many blocks of all guides together may be excluded with ``no-test``.
MAX_NO_TEST = 8
#: Python modules a page's blocks import that are optional extras: without them the page is skipped.
NEEDS = {"adapters.md": ("optuna", "syne_tune", "ConfigSpace")}


@dataclass(frozen=True)
class Block:
    page: str
    line: int  # 1-based line of the opening fence
    lang: str
    code: str
    no_test: str | None  # the reason, for an excluded block

    def __str__(self) -> str:
        return f"docs/{self.page}:{self.line} ({self.lang or 'no language'})"


def _blocks(path: Path) -> list[Block]:
    lines = path.read_text(encoding="utf-8").splitlines()
    blocks: list[Block] = []
    i = 0
    while i < len(lines):
        if not lines[i].startswith("```"):
            i += 1
            continue
        lang = lines[i][3:].strip()
        end = next(j for j in range(i + 1, len(lines)) if lines[j].startswith("```"))
        before = next((lines[j] for j in range(i - 1, -1, -1) if lines[j].strip()), "")
        marker = NO_TEST.search(before)
        blocks.append(Block(path.name, i + 1, lang, "\n".join(lines[i + 1 : end]) + "\n", marker and marker.group(1)))
        i = end + 1
    return blocks


def _indented_code(path: Path) -> list[int]:
    """Lines that start an indented code block: 4+ spaces after a blank line, outside fences and lists."""
    found, fenced, prev, in_list = [], False, "", False
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.startswith("```"):
            fenced = not fenced
        elif not fenced:
            if re.match(r"(\s*[-*]|\s*\d+\.)\s", line):
                in_list = True
            elif line.strip() and not line.startswith(" "):
                in_list = False
            if line.startswith("    ") and not prev.strip() and not in_list:
                found.append(n)
        prev = line
    return found


BLOCKS = {p.name: _blocks(p) for p in PAGES}


def test_every_block_has_a_known_language_and_no_indented_code():
    unknown = [str(b) for bs in BLOCKS.values() for b in bs if b.lang not in RUN | PARSE | NOT_RUN]
    assert not unknown, f"give these blocks a language of {sorted(RUN | PARSE | NOT_RUN)}: {unknown}"
    indented = {p.name: lines for p in PAGES if (lines := _indented_code(p))}
    assert not indented, f"indented code blocks (use a fence with a language), page: lines: {indented}"


def test_exclusions_are_few_and_give_a_reason():
    excluded = [b for bs in BLOCKS.values() for b in bs if b.no_test is not None]
    assert all(len(b.no_test or "") >= 15 for b in excluded), [str(b) for b in excluded if len(b.no_test or "") < 15]
    assert len(excluded) <= MAX_NO_TEST, f"{len(excluded)} blocks excluded (at most {MAX_NO_TEST}): {excluded}"


def _parse(block: Block) -> None:
    if block.lang == "json":
        data = json.loads(block.code)
        if "parameters" in data:  # a SPACE.json: a search space the package reads
            from smm_plugins.space import SearchSpace

            SearchSpace.from_dict(data)
    elif block.lang == "yaml":
        yaml = pytest.importorskip("yaml")
        yaml.safe_load(block.code)
    else:
        if sys.version_info >= (3, 11):
            import tomllib
        else:
            import tomli as tomllib
        from smm_plugins.compare.experiment import load_experiment

        data = tomllib.loads(block.code)
        if "benchmarks" in data:  # an experiment file: its keys and values must be accepted too
            path = Path(os.environ["SMM_DOCS_TMP"]) / "experiment-from-docs.toml"
            path.write_text(block.code, encoding="utf-8")
            load_experiment(path)


@pytest.mark.parametrize("page", [p for p in BLOCKS if any(b.lang in PARSE for b in BLOCKS[p])])
def test_blocks_parse(page, tmp_path, monkeypatch):
    """The fast part of every page: its configuration blocks (TOML, JSON, YAML) parse."""
    monkeypatch.setenv("SMM_DOCS_TMP", str(tmp_path))
    for block in BLOCKS[page]:
        if block.lang in PARSE and block.no_test is None:
            _parse(block)


def _env(tmp_path: Path) -> dict[str, str]:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "SMM_DOCS_TMP": str(tmp_path)}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    for var in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME"):  # hpobench writes its config there
        env[var] = str(tmp_path / ".home" / var.lower())
    env["MPLBACKEND"] = "Agg"
    return env


@pytest.mark.slow
@pytest.mark.parametrize("page", [p for p in BLOCKS if any(b.lang in RUN for b in BLOCKS[p])])
def test_page_runs(page, tmp_path, monkeypatch):
    for module in NEEDS.get(page, ()):
        pytest.importorskip(module)
    monkeypatch.setenv("SMM_DOCS_TMP", str(tmp_path))
    (tmp_path / "benchmarks").symlink_to(ROOT / "benchmarks")
    env = _env(tmp_path)
    for block in BLOCKS[page]:
        if block.no_test is not None or block.lang not in RUN:
            continue  # configuration blocks: test_blocks_parse
        cmd = [sys.executable, "-c", block.code] if block.lang == "python" else ["bash", "-e", "-c", block.code]
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=600, cwd=tmp_path, env=env)
        assert out.returncode == 0, f"{block} failed:\n{block.code}\n{out.stdout[-2000:]}\n{out.stderr[-4000:]}"
