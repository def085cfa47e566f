"""Shops of their own in the session's sandbox (``shop.py``), deleted after each test.

A deleted namespace takes 5 s at least to go (the namespace controller waits that long
before it deletes the content): the tests go on meanwhile, and the session waits until
every namespace they deleted has gone.
"""

import pytest

from .shop import Shop, wait_until_gone


@pytest.fixture(scope="session")
def admin(sandbox):
    """The sandbox cluster as its admin: for setting tests up and reading what they did."""
    return sandbox.api


@pytest.fixture(scope="session")
def deleted(admin):
    """The namespaces the tests deleted, waited for at the end of the session."""
    names = []
    yield names
    wait_until_gone(admin, names)


@pytest.fixture
def make_shop(admin, deleted, tmp_path):
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
        deleted.extend(shop.delete())
