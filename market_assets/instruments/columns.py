"""The instrument definitions table's columns, declared once."""

import pyarrow as pa

from market_assets.columns import TIMESTAMP, Column, Dataset

# Tardis' instrument types and the canonical type names of the key.
KEY_TYPES = {"spot": "SPOT_PAIR", "perpetual": "PERPETUAL", "future": "FUTURE", "option": "OPTION"}
METADATA_SOURCES = ("instruments", "exchange_details")
KEY_PATTERN = r"^[A-Z0-9-]+:[A-Z_]+:\S+$"


def _text(name: str, doc: str) -> Column:
    return Column(name, pa.string(), doc)


def _number(name: str, doc: str, unit: str, **rules: float) -> Column:
    return Column(name, pa.float64(), doc, unit, **rules)


def _time(name: str, doc: str) -> Column:
    return Column(name, TIMESTAMP, doc, "UTC")


DEFINITIONS = Dataset(
    "instrument_definitions",
    (
        Column(
            "instrument_key",
            pa.string(),
            "Canonical key VENUE:TYPE:NAME, from venue and symbol",
            nullable=False,
            unique=True,
            pattern=KEY_PATTERN,
        ),
        Column("symbol", pa.string(), "Tardis symbol", nullable=False, unique=True),
        Column(
            "dataset_id",
            pa.string(),
            "Tardis dataset id (the file name's symbol)",
            nullable=False,
            unique=True,
        ),
        Column(
            "type",
            pa.string(),
            "SPOT_PAIR, PERPETUAL, FUTURE or OPTION",
            nullable=False,
            isin=tuple(KEY_TYPES.values()),
        ),
        _text("base", "Base asset"),
        _text("quote", "Quote currency"),
        _text("settlement", "Settlement currency"),
        Column(
            "inverse",
            pa.bool_(),
            "Whether the contract is inverse (priced in the quote, paid in the base)",
        ),
        _text("contract_type", "Tardis' contract type"),
        _number("contract_multiplier", "Contract multiplier", "base per contract", gt=0),
        _number("tick_size", "Price increment", "quote currency", gt=0),
        _number("lot_size", "Amount increment", "Tardis amount units", gt=0),
        _number("min_size", "Minimum order amount", "Tardis amount units", ge=0),
        _number("min_notional", "Minimum order notional", "quote currency", ge=0),
        _number("maker_fee", "Maker fee", "fraction", ge=-0.01, le=0.01),
        _number("taker_fee", "Taker fee", "fraction", ge=-0.01, le=0.01),
        _time("expiry", "Expiry of a future or option"),
        _number("strike", "Option strike", "quote currency", gt=0),
        Column("option_type", pa.string(), "CALL or PUT", isin=("CALL", "PUT")),
        _text("underlying", "Underlying index of an option"),
        _time("listing_time", "When the instrument was listed"),
        _time("available_since", "First day Tardis has data for the symbol"),
        _time("available_to", "Day after Tardis' last data for the symbol"),
        Column("data_types", pa.list_(pa.string()), "Tardis data types published for the symbol"),
        Column(
            "metadata_source",
            pa.string(),
            "instruments (Tardis' instruments API) or exchange_details (naming scheme only)",
            nullable=False,
            isin=METADATA_SOURCES,
        ),
    ),
    "Every instrument Tardis lists for the venue on the day",
)
