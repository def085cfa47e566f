"""Checks of a running canary from the outside: HTTP journeys, TLS, headers, ports, load."""
