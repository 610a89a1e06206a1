"""``--option OPTIMIZER.KEY=VALUE`` values are TOML values on every supported Python."""

from __future__ import annotations

import pytest

from smm_plugins.compare.cli import _parse_options


def test_option_values_parse_as_toml_values() -> None:
    items = ["de.population_size=30", "de.f=0.5", "tpe.multivariate=true", "tpe.name=hello", "x.seq=[1, 2]"]
    opts = _parse_options(items)
    assert opts == {
        "de": {"population_size": 30, "f": 0.5},
        "tpe": {"multivariate": True, "name": "hello"},
        "x": {"seq": [1, 2]},
    }
    assert type(opts["de"]["population_size"]) is int and type(opts["tpe"]["multivariate"]) is bool


@pytest.mark.parametrize("item", ["de=3", "population_size=3", "de.=3", ".x=3"])
def test_malformed_option_names_the_item(item: str) -> None:
    with pytest.raises(ValueError, match="OPTIMIZER.KEY=VALUE"):
        _parse_options([item])
