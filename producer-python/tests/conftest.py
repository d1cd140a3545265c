"""The pipeline the Python tests publish into: the devstack jar (a real KRaft broker, the schema registry, the router
and two fanout nodes, in one JVM) on free ports, started once per test session."""

from __future__ import annotations

import os
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Stack:
    def __init__(self, kafka: int, registry: int, fanout: int):
        self.bootstrap = f"127.0.0.1:{kafka}"
        self.registry = f"http://127.0.0.1:{registry}"
        self.fanout = f"http://127.0.0.1:{fanout}"

    def env(self, **extra: str) -> dict:
        return {"KAFKA_BOOTSTRAP_SERVERS": self.bootstrap, "SCHEMA_REGISTRY_URL": self.registry, **extra}


@pytest.fixture(scope="session")
def stack():
    jar = Path(os.environ.get("AGENT_EVENTS_DEVSTACK_JAR", REPO / "devstack/target/agent-events-devstack.jar"))
    if not jar.exists():
        pytest.exit(f"{jar} is missing: build it first (mvn -B -DskipTests package)", returncode=2)
    ports = [_free_port() for _ in range(5)]
    data = tempfile.mkdtemp(prefix="agent-events-python-")
    command = ["java", "-jar", str(jar), "--no-simulator", "--no-warm-up", "--data-dir", data, "--port", str(ports[0]),
               "--second-port", str(ports[1]), "--kafka-port", str(ports[2]), "--registry-port", str(ports[3]),
               "--router-port", str(ports[4])]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    ready = threading.Event()
    log = []

    def read():
        for line in process.stdout:
            log.append(line)
            if line.startswith("READY"):
                ready.set()

    threading.Thread(target=read, daemon=True).start()
    if not ready.wait(180):
        process.kill()
        pytest.exit("the devstack did not print READY within 180 s:\n" + "".join(log[-40:]), returncode=2)
    yield Stack(ports[2], ports[3], ports[0])
    process.terminate()
    try:
        process.wait(30)
    except subprocess.TimeoutExpired:
        process.kill()


def wait_until(condition, timeout: float = 30.0, every: float = 0.1):
    """Waits, at most ``timeout`` seconds, for ``condition()`` to be true; returns its last value."""
    deadline = time.monotonic() + timeout
    value = condition()
    while not value and time.monotonic() < deadline:
        time.sleep(every)
        value = condition()
    return value
