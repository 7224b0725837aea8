#!/usr/bin/env bash
# Draws one SVG per section of benchmarks/RESULTS.md (bars: Capstan against each peer or
# reference per figure, the stated ratios written beside them) into docs/plots/, with
# dev.capstan.benchmarks.plots.Plots. The generator needs only the JDK: it is compiled here with
# javac into a temporary directory, so no Maven build is needed. Items it cannot read are left out
# and logged ("skipped: ..."); it never makes up a number. See docs/benchmarks.md.
#   RESULTS_MD  the results file (default: benchmarks/RESULTS.md)
#   OUT         the output directory (default: docs/plots)
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
RESULTS_MD=${RESULTS_MD:-$HERE/RESULTS.md}
OUT=${OUT:-$ROOT/docs/plots}

CLASSES=$(mktemp -d)
trap 'rm -rf "$CLASSES"' EXIT
javac --release 17 -Xlint:all -Werror -d "$CLASSES" "$HERE"/src/main/java/dev/capstan/benchmarks/plots/*.java
java -Djava.util.logging.SimpleFormatter.format='[plots] %4$s %5$s%6$s%n' \
  -cp "$CLASSES" dev.capstan.benchmarks.plots.Plots "$RESULTS_MD" "$OUT"
