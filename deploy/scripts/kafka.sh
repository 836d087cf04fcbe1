#!/usr/bin/env bash
# Fetches the Kafka broker's jars once from Maven Central and caches them: the single-node KRaft
# broker that the Kafka bridge tests and `telly up --kafka` run (@telly/harness `KafkaBroker`).
#   kafka.sh            (setup.sh test calls it; stdout: `export` lines, progress: stderr)
# TELLY_KAFKA_LIB=/path/to/libs uses a directory of Kafka 4.x jars of your own instead.
#
# `mvn dependency:copy-dependencies` over deploy/scripts/kafka/pom.xml copies
# org.apache.kafka:kafka_2.13 with its runtime dependencies and the log4j2 binding of SLF4J
# (log4j-slf4j-impl) into $cache/kafka-<version>/lib; nothing is built. Java 17+ runs them.
# Idempotent: a complete copy (its stamp written last) is kept; one copy at a time (flock).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
pom="$root/deploy/scripts/kafka/pom.xml"
version="$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$pom")"
cache="${TELLY_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/telly}"
dir="$cache/kafka-$version"
stamp="$dir/.complete"
say() { printf '[setup] %s\n' "$*" >&2; }
mkdir -p "$cache"

if [ -n "${TELLY_KAFKA_LIB:-}" ]; then # jars of your own: nothing to fetch
  printf 'export TELLY_KAFKA_LIB=%q\n' "$TELLY_KAFKA_LIB"
  exit 0
fi
want="$(sha256sum "$pom" | cut -d' ' -f1)"
done_() { printf 'export TELLY_KAFKA_LIB=%q\n' "$dir/lib"; exit 0; }
[ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && done_

command -v java >/dev/null || { say "Java 17+ is needed to run the Kafka broker (Debian: default-jre-headless)"; exit 1; }
command -v mvn >/dev/null || { say "Maven is needed to fetch the Kafka broker's jars (Debian: maven)"; exit 1; }

exec 9>"$cache/kafka-$version.lock"
flock -w 600 9 || { say "timed out waiting for another setup fetching Kafka $version"; exit 1; }
[ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && done_

say "fetching the Kafka $version broker's jars from Maven Central (once; cached in $dir)"
rm -rf "$dir.partial"
mkdir -p "$dir.partial"
mvn -q -B -f "$pom" dependency:copy-dependencies -DincludeScope=runtime \
  -Dstyle.color=never -DoutputDirectory="$dir.partial/lib" >&2
ls "$dir.partial/lib/kafka_2.13-$version.jar" >/dev/null
echo "$want" > "$dir.partial/.complete"
rm -rf "$dir"
mv "$dir.partial" "$dir"
done_
