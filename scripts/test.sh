#!/usr/bin/env bash
# The whole test suite, on a fresh machine too: installs what the tests need and is missing (Debian's Chromium for
# the browser tests; Debian's Python packages for the Python publisher's tests), then runs `mvn -B verify`.
# Extra arguments go to Maven (e.g. scripts/test.sh -pl streams-router -am).
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
for module in confluent_kafka avro requests pytest; do
  /usr/bin/python3 -c "import $module" >/dev/null 2>&1 || need+=("python3-${module//_/-}")
done
if [ ${#need[@]} -gt 0 ]; then
  echo "installing ${need[*]} (Debian packages)"
  sudo=""
  [ "$(id -u)" = 0 ] || sudo=sudo
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq "${need[@]}" >/dev/null
fi

java -version 2>&1 | sed -n 1p
mvn -version | sed -n 1p
node --version
chromium --version
/usr/bin/python3 --version

exec mvn -B verify "$@"
