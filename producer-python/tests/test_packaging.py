"""The package's version moves with the Maven project's."""

import re
from pathlib import Path

import agent_events

REPO = Path(__file__).resolve().parents[2]


def test_the_version_is_the_maven_projects():
    pom = (REPO / "pom.xml").read_text(encoding="utf-8")
    maven = re.search(r"<artifactId>agent-events-parent</artifactId>\s*<version>([^<]+)</version>", pom).group(1)
    python = maven.replace("-SNAPSHOT", ".dev0")
    assert agent_events.__version__ == python
    pyproject = (REPO / "producer-python" / "pyproject.toml").read_text(encoding="utf-8")
    assert f'version = "{python}"' in pyproject
