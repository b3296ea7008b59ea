#!/usr/bin/env bash
# Fuzzing soak (not a test): the mutation fuzzer of tests/it/fuzz.rs run for
# SECONDS per target (staging CSV reader, staging XML reader, tag file,
# configuration) in a release build, from a time-based seed.
#
#   benches/fuzz.sh [SECONDS]        (default: 300)
#
# Prints iterations, time per iteration and distinct error kinds per target.
# A failure prints its seed and iteration and saves the input under
# $TMPDIR/magsync-fuzz/; copy it into tests/data/fuzz/ as a regression test.
# MAGSYNC_FUZZ_SEED=S replays a seed; MAGSYNC_FUZZ_VERBOSE=1 lists the kinds.
set -euo pipefail
cd "$(dirname "$0")/.."
MAGSYNC_FUZZ_SECONDS=${1:-300} cargo test --release --test it fuzz -- --nocapture
