"""Replicates that are replicates: runs whose value sequences repeat across seeds or across optimisers.

Seeds are the replicates of a comparison's statistics: the Friedman and Wilcoxon tests treat each seed as an
independent draw of an optimiser's result. An optimiser that ignores its seed (e.g. Optuna's unscrambled
``QMCSampler``, the same Sobol sequence every time) gives the same run on every seed, and its "± 0.0000" is
not a measurement of its spread; two optimiser names that run the same code with the same seeds (an alias) count
one optimiser twice. :func:`find_identical_runs` finds both from the evaluated values, and
:meth:`IdenticalRuns.drop_from` leaves them out of the statistical tests.

Two runs are identical when their ``value`` sequences are equal (exactly) at :data:`SAME_FRACTION` or more of
the evaluations. Not at all of them: Optuna's samplers evaluate the first trial with a seeded random sampler
before the search space is known, so an unscrambled QMC run differs from the others at trial 0 only.
Independent runs share a value at the same evaluation only by coincidence (a few % of the evaluations on an
objective with coarse steps such as an accuracy on 1,000 points).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

__all__ = ["SAME_FRACTION", "IdenticalRuns", "find_identical_runs", "same_run"]

#: Share of the evaluations at which two runs' values must be equal for the runs to count as identical.
SAME_FRACTION = 0.9


@dataclass(frozen=True)
class IdenticalRuns:
    """Identical runs found in a comparison's runs.

    ``same_seeds``: ``(benchmark, optimizer) -> groups of seeds`` whose runs gave identical value sequences
    (each group has 2 or more seeds). ``same_as``: ``(benchmark, optimizer) -> optimizer`` whose runs it
    repeats on every seed both ran (the other one is kept in the tests).
    """

    same_seeds: dict[tuple[str, str], list[tuple[int, ...]]] = field(default_factory=dict)
    same_as: dict[tuple[str, str], str] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.same_seeds or self.same_as)

    def excluded(self) -> dict[tuple[str, str], str]:
        """``(benchmark, optimizer) -> reason`` of every optimiser left out of the statistical tests."""
        out = {}
        for key, groups in self.same_seeds.items():
            seeds = "; ".join(", ".join(str(s) for s in g) for g in groups)
            out[key] = f"identical runs on seeds {seeds}: its seeds are not independent replicates"
        for key, other in self.same_as.items():
            reason = f"identical runs to `{other}` on every seed"
            out[key] = f"{out[key]}; {reason}" if key in out else reason
        return out

    def drop_from(self, df: pd.DataFrame) -> pd.DataFrame:
        """``df`` (rows with ``benchmark`` and ``optimizer``) without the runs of the excluded optimisers."""
        if not self:
            return df
        keys = pd.MultiIndex.from_frame(df[["benchmark", "optimizer"]])
        return df[~keys.isin(list(self.excluded()))]

    def markdown(self) -> str:
        """A Markdown list naming every excluded optimiser and why ("" when there is none)."""
        if not self:
            return ""
        items = [f"- **{b}**, `{o}`: {why}." for (b, o), why in sorted(self.excluded().items())]
        return (
            "## Identical runs\n\n"
            f"Runs whose values equal another run's at {SAME_FRACTION:.0%} or more of the evaluations are not "
            "independent replicates: "
            "an optimiser that ignores its seed (e.g. unscrambled QMC) shows a spread of 0, and an alias of "
            "another optimiser counts it twice. These optimisers stay in the final table and the curves but "
            "are left out of the statistical tests (Friedman, Wilcoxon, critical-difference diagrams, the "
            "rankings of the truth check):\n\n" + "\n".join(items) + "\n"
        )


def _sequences(df: pd.DataFrame) -> dict[tuple[str, str], dict[int, np.ndarray]]:
    # (benchmark, optimizer) -> seed -> the run's value sequence in trial order.
    out: dict[tuple[str, str], dict[int, np.ndarray]] = {}
    ordered = df.sort_values(["benchmark", "optimizer", "seed", "trial"], kind="stable")
    for (bench, opt, seed), g in ordered.groupby(["benchmark", "optimizer", "seed"], sort=True):
        out.setdefault((str(bench), str(opt)), {})[int(seed)] = g["value"].to_numpy(dtype="float64")
    return out


def same_run(a: np.ndarray, b: np.ndarray, fraction: float = SAME_FRACTION) -> bool:
    """True if value sequences ``a`` and ``b`` are equal at ``fraction`` or more of the longer one's evaluations."""
    n = min(len(a), len(b))
    longest = max(len(a), len(b))
    return longest > 0 and float(np.sum(a[:n] == b[:n])) >= fraction * longest


def _seed_groups(by_seed: dict[int, np.ndarray], fraction: float = SAME_FRACTION) -> list[list[int]]:
    """Seeds grouped by :func:`same_run` with each group's first seed, in seed order (one group per distinct run)."""
    lengths = {len(seq) for seq in by_seed.values()}
    longest = max(lengths, default=0)
    # Two runs equal at `fraction` of `longest` positions differ at `mismatches` at most, so when the positions
    # are cut into mismatches + 1 blocks, one block is equal in both (pigeonhole): only runs that share a
    # block with a group's first run are compared with it, linear in the seeds instead of quadratic.
    mismatches = int(np.floor(longest * (1.0 - fraction) + 1e-9))
    groups: list[list[int]] = []
    if len(lengths) != 1 or mismatches >= longest:  # unequal lengths: compare with every group (rare)
        for seed, seq in by_seed.items():
            group = next((g for g in groups if same_run(by_seed[g[0]], seq, fraction)), None)
            if group is None:
                groups.append([seed])
            else:
                group.append(seed)
        return groups
    cuts = np.linspace(0, longest, mismatches + 2).astype(int)
    by_block: dict[tuple[int, bytes], list[int]] = {}  # (block, its bytes) -> indices of groups
    for seed, seq in by_seed.items():
        blocks = [(i, (seq[a:b] + 0.0).tobytes()) for i, (a, b) in enumerate(zip(cuts[:-1], cuts[1:], strict=True))]
        candidates = sorted({g for blk in blocks for g in by_block.get(blk, ())})
        found = next((g for g in candidates if same_run(by_seed[groups[g][0]], seq, fraction)), None)
        if found is not None:
            groups[found].append(seed)
            continue
        groups.append([seed])
        for blk in blocks:
            by_block.setdefault(blk, []).append(len(groups) - 1)
    return groups


def _keep_first(name: str) -> tuple[bool, str]:
    # Of two identical optimisers keep the registered name ("random") over a class path ("pkg.mod:Class").
    return (":" in name, name)


def find_identical_runs(df: pd.DataFrame) -> IdenticalRuns:
    """Identical runs in a comparison's runs (columns ``benchmark``, ``optimizer``, ``seed``, ``trial``, ``value``).

    Within an optimiser, seeds whose runs are identical (:func:`same_run`) are grouped. Across optimisers of one
    benchmark, an optimiser whose runs are identical to another's on every seed both ran (at least one) is named
    as that one's duplicate; of a set of duplicates the first (registered names first, then alphabetical) is kept.
    """
    seqs = _sequences(df)
    same_seeds: dict[tuple[str, str], list[tuple[int, ...]]] = {}
    for key, by_seed in seqs.items():
        repeated = [tuple(g) for g in _seed_groups(by_seed) if len(g) > 1]
        if repeated:
            same_seeds[key] = repeated
    same_as: dict[tuple[str, str], str] = {}
    for bench in sorted({b for b, _ in seqs}):
        opts = sorted((o for b, o in seqs if b == bench), key=_keep_first)
        for i, a in enumerate(opts):
            if (bench, a) in same_as:
                continue
            for b in opts[i + 1 :]:
                sa, sb = seqs[(bench, a)], seqs[(bench, b)]
                shared = set(sa) & set(sb)
                if (bench, b) not in same_as and shared and all(same_run(sa[s], sb[s]) for s in shared):
                    same_as[(bench, b)] = a
    return IdenticalRuns(same_seeds=same_seeds, same_as=same_as)
