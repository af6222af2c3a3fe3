"""The generated world, built once for the package's tests."""

import pytest

from tests.unit.candles_reference.world import World, build_world


@pytest.fixture(scope="package")
def world() -> World:
    return build_world()
