"""finalize.yml and rollback.yml wait for stable's real rollout, in ansible-playbook runs.

Stable's rollouts take 6 s or more, its old pods ready all along (shop.py). A finalize
hands the traffic back only once stable runs the new image on every replica, and one
whose stable rollout does not finish in time leaves the canary serving and the release
in progress, the ledger saying why; a rollback puts stable back on its image, and does
not take a rollout in progress, whose old pods are all ready, for a verified stable.
"""

import re
import threading

import pytest

from sandbox import state

from .shop import NEW, OLD, REPLICAS, STABLE, flat, image_of, pod_image, pod_template, serving

pytestmark = pytest.mark.slow

NEXT = "yyc3/short-drama-frontend:1.2.0"
# Someone else's change of stable, while a rollback runs.
OTHERS = "yyc3/short-drama-frontend:1.0.1"


def draining(seconds):
    """Stable's pod template with a preStop sleep of ``seconds``."""
    template = pod_template(NEW)
    template["spec"]["terminationGracePeriodSeconds"] = seconds + 5
    template["spec"]["containers"][0]["lifecycle"] = {"preStop": {"sleep": {"seconds": seconds}}}
    return template


@pytest.fixture
def released(make_shop):
    """``released(canary_template=None)``: a shop whose release passed every stage."""
    return lambda canary_template=None: make_shop().release_to_the_last_stage(canary_template)


class Sampler(threading.Thread):
    """Reads, every 0.1 s as the admin, the canary's weight and then stable's pods."""

    def __init__(self, shop):
        super().__init__(daemon=True)
        self.shop = shop
        self.samples = []
        self.done = threading.Event()

    def run(self):
        client = state.admin_client()
        selector = "app=frontend,track=stable"
        while not self.done.is_set():
            config = client.get("ConfigMap", self.shop.namespace, "traffic-config")
            pods = client.list("Pod", self.shop.namespace, label_selector=selector)
            self.samples.append((config["data"]["canary_percentage"], serving(pods)))
            self.done.wait(0.1)

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.done.set()
        self.join()


def test_finalize_hands_the_traffic_back_once_stable_runs_the_new_image(released):
    # Its canary's pods drain their connections for 20 s before they stop, so its
    # namespace is still terminating when the next release is prepared.
    shop = released(draining(20))
    with Sampler(shop) as sampler:
        code, output = shop.run("finalize.yml", rollout_timeout="60s")
    assert code == 0, output
    assert shop.ledger().read()["status"] == "promoted"
    assert image_of(shop.stable()) == NEW
    assert shop.canary() is None
    assert shop.weight() == "0"
    handed_back = [pods for weight, pods in sampler.samples if weight == "0"]
    assert handed_back, sampler.samples
    assert handed_back[0] == [(NEW, True)] * REPLICAS, sampler.samples
    # Stable did roll out while finalize waited, and the canary kept every user meanwhile.
    images = [(weight, {image for image, _ in pods}) for weight, pods in sampler.samples]
    assert ("100", {OLD, NEW}) in images, sampler.samples
    assert all(weight == "100" for weight, pods in sampler.samples if (OLD, True) in pods)

    # The next release, at once: its canary namespace is still terminating.
    namespace = shop.admin.get("Namespace", None, shop.canary_namespace)
    assert namespace["metadata"].get("deletionTimestamp"), namespace
    old_uid = namespace["metadata"]["uid"]
    code, output = shop.run("prepare.yml", "-e", f"canary_image={NEXT}", rollout_timeout="60s")
    assert code == 0, output
    assert "FAILED - RETRYING: [frontend]: Look for the canary namespace" in output, output
    namespace = shop.admin.get("Namespace", None, shop.canary_namespace)
    assert namespace["metadata"]["uid"] != old_uid
    assert "deletionTimestamp" not in namespace["metadata"]
    assert image_of(shop.canary()) == NEXT
    assert shop.settled(NEXT, "canary", replicas=1), shop.pods("canary")
    ledger = shop.ledger().read()
    assert (ledger["status"], ledger["image"], ledger["stable_image"]) == ("initialized", NEXT, NEW)


def test_a_finalize_whose_stable_rollout_does_not_finish_leaves_the_canary_serving(released):
    shop = released()
    code, output = shop.run("finalize.yml")
    assert code != 0, output
    # Every old replica still available, and still running.
    blocked = (
        rf"deployment {shop.namespace}/{STABLE} did not finish its rollout within 3s "
        r"\(rollout_timeout\): \d of 3 replicas updated, [34] available, \d old still running, "
        rf"(\d terminating, )?observedGeneration 2 of 2; \d pod\(s\) not on {re.escape(NEW)}: "
    )
    text = flat(output)
    assert "Finalize blocked, the canary keeps serving" in text, output
    assert re.search(blocked, text), output
    ledger = shop.ledger().read()
    assert ledger["status"] == "progressing"
    assert ledger["reason"].startswith(
        f"finalize blocked: deployment {shop.namespace}/{STABLE} did not finish its rollout"
    ), ledger["reason"]
    event = ledger["history"][-1]
    assert (event["event"], event["image"]) == ("finalize_blocked", NEW)
    assert shop.canary() is not None
    assert shop.weight() == "100"
    assert shop.lock_holder() is None

    # Run again, given the time: finalized.
    code, output = shop.run("finalize.yml", rollout_timeout="60s")
    assert code == 0, output
    assert shop.settled(NEW), shop.pods()
    assert shop.ledger().read()["status"] == "promoted"
    assert shop.canary() is None
    assert shop.weight() == "0"


def test_a_stable_rollout_a_quota_holds_is_never_called_promoted(released):
    shop = released()
    # Room for stable's pods and not one more: the rollout cannot surge a new pod.
    quota = {"name": "no-surge", "namespace": shop.namespace}
    shop.admin.create(
        {
            "apiVersion": "v1",
            "kind": "ResourceQuota",
            "metadata": quota,
            "spec": {"hard": {"pods": str(REPLICAS)}},
        }
    )
    code, output = shop.run("finalize.yml")
    assert code != 0, output
    text = flat(output)
    assert "Finalize blocked, the canary keeps serving" in text, output
    assert re.search(r"pods not created: .*exceeded quota: no-surge", text), output
    ledger = shop.ledger().read()
    assert ledger["status"] == "progressing"
    assert ledger["history"][-1]["event"] == "finalize_blocked"
    assert shop.canary() is not None and shop.weight() == "100"
    assert {pod_image(pod) for pod in shop.pods()} == {OLD}


def test_rollback_puts_stable_back_on_its_image(released):
    shop = released()
    # As if finalize had moved stable to the new image and then been interrupted.
    shop.set_stable_image(NEW)
    code, output = shop.run("rollback.yml", rollout_timeout="60s")
    # Read before anything else: the rollback ended once stable was back, on every replica.
    back = shop.settled(OLD)
    assert code == 0, output
    assert back, shop.pods()
    assert image_of(shop.stable()) == OLD
    ledger = shop.ledger().read()
    assert ledger["status"] == "rolled_back"
    assert ledger["history"][-1]["event"] == "rolled_back"
    assert shop.weight() == "0"
    assert shop.canary()["spec"]["replicas"] == 0
    assert shop.lock_holder() is None


def test_rollback_does_not_verify_a_stable_rollout_in_progress(released):
    shop = released()

    def change_stable(line):
        """Someone else changes stable's image just before the rollback verifies it."""
        if "TASK [canary_rollback : Read the stable Deployment]" in line:
            shop.set_stable_image(OTHERS)

    code, output = shop.run("rollback.yml", on_line=change_stable)
    assert code != 0, output
    text = flat(output)
    assert (
        "The canary is out of traffic, but stable is not healthy: deployment "
        f"{shop.namespace}/{STABLE} did not finish its rollout within 3s (rollout_timeout)"
    ) in text, output
    # How far the other rollout got by the deadline: new pods not ready yet, or old ones
    # still stopping.
    assert re.search(rf"pod\(s\) not on {re.escape(OTHERS)}|\d terminating", text), output
    ledger = shop.ledger().read()
    assert ledger["status"] == "failed"
    assert "stable not verified after the rollback" in ledger["reason"]
    # Left alone: not put back, not waited for.
    assert image_of(shop.stable()) == OTHERS
    assert shop.weight() == "0"
    assert shop.lock_holder() is None
