"""Check that an environment holds the declared floors: python check_floors.py EXTRA...

Run in the environment of `uv pip install --resolution lowest-direct -e ".[EXTRA,...]"`. For every requirement
of smm-plugins (and of the given extras) with a `>=` floor, the installed version must be that floor, unless
another installed package requires more (then the floor cannot be installed beside it, which is no fault of
ours). Otherwise the resolver skipped the floor because it cannot be installed with the other requirements,
and the declared floor is untested: raise it. Exit status 1 on such a floor.
"""

from __future__ import annotations

import sys
from importlib import metadata

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version


def _floor(req: Requirement) -> Version | None:
    floors = [Version(s.version) for s in req.specifier if s.operator == ">="]
    return max(floors) if floors else None


def _raised_by(name: str, floor: Version) -> list[str]:
    """Installed packages with a requirement on ``name`` that excludes ``floor``."""
    raisers = []
    for dist in metadata.distributions():
        for text in dist.requires or []:
            req = Requirement(text)
            marker_ok = req.marker is None or req.marker.evaluate({"extra": ""})
            if (
                marker_ok
                and canonicalize_name(req.name) == name
                and not req.specifier.contains(floor, prereleases=True)
            ):
                raisers.append(f"{dist.metadata['Name']} ({req})")
    return raisers


def main(extras: list[str]) -> int:
    bad = 0
    for text in metadata.requires("smm-plugins") or []:
        req = Requirement(text)
        if req.marker is not None and not any(req.marker.evaluate({"extra": e}) for e in ["", *extras]):
            continue
        floor = _floor(req)
        if floor is None or canonicalize_name(req.name) == "smm-plugins":
            continue
        installed = Version(metadata.version(req.name))
        if installed == floor:
            continue
        raisers = _raised_by(canonicalize_name(req.name), floor)
        if raisers:
            print(f"floors: {req.name} {installed} (floor {floor} excluded by {', '.join(raisers)})")
        else:
            print(f"floors: {req.name}>={floor} is declared but {installed} was installed: raise the floor")
            bad += 1
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
