"""What each extra of smm-plugins costs: installed size, and with --download the size of the wheels pip fetches.

Run it in an environment where smm-plugins and the extras to measure are installed (e.g. after `make test`)::

    python benchmarks/install_sizes.py                      # installed MB per extra, beyond the core
    python benchmarks/install_sizes.py --download /tmp/dl   # also download MB (pip download of the same versions)

The core is the closure of the package's own requirements; an extra is the closure of its requirements minus
the core's. Sizes are the files recorded by each distribution (RECORD), in MB (10^6 bytes).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from importlib import metadata
from pathlib import Path

from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name


def _installed() -> dict[str, metadata.Distribution]:
    return {canonicalize_name(d.metadata["Name"]): d for d in metadata.distributions()}


def _applies(marker: Marker | None, extras: set[str]) -> bool:
    if marker is None:
        return True
    return any(marker.evaluate({"extra": e}) for e in (extras or {""}))


def _closure(reqs: list[Requirement], dists: dict[str, metadata.Distribution]) -> set[str]:
    seen: set[tuple[str, frozenset[str]]] = set()
    stack = list(reqs)
    while stack:
        req = stack.pop()
        key = (canonicalize_name(req.name), frozenset(req.extras))
        if key in seen or key[0] not in dists:
            continue
        seen.add(key)
        for text in dists[key[0]].requires or []:
            sub = Requirement(text)
            if _applies(sub.marker, set(req.extras)):
                stack.append(sub)
    return {name for name, _ in seen}


def _size_mb(dist: metadata.Distribution) -> float:
    total = 0
    for f in dist.files or []:
        try:
            total += os.path.getsize(str(dist.locate_file(f)))
        except OSError:
            pass
    return total / 1e6


def _extras(package: str) -> dict[str, list[Requirement]]:
    groups: dict[str, list[Requirement]] = {"(core)": []}
    for text in metadata.requires(package) or []:
        req = Requirement(text)
        marker = str(req.marker) if req.marker else ""
        if "extra ==" not in marker:
            groups["(core)"].append(req)
            continue
        extra = marker.split("extra ==")[1].strip().strip("\"'")
        req.marker = None
        groups.setdefault(extra, []).append(req)
    return groups


def _download_mb(names: set[str], dists: dict[str, metadata.Distribution], folder: Path) -> float:
    pins = [f"{dists[n].metadata['Name']}=={dists[n].version}" for n in sorted(names)]
    folder.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "-d", str(folder), *pins]
    subprocess.run(cmd, check=True)
    return sum(p.stat().st_size for p in folder.iterdir()) / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--download", type=Path, default=None, help="folder for pip download (measures download MB)")
    args = parser.parse_args()
    dists = _installed()
    groups = _extras("smm-plugins")
    core = _closure(groups["(core)"], dists)
    print("| extra | installed MB | download MB | distributions |")
    print("|---|---|---|---|")
    for extra, reqs in groups.items():
        if extra in ("all", "dev"):
            continue
        names = core if extra == "(core)" else _closure(reqs, dists) - core
        missing = [r.name for r in reqs if canonicalize_name(r.name) not in dists]
        inst = sum(_size_mb(dists[n]) for n in names)
        dl = _download_mb(names, dists, args.download / extra.strip("()")) if args.download else float("nan")
        note = f" (not installed: {', '.join(missing)})" if missing else ""
        print(f"| {extra} | {inst:.0f} | {dl:.0f} | {len(names)}{note} |")


if __name__ == "__main__":
    main()
