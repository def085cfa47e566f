"""The sandbox node agent (see agent.py)."""
