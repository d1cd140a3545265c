#!/usr/bin/env python3
"""A small agent service in Python: for each question it thinks, calls a (fake) weather tool, streams its answer
word by word and completes — every step published through the agent_events package, so the user watches it live.

    PYTHONPATH=producer-python/src /usr/bin/python3 examples/python_agent.py --user alice

Against the devstack (java -jar devstack/target/agent-events-devstack.jar) it needs nothing else: KAFKA_BOOTSTRAP_SERVERS
and SCHEMA_REGISTRY_URL default to its addresses. Open http://127.0.0.1:8080/, sign in as the same user, and watch.
"""

import argparse
import os
import random
import sys
import time

from agent_events import Agent, Publisher, Usage

AGENT = Agent(id="weather-agent", name="Weather assistant", version="1.0.0", model="example-model")
CITIES = ["Lisbon", "Oslo", "Nairobi", "Kyoto", "Lima"]


def fake_weather(city: str) -> dict:
    """The tool: a made-up forecast, after the time a real API might take."""
    time.sleep(random.uniform(0.2, 0.6))
    return {"city": city, "sky": random.choice(["clear", "cloudy", "rain"]), "celsius": random.randint(-5, 32)}


def answer(publisher: Publisher, user: str, city: str) -> str:
    with publisher.start_run(user_id=user, thread_id=f"weather-{user}", agent=AGENT) as run:
        run.thinking(f"The user asks about {city}; I will look up the forecast first.")
        with run.tool("get_weather", {"city": city}) as call:
            forecast = fake_weather(city)
            call.result(forecast)
        text = f"In {city} it is {forecast['sky']} and {forecast['celsius']} °C."
        for word in text.split(" "):
            run.message_delta(word + " ")
            time.sleep(0.05)
        run.completed({"answer": text}, Usage(input_tokens=120, output_tokens=len(text.split()), finish_reason="stop"))
        return run.run_id


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--user", default="alice", help="whose runs these are (default: alice)")
    parser.add_argument("--runs", type=int, default=3, help="questions to answer (default: 3)")
    args = parser.parse_args()
    os.environ.setdefault("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
    os.environ.setdefault("SCHEMA_REGISTRY_URL", "http://127.0.0.1:8081")
    with Publisher.from_env() as publisher:
        for i in range(args.runs):
            run_id = answer(publisher, args.user, CITIES[i % len(CITIES)])
            print(f"run {i + 1}/{args.runs} published for {args.user}: {run_id}", flush=True)
        publisher.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
