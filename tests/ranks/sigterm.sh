#!/usr/bin/env bash
# SIGTERM to rank 0 of `spy --ranks 2` outside Slurm: the session dies as
# asked without running scancel (it submitted no Slurm job; scancel printed
# four lines of configuration errors here), and the launcher returns.
set -u
spy=${1:?usage: sigterm.sh <spy>}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cat > "$tmp/run.lua" <<'LUA'
local c = spy.Client()
local f = io.open("/proc/self/stat")
local pid = f:read("a"):match("^(%d+)")
f:close()
f = io.open(os.getenv("READY") .. ".part", "w")
f:write(pid)
f:close()
os.rename(os.getenv("READY") .. ".part", os.getenv("READY"))
while true do os.execute("sleep 0.1") end
LUA
env -u SLURM_CONF READY="$tmp/ready" timeout 60 "$spy" --ranks 2 "$tmp/run.lua" >"$tmp/out" 2>"$tmp/err" &
launcher=$!
for _ in $(seq 300); do [[ -s $tmp/ready ]] && break; sleep 0.1; done
[[ -s $tmp/ready ]] || { echo "rank 0 never got ready"; cat "$tmp/err"; exit 1; }
kill -TERM "$(cat "$tmp/ready")"
wait "$launcher"
status=$?
if grep -q scancel "$tmp/err"; then
  echo "scancel ran on SIGTERM without Slurm jobs:"
  cat "$tmp/err"
  exit 1
fi
# 124: timeout's; the run must end by the signal, not hang
[[ $status -ne 124 ]] || { echo "the run did not end after SIGTERM"; exit 1; }
echo "sigterm: ok (status $status)"
