"""The example agent (examples/python_agent.py) runs with one command and its runs reach the ordered topic."""

import os
import subprocess
import sys
import uuid
from pathlib import Path

from test_publisher import ordered_run

REPO = Path(__file__).resolve().parents[2]


def test_the_example_agent_publishes_complete_runs(stack):
    user = f"example-{uuid.uuid4().hex[:8]}"
    result = subprocess.run([sys.executable, str(REPO / "examples" / "python_agent.py"), "--user", user, "--runs", "2"],
                            env={**os.environ, **stack.env(), "PYTHONPATH": str(REPO / "producer-python" / "src")},
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    run_ids = [line.rsplit(" ", 1)[1] for line in result.stdout.splitlines() if line.startswith("run ")]
    assert len(run_ids) == 2
    for run_id in run_ids:
        events = [r["value"]["event"] for r in ordered_run(stack, run_id, 5, ended=True)]
        assert events[0]["type"] == "agent_started" and events[-1]["type"] == "agent_completed"
        assert [e["seq"] for e in events] == list(range(len(events)))
