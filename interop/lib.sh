# Shared by the interop start and stop scripts (sourced, not run).

# wait_tcp HOST PORT SECONDS PID WHAT: return once HOST:PORT accepts a TCP connection; fail
# (exit 3) when PID died or after SECONDS. A bounded poll, the only wait a start script has.
wait_tcp() {
  local host=$1 port=$2 bound=$3 pid=$4 what=$5 i
  for ((i = 0; i < bound * 10; i++)); do
    if (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null; then return 0; fi
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "$what: exited before listening on $host:$port" >&2
      return 3
    fi
    sleep 0.1
  done
  echo "$what: not listening on $host:$port within $bound s" >&2
  return 3
}

# stop_pids STATE: end every process start recorded in STATE/pids (TERM, then KILL after 5 s).
stop_pids() {
  local state=$1 pid i
  [ -f "$state/pids" ] || return 0
  while read -r pid; do
    kill -TERM "$pid" 2>/dev/null || true
  done < "$state/pids"
  while read -r pid; do
    for ((i = 0; i < 50; i++)); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
  done < "$state/pids"
  rm -f "$state/pids"
}
