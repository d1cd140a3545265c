"""W3C trace context for runs: from an active OpenTelemetry span when ``opentelemetry`` is installed, else new ids."""

from __future__ import annotations

import re
import secrets
from typing import Optional, Tuple

TRACE_ID = re.compile(r"[0-9a-f]{32}")


def current() -> Optional[Tuple[str, str]]:
    """The (trace id, span id) of the active OpenTelemetry span, or None (no span, or no OpenTelemetry)."""
    try:
        from opentelemetry import trace  # optional dependency
    except ImportError:
        return None
    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return None
    return format(context.trace_id, "032x"), format(context.span_id, "016x")


def new_trace_id() -> str:
    return secrets.token_hex(16)


def new_span_id() -> str:
    return secrets.token_hex(8)


def traceparent(trace_id: str, span_id: str) -> bytes:
    return f"00-{trace_id}-{span_id}-01".encode("ascii")
