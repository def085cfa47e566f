"""Sticky, monotone assignment of users to the canary.

A user is in the canary when the first 32 bits of md5(user_id), taken modulo 100,
fall below the canary weight. The bucket of a user never changes, so raising the
weight only adds users: whoever saw the canary at 5% still sees it at 20%.
The playbooks (filter ``canary_bucket``) and the sandbox router both call this.
"""

import hashlib


def user_bucket(user_id):
    """Return the user's bucket, an integer in 0..99."""
    digest = hashlib.md5(str(user_id).encode("utf-8"), usedforsecurity=False).hexdigest()
    return int(digest[:8], 16) % 100


def in_canary(user_id, weight):
    """Return True when the user falls in the canary at the given weight (0-100)."""
    return user_bucket(user_id) < weight
