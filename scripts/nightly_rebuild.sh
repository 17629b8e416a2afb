#!/usr/bin/env bash
# Nightly rebuild of the faqbot index: (git pull) -> validate -> build -> evaluate -> quality gate -> swap.
# Safe from cron or a systemd timer: a lock file keeps two runs from overlapping, every step logs a
# timestamped line, and a JSON report lands in <index>/reports/ (latest.json is the newest).
#
# Usage: scripts/nightly_rebuild.sh [--force]
#   --force            publish even if the quality gate finds regressions (logged in the report)
#   FAQBOT_KB_PULL=1   first `git pull --ff-only` the knowledge base when it is a git checkout
#   FAQBOT_HOME, FAQBOT_KB_DIR, FAQBOT_INDEX_DIR, ...   as for faqbot itself
#
# Exit codes: 0 published | 1 a step failed (the live index is untouched) | 2 bad usage
#             3 refused by the quality gate (still serving the old index) | 4 another run holds the lock
set -uo pipefail

cd "$(dirname "$0")/.." || exit 1
FAQBOT_BIN="${FAQBOT_BIN:-$PWD/.venv/bin/faqbot}"
HOME_DIR="${FAQBOT_HOME:-.}"
resolve() { case "$1" in /*) printf '%s' "$1" ;; *) printf '%s/%s' "$HOME_DIR" "$1" ;; esac; }
INDEX_DIR="$(resolve "${FAQBOT_INDEX_DIR:-index}")"
KB_DIR="$(resolve "${FAQBOT_KB_DIR:-kb_articles}")"
FORCE=()

log() { printf '%s nightly_rebuild: %s\n' "$(date -Iseconds)" "$*"; }

for arg in "$@"; do
    case "$arg" in
        --force) FORCE=(--force) ;;
        *) log "unknown argument: $arg"; exit 2 ;;
    esac
done

mkdir -p "$INDEX_DIR" || { log "cannot create $INDEX_DIR"; exit 1; }
exec 9>"$INDEX_DIR/.rebuild.lock"
if ! flock -n 9; then
    log "another rebuild holds $INDEX_DIR/.rebuild.lock; not starting"
    exit 4
fi

log "start (kb: $KB_DIR, index: $INDEX_DIR)"
if [ "${FAQBOT_KB_PULL:-0}" = "1" ]; then
    if git -C "$KB_DIR" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
        log "step pull: git pull --ff-only in $KB_DIR"
        git -C "$KB_DIR" pull --ff-only || { log "step pull failed; live index untouched"; exit 1; }
    else
        log "step pull skipped: $KB_DIR is not a git checkout"
    fi
fi

log "step validate"
"$FAQBOT_BIN" validate || { log "step validate failed (see the file and field above); live index untouched"; exit 1; }

log "step build + evaluate + quality gate + swap"
"$FAQBOT_BIN" rebuild "${FORCE[@]}"
status=$?
case $status in
    0) log "done: published (report: $INDEX_DIR/reports/latest.json)" ;;
    3) log "done: refused by the quality gate, still serving the old index (report: $INDEX_DIR/reports/latest.json)" ;;
    *) log "failed with status $status; live index untouched (report: $INDEX_DIR/reports/latest.json)"; status=1 ;;
esac
exit $status
