#!/usr/bin/env bash
# Fuzzing, a bounded CI step (not part of `npm test`): each cargo-fuzz target
# runs for FUZZ_SECONDS (default 60) from the committed seed corpus.
#
# Stable Rust is enough: `-s none` builds without a sanitizer, which is the
# only part of cargo-fuzz that needs nightly (coverage instrumentation uses
# stable `-C` flags). A crash leaves its input in fuzz/artifacts/<target>/
# and fails the step; turn it into a regression test in the Rust module it
# belongs to (see docs/reliability.md).
#
#   scripts/fuzz-ci.sh                  # all targets, 60 s each
#   FUZZ_SECONDS=10 scripts/fuzz-ci.sh case_convert
set -euo pipefail
cd "$(dirname "$0")/../fuzz"

SECONDS_EACH="${FUZZ_SECONDS:-60}"
TARGETS=("$@")
if [ ${#TARGETS[@]} -eq 0 ]; then
  TARGETS=(decode_gateway wechat_json gateway_multipart case_convert)
fi

if ! cargo fuzz --version >/dev/null 2>&1; then
  cargo install cargo-fuzz --locked
fi

cargo fuzz build -s none

status=0
for t in "${TARGETS[@]}"; do
  # New inputs go to a scratch directory: the committed corpus stays the seed.
  work="$(mktemp -d)"
  echo "== fuzz $t for ${SECONDS_EACH}s"
  # libFuzzer's own bound, plus a hard one in case a single input hangs.
  if ! timeout --kill-after=10 $((SECONDS_EACH + 60)) \
      cargo fuzz run -s none "$t" "$work" "corpus/$t" -- \
      -max_total_time="$SECONDS_EACH" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1; then
    echo "!! fuzz target $t failed: see fuzz/artifacts/$t/"
    status=1
  fi
  rm -rf "$work"
done
exit $status
