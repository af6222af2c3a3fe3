"""The ``instrument_definitions`` asset: what each instrument of a venue is, for a day."""

from collections import Counter

import pyarrow as pa
import pyarrow.compute as pc
from dagster import (
    AssetExecutionContext,
    AssetsDefinition,
    MetadataValue,
    Output,
    PartitionsDefinition,
    asset,
)

from market_assets.instruments.columns import DEFINITIONS
from market_assets.instruments.definitions import definitions_for_day
from market_assets.runs import ONE_PARTITION_PER_RUN, TARDIS_RETRY, day_and_venue
from market_assets.schemas import column_schema_metadata, pandera_schema
from resources.tardis import TardisSource, as_failure

LACKING_WITHOUT_KEY = (
    "settlement, contract terms, sizes, fees and underlying are null; keys, base, quote, "
    "expiry, strike and option type come from the symbol's naming scheme, as they do with "
    "a key. Set TARDIS_API_KEY for complete definitions."
)
DEFINITIONS_SCHEMA = pandera_schema(DEFINITIONS)


def build_instrument_definitions(partitions: PartitionsDefinition) -> AssetsDefinition:
    """The ``instrument_definitions`` asset over ``partitions``."""

    @asset(
        partitions_def=partitions,
        group_name="instruments",
        kinds={"parquet"},
        retry_policy=TARDIS_RETRY,
        backfill_policy=ONE_PARTITION_PER_RUN,
        metadata=column_schema_metadata(DEFINITIONS),
    )
    def instrument_definitions(
        context: AssetExecutionContext, tardis: TardisSource
    ) -> Output[pa.Table]:
        """Every instrument Tardis lists for the venue on the day, with its canonical key.

        The key comes from the venue and symbol alone, the same with or without an API
        key. Tardis' instruments API, when it answers (a paid key), fills every column,
        with ``changes[]`` applied so a past day carries the values then in force; else the
        symbol's naming scheme and exchange details fill what they can.
        ``metadata_source`` says which per row.
        """
        return _definitions(context, tardis)

    return instrument_definitions


def _definitions(context: AssetExecutionContext, tardis: TardisSource) -> Output[pa.Table]:
    day, venue = day_and_venue(context)
    with as_failure():
        details = tardis.exchange_details(venue)
        instruments = tardis.instruments(venue)
    if instruments is None:
        context.log.warning(
            f"{day}|{venue}: Tardis' instruments API refused (it needs a paid key): "
            f"{LACKING_WITHOUT_KEY}"
        )
    definitions = DEFINITIONS_SCHEMA.validate(definitions_for_day(venue, day, details, instruments))
    from_api = pc.sum(pc.equal(definitions["metadata_source"], "instruments")).as_py() or 0
    return Output(
        definitions,
        metadata={
            "instruments": MetadataValue.int(definitions.num_rows),
            "from_instruments_api": MetadataValue.int(from_api),
            "from_exchange_details": MetadataValue.int(definitions.num_rows - from_api),
            "instruments_api": MetadataValue.text(
                "used" if instruments is not None else f"unavailable: {LACKING_WITHOUT_KEY}"
            ),
            "types": MetadataValue.json(
                dict(Counter(definitions["type"].to_pylist()).most_common())
            ),
        },
    )
