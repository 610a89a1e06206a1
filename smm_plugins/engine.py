"""Fast LightGBM inference (placeholder: delegates to LightGBM until the compiled engine lands)."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np


class TreeEnsemble:
    """Mean prediction of several LightGBM boosters (the folds of a CV booster)."""

    def __init__(self, model_strings: Sequence[str], n_features: int) -> None:
        import lightgbm as lgb

        self._boosters = [lgb.Booster(model_str=s, params={"num_threads": 1}) for s in model_strings]
        self.n_features = n_features

    @classmethod
    def from_model_strings(cls, model_strings: Sequence[str]) -> "TreeEnsemble":
        import lightgbm as lgb

        n = lgb.Booster(model_str=model_strings[0]).num_feature()
        return cls(model_strings, n)

    def predict(self, X: np.ndarray) -> np.ndarray:
        return np.mean([b.predict(X, num_threads=1) for b in self._boosters], axis=0)
