"""Paths on the lake's filesystem: a local folder or ``gs://`` through gcsfs."""

import os

from upath import UPath


def upath(location: str) -> UPath:
    """A ``UPath`` for a folder or ``gs://bucket/prefix``.

    On GCS the credentials are the environment's (Workload Identity in production);
    with ``STORAGE_EMULATOR_HOST`` set (tests, local emulator) requests are anonymous.
    """
    if location.startswith("gs://"):
        if os.environ.get("STORAGE_EMULATOR_HOST"):
            # The emulator cannot answer gcsfs' hierarchical-namespace probe (a 60 s hang).
            os.environ.setdefault("GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT", "false")
            return UPath(location, token="anon")
        return UPath(location)
    return UPath(os.path.abspath(location))


def is_local(path: UPath) -> bool:
    """Whether ``path`` lives on this machine's filesystem."""
    return path.protocol in ("", "file", "local")
