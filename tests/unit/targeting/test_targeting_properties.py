"""Properties of the bucket and of the plan's rules over many users.

Deciding 100,000 users at each of the 101 weights would take a minute; instead every user
is decided at one step of the weight (each of the 100 steps for 1,000 users) and 1,000
users at every weight, which checks the same universal statement (no user leaves the
canary when the weight rises) on every step and on whole sequences.
"""

import hashlib
import random

from ansible.module_utils import bucketing, targeting
from ansible.module_utils.targeting import CANARY, Targeting

from .plan import SEGMENTS, STAGES, headers, plan_targeting

USERS = 100_000
TYPES = ("internal", "vip", "new", "normal")
REGIONS = ("beijing", "shanghai", "guangzhou", "shenzhen", "luoyang", "others")


def population(count, seed=7):
    """Requests of ``count`` users with attributes drawn from every segment of the plan."""
    rng = random.Random(seed)
    return [
        {
            "headers": headers(
                f"user-{n:06d}",
                type=(kind := rng.choice(TYPES)),
                internal=kind == "internal",
                level=rng.randint(1, 10),
                active=rng.random() < 0.4,
                region=rng.choice(REGIONS),
            )
        }
        for n in range(count)
    ]


def test_the_bucket_is_the_plans_md5_rule_and_bucketing_shares_it():
    ids = [f"user-{n:06d}" for n in range(USERS)]
    buckets = [targeting.user_bucket(u) for u in ids]
    plan = [int(hashlib.md5(u.encode()).hexdigest()[:8], 16) % 100 for u in ids[:1000]]
    assert buckets[:1000] == plan
    assert [bucketing.user_bucket(u) for u in ids[:1000]] == plan
    counts = [0] * 100
    for bucket in buckets:
        counts[bucket] += 1
    # 1,000 expected per bucket, standard deviation about 31.
    assert min(counts) > 850 and max(counts) < 1150


def test_no_user_leaves_the_canary_at_any_step_of_the_weight():
    rules = Targeting(plan_targeting())
    for index, request in enumerate(population(USERS)):
        weight = index % 100
        before, rule = rules.decide(request, weight)
        after, rule_after = rules.decide(request, weight + 1)
        assert rule == rule_after, request
        assert before != CANARY or after == CANARY, (request, weight)


def test_canary_users_at_a_weight_stay_for_every_later_weight():
    rules = Targeting(plan_targeting())
    requests = population(1000, seed=11)
    previous = set()
    for weight in range(101):
        canary = {i for i, r in enumerate(requests) if rules.decide(r, weight)[0] == CANARY}
        assert previous <= canary, weight
        previous = canary
    assert previous == set(range(len(requests)))


def test_the_default_rules_are_monotone_for_every_weight_sequence():
    rules = Targeting(targeting.default_spec())
    requests = [{"headers": {"X-User-Id": f"id-{n}"}} for n in range(1000)]
    previous = set()
    for weight in range(101):
        canary = {i for i, r in enumerate(requests) if rules.decide(r, weight)[0] == CANARY}
        assert previous <= canary
        assert abs(len(canary) - 10 * weight) <= 60
        previous = canary


def test_each_segment_of_the_plan_gets_its_share_within_one_point_at_every_stage():
    rules = Targeting(plan_targeting())
    for rule, attributes, shares in SEGMENTS:
        requests = [{"headers": headers(f"{rule}-{n}", **attributes)} for n in range(10_000)]
        previous = set()
        # At the last stage, 100 %, every share is whole: a sample says as much.
        for weight, share in zip(STAGES[:-1], shares[:-1], strict=True):
            canary = set()
            for index, request in enumerate(requests):
                track, matched = rules.decide(request, weight)
                assert matched == rule
                if track == CANARY:
                    canary.add(index)
            observed = 100 * len(canary) / len(requests)
            assert abs(observed - share) <= 1.0, (rule, weight, observed)
            assert previous <= canary
            previous = canary
        assert shares[-1] == 100
        assert all(rules.decide(r, STAGES[-1])[0] == CANARY for r in requests[:1000])
        assert all(rules.decide(r, 0)[0] != CANARY for r in requests[:1000])
