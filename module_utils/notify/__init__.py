"""Notifications of a release's events: Slack-compatible and generic JSON webhooks, Alertmanager.

``spec`` checks the ``canary.notifications`` section, ``message`` turns an event into its
context and text, one file per channel builds that channel's request, ``delivery`` posts
it, and ``dispatch`` sends an event to every channel that wants it. This file imports
nothing, so the spec check does not load the HTTP code.
"""
