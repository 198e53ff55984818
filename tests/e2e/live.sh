#!/bin/sh
# live.sh BUILD — live capture end to end, on loopback only: kanshi-sensor
# opens lo with a BPF filter as root, drops to 'nobody', alerts on UDP
# datagrams this script sends to 127.0.0.1, prints statistics on SIGUSR1
# and stops cleanly on SIGINT.
build=${1:-build}
sensor="$build/kanshi-sensor"
tmp="$build/e2e-live"
rm -rf "$tmp" && mkdir -p "$tmp"
pass=0 fail=0 skip=0
ok() { pass=$((pass + 1)); echo "ok   $1"; }
bad() { fail=$((fail + 1)); echo "FAIL $1"; sed 's/^/    /' "$tmp/err" 2>/dev/null | tail -15; }
finish() { echo "live-e2e: $pass passed, $fail failed, $skip skipped"; [ "$fail" -eq 0 ]; exit $?; }

if [ "$(id -u)" -ne 0 ] || ! id nobody >/dev/null 2>&1 || ! command -v python3 >/dev/null; then
    skip=1; echo "skip live capture: needs root, user nobody and python3"; finish
fi
port=$((40000 + $$ % 20000))
printf 'alert udp any any -> any %s (msg:"live marker"; content:"kanshi-live-marker"; sid:77;)\n' "$port" >"$tmp/live.rules"
printf 'user: nobody\n' >"$tmp/live.yaml"
chmod 0777 "$tmp"
"$sensor" -c "$tmp/live.yaml" -S "$tmp/live.rules" -i lo -f "udp port $port" -l "$tmp/out" -v \
    2>"$tmp/err" &
pid=$!
# Wait until the capture is open (the sensor logs its privilege drop then).
i=0
while [ $i -lt 50 ] && ! grep -q "running as user nobody" "$tmp/err"; do sleep 0.1; i=$((i + 1)); done
python3 - "$port" <<'PY'
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(5):
    s.sendto(b"hello kanshi-live-marker %d" % i, ("127.0.0.1", int(sys.argv[1])))
    s.sendto(b"nothing to see %d" % i, ("127.0.0.1", int(sys.argv[1])))
    time.sleep(0.02)
PY
sleep 0.5
kill -USR1 "$pid"
sleep 0.3
kill -INT "$pid"
wait "$pid"
rc=$?
n=$(grep -c '"signature_id":77' "$tmp/out/eve.json" 2>/dev/null)
if [ "$rc" -eq 0 ] && [ "$n" = 5 ]; then ok "live-capture-alerts (5 of 5 marked datagrams)"; else echo "    rc=$rc alerts=$n"; bad live-capture-alerts; fi
if grep -q "running as user nobody" "$tmp/err"; then ok live-privdrop; else bad live-privdrop; fi
if [ "$(grep -c 'kanshi-sensor statistics' "$tmp/err")" -ge 2 ] && grep -q "kernel drops 0" "$tmp/err"; then
    ok live-stats-on-sigusr1-and-exit
else
    bad live-stats-on-sigusr1-and-exit
fi
if ! "$sensor" -S "$tmp/live.rules" -i no-such-iface0 2>"$tmp/err" && grep -q "no-such-iface0" "$tmp/err"; then
    ok missing-interface-named
else
    bad missing-interface-named
fi
finish
