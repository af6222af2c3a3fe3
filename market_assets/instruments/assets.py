"""The ``instrument_definitions`` asset: what each instrument of a venue is, for a day."""

from collections import Counter

import pyarrow as pa
import pyarrow.compute as pc
from dagster import AssetExecutionContext, MetadataValue, Output, asset

from market_assets.instruments.keys import definitions_for_day
from market_assets.instruments.schemas import DEFINITIONS_CHECK
from market_assets.partition import ONE_PARTITION_PER_RUN, TARDIS_RETRY, day_and_venue
from partitions import market_partitions
from resources import TardisSource
from resources.tardis import as_failure

LACKING_WITHOUT_KEY = (
    "base, quote, settlement, contract terms, sizes, fees, expiry, strike and underlying are "
    "null; keys take base, quote and expiry from the symbol's naming scheme. Set "
    "TARDIS_API_KEY for complete definitions."
)


@asset(
    partitions_def=market_partitions,
    group_name="instruments",
    kinds={"parquet"},
    retry_policy=TARDIS_RETRY,
    backfill_policy=ONE_PARTITION_PER_RUN,
)
def instrument_definitions(
    context: AssetExecutionContext, tardis: TardisSource
) -> Output[pa.Table]:
    """Every instrument Tardis lists for the venue on the day, with its canonical key.

    From Tardis' instruments API when it answers (a paid key), with ``changes[]`` applied
    so a past day carries the values then in force; else from exchange details, with the
    fields those lack left null. ``metadata_source`` says which per row.
    """
    day, venue = day_and_venue(context)
    with as_failure():
        details = tardis.exchange_details(venue)
        instruments = tardis.instruments(venue)
    if instruments is None:
        context.log.warning(
            f"{day}|{venue}: Tardis' instruments API refused (it needs a paid key): "
            f"{LACKING_WITHOUT_KEY}"
        )
    definitions = DEFINITIONS_CHECK.validate(definitions_for_day(venue, day, details, instruments))
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
