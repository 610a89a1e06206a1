"""Canonical search-space descriptions of SMM-Bench benchmarks.

One :class:`SearchSpace` per benchmark holds every fact an adapter needs (names, kinds, bounds,
categories, defaults, model-input order). Adapters translate it into ConfigSpace, Syne Tune or
Optuna domains; none of them redefines a bound.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import numpy as np

__all__ = [
    "Condition",
    "Parameter",
    "SearchSpace",
    "ps_space",
    "dfs_space",
    "PS_BOUNDS",
    "DFS_SCALE_BOUNDS",
    "DFS_CHOICES",
]

#: Bounds of a layer-wise task-arithmetic weight in SMM-Bench-PS.
PS_BOUNDS: tuple[float, float] = (0.0, 1.0)
#: Bounds of a DFS hop input scale.
DFS_SCALE_BOUNDS: tuple[float, float] = (0.4, 1.5)
#: Choices of a DFS layer variable (0 = model A's layer, 1 = model B's, 2 = both, A's then B's).
DFS_CHOICES: tuple[int, ...] = (0, 1, 2)

Kind = Literal["float", "categorical"]


@dataclass(frozen=True)
class Condition:
    """A parameter is active only when the categorical ``parent`` (declared earlier) takes one of ``values``.

    ``values`` are the parent's integer codes (its labels, if it has any, are accepted and turned into codes
    by the :class:`SearchSpace`). An inactive parameter still has a column; the objective ignores its value.
    """

    parent: str
    values: tuple[int | str, ...]

    def __post_init__(self) -> None:
        if not isinstance(self.parent, str) or not self.parent:
            raise ValueError(f"Condition parent must be a parameter name, got {self.parent!r}")
        values = tuple(self.values) if isinstance(self.values, (list, tuple)) else (self.values,)
        if not values or len(set(values)) != len(values):
            raise ValueError(
                f"Condition on {self.parent!r}: values must be distinct and non-empty, got {self.values!r}"
            )
        if any(isinstance(v, bool) or not isinstance(v, (int, np.integer, str)) for v in values):
            raise ValueError(
                f"Condition on {self.parent!r}: values must be the parent's integer codes or labels, "
                f"got {self.values!r}"
            )
        object.__setattr__(self, "values", tuple(v if isinstance(v, str) else int(v) for v in values))

    def to_dict(self) -> dict[str, Any]:
        return {"parent": self.parent, "values": list(self.values)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, child: str = "?") -> Condition:
        if not isinstance(data, Mapping) or set(data) != {"parent", "values"}:
            raise ValueError(
                f"Parameter {child!r}: condition must be {{'parent': NAME, 'values': [...]}}, got {data!r}"
            )
        return cls(parent=data["parent"], values=tuple(data["values"]))


@dataclass(frozen=True)
class Parameter:
    """One variable of a search space.

    ``kind == "float"``: a continuous value in ``[lower, upper]``.
    ``kind == "categorical"``: an integer code out of ``choices`` (fed to the model as that number);
    ``labels`` (optional) names each choice, in the same order: frameworks show and return the names
    (e.g. ``"ties"``), configurations may give either, the model-input row always holds the code.
    ``condition`` (optional): the parameter is active only when its parent takes one of given values.
    """

    name: str
    kind: Kind
    lower: float | None = None
    upper: float | None = None
    choices: tuple[int, ...] | None = None
    default: float | int = 0
    description: str = ""
    labels: tuple[str, ...] | None = None
    condition: Condition | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ValueError(f"Parameter name must be a non-empty string, got {self.name!r}")
        if self.kind == "float":
            if (
                self.lower is None
                or self.upper is None
                or not (math.isfinite(self.lower) and math.isfinite(self.upper) and self.lower < self.upper)
            ):
                raise ValueError(
                    f"Parameter {self.name!r}: float bounds must be finite with lower < upper, "
                    f"got lower={self.lower!r}, upper={self.upper!r}"
                )
            if not (self.lower <= float(self.default) <= self.upper):
                raise ValueError(
                    f"Parameter {self.name!r}: default {self.default!r} is outside [{self.lower}, {self.upper}]"
                )
        elif self.kind == "categorical":
            if not self.choices or len(set(self.choices)) != len(self.choices):
                raise ValueError(
                    f"Parameter {self.name!r}: categorical choices must be distinct integers, got {self.choices!r}"
                )
            if any(not isinstance(c, (int, np.integer)) or isinstance(c, bool) for c in self.choices):
                raise ValueError(f"Parameter {self.name!r}: categorical choices must be integers, got {self.choices!r}")
            object.__setattr__(self, "choices", tuple(int(c) for c in self.choices))
            if self.default not in self.choices:
                raise ValueError(f"Parameter {self.name!r}: default {self.default!r} is not one of {self.choices}")
        else:
            raise ValueError(f"Parameter {self.name!r}: kind must be 'float' or 'categorical', got {self.kind!r}")
        self._check_labels_and_condition()

    def _check_labels_and_condition(self) -> None:
        if self.labels is not None:
            labels = tuple(self.labels)
            ok = (
                self.kind == "categorical"
                and len(labels) == len(self.codes)
                and all(isinstance(x, str) and x for x in labels)
                and len(set(labels)) == len(labels)
            )
            if not ok:
                raise ValueError(
                    f"Parameter {self.name!r}: labels must be {len(self.codes)} distinct non-empty strings, one per "
                    f"choice of a categorical; got {self.labels!r}"
                )
            object.__setattr__(self, "labels", labels)
        if self.condition is not None and not isinstance(self.condition, Condition):
            raise ValueError(f"Parameter {self.name!r}: condition must be a Condition, got {self.condition!r}")

    @property
    def bounds(self) -> tuple[float, float]:
        """``(lower, upper)`` of a float; the smallest and largest code of a categorical."""
        if self.kind == "float" and self.lower is not None and self.upper is not None:  # always, for a float
            return self.lower, self.upper
        codes = self.codes
        return float(min(codes)), float(max(codes))

    @property
    def codes(self) -> tuple[int, ...]:
        """The integer codes of a categorical (``()`` for a float)."""
        return self.choices or ()

    @property
    def allowed(self) -> str:
        """Human-readable description of the allowed values (used in error messages)."""
        if self.kind == "float":
            return f"a finite number in [{self.lower:g}, {self.upper:g}]"
        codes = f"{{{', '.join(str(c) for c in self.codes)}}}"
        if self.labels:
            return f"one of {{{', '.join(map(repr, self.labels))}}} (codes {codes})"
        return f"one of {codes}"

    def code(self, value: Any) -> int:
        """The integer code of a categorical ``value`` (a code or, if the choices are labelled, a label)."""
        if isinstance(value, str) and self.labels and value in self.labels:
            return self.codes[self.labels.index(value)]
        if (
            self.kind == "categorical"
            and not isinstance(value, (str, bytes, bool, np.bool_))
            and isinstance(value, (int, float, np.number))
            and value in self.codes
        ):
            return int(value)
        raise ValueError(f"variable {self.name!r} = {value!r} is not a valid category; allowed: {self.allowed}")

    def label(self, code: int) -> int | str:
        """The label of code ``code`` (the code itself if the choices have no labels)."""
        checked = self.code(code)  # ValueError naming the variable for a code it does not have
        return self.labels[self.codes.index(checked)] if self.labels else checked

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "kind": self.kind, "default": self.default}
        if self.kind == "float":
            out.update(lower=self.lower, upper=self.upper)
        else:
            out["choices"] = list(self.codes)
        if self.labels:
            out["labels"] = list(self.labels)
        if self.condition is not None:
            out["condition"] = self.condition.to_dict()
        if self.description:
            out["description"] = self.description
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Parameter:
        keys = {"name", "kind", "lower", "upper", "choices", "default", "description", "labels", "condition"}
        unknown = set(data) - keys
        if unknown:
            raise ValueError(f"Parameter {data.get('name')!r}: unknown keys {sorted(unknown)}")
        kind = data.get("kind")
        choices = tuple(data["choices"]) if data.get("choices") is not None else None
        if "default" in data:
            default = data["default"]
        elif kind == "float":
            default = 0.5 * (float(data["lower"]) + float(data["upper"]))
        else:
            default = choices[0] if choices else 0
        return cls(
            name=data.get("name", ""),
            kind=kind,  # type: ignore[arg-type]
            lower=None if data.get("lower") is None else float(data["lower"]),
            upper=None if data.get("upper") is None else float(data["upper"]),
            choices=choices,
            default=default,
            description=data.get("description", ""),
            labels=None if data.get("labels") is None else tuple(data["labels"]),
            condition=(
                None
                if data.get("condition") is None
                else Condition.from_dict(data["condition"], child=str(data.get("name")))
            ),
        )


@dataclass(frozen=True)
class SearchSpace:
    """An ordered list of parameters; the order is the model-input (column) order."""

    name: str
    parameters: tuple[Parameter, ...]
    description: str = ""
    metadata: Mapping[str, Any] = field(default_factory=dict)
    # Derived in __post_init__ (the dataclass is frozen): bounds and kinds as arrays, name -> column.
    _lower: np.ndarray = field(init=False, repr=False, compare=False)
    _upper: np.ndarray = field(init=False, repr=False, compare=False)
    _is_cat: np.ndarray = field(init=False, repr=False, compare=False)
    _index: dict[str, int] = field(init=False, repr=False, compare=False)
    _cat_cols: np.ndarray = field(init=False, repr=False, compare=False)
    _cat_choices: np.ndarray = field(init=False, repr=False, compare=False)
    #: (column, parent column, parent codes that activate it) of each conditional parameter, in column order.
    _conditions: tuple[tuple[int, int, np.ndarray], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "parameters", tuple(self.parameters))
        if not self.parameters:
            raise ValueError(f"Search space {self.name!r} has no parameters")
        names = [p.name for p in self.parameters]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"Search space {self.name!r} has duplicate parameter names: {dupes}")
        object.__setattr__(
            self, "parameters", tuple(self._resolved_condition(i, p) for i, p in enumerate(self.parameters))
        )
        object.__setattr__(
            self,
            "_conditions",
            tuple(
                (i, names.index(p.condition.parent), np.array(p.condition.values, dtype=np.float64))
                for i, p in enumerate(self.parameters)
                if p.condition is not None
            ),
        )
        lower, upper = np.array([p.bounds for p in self.parameters], dtype=np.float64).T
        object.__setattr__(self, "_lower", np.ascontiguousarray(lower))
        object.__setattr__(self, "_upper", np.ascontiguousarray(upper))
        object.__setattr__(self, "_is_cat", np.array([p.kind == "categorical" for p in self.parameters], dtype=bool))
        object.__setattr__(self, "_index", {n: i for i, n in enumerate(names)})
        # Categorical columns and their choices padded with NaN (never equal): one vectorised membership test.
        cats = [p for p in self.parameters if p.kind == "categorical"]
        width = max((len(p.codes) for p in cats), default=0)
        table = np.full((len(cats), width), np.nan)
        for i, p in enumerate(cats):
            table[i, : len(p.codes)] = p.codes
        object.__setattr__(self, "_cat_cols", np.flatnonzero(self._is_cat))
        object.__setattr__(self, "_cat_choices", table)

    def _resolved_condition(self, i: int, p: Parameter) -> Parameter:
        """``p`` with its condition checked against the parameters before it and its labels turned into codes."""
        cond = p.condition
        if cond is None:
            return p
        earlier = {q.name: q for q in self.parameters[:i]}
        parent = earlier.get(cond.parent)
        if parent is None or parent.kind != "categorical":
            allowed = [q.name for q in earlier.values() if q.kind == "categorical"]
            what = "is not a categorical" if parent is not None else "is not a parameter declared before it"
            raise ValueError(
                f"Search space {self.name!r}: parameter {p.name!r} has condition parent {cond.parent!r}, which {what}; "
                f"allowed: one of the categoricals declared earlier {allowed}"
            )
        try:
            codes = tuple(parent.code(v) for v in cond.values)
        except ValueError as exc:
            raise ValueError(f"Search space {self.name!r}: condition of parameter {p.name!r}: {exc}") from None
        return replace(p, condition=Condition(parent.name, codes))

    # -- basic facts ---------------------------------------------------------------------------
    @property
    def names(self) -> list[str]:
        """Parameter names in model-input order."""
        return [p.name for p in self.parameters]

    @property
    def dim(self) -> int:
        """Number of model-input columns."""
        return len(self.parameters)

    @property
    def lower(self) -> np.ndarray:
        """Lower bounds (for categoricals: smallest choice), float64, shape (dim,)."""
        return self._lower.copy()

    @property
    def upper(self) -> np.ndarray:
        """Upper bounds (for categoricals: largest choice), float64, shape (dim,)."""
        return self._upper.copy()

    @property
    def is_categorical(self) -> np.ndarray:
        """Boolean mask of categorical columns, shape (dim,)."""
        return self._is_cat.copy()

    @property
    def n_categorical(self) -> int:
        return int(self._is_cat.sum())

    def __len__(self) -> int:
        return self.dim

    def __getitem__(self, name: str) -> Parameter:
        try:
            return self.parameters[self._index[name]]
        except KeyError:
            raise KeyError(f"{name!r} is not a parameter of search space {self.name!r}") from None

    def index(self, name: str) -> int:
        return self._index[name]

    # -- conditions ----------------------------------------------------------------------------
    @property
    def conditional(self) -> bool:
        """True if some parameter is active only for some values of a categorical parent."""
        return bool(self._conditions)

    def active_mask(self, X: Any) -> np.ndarray:
        """Which parameters are active in each row of ``X`` (model-input rows), boolean of shape (n, dim).

        A parameter without condition is always active; a conditional one when its parent is active and
        holds one of the condition's codes (parents are declared first, so one pass in column order decides).
        """
        arr = np.asarray(X, dtype=np.float64)
        arr = arr.reshape(1, -1) if arr.ndim == 1 else arr
        if arr.ndim != 2 or arr.shape[1] != self.dim:
            raise ValueError(f"X has shape {arr.shape}; search space {self.name!r} needs rows of {self.dim} values")
        active = np.ones(arr.shape, dtype=bool)
        for col, parent, codes in self._conditions:
            active[:, col] = active[:, parent] & np.isin(arr[:, parent], codes)
        return active

    def is_active(self, name: str, config: Mapping[str, Any]) -> bool:
        """Whether parameter ``name`` is active given the values of ``config`` (codes or labels).

        A parameter whose parent is absent from ``config`` or inactive is inactive (define-by-run frameworks
        fill ``config`` in the space's order, so the parents are known first).
        """
        cond = self[name].condition
        if cond is None:
            return True
        if cond.parent not in config or not self.is_active(cond.parent, config):
            return False
        return self[cond.parent].code(config[cond.parent]) in cond.values

    # -- conversion ----------------------------------------------------------------------------
    def default_vector(self) -> np.ndarray:
        """The default configuration as a model-input row (float64)."""
        return np.array([float(p.default) for p in self.parameters], dtype=np.float64)

    def default_config(self) -> dict[str, float | int | str]:
        """The default configuration ``{name: value}``; with conditions or labels as :meth:`to_active_config`."""
        if self._conditions or any(p.labels for p in self.parameters):
            return self.to_active_config(self.default_vector())
        return {p.name: p.default for p in self.parameters}

    def to_vector(self, config: Mapping[str, Any]) -> np.ndarray:
        """Turn a ``{name: value}`` mapping into a model-input row (no range check; see validate).

        Labelled categoricals take a label or a code. A parameter that is inactive in ``config`` (see
        :meth:`is_active`) may be left out: its column gets the default. Raises ``ValueError`` for unknown
        names and for missing active ones.
        """
        if not isinstance(config, Mapping):
            raise TypeError(f"config must be a mapping of parameter name to value, got {type(config).__name__}")
        unknown = [k for k in config if k not in self._index]
        if unknown:
            raise ValueError(
                f"config has unknown parameter(s) {unknown[:5]} for search space {self.name!r}; "
                f"expected names like {self.names[:3]}"
            )
        missing = [n for n in self.names if n not in config]
        if missing and self._conditions:
            missing = [n for n in missing if self.is_active(n, config)]
        if missing:
            raise ValueError(
                f"config is missing {len(missing)} "
                + ("active " if self._conditions else "")
                + f"parameter(s) of search space {self.name!r}: {missing[:5]}"
                + (" ..." if len(missing) > 5 else "")
            )
        row = np.empty(self.dim, dtype=np.float64)
        for i, p in enumerate(self.parameters):
            row[i] = _as_float(config[p.name], p) if p.name in config else float(p.default)
        return row

    def to_active_config(self, row: Sequence[float] | np.ndarray) -> dict[str, float | int | str]:
        """A model-input row as a conditional framework holds it: active parameters only, categoricals by label.

        The inverse of :meth:`to_vector` up to inactive values (which the objective ignores).
        """
        arr = np.asarray(row, dtype=np.float64).reshape(-1)
        config = self.to_config(arr)
        active = self.active_mask(arr)[0]
        return {
            p.name: (p.label(int(config[p.name])) if p.kind == "categorical" else config[p.name])
            for p, on in zip(self.parameters, active, strict=True)
            if on
        }

    def to_config(self, row: Sequence[float] | np.ndarray) -> dict[str, float | int]:
        """Turn a model-input row into a ``{name: value}`` dict (categoricals as int)."""
        arr = np.asarray(row, dtype=np.float64).reshape(-1)
        if arr.shape[0] != self.dim:
            raise ValueError(f"row has {arr.shape[0]} values; search space {self.name!r} has {self.dim}")
        return {
            p.name: (int(round(v)) if p.kind == "categorical" else float(v))
            for p, v in zip(self.parameters, arr, strict=True)
        }

    # -- validation ----------------------------------------------------------------------------
    def validate(self, X: Any, *, argname: str = "X") -> np.ndarray:
        """Check a batch strictly and return it as a C-contiguous float64 array of shape (n, dim).

        A 1-D input is one configuration. Raises ``ValueError`` naming the variable, the offending
        value and what is allowed for: wrong column count, empty batch, non-numeric data, NaN/inf,
        values out of bounds, and non-integer or unknown categorical codes.
        """
        arr = _as_numeric_2d(X, argname=argname, space=self)
        if arr.shape[1] != self.dim:
            raise ValueError(
                f"{argname} has {arr.shape[1]} columns; search space {self.name!r} needs {self.dim} "
                f"(in this order: {', '.join(self.names[:3])}, ...)"
            )
        bad = ~np.isfinite(arr)
        if bad.any() and self._conditions:
            arr = self._fill_inactive(arr)
            bad = ~np.isfinite(arr)
        if bad.any():
            r, c = map(int, np.argwhere(bad)[0])
            p = self.parameters[c]
            raise ValueError(
                f"{argname}[{r}] variable {p.name!r} = {float(arr[r, c])!r} is not finite; allowed: {p.allowed}"
            )
        too_low = arr < self._lower
        too_high = arr > self._upper
        out = (too_low | too_high) & ~self._is_cat  # categoricals: checked below
        if out.any():
            r, c = map(int, np.argwhere(out)[0])
            p = self.parameters[c]
            raise ValueError(
                f"{argname}[{r}] variable {p.name!r} = {float(arr[r, c])!r} is out of range; allowed: {p.allowed}"
            )
        if self.n_categorical:
            cat_cols = self._cat_cols
            ok = (arr[:, cat_cols, None] == self._cat_choices[None]).any(axis=2)
            if not ok.all():
                r, j = map(int, np.argwhere(~ok)[0])
                p = self.parameters[int(cat_cols[j])]
                raise ValueError(
                    f"{argname}[{r}] variable {p.name!r} = {float(arr[r, cat_cols[j]])!r} is not a valid category; "
                    f"allowed: {p.allowed}"
                )
        return arr

    def clip(self, X: Any, *, argname: str = "X") -> np.ndarray:
        """Reference semantics: clip continuous columns into bounds, pass categoricals through.

        Still rejects what cannot be a configuration at all (wrong shape, empty, non-numeric).
        NaN stays NaN, exactly as the reference loader (and LightGBM's missing-value rule) treats it.
        """
        arr = _as_numeric_2d(X, argname=argname, space=self)
        if arr.shape[1] != self.dim:
            raise ValueError(f"{argname} has {arr.shape[1]} columns; search space {self.name!r} needs {self.dim}")
        if self._conditions:
            arr = self._fill_inactive(arr)
        cont = ~self._is_cat
        if cont.any():
            arr[:, cont] = np.clip(arr[:, cont], self._lower[cont], self._upper[cont])
        return arr

    def _fill_inactive(self, arr: np.ndarray) -> np.ndarray:
        """NaN in an inactive column (ConfigSpace's array form of an inactive value) -> the default (in place)."""
        fill = np.isnan(arr) & ~self.active_mask(arr)
        if fill.any():
            arr[fill] = np.broadcast_to(self.default_vector(), arr.shape)[fill]
        return arr

    def sample(self, n: int, rng: np.random.Generator | int | None = None) -> np.ndarray:
        """Draw ``n`` configurations uniformly at random (categoricals uniform over choices)."""
        if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 1:
            raise ValueError(f"n must be a positive integer, got {n!r}")
        gen = np.random.default_rng(rng)
        X = gen.uniform(self._lower, self._upper, size=(int(n), self.dim))
        for c in np.flatnonzero(self._is_cat):
            choices = np.asarray(self.parameters[c].choices, dtype=np.float64)
            X[:, c] = gen.choice(choices, size=int(n))
        return X

    # -- (de)serialisation ---------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "metadata": dict(self.metadata),
            "parameters": [p.to_dict() for p in self.parameters],
        }

    def to_json(self, path: str | None = None) -> str:
        text = json.dumps(self.to_dict(), indent=1)
        if path is not None:
            from smm_plugins._io import atomic_write_text

            atomic_write_text(path, text)
        return text

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SearchSpace:
        if not isinstance(data, Mapping) or "parameters" not in data:
            raise ValueError("a search-space description must be a JSON object with a 'parameters' list")
        return cls(
            name=str(data.get("name", "custom")),
            parameters=tuple(Parameter.from_dict(p) for p in data["parameters"]),
            description=str(data.get("description", "")),
            metadata=dict(data.get("metadata", {})),
        )

    @classmethod
    def from_json(cls, path: str) -> SearchSpace:
        """Read a SPACE.json file (the format written by :meth:`to_json`)."""
        try:
            with open(path, encoding="utf-8") as fh:
                data = json.load(fh)
        except FileNotFoundError:
            raise FileNotFoundError(f"search-space file {path!r} does not exist") from None
        except json.JSONDecodeError as exc:
            raise ValueError(f"search-space file {path!r} is not valid JSON: {exc}") from None
        return cls.from_dict(data)


# -- the two SMM-Bench spaces ------------------------------------------------------------------


def _ps_names(n_layers: int, n_models: int) -> list[str]:
    # Model-major order: all layers of source model A, then all of source model B (64 in SMM-Bench).
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    return [f"w_{letters[m]}_{layer:02d}" for m in range(n_models) for layer in range(n_layers)]


def ps_space(
    name: str = "smm-bench-ps",
    *,
    n_layers: int = 32,
    n_models: int = 2,
    names: Sequence[str] | None = None,
    default: float = 0.5,
) -> SearchSpace:
    """SMM-Bench-PS: ``n_models * n_layers`` layer-wise task-arithmetic weights, each in [0, 1].

    ``names`` (e.g. from an official ``label.json``) overrides the default names ``w_A_00`` ...
    """
    names = list(names) if names is not None else _ps_names(n_layers, n_models)
    if len(names) != n_layers * n_models:
        raise ValueError(f"names has {len(names)} entries; PS needs n_models*n_layers = {n_layers * n_models}")
    params = tuple(
        Parameter(
            name=n,
            kind="float",
            lower=PS_BOUNDS[0],
            upper=PS_BOUNDS[1],
            default=default,
            description=(
                f"task-arithmetic weight of source model {'AB'[i // n_layers] if n_models == 2 else i // n_layers}, "
                f"layer {i % n_layers}"
            ),
        )
        for i, n in enumerate(names)
    )
    return SearchSpace(
        name=name,
        parameters=params,
        description="layer-wise task arithmetic: theta_l = theta_base,l + sum_m w_m,l * tau_m,l",
        metadata={"kind": "ps", "n_layers": n_layers, "n_models": n_models},
    )


def dfs_space(
    name: str = "smm-bench-dfs",
    *,
    n_layers: int = 32,
    names: Sequence[str] | None = None,
) -> SearchSpace:
    """SMM-Bench-DFS: ``n_layers`` layer choices in {0, 1, 2}, then ``2*n_layers - 1`` hop scales in [0.4, 1.5]."""
    n_scales = 2 * n_layers - 1
    default_names = [f"layer_{i:02d}" for i in range(n_layers)] + [f"scale_{i:02d}" for i in range(n_scales)]
    names = list(names) if names is not None else default_names
    if len(names) != n_layers + n_scales:
        raise ValueError(f"names has {len(names)} entries; DFS needs {n_layers} + {n_scales} = {n_layers + n_scales}")
    cats = [
        Parameter(
            name=n,
            kind="categorical",
            choices=DFS_CHOICES,
            default=0,
            description=f"layer {i}: 0 = model A's layer, 1 = model B's, 2 = both (A then B)",
        )
        for i, n in enumerate(names[:n_layers])
    ]
    scales = [
        Parameter(
            name=n,
            kind="float",
            lower=DFS_SCALE_BOUNDS[0],
            upper=DFS_SCALE_BOUNDS[1],
            default=1.0,
            description=f"input scale of hop {i + 1} of the inference path (inactive if the path is shorter)",
        )
        for i, n in enumerate(names[n_layers:])
    ]
    return SearchSpace(
        name=name,
        parameters=tuple(cats + scales),
        description="data-flow-space merging: per-layer source choice and per-hop input scaling",
        metadata={"kind": "dfs", "n_layers": n_layers},
    )


# -- helpers -----------------------------------------------------------------------------------


def _as_float(value: Any, p: Parameter) -> float:
    if isinstance(value, str) and p.labels:
        return float(p.code(value))  # ValueError naming the variable, the value and the labels
    if isinstance(value, (bool, np.bool_)) or isinstance(value, (str, bytes)) or value is None:
        raise ValueError(f"variable {p.name!r} = {value!r} is not a number; allowed: {p.allowed}")
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ValueError(f"variable {p.name!r} = {value!r} is not a number; allowed: {p.allowed}") from None


def _reorder_columns(df: Any, *, argname: str, space: SearchSpace) -> Any:
    # Integer column labels (pandas' default) are positions; otherwise the labels must be the space's names.
    cols = list(df.columns)
    if all(isinstance(c, (int, np.integer)) and not isinstance(c, bool) for c in cols):
        return df
    names = [str(c) for c in cols]
    unknown = [c for c in names if c not in space._index]
    missing = [n for n in space.names if n not in names]
    if unknown or missing or len(set(names)) != len(names):
        raise ValueError(
            f"{argname} columns do not match the variables of search space {space.name!r}"
            + (f"; unknown: {unknown[:5]}" if unknown else "")
            + (f"; missing: {missing[:5]}" if missing else "")
            + ("; duplicate column names" if len(set(names)) != len(names) else "")
        )
    return df[[cols[names.index(n)] for n in space.names]]


def _as_numeric_2d(X: Any, *, argname: str, space: SearchSpace) -> np.ndarray:
    if X is None:
        raise ValueError(f"{argname} is None; expected an array of shape (n, {space.dim}) or ({space.dim},)")
    if hasattr(X, "columns") and hasattr(X, "to_numpy"):  # a pandas DataFrame: match columns by name
        X = _reorder_columns(X, argname=argname, space=space)
    if hasattr(X, "to_numpy") and not isinstance(X, np.ndarray):  # pandas objects
        X = X.to_numpy()
    arr = np.asarray(X)
    if arr.dtype.kind not in "biuf":
        # Objects / strings: find the first offending cell for a precise message.
        obj = np.asarray(X, dtype=object)
        if obj.ndim == 1:
            obj = obj.reshape(1, -1)
        if obj.ndim == 2:
            for (r, c), v in np.ndenumerate(obj):
                if (
                    isinstance(v, (str, bytes, bool, np.bool_))
                    or v is None
                    or not isinstance(v, (int, float, np.number))
                ):
                    pname = space.parameters[c].name if c < space.dim else f"column {c}"
                    allowed = space.parameters[c].allowed if c < space.dim else "a number"
                    raise ValueError(f"{argname}[{r}] variable {pname!r} = {v!r} is not a number; allowed: {allowed}")
        raise ValueError(f"{argname} must be numeric, got dtype {arr.dtype}")
    if arr.dtype.kind == "b":
        raise ValueError(f"{argname} must be numeric, got a boolean array")
    if arr.ndim == 1:
        arr = arr.reshape(1, -1)
    if arr.ndim != 2:
        raise ValueError(f"{argname} must be 1-D (one configuration) or 2-D (a batch); got {arr.ndim}-D")
    if arr.shape[0] == 0:
        raise ValueError(f"{argname} is an empty batch (0 configurations); pass at least one row of {space.dim}")
    return np.array(arr, dtype=np.float64, order="C", copy=True)
