"""Demand-side factors of every demand region derived from regional indicators (``regional_factors.toml``).

The file is generated from shared/data by ``docs/data/build_factors.py`` (mapping and
normalisation in docs/model.md, "Regional factors from data"); a scenario opts in with
``[adoption] regional_factors = true``, and the factors then multiply the region's own
``[adoption.regions.<id>]`` factors.  A region or a factor without data is 1.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path

import pydantic
from pydantic import Field

from topology.limits import MAX_FACTOR
from topology.plumbing import ConfigError, StrictModel, describe_validation_error, read_toml
from workloads.adoption.config import DEMAND_FACTORS, MIN_FACTOR, DemandFactors

__all__ = ["REGIONAL_FACTORS", "RegionFactors", "RegionalFactorsFile", "load_regional_factors",
           "regional_factors_path"]

REGIONAL_FACTORS = "regional_factors.toml"
"""File name of the generated factors in ``workloads/data``."""


class RegionFactors(StrictModel):
    """The demand factors of one region derived from data, with their sources.

    Attributes
    ----------
    id : str
        Demand region id (``dr_*``).
    anticipated_benefits, expected_costs, social_impact, facilitating_conditions : float
        Dimensionless factors (neutral 1).
    anticipated_benefits_source, expected_costs_source, social_impact_source, facilitating_conditions_source : str
        ``derived:`` with the indicator values and the formula, or why the factor is 1.
    without_data : list of str
        The factors no indicator feeds (they are 1).
    unused : list of str
        Indicators shared/data holds for the region that are not used, with the reason.
    """

    id: str = Field(min_length=1)
    anticipated_benefits: float = Field(ge=MIN_FACTOR, le=MAX_FACTOR)
    expected_costs: float = Field(ge=MIN_FACTOR, le=MAX_FACTOR)
    social_impact: float = Field(ge=MIN_FACTOR, le=MAX_FACTOR)
    facilitating_conditions: float = Field(ge=MIN_FACTOR, le=MAX_FACTOR)
    anticipated_benefits_source: str = Field(pattern=r"^derived: ")
    expected_costs_source: str = Field(pattern=r"^derived: ")
    social_impact_source: str = Field(pattern=r"^derived: ")
    facilitating_conditions_source: str = Field(pattern=r"^derived: ")
    without_data: list[str]
    unused: list[str]

    def factors(self) -> DemandFactors:
        """The four factors as a :class:`DemandFactors`."""
        return DemandFactors(**{f: getattr(self, f) for f in DEMAND_FACTORS})


class Indicator(StrictModel):
    """One indicator of the mapping: which factor it feeds and what it is normalised by."""

    name: str
    factor: str
    meaning: str
    reference: str


class RegionalFactorsFile(StrictModel):
    """The whole generated file."""

    schema_version: str
    elasticity: float = Field(gt=0, le=10)
    elasticity_source: str = Field(pattern=r"^estimate: ")
    subregion_source: str
    indicator: list[Indicator]
    region: list[RegionFactors]


def regional_factors_path() -> Path:
    """Path of the shipped ``regional_factors.toml``."""
    return Path(str(resources.files("workloads.data").joinpath(REGIONAL_FACTORS)))


@cache
def load_regional_factors(path: Path | None = None) -> RegionalFactorsFile:
    """Read and validate the regional factors file (default: the shipped one); cached per path.

    Raises
    ------
    ConfigError
        The file is malformed (one line naming the file and key).
    """
    p = path or regional_factors_path()
    data = read_toml(p, ConfigError)
    try:
        return RegionalFactorsFile.model_validate(data)
    except pydantic.ValidationError as err:
        raise ConfigError(describe_validation_error(err, str(p), RegionalFactorsFile, data)) from None
