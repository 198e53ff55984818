#!/bin/sh
# bundle_dist.sh BUILD — signed rules bundles distributed by the collector
# (issue 6, item 3: OFFER/FETCH/CHUNK/RESULT, DESIGN.md §4) on loopback.
#
# A real kanshi-collector and real kanshi-sensor processes, each sensor
# reading a capture FIFO that a python writer keeps feeding with a MARKA and
# a MARKB datagram (and fillers) every few ms.  The config's rules alert on MARKA (sid 1,
# ruleset "e2e-local"); bundle 5 adds sid 77 on MARKB (ruleset "bundle-5").
#   canary   published to it alone: it fetches, applies and reports applied;
#            its alerts reach the collector with sid 77 and "bundle-5"
#   other    connected meanwhile, not targeted: no delivery, no sid 77,
#            still "e2e-local"; after `bundle promote 5 --to all` it applies
#   late     enrolled but not running at publish and promote time: targeted,
#            never offered; started later, it is offered the bundle at HELLO
#            and applies it
#   refusal  bundle 4 (older) published to the canary: the sensor refuses it
#            (rollback) and `bundle status` shows the reason
#   chunks   bundle 6 is made larger than one CHUNK (256 KiB), so the fetch
#            takes several round trips; applied by the canary
#   corrupt  bundle 7 published to other while it is stopped, then one byte
#            of it flipped in the collector's database: other, started
#            again, fetches it, finds the SHA-256 of the offer does not
#            match, refuses it ("corrupt") and keeps running bundle 5
#
# Prints "ok"/"FAIL" lines and "bundle-dist-e2e: N passed, N failed[, N skipped]".
build=${1:-build}
col="$build/kanshi-collector"
ctl="$build/kanshictl"
sensor="$build/kanshi-sensor"
sig="$build/kanshi-sig"
tmp="$build/e2e-bundle-dist"
rm -rf "$tmp" && mkdir -p "$tmp"
pass=0 fail=0 skip=0
ok() { pass=$((pass + 1)); echo "ok   $1"; }
bad() {
    fail=$((fail + 1)); echo "FAIL $1"
    [ -s "$tmp/err" ] && sed 's/^/    /' "$tmp/err" | tail -20
    return 0
}
pids=""
cleanup() {
    touch "$tmp/stop"
    for p in $pids; do kill -TERM "$p" 2>/dev/null; done
    sleep 0.3
    for p in $pids; do kill -KILL "$p" 2>/dev/null; done
}
trap cleanup EXIT
trap 'cleanup; exit 1' HUP INT PIPE TERM
summary() {
    if [ "$skip" -gt 0 ]; then
        echo "bundle-dist-e2e: $pass passed, $fail failed, $skip skipped"
    else
        echo "bundle-dist-e2e: $pass passed, $fail failed"
    fi
    [ "$fail" -eq 0 ]
    exit
}
for p in "$col" "$ctl" "$sensor" "$sig"; do
    [ -x "$p" ] || { echo "FAIL $p not built"; fail=1; summary; }
done
command -v python3 >/dev/null || { echo "skip bundle-dist: python3 not installed"; skip=1; summary; }

# wait_count FILE PATTERN N TENTHS: until PATTERN is on N lines of FILE
wait_count() {
    i=0
    while [ $i -lt "$4" ]; do
        [ "$(grep -c -- "$2" "$1" 2>/dev/null)" -ge "$3" ] && return 0
        sleep 0.1
        i=$((i + 1))
    done
    return 1
}
# wait_cmd TENTHS CMD...: until CMD succeeds
wait_cmd() {
    n=$1
    shift
    i=0
    while [ $i -lt "$n" ]; do
        "$@" && return 0
        sleep 0.1
        i=$((i + 1))
    done
    return 1
}

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
ep="tcp://127.0.0.1:$port"
"$ctl" keygen --out "$tmp/collector.key" >"$tmp/ckey" 2>"$tmp/err" || { bad keygen; summary; }
cat >"$tmp/collector.yaml" <<EOF
listen: $ep
secret-key-file: $tmp/collector.key
database: $tmp/collector.db
synchronous: full
EOF
C="-c $tmp/collector.yaml"
"$ctl" $C org add "Ministry A" --tier 1 >/dev/null 2>"$tmp/err" || { bad org-add; summary; }
for id in canary other late; do
    "$ctl" $C sensor enroll "$id" --org "Ministry A" --endpoint "$ep" --out "$tmp/sensors" \
        --spool-dir "$tmp/spool-$id" >/dev/null 2>"$tmp/err" || { bad "enroll $id"; summary; }
done

# Release key, rules, bundles 4, 5 and 6 (6 carries a large comment file).
"$sig" keygen --out "$tmp/rel" >/dev/null 2>"$tmp/err" || { bad sig-keygen; summary; }
ruleA='alert udp any any -> any any (msg:"config A"; content:"MARKA"; sid:1;)'
echo "$ruleA" >"$tmp/config.rules"
mkdir -p "$tmp/src" "$tmp/src6"
printf '%s\n%s\n' "$ruleA" 'alert udp any any -> any any (msg:"bundle B"; content:"MARKB"; sid:77;)' \
    >"$tmp/src/sig.rules"
cp "$tmp/src/sig.rules" "$tmp/src6/sig.rules"
python3 -c 'import sys
with open(sys.argv[1], "w") as f:
    for i in range(12000):
        f.write("# padding line %06d to make the bundle span several chunks\n" % i)' \
    "$tmp/src6/zz-padding.rules"
if "$sig" bundle --key "$tmp/rel.key" --version 5 -o "$tmp/b5.bundle" "$tmp/src" >"$tmp/err" 2>&1 &&
    "$sig" bundle --key "$tmp/rel.key" --version 4 -o "$tmp/b4.bundle" "$tmp/src" >"$tmp/err" 2>&1 &&
    "$sig" bundle --key "$tmp/rel.key" --version 6 -o "$tmp/b6.bundle" "$tmp/src6" >"$tmp/err" 2>&1 &&
    "$sig" bundle --key "$tmp/rel.key" --version 7 -o "$tmp/b7.bundle" "$tmp/src" >"$tmp/err" 2>&1 &&
    [ "$(stat -c %s "$tmp/b6.bundle")" -gt 262144 ]; then
    ok "bundles 4, 5, 6 and 7 made ($(stat -c %s "$tmp/b6.bundle") bytes for 6)"
else
    bad make-bundles; summary
fi

# publish refuses what is not a bundle, and a bad target, leaving nothing behind
echo "not a bundle" >"$tmp/junk.bundle"
"$ctl" $C bundle publish "$tmp/junk.bundle" --to all >"$tmp/out" 2>"$tmp/err"; rc=$?
"$ctl" $C bundle publish "$tmp/b5.bundle" --to org:Nowhere >"$tmp/out" 2>>"$tmp/err"; rc2=$?
"$ctl" $C bundle publish "$tmp/b5.bundle" >"$tmp/out" 2>>"$tmp/err"; rc3=$?
if [ $rc -eq 1 ] && grep -q "junk.bundle: .*" "$tmp/err" && [ $rc2 -eq 1 ] &&
    grep -q 'no organisation "Nowhere"' "$tmp/err" && [ $rc3 -eq 2 ] &&
    ! "$ctl" $C bundle status | grep -q "^canary  *5 "; then
    ok "publish refuses a non-bundle, an unknown organisation, a missing --to"
else
    bad "publish-refusals ($rc $rc2 $rc3)"
fi

"$col" $C >"$tmp/collector.log" 2>&1 &
cpid=$!
pids="$pids $cpid"

# start_sensor ID: its config (enrolled + rules + bundles), its writer, itself
start_sensor() {
    id=$1 d="$tmp/$1"
    mkdir -p "$d/in"
    cp "$tmp/sensors/$id.yaml" "$d/sensor.yaml"
    cat >>"$d/sensor.yaml" <<EOF
ruleset-version: e2e-local
rules: [$tmp/config.rules]
detect:
  cache-dir: ''
bundles:
  keys: [$tmp/rel.pub]
  dir: $d/store
  incoming: $d/in
  check-interval: 1
EOF
    rm -f "$d/in.pcap"
    mkfifo "$d/in.pcap"
    python3 - "$d/in.pcap" "$tmp/stop" >"$d/writer.log" 2>&1 <<'PY' &
import os, struct, sys, time
def csum(b):
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xffff)
    return ~(s + (s >> 16)) & 0xffff
def frame(payload):
    udp = struct.pack("!HHHH", 20000, 5353, 8 + len(payload), 0) + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0,
                     bytes([10, 9, 0, 1]), bytes([10, 9, 0, 2]))
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    return b"\x02\0\0\0\0\x02\x02\0\0\0\0\x01\x08\x00" + ip + udp
out = open(sys.argv[1], "wb")
out.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
n = 0
# A marked pair and 30 fillers every 30 ms: about 1000 packets a second, so
# that a sensor reading a FIFO (never idle) looks into its drop directory
# (every 1024 packets) about once a second.
while not os.path.exists(sys.argv[2]):
    for tag in [b"MARKA", b"MARKB"] + [b"FILLER"] * 30:
        f = frame(tag + b" %d" % n)
        t = time.time()
        out.write(struct.pack("<IIII", int(t), int(t * 1e6) % 1000000, len(f), len(f)) + f)
    out.flush()
    n += 1
    time.sleep(0.03)
PY
    pids="$pids $!"
    "$sensor" -c "$d/sensor.yaml" -r "$d/in.pcap" >"$d/log" 2>&1 &
    eval "pid_$id=$!"
    pids="$pids $!"
}
hello_count() { grep -c "sensor $1: hello" "$tmp/collector.log" 2>/dev/null || echo 0; }
state_is() { grep -q "^version $2\$" "$tmp/$1/store/state" 2>/dev/null; }
# row ID VERSION STATE: bundle status has that row
row() { "$ctl" $C bundle status 2>/dev/null | grep -q "^$1  *$2  *$3 "; }
# alerts ID: the collector's alerts of that sensor, JSON lines
alerts() { "$ctl" $C alerts search --sensor "$1" --json 2>/dev/null; }

start_sensor canary
start_sensor other
if wait_count "$tmp/collector.log" "sensor canary: hello" 1 100 &&
    wait_count "$tmp/collector.log" "sensor other: hello" 1 100 &&
    wait_cmd 100 sh -c "\"$ctl\" $C alerts search --sensor other --json 2>/dev/null | grep -q '\"ruleset_version\":\"e2e-local\"'"; then
    ok "collector up, canary and other connected and alerting with ruleset e2e-local"
else
    cat "$tmp/collector.log" "$tmp/canary/log" >"$tmp/err"; bad start; summary
fi

# --- publish to the canary only ------------------------------------------------------------
if "$ctl" $C bundle publish "$tmp/b5.bundle" --to sensor:canary >"$tmp/out" 2>"$tmp/err" &&
    grep -q "published bundle 5 (rules, .* bytes), offered to 1 sensor " "$tmp/out"; then
    ok "publish 5 to sensor:canary ($(cat "$tmp/out"))"
else
    bad publish-canary
fi
if wait_cmd 200 state_is canary 5 && wait_cmd 100 row canary 5 applied &&
    grep -q "bundle: version 5 applied" "$tmp/canary/log"; then
    ok "canary fetched and applied bundle 5; status says applied"
else
    cat "$tmp/collector.log" "$tmp/canary/log" >"$tmp/err"; bad canary-applies
fi
if wait_cmd 100 sh -c "\"$ctl\" $C alerts search --sensor canary --json 2>/dev/null | grep '\"ruleset_version\":\"bundle-5\"' | grep -q '\"signature_id\":77'"; then
    ok "canary's alerts reach the collector with sid 77 and ruleset bundle-5"
else
    alerts canary | tail -3 >"$tmp/err"; bad canary-alerts
fi
sleep 1.5
if [ ! -e "$tmp/other/store/state" ] && ! grep -q "uplink: bundle\|bundle: " "$tmp/other/log" &&
    ! "$ctl" $C bundle status | grep -q "^other  *5 " &&
    ! alerts other | grep -q '"ruleset_version":"bundle-5"' &&
    ! alerts other | grep -q '"signature_id":77'; then
    ok "other was not offered bundle 5 and still runs e2e-local"
else
    cp "$tmp/other/log" "$tmp/err"; bad other-untouched
fi
if "$ctl" $C bundle status >"$tmp/status1" 2>"$tmp/err" &&
    grep -q "^canary  *5  *applied  *[0-9]*/[0-9]* .* bundle-5" "$tmp/status1" &&
    grep -q "^other  *-  *-  *-  *-  *e2e-local" "$tmp/status1" &&
    grep -q "^late  *-  *-  *-  *-  *-" "$tmp/status1"; then
    ok "status: canary applied and runs bundle-5, other runs e2e-local, late never heard"
else
    cp "$tmp/status1" "$tmp/err"; bad status-after-publish
fi

# --- an older bundle is refused by the sensor, with its reason ---------------------------
"$ctl" $C bundle publish "$tmp/b4.bundle" --to sensor:canary >"$tmp/out" 2>"$tmp/err" || bad publish-4
if wait_cmd 100 row canary 4 rejected &&
    "$ctl" $C bundle status | grep "^canary  *4  *rejected" | grep -q "rollback" &&
    state_is canary 5; then
    ok "bundle 4 rejected by the canary: $("$ctl" $C bundle status | grep "^canary  *4 " | grep -o 'rollback.*')"
else
    "$ctl" $C bundle status >"$tmp/err"; bad rollback-refused
fi

# --- promote to all: other applies; late is targeted but offline ----------------------------
if "$ctl" $C bundle promote 5 --to all >"$tmp/out" 2>"$tmp/err" &&
    grep -q "bundle 5 offered to 2 more sensors (all)" "$tmp/out"; then
    ok "promote 5 --to all: 2 more sensors (other, late)"
else
    bad promote
fi
if wait_cmd 200 state_is other 5 && wait_cmd 100 row other 5 applied &&
    wait_cmd 100 sh -c "\"$ctl\" $C alerts search --sensor other --json 2>/dev/null | grep -q '\"ruleset_version\":\"bundle-5\"'"; then
    ok "other applied bundle 5 after promote and alerts with bundle-5"
else
    cat "$tmp/collector.log" "$tmp/other/log" >"$tmp/err"; bad other-applies
fi
if row late 5 targeted; then
    ok "late (offline) is targeted, not offered"
else
    "$ctl" $C bundle status >"$tmp/err"; bad late-targeted
fi

# --- the offline sensor gets it when it connects -------------------------------------------
start_sensor late
if wait_cmd 200 state_is late 5 && wait_cmd 100 row late 5 applied; then
    ok "late connected, was offered bundle 5 at HELLO and applied it"
else
    cat "$tmp/collector.log" "$tmp/late/log" >"$tmp/err"; bad late-applies
fi

# --- a bundle larger than one chunk ----------------------------------------------------------
"$ctl" $C bundle publish "$tmp/b6.bundle" --to sensor:canary >"$tmp/out" 2>"$tmp/err" || bad publish-6
size6=$(stat -c %s "$tmp/b6.bundle")
if wait_cmd 300 state_is canary 6 && wait_cmd 100 row canary 6 applied &&
    "$ctl" $C bundle status | grep -q "^canary  *6  *applied  *$size6/$size6 "; then
    ok "bundle 6 ($size6 bytes, several chunks) fetched whole and applied by the canary"
else
    cat "$tmp/canary/log" >"$tmp/err"; "$ctl" $C bundle status >>"$tmp/err"; bad multi-chunk
fi
[ ! -e "$tmp/canary/store/.partial/6.part" ] && [ ! -e "$tmp/canary/in/uplink-6.bundle" ] &&
    ok "no partial or dropped file left behind" || { ls -la "$tmp/canary/store/.partial" "$tmp/canary/in" >"$tmp/err" 2>&1; bad leftovers; }

# --- a chunk corrupted on the way: refused, the old rules stay ------------------------------
kill -TERM "$pid_other" 2>/dev/null
wait "$pid_other" 2>/dev/null
"$ctl" $C bundle publish "$tmp/b7.bundle" --to sensor:other >"$tmp/out" 2>"$tmp/err" || bad publish-7
python3 - "$tmp/collector.db" <<'PY' >"$tmp/err" 2>&1 || bad corrupt-blob
import sqlite3, sys
db = sqlite3.connect(sys.argv[1], timeout=10)
data = bytearray(db.execute("SELECT data FROM bundles WHERE version = 7").fetchone()[0])
data[len(data) // 2] ^= 0x01
db.execute("UPDATE bundles SET data = ? WHERE version = 7", (bytes(data),))
db.commit()
PY
# b5_alerts_since ID T: the sensor has sid-77 alerts of bundle-5 from packets after T
b5_alerts_since() {
    "$ctl" $C alerts search --sensor "$1" --sid 77 --since "$2" --json 2>/dev/null |
        grep -q '"ruleset_version":"bundle-5"'
}
t7=$(date -u +%Y-%m-%dT%H:%M:%SZ)
start_sensor other
if wait_cmd 200 row other 7 rejected &&
    "$ctl" $C bundle status | grep "^other  *7  *rejected" | grep -q "corrupt" && state_is other 5 &&
    grep -q "bundle: running version 5" "$tmp/other/log" &&
    wait_cmd 100 b5_alerts_since other "$t7" &&
    [ ! -e "$tmp/other/store/7" ] && [ ! -e "$tmp/other/store/.partial/7.part" ]; then
    ok "bundle 7 corrupted in transit refused by other ($("$ctl" $C bundle status | grep "^other  *7 " | grep -o 'corrupt.*')); it keeps alerting with bundle-5"
else
    cat "$tmp/other/log" >"$tmp/err"; "$ctl" $C bundle status >>"$tmp/err"; bad corrupt-refused
fi

"$ctl" $C bundle status >"$tmp/status2" 2>&1
if grep -q "^canary  *5  *applied" "$tmp/status2" && grep -q "^canary  *6  *applied .* bundle-6" "$tmp/status2" &&
    grep -q "^other  *5  *applied .* bundle-5" "$tmp/status2" &&
    grep -q "^late  *5  *applied .* bundle-5" "$tmp/status2"; then
    ok "final status truthful for all three sensors"
else
    cp "$tmp/status2" "$tmp/err"; bad final-status
fi
if alive() { kill -0 "$1" 2>/dev/null; }; alive "$cpid" && alive "$pid_canary" && alive "$pid_other"; then
    ok "collector and sensors still running"
else
    bad alive
fi
summary
