#!/usr/bin/env bash
# The PF-side passive checks against their fault switches (the table in docs/performance.md):
# for each switch, a run of only its clause's cases with the fault on, the run's pcaps merged
# into one capture, and `cpmconf judge --from-run` on it; prints the clause's passive verdict.
#   bench/passive_pf.sh [WORK_DIR]      (needs mergecap; about 5 s a switch)
set -uo pipefail
cd "$(dirname "$0")/.."
work="${1:-/tmp/cpmconf-passive-pf}"
mkdir -p "$work"
for s in pf.403-no-warning pf.ignore-block pf.no-202-on-defer pf.copy-no-core-route \
  pf.request-uri-not-gruu pf.no-uid-in-200 pf.no-uid-in-forwarded-message \
  pf.deferred-488-no-warning pf.defer-no-system-message-tag pf.defer-notify-no-user-agent \
  pf.large-no-server pf.notification-no-core-route pf.invite-no-core-route \
  pf.large-invite-contact-not-gruu pf.push-no-core-route pf.push-to-contact \
  pf.push-accept-contact-msg-icsi pf.push-contact-no-icsi pf.push-no-automata \
  pf.push-no-session-expires pf.push-sendrecv; do
  clause=$(.venv/bin/cpmconf faults | awk -v s="$s" '$1==s{print $2}')
  run="$work/$s"
  rm -rf "$run" "$run-judged"
  .venv/bin/cpmconf run -q --sut-fault "$s" --clause "$clause" --report-dir "$run" > "$run.runlog" 2>&1
  mergecap -F pcap -w "$run.pcap" "$run"/pcaps/*.pcap
  .venv/bin/cpmconf judge "$run.pcap" --from-run "$run" --report-dir "$run-judged" > "$run.judgelog" 2>&1
  code=$?
  verdict=$(awk -v c="$clause" '$1==c{print $2}' "$run.judgelog" | sort -u | tr '\n' ' ')
  echo "$s $clause ${verdict:-not-judged} (exit $code)"
done
