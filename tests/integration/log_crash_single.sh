#!/usr/bin/env bash
# kill -9 of `pixiu log serve` under many concurrent single-entry appends
# (48 clients on kept-alive connections, one entry per POST /add), so the
# kill lands while group commits are gathering and in flight: after each
# restart every acknowledged entry is at its acknowledged index and the
# restarted log's checkpoint is consistent with every earlier one. SQLite,
# and PostgreSQL when PX_TEST_PG_DSN is set. The rounds are log_crash.sh's.
set -euo pipefail
PX_CRASH_MODE=single exec bash "$(dirname "$0")/log_crash.sh" "$@"
