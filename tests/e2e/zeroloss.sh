#!/bin/sh
# zeroloss.sh BUILD — the uplink's promise, end to end: no alert lost, none
# delivered twice.  Real kanshi-collector and kanshi-sensor processes on
# 127.0.0.1 (ports picked free at start), sensors enrolled with kanshictl:
#
#  1. A stream of 150,000 alerts, then 50,000 more: the collector is killed
#     (SIGKILL) and restarted while it flows, later the sensor too, which
#     restarts reading more input.  The store then holds every sequence
#     number 1..N exactly once (N: the sensor's highest), no gap is recorded,
#     and the tier feed's subscriber never got an alert twice (it may miss
#     some while the collector is down: PUB does not queue for later).
#  2. The collector down for a while: the sensor reads its input at full
#     speed into the spool with no drops (capture, spool), and everything
#     arrives once the collector is back.
#  3. A sensor whose spool was wiped (a new disk) but kept its key, spooling
#     while the collector is down: its new alerts are renumbered after what
#     the collector holds instead of being acknowledged as duplicates and
#     lost.
#
# Needs sqlite3 (the store is checked as a full set of numbers) and python3
# (the feed's JSON); without them it reports a skip.  Prints "zeroloss-e2e:
# N passed, N failed[, N skipped]" last and exits non-zero on failure.
build=${1:-build}
ctl="$build/kanshictl"
col="$build/kanshi-collector"
sensor="$build/kanshi-sensor"
pktgen="$build/kanshi-pktgen"
tmp="$build/e2e-zeroloss"
rm -rf "$tmp" && mkdir -p "$tmp"
pass=0 fail=0 skip=0
ok() { pass=$((pass + 1)); echo "ok   $1"; }
bad() {
    fail=$((fail + 1)); echo "FAIL $1"
    [ -s "$tmp/err" ] && sed 's/^/    /' "$tmp/err" | head -20
    return 0
}
pids=""
cleanup() { for p in $pids; do kill -KILL "$p" 2>/dev/null; done; }
trap cleanup EXIT
trap 'cleanup; exit 1' HUP INT PIPE TERM
summary() {
    if [ "$skip" -gt 0 ]; then
        echo "zeroloss-e2e: $pass passed, $fail failed, $skip skipped"
    else
        echo "zeroloss-e2e: $pass passed, $fail failed"
    fi
    [ "$fail" -eq 0 ]
    exit
}

for p in "$ctl" "$col" "$sensor" "$pktgen"; do
    [ -x "$p" ] || { echo "FAIL $p not built"; fail=1; summary; }
done
for t in sqlite3 python3; do
    command -v $t >/dev/null || { echo "skip: $t not installed"; skip=1; summary; }
done

# --- ports: four consecutive ones nobody listens on ------------------------------
listening() { ss -Htln 2>/dev/null | awk '{print $4}' | sed 's/.*://'; }
base=""
for try in 1 2 3 4 5 6 7 8 9 10; do
    cand=$(( 20000 + ($$ * 13 + try * 1009 + $(date +%s) % 1000) % 30000 ))
    used=$(listening)
    clash=""
    for i in 0 1 2 3; do echo "$used" | grep -qx "$((cand + i))" && clash=1; done
    [ -z "$clash" ] && { base=$cand; break; }
done
[ -z "$base" ] && base=$(( 20000 + $$ % 30000 ))
P=$base F1=$((base + 1)) F2=$((base + 2))
ep="tcp://127.0.0.1:$P"

# --- collector, registry, sensors, analyst --------------------------------------
"$ctl" keygen --out "$tmp/collector.key" >/dev/null 2>"$tmp/err" || bad keygen
db="$tmp/collector.db"
cat >"$tmp/collector.yaml" <<EOF
listen: $ep
secret-key-file: $tmp/collector.key
database: $db
synchronous: full
feeds:
  - name: tier1
    endpoint: tcp://127.0.0.1:$F1
    tiers: [1]
  - name: tier2
    endpoint: tcp://127.0.0.1:$F2
    tiers: [2]
EOF
C="-c $tmp/collector.yaml"
"$ctl" $C registry import collector/registry.example >/dev/null 2>"$tmp/err" || bad registry-import
enroll() { # ID ORG — a sensor config that waits up to 60 s for ACKs at exit
    "$ctl" $C sensor enroll "$1" --org "$2" --endpoint "$ep" --out "$tmp/sensors" \
        --spool-dir "$tmp/spool-$1" >/dev/null 2>>"$tmp/err" &&
        sed -i '/^uplink:/a\  drain-timeout: 60\n  stats-interval: 1' "$tmp/sensors/$1.yaml"
}
: >"$tmp/err"
if enroll zl-gw-01 "Digital Agency" && enroll zl-gw-02 "Japan Pension Service" &&
    enroll zl-gw-03 "Digital Agency" &&
    "$ctl" $C analyst add a1 --tiers 1 --out "$tmp/analysts" >/dev/null 2>>"$tmp/err"; then
    ok enroll
else
    bad enroll
    summary
fi

# --- traffic: UDP datagrams one rule matches, one alert each ----------------------
echo 'alert udp any any -> any any (msg:"KANSHI ZEROLOSS"; content:"ZEROLOSS"; sid:9300001;)' \
    >"$tmp/zl.rules"
spec() { # OUT FLOWS PER-FLOW TAG NET PORT0
    awk -v flows="$2" -v per="$3" -v tag="$4" -v net="$5" -v port0="$6" 'BEGIN {
        for (f = 0; f < flows; f++) {
            line = sprintf("udp %s.%d.%d:%d > 192.0.2.%d:5353", net, int(f / 250), f % 250 + 1,
                           port0 + f, f % 50 + 1)
            for (i = 0; i < per; i++)
                line = line sprintf(" \"ZEROLOSS %s %d/%d\"", tag, f, i)
            print line
        }
    }' >"$tmp/$1.spec"
    "$pktgen" spec "$tmp/$1.spec" "$tmp/$1.pcap" 2>>"$tmp/err"
}
if spec stream 200 250 S 10.7 20000 && spec resetA 2 250 A 10.8 30000 &&
    spec resetB 1 250 B 10.9 40000; then
    ok "pcaps (50000 + 500 + 250 matching datagrams)"
else
    bad pcaps
    summary
fi

wait_for() { # FILE PATTERN TENTHS
    n=0
    while [ $n -lt "$3" ]; do
        grep -q "$2" "$1" 2>/dev/null && return 0
        sleep 0.1
        n=$((n + 1))
    done
    return 1
}
sq() { sqlite3 -cmd ".timeout 5000" "$db" "$1"; }
stored() { sq "SELECT count(*) FROM alerts WHERE sensor_id = '$1'" 2>/dev/null; } # SENSOR
wait_stored() { # SENSOR AT-LEAST TENTHS
    n=0
    while [ $n -lt "$3" ]; do
        c=$(stored "$1")
        [ "${c:-0}" -ge "$2" ] && return 0
        sleep 0.1
        n=$((n + 1))
    done
    return 1
}
# Every sequence number 1..N exactly once: prints "ROWS MISPLACED".
seqset() { # SENSOR
    sq "SELECT seq FROM alerts WHERE sensor_id = '$1' ORDER BY seq" |
        awk 'NR != $1 { bad++ } END { print NR + 0, bad + 0 }'
}
gaps() { sq "SELECT count(*) FROM gaps WHERE sensor_id = '$1'"; }
start_collector() { # LOG
    "$col" $C >"$tmp/$1" 2>&1 &
    colpid=$!
    pids="$pids $colpid"
    wait_for "$tmp/$1" "listening on" 50
}
run_sensor() { # ID LOG INPUT...
    id=$1 log=$2
    shift 2
    set -- $(for f in "$@"; do printf -- '-r %s ' "$tmp/$f.pcap"; done)
    "$sensor" -c "$tmp/sensors/$id.yaml" -S "$tmp/zl.rules" "$@" >"$tmp/$log" 2>&1 &
    senpid=$!
    pids="$pids $senpid"
}
alive() { kill -0 "$1" 2>/dev/null; }
t0=$(date +%s)

# === 1. SIGKILL the collector, then the sensor, while 200,000 alerts flow =========
start_collector col1.log || { cp "$tmp/col1.log" "$tmp/err"; bad collector-start; summary; }
"$ctl" alerts tail --feed "tcp://127.0.0.1:$F1" --collector-key "$tmp/collector.key.pub" \
    --key "$tmp/analysts/a1.key" --json >"$tmp/feed.json" 2>"$tmp/feed.err" &
tailpid=$!
pids="$pids $tailpid"
wait_for "$tmp/feed.err" subscribed 50 || { cp "$tmp/feed.err" "$tmp/err"; bad subscriber; }

run_sensor zl-gw-01 s1.log stream stream stream
s1=$senpid
if wait_stored zl-gw-01 20000 300 && alive "$s1"; then
    kill -KILL "$colpid"
    wait "$colpid" 2>/dev/null
    k1=$(stored zl-gw-01)
    ok "collector SIGKILLed while alerts flow ($k1 stored, sensor running)"
else
    cp "$tmp/s1.log" "$tmp/err"
    bad "collector-kill (stored $(stored zl-gw-01))"
fi
sleep 1
start_collector col2.log || { cp "$tmp/col2.log" "$tmp/err"; bad collector-restart; }
# The feed is bound again; the subscriber reconnects by itself.
if wait_stored zl-gw-01 $((${k1:-0} + 30000)) 300 && alive "$s1"; then
    kill -KILL "$s1"
    wait "$s1" 2>/dev/null
    k2=$(stored zl-gw-01)
    ok "sensor SIGKILLed while alerts flow ($k2 stored)"
else
    cp "$tmp/s1.log" "$tmp/err"
    state=$(alive "$s1" && echo running || echo gone)
    bad "sensor-kill (stored $(stored zl-gw-01), sensor $state)"
fi
run_sensor zl-gw-01 s2.log stream
s2=$senpid
n=0
while alive "$s2" && [ $n -lt 600 ]; do sleep 0.1; n=$((n + 1)); done
wait "$s2"; rc=$?
N=$(sed -n 's/.*spool: *next seq \([0-9]*\) .*/\1/p' "$tmp/s2.log")
N=$((${N:-1} - 1))
if [ $rc -eq 0 ] && grep -q "acked seq $N  pending 0" "$tmp/s2.log" && [ "$N" -ge 150000 ]; then
    ok "restarted sensor drained its spool and the new input (N = $N)"
else
    cp "$tmp/s2.log" "$tmp/err"
    bad "sensor-restart-drained (rc $rc, N $N)"
fi
set -- $(seqset zl-gw-01)
if [ "$1" = "$N" ] && [ "$2" = 0 ] && [ "$(gaps zl-gw-01)" = 0 ]; then
    ok "store holds every sequence number 1..$N exactly once, no gap"
else
    echo "rows $1, misplaced $2, gaps $(gaps zl-gw-01)" >"$tmp/err"
    bad "store-exactly-once"
fi
sleep 0.5
kill -TERM "$tailpid" 2>/dev/null
wait "$tailpid" 2>/dev/null
if python3 - "$tmp/feed.json" "$N" >"$tmp/out" 2>"$tmp/err" <<'PY'
import json, sys
path, n = sys.argv[1], int(sys.argv[2])
seen = set()
for line in open(path):
    k = json.loads(line)["kanshi"]
    assert (k["sensor_id"], k["organisation"], k["tier"]) == ("zl-gw-01", "Digital Agency", 1), k
    s = k["seq"]
    assert 1 <= s <= n, s
    assert s not in seen, "seq %d published twice" % s
    seen.add(s)
assert len(seen) > n // 2, "only %d of %d on the feed" % (len(seen), n)
print(len(seen))
PY
then
    ok "feed delivered no alert twice ($(cat "$tmp/out") of $N received)"
else
    bad "feed-no-duplicates"
fi

# === 3a. a sensor's first life: 500 alerts stored =================================
run_sensor zl-gw-03 r1.log resetA
wait "$senpid"; rc=$?
if [ $rc -eq 0 ] && grep -q "acked seq 500  pending 0" "$tmp/r1.log"; then
    ok "reset case: first spool's 500 alerts stored"
else
    cp "$tmp/r1.log" "$tmp/err"
    bad "reset-first-life (rc $rc)"
fi
rm -rf "$tmp/spool-zl-gw-03" # a new disk; the key stays

# === 2. the collector down for a while ==========================================
kill -TERM "$colpid"
wait "$colpid" || bad "restarted collector stops cleanly"
echo "     (restarted collector: $(sed -n 's/.*stopping: [0-9]* frames, //p' "$tmp/col2.log"))"
run_sensor zl-gw-02 d.log stream stream
dpid=$senpid
run_sensor zl-gw-03 r2.log resetB
rpid=$senpid
if wait_for "$tmp/d.log" "waiting up to 60 s" 300 &&
    wait_for "$tmp/r2.log" "waiting up to 60 s" 100 &&
    [ "$(stored zl-gw-02)" = 0 ] && ls "$tmp/spool-zl-gw-02" | grep -q '^seg-'; then
    ok "collector down: the sensor read all its input into the spool"
else
    cat "$tmp/d.log" "$tmp/r2.log" >"$tmp/err"
    bad "collector-down-spooled"
fi
sleep 1
start_collector col3.log || { cp "$tmp/col3.log" "$tmp/err"; bad collector-back; }
wait "$dpid"; rc=$?
if [ $rc -eq 0 ] &&
    grep -q "capture:  packets 100000 .* kernel drops 0  interface drops 0" "$tmp/d.log" &&
    grep -q "detect:   rules 1  alerts 100000" "$tmp/d.log" &&
    grep -q "spool: .*acked seq 100000  pending 0 .* full drops 0  write errors 0" \
        "$tmp/d.log"; then
    ok "collector back: all 100000 acknowledged; no kernel, interface or spool drops"
else
    cp "$tmp/d.log" "$tmp/err"
    bad "collector-back-drained (rc $rc)"
fi
set -- $(seqset zl-gw-02)
[ "$1" = 100000 ] && [ "$2" = 0 ] && [ "$(gaps zl-gw-02)" = 0 ] &&
    ok "store holds 1..100000 of the spooled sensor exactly once" ||
    { echo "rows $1, misplaced $2" >"$tmp/err"; bad "collector-down-store"; }
sleep 0.3
"$ctl" $C sensor list --json >"$tmp/list" 2>"$tmp/err"
grep '"id":"zl-gw-02"' "$tmp/list" |
    grep -q '"packets":100000,"kernel_drops":0,"if_drops":0,.*"spool_dropped":0' &&
    ok "fleet health shows the sensor's counters: no drops" ||
    { cp "$tmp/list" "$tmp/err"; bad "collector-down-health"; }

# === 3b. the reset sensor: renumbered after what the collector holds ================
wait "$rpid"; rc=$?
if [ $rc -eq 0 ] && grep -q "acked seq 750  pending 0" "$tmp/r2.log" &&
    grep -q "renumbered its 250 unacknowledged alert(s)" "$tmp/r2.log" &&
    grep -q "renumbered 1" "$tmp/r2.log"; then
    ok "reset spool renumbered after the collector's 500 (logged)"
else
    cp "$tmp/r2.log" "$tmp/err"
    bad "reset-renumbered (rc $rc)"
fi
set -- $(seqset zl-gw-03)
q="SELECT count(*) FROM alerts WHERE sensor_id = 'zl-gw-03' AND"
old=$(sq "$q seq <= 500 AND src_ip LIKE '10.8.%'")
new=$(sq "$q seq > 500 AND src_ip LIKE '10.9.%'")
if [ "$1" = 750 ] && [ "$2" = 0 ] && [ "$old" = 500 ] && [ "$new" = 250 ] &&
    [ "$(gaps zl-gw-03)" = 0 ]; then
    ok "store: the old disk's 500 and the new disk's 250, as 1..750"
else
    echo "rows $1, misplaced $2, old $old, new $new" >"$tmp/err"
    bad "reset-store"
fi
if grep -q "sensor zl-gw-03: numbers its next alert 251 but the collector holds up to 500" \
    "$tmp/col3.log"; then
    ok "collector logged the reset sensor"
else
    cp "$tmp/col3.log" "$tmp/err"
    bad reset-collector-log
fi

kill -TERM "$colpid"
wait "$colpid"; rc=$?
if [ $rc -eq 0 ]; then
    ok "collector stops cleanly"
else
    tail -5 "$tmp/col3.log" >"$tmp/err"
    bad "collector-stop (rc $rc)"
fi
echo "     ($(($(date +%s) - t0)) s)"
# The big files only help when something failed.
[ "$fail" -eq 0 ] && rm -rf "$tmp"/*.pcap "$tmp"/spool-* "$tmp/feed.json" "$db"*
summary
