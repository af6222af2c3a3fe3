"""Pandera schema of the instrument definitions table."""

import pandera.pyarrow as pap
import pyarrow as pa

from market_assets.instruments.keys import KEY_TYPES
from market_assets.tardis_csv import TIMESTAMP

DEFINITIONS_CHECK = pap.DataFrameSchema(
    {
        "instrument_key": pap.Column(
            pa.string(),
            pap.Check.str_matches(r"^[A-Z0-9-]+:[A-Z_]+:\S+$"),
            nullable=False,
            unique=True,
        ),
        "symbol": pap.Column(pa.string(), nullable=False, unique=True),
        "type": pap.Column(pa.string(), pap.Check.isin(list(KEY_TYPES.values())), nullable=False),
        "base": pap.Column(pa.string(), nullable=True),
        "quote": pap.Column(pa.string(), nullable=True),
        "expiry": pap.Column(TIMESTAMP, nullable=True),
        "strike": pap.Column(pa.float64(), pap.Check.gt(0), nullable=True),
        "option_type": pap.Column(pa.string(), pap.Check.isin(["CALL", "PUT"]), nullable=True),
        "available_since": pap.Column(TIMESTAMP, nullable=True),
        "available_to": pap.Column(TIMESTAMP, nullable=True),
        "data_types": pap.Column(pa.list_(pa.string()), nullable=True),
        "metadata_source": pap.Column(
            pa.string(), pap.Check.isin(["instruments", "symbol"]), nullable=False
        ),
    },
    strict=True,
    ordered=True,
    name="instrument_definitions",
)
