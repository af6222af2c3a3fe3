"""The ``instrument_definitions`` asset: what each instrument of a venue is, for a day."""

import pyarrow as pa
import pyarrow.compute as pc
from dagster import AssetExecutionContext, MetadataValue, Output, asset

from market_assets.instruments.keys import definitions_for_day
from market_assets.instruments.schemas import DEFINITIONS_CHECK
from market_assets.partition import day_and_venue
from partitions import market_partitions
from resources import TardisSource


@asset(
    partitions_def=market_partitions,
    group_name="instruments",
    kinds={"parquet"},
)
def instrument_definitions(
    context: AssetExecutionContext, tardis: TardisSource
) -> Output[pa.Table]:
    """Every instrument Tardis lists for the venue on the day, with its canonical key.

    From Tardis' instruments API when it answers (a paid key), else from exchange details
    with base and quote read from the symbol; ``metadata_source`` says which per row.
    """
    day, venue = day_and_venue(context)
    details = tardis.exchange_details(venue)
    instruments = tardis.instruments(venue)
    if instruments is None:
        context.log.warning(
            f"{day}|{venue}: Tardis' instruments API needs a paid key; base and quote "
            "are read from symbols"
        )
    definitions = DEFINITIONS_CHECK.validate(definitions_for_day(venue, day, details, instruments))
    from_api = pc.sum(pc.equal(definitions["metadata_source"], "instruments")).as_py() or 0
    return Output(
        definitions,
        metadata={
            "instruments": MetadataValue.int(definitions.num_rows),
            "from_instruments_api": MetadataValue.int(from_api),
            "from_symbol_names": MetadataValue.int(definitions.num_rows - from_api),
        },
    )
