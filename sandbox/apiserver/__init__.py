"""A small Kubernetes API test server for the sandbox.

It speaks enough of the Kubernetes REST API (discovery, CRUD, patches, watch,
status and scale subresources, a Deployment status controller) for kubectl,
the Python client and kubernetes.core to run the project's playbooks on one
machine. See README.md for what differs from a real API server.
"""
