"""The Python and the Java publisher write the same bytes for the same event (the Java side: GoldenEventTest)."""

import json
from pathlib import Path

from agent_events.wire import SCHEMA_TEXT, avro_binary

HERE = Path(__file__).parent
REPO = HERE.parents[1]


def test_the_golden_events_encode_to_the_bytes_the_java_publisher_writes():
    golden = json.loads((HERE / "golden" / "agent_events.json").read_text(encoding="utf-8"))
    assert len(golden["events"]) >= 2
    for entry in golden["events"]:
        assert avro_binary(entry["event"]).hex() == entry["avroHex"], entry["event"]["type"]


def test_the_packaged_schema_is_the_contracts_schema():
    canonical = (REPO / "schemas" / "src" / "main" / "avro" / "AgentEvent.avsc").read_text(encoding="utf-8")
    assert json.loads(SCHEMA_TEXT) == json.loads(canonical), \
        "copy schemas/src/main/avro/AgentEvent.avsc to producer-python/src/agent_events/"
