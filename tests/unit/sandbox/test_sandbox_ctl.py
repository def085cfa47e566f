"""What ``python -m sandbox`` tells the user when a sandbox does not come up."""

from sandbox import ctl


def test_a_stuck_readiness_wait_says_what_each_pod_is_doing():
    pods = [
        {
            "metadata": {"name": "frontend-a"},
            "status": {
                "phase": "Running",
                "podIP": "10.244.0.2",
                "conditions": [{"type": "Ready", "status": "False"}],
                "containerStatuses": [
                    {"name": "frontend", "state": {"running": {}}, "restartCount": 2}
                ],
            },
        },
        {
            "metadata": {"name": "frontend-b"},
            "status": {
                "phase": "Pending",
                "containerStatuses": [
                    {"name": "frontend", "state": {"waiting": {"reason": "CrashLoopBackOff"}}}
                ],
            },
        },
    ]
    assert ctl.describe_pods(pods) == (
        "frontend-a Running not ready at 10.244.0.2, 2 restarts; "
        "frontend-b Pending not ready at no IP, frontend waiting: CrashLoopBackOff"
    )
    assert ctl.describe_pods([]) == "no pods"
