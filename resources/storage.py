"""Paths on the lake's filesystem: a local folder or ``gs://`` through gcsfs."""

import os

from upath import UPath


def upath(location: str, *, anonymous: bool = False) -> UPath:
    """A ``UPath`` for a folder or ``gs://bucket/prefix``.

    On GCS the credentials are the environment's (Workload Identity in production);
    ``anonymous`` sends unsigned requests, as the GCS emulator (``STORAGE_EMULATOR_HOST``)
    expects.
    """
    if location.startswith("gs://"):
        return UPath(location, token="anon") if anonymous else UPath(location)
    return UPath(os.path.abspath(location))


def is_local(path: UPath) -> bool:
    """Whether ``path`` lives on this machine's filesystem."""
    return path.protocol in ("", "file", "local")
