#!/usr/bin/env bash
# The pipeline as separate processes on this machine (no Docker): 3 Kafka brokers, the schema registry, 2 routers,
# 2 fanout nodes. Prints addresses and PIDs; Ctrl-C stops them all. Flags: --brokers N --routers N --fanouts N --dir D
set -euo pipefail
cd "$(dirname "$0")/.."
jar=devstack/target/agent-events-devstack.jar
[ -f "$jar" ] || mvn -B -q -DskipTests package
exec java -cp "$jar" dev.agentevents.devstack.LocalClusterMain "$@"
