"""Pandera schema of the instrument definitions table."""

import pandera.pyarrow as pap
import pyarrow as pa

from market_assets.instruments.keys import KEY_TYPES
from market_assets.tardis_csv import TIMESTAMP

_KEY_PATTERN = r"^[A-Z0-9-]+:[A-Z_]+:\S+$"


def _optional(arrow_type: pa.DataType, *checks: pap.Check) -> pap.Column:
    return pap.Column(arrow_type, list(checks), nullable=True)


DEFINITIONS_CHECK = pap.DataFrameSchema(
    {
        "instrument_key": pap.Column(
            pa.string(), pap.Check.str_matches(_KEY_PATTERN), nullable=False, unique=True
        ),
        "symbol": pap.Column(pa.string(), nullable=False, unique=True),
        "dataset_id": pap.Column(pa.string(), nullable=False, unique=True),
        "type": pap.Column(pa.string(), pap.Check.isin(list(KEY_TYPES.values())), nullable=False),
        "base": _optional(pa.string()),
        "quote": _optional(pa.string()),
        "settlement": _optional(pa.string()),
        "inverse": _optional(pa.bool_()),
        "contract_type": _optional(pa.string()),
        "contract_multiplier": _optional(pa.float64(), pap.Check.gt(0)),
        "tick_size": _optional(pa.float64(), pap.Check.gt(0)),
        "lot_size": _optional(pa.float64(), pap.Check.gt(0)),
        "min_size": _optional(pa.float64(), pap.Check.ge(0)),
        "min_notional": _optional(pa.float64(), pap.Check.ge(0)),
        "maker_fee": _optional(pa.float64(), pap.Check.in_range(-0.01, 0.01)),
        "taker_fee": _optional(pa.float64(), pap.Check.in_range(-0.01, 0.01)),
        "expiry": _optional(TIMESTAMP),
        "strike": _optional(pa.float64(), pap.Check.gt(0)),
        "option_type": _optional(pa.string(), pap.Check.isin(["CALL", "PUT"])),
        "underlying": _optional(pa.string()),
        "listing_time": _optional(TIMESTAMP),
        "available_since": _optional(TIMESTAMP),
        "available_to": _optional(TIMESTAMP),
        "data_types": _optional(pa.list_(pa.string())),
        "metadata_source": pap.Column(
            pa.string(), pap.Check.isin(["instruments", "exchange_details"]), nullable=False
        ),
    },
    strict=True,
    ordered=True,
    name="instrument_definitions",
)
