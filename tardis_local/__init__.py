"""A local, generated stand-in for Tardis.dev: catalog, CSV.gz datasets, HTTP server, mirror folder.

No real Tardis data is used anywhere; every row is generated deterministically.
"""

from tardis_local.catalog import VENUES, exchange_details, instruments, symbol_data_types
from tardis_local.generate import HEADERS, dataset_bytes, write_dataset
from tardis_local.mirror import write_mirror
from tardis_local.server import TardisServer

__all__ = [
    "HEADERS",
    "VENUES",
    "TardisServer",
    "dataset_bytes",
    "exchange_details",
    "instruments",
    "symbol_data_types",
    "write_dataset",
    "write_mirror",
]
