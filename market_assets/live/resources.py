"""The ``live_tables`` resource: where the live service appends its closed bars."""

from dagster import ConfigurableResource
from pydantic import Field

from live.tables import LiveTables, live_tables_url
from partitions import TIMEFRAMES
from resources.environment import Environment
from resources.warehouse import warehouse_from_url


class LiveTablesResource(ConfigurableResource):
    """The ``live_candles_{tf}`` tables at ``url`` (``duckdb:///file`` or
    ``bigquery://project/dataset``; see ``live.tables.live_tables_url``)."""

    url: str
    bigquery_emulator_host: str = ""
    # The timeframes the live service builds (MARKET_DATA_LIVE_TIMEFRAMES).
    timeframes: list[str] = Field(default_factory=lambda: list(TIMEFRAMES))

    def tables(self) -> LiveTables:
        if not self.url:
            raise ValueError(
                "no live tables configured: the lake root is not local, so set "
                "MARKET_DATA_LIVE_WAREHOUSE=bigquery://project/dataset"
            )
        manager = warehouse_from_url(
            self.url, "", bigquery_emulator_host=self.bigquery_emulator_host
        )
        return LiveTables(manager.dialect())


def live_tables_resource(environment: Environment) -> LiveTablesResource:
    """The resource for ``environment``; without a place for the tables (a remote lake and
    no BigQuery), the sensor says so when it runs rather than the code location failing."""
    try:
        url = live_tables_url(environment)
    except ValueError:
        url = ""
    return LiveTablesResource(
        url=url,
        bigquery_emulator_host=environment.bigquery_emulator_host,
        timeframes=list(environment.live_timeframes),
    )
