"""Cluster.allowed: one SelfSubjectAccessReview through kubernetes.core's client."""

from ansible.module_utils.cluster import Cluster

ATTRIBUTES = {"verb": "create", "group": "apps", "resource": "deployments", "namespace": "shop"}


class Answer:
    def __init__(self, body):
        self.body = body

    def to_dict(self):
        return self.body


class StandInClient:
    """kubernetes.core's K8SClient as the facade uses it: resource lookup, create."""

    def __init__(self, status):
        self.status = status
        self.looked_up = []
        self.posted = []

    def resource(self, kind, api_version):
        self.looked_up.append((api_version, kind))
        return f"resource {kind}"

    def create(self, resource, definition, **params):
        self.posted.append((resource, definition, params))
        answer = dict(definition)
        if self.status is not None:
            answer["status"] = self.status
        return Answer(answer)


def test_posts_the_attributes_as_a_self_subject_access_review():
    client = StandInClient({"allowed": True, "reason": 'RBAC: allowed by ClusterRoleBinding "x"'})
    assert Cluster(client).allowed(ATTRIBUTES) is True
    assert client.looked_up == [("authorization.k8s.io/v1", "SelfSubjectAccessReview")]
    assert client.posted == [
        (
            "resource SelfSubjectAccessReview",
            {
                "apiVersion": "authorization.k8s.io/v1",
                "kind": "SelfSubjectAccessReview",
                "spec": {"resourceAttributes": ATTRIBUTES},
            },
            {},
        )
    ]


def test_a_denied_or_unanswered_review_is_not_allowed():
    assert Cluster(StandInClient({"allowed": False, "denied": True})).allowed(ATTRIBUTES) is False
    assert Cluster(StandInClient({"allowed": False})).allowed(ATTRIBUTES) is False
    assert Cluster(StandInClient(None)).allowed(ATTRIBUTES) is False


def test_the_review_kind_is_looked_up_once():
    client = StandInClient({"allowed": True})
    cluster = Cluster(client)
    cluster.allowed(ATTRIBUTES)
    cluster.allowed({**ATTRIBUTES, "verb": "delete"})
    assert len(client.looked_up) == 1
    assert len(client.posted) == 2
