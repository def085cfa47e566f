"""Shops of their own in the session's sandbox (``shop.py``), removed after each test."""

import pytest

from .shop import Shop


@pytest.fixture(scope="session")
def admin(sandbox):
    """The sandbox cluster as its admin: for setting tests up and reading what they did."""
    return sandbox.api


@pytest.fixture
def make_shop(admin, tmp_path):
    """``make_shop(rollout_timeout=..., namespace_labels=..., template=...)``: a ready Shop."""
    made = []

    def make(rollout_timeout="3s", **objects):
        workdir = tmp_path / f"shop-{len(made)}"
        workdir.mkdir()
        shop = Shop(admin, workdir, rollout_timeout)
        made.append(shop)
        return shop.create(**objects)

    yield make
    for shop in made:
        shop.delete()
