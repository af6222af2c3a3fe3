"""The universe as a resource: which instruments and data types each venue ingests."""

from dagster import ConfigurableResource
from pydantic import Field

from market_assets.universe import Universe, load_universe


class UniverseResource(ConfigurableResource):
    """The universe file the Definitions were assembled with (``MARKET_DATA_UNIVERSE``).

    Read on every ``load()``: a sensor in a long-running daemon sees edits to the file's
    selections at once, while its venues (the partitions) change with the Definitions.
    """

    path: str = Field(default="", description="Universe YAML file; empty: the bundled one.")

    def load(self) -> Universe:
        """The parsed universe; ``UniverseError`` names the file and line of a mistake."""
        return load_universe(self.path or None)
