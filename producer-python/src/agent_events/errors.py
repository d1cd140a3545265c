"""Errors of the publisher: misuse is raised at the call, failed deliveries through the event's future."""

from __future__ import annotations

from typing import Any, Dict


class RunError(ValueError):
    """A call that breaks the rules of a run (an event after its end, a tool call not executing, a blank id, a payload
    over the limit); the message names the run and the bad value."""


class PublishError(Exception):
    """Kafka did not acknowledge an event. ``event`` is the event as it was sent (pass it to ``Run.resend``)."""

    def __init__(self, message: str, event: Dict[str, Any]):
        super().__init__(message)
        self.event = event
