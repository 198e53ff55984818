#!/bin/sh
# bundle_resume.sh BUILD — issue 6 acceptance: "a transfer cut half-way
# resumes" (OFFER/FETCH/CHUNK, DESIGN.md §4; the partial file of
# sensor/uplink.c, bundles.dir/.partial/VERSION.part).
#
# A real kanshi-collector and real kanshi-sensor processes run in a network
# namespace of their own whose loopback is slowed by a tbf qdisc, so that a
# bundle of a few MB takes seconds to fetch and can be cut in the middle
# without guessing at timings: the script waits until the sensor's partial
# file holds part of the bundle, then kills a side.  The sensors capture live
# on the namespace's lo with a filter nothing matches (an idle input).
#   collector cut  the collector is killed (SIGKILL) half-way: the partial
#                  file is a strict prefix of the bundle; the collector is
#                  started again on the same store; the sensor, offered the
#                  bundle again, resumes at the byte where its file stops,
#                  checks the SHA-256, applies it; bundle status says
#                  applied; fewer bytes than the bundle cross the link after
#                  the restart (lo's byte counter)
#   sensor cut     another sensor is killed half-way and started again: it
#                  resumes from its partial file, with the same checks
#
# Needs root (a namespace, a qdisc); skips, saying why, without them.
# Prints "ok"/"FAIL" lines and "bundle-resume-e2e: N passed, N failed[, N skipped]".
build=${1:-build}
col="$build/kanshi-collector"
ctl="$build/kanshictl"
sensor="$build/kanshi-sensor"
sig="$build/kanshi-sig"
tmp="$build/e2e-bundle-resume"
ns="kanshi-resume-$$"
rm -rf "$tmp" && mkdir -p "$tmp"
pass=0 fail=0 skip=0
ok() { pass=$((pass + 1)); echo "ok   $1"; }
bad() {
    fail=$((fail + 1)); echo "FAIL $1"
    [ -s "$tmp/err" ] && sed 's/^/    /' "$tmp/err" | tail -20
    return 0
}
pids=""
have_ns=0
cleanup() {
    for p in $pids; do kill -TERM "$p" 2>/dev/null; done
    sleep 0.3
    for p in $pids; do kill -KILL "$p" 2>/dev/null; done
    [ "$have_ns" -eq 1 ] && ip netns del "$ns" 2>/dev/null
    have_ns=0
}
trap cleanup EXIT
trap 'cleanup; exit 1' HUP INT PIPE TERM
summary() {
    if [ "$skip" -gt 0 ]; then
        echo "bundle-resume-e2e: $pass passed, $fail failed, $skip skipped"
    else
        echo "bundle-resume-e2e: $pass passed, $fail failed"
    fi
    [ "$fail" -eq 0 ]
    exit
}
for p in "$col" "$ctl" "$sensor" "$sig"; do
    [ -x "$p" ] || { echo "FAIL $p not built"; fail=1; summary; }
done
if [ "$(id -u)" -ne 0 ]; then
    echo "skip bundle-resume: needs root for a network namespace and a qdisc"; skip=1; summary
fi
if ! command -v ip >/dev/null || ! command -v tc >/dev/null; then
    echo "skip bundle-resume: ip or tc (iproute2) not installed"; skip=1; summary
fi
if ! ip netns add "$ns" 2>"$tmp/err"; then
    echo "skip bundle-resume: cannot make a network namespace: $(cat "$tmp/err")"; skip=1; summary
fi
have_ns=1
# 6 Mbit/s: a 5 MB bundle takes about 7 s, a 256 KiB CHUNK about 0.35 s.
if ! ip -n "$ns" link set lo mtu 1500 up 2>"$tmp/err" ||
    ! ip netns exec "$ns" tc qdisc add dev lo root tbf rate 6mbit burst 32kb latency 200ms \
        2>"$tmp/err"; then
    echo "skip bundle-resume: cannot slow the namespace's loopback (tbf): $(cat "$tmp/err")"
    skip=1; summary
fi
# Programs run in the namespace with "ip netns exec", which execs them: in
# the background (not through a shell function), $! is the program's pid.
lo_bytes() { ip netns exec "$ns" cat /sys/class/net/lo/statistics/tx_bytes; }

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
# wait_cmd TENTHS CMD...: until CMD succeeds (CMD must not set n or i)
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
fsize() { stat -c %s "$1" 2>/dev/null || echo 0; }
# part_between FILE MIN MAX: FILE exists and holds MIN to MAX-1 bytes
part_between() {
    [ -e "$1" ] || return 1
    pb_n=$(fsize "$1")
    [ "$pb_n" -ge "$2" ] && [ "$pb_n" -lt "$3" ]
}
# is_prefix PART WHOLE: PART is a strict, non-empty prefix of WHOLE
is_prefix() {
    ip_n=$(fsize "$1")
    [ "$ip_n" -gt 0 ] && [ "$ip_n" -lt "$(fsize "$2")" ] && head -c "$ip_n" "$2" | cmp -s - "$1"
}

ep="tcp://127.0.0.1:7781" # the namespace is ours: any port is free
"$ctl" keygen --out "$tmp/collector.key" >"$tmp/ckey" 2>"$tmp/err" || { bad keygen; summary; }
cat >"$tmp/collector.yaml" <<EOF
listen: $ep
secret-key-file: $tmp/collector.key
database: $tmp/collector.db
synchronous: full
EOF
C="-c $tmp/collector.yaml"
"$ctl" $C org add "Ministry A" --tier 1 >/dev/null 2>"$tmp/err" || { bad org-add; summary; }
for id in cutc cuts; do
    "$ctl" $C sensor enroll "$id" --org "Ministry A" --endpoint "$ep" --out "$tmp/sensors" \
        --spool-dir "$tmp/spool-$id" >/dev/null 2>"$tmp/err" || { bad "enroll $id"; summary; }
done

# Bundle 2: 3000 rules and a large file of comment lines (each line numbered,
# so that bytes at a wrong offset would not pass for a prefix).
"$sig" keygen --out "$tmp/rel" >/dev/null 2>"$tmp/err" || { bad sig-keygen; summary; }
echo 'alert udp any any -> any any (msg:"config"; content:"kanshi-config"; sid:1;)' \
    >"$tmp/config.rules"
mkdir -p "$tmp/src"
awk 'BEGIN { for (i = 0; i < 3000; i++)
    printf "alert udp any any -> any any (msg:\"resume %d\"; content:\"kanshi-resume-%06d\"; sid:%d;)\n", i, i, 100000 + i }' \
    >"$tmp/src/sig.rules"
awk 'BEGIN { for (i = 0; i < 80000; i++)
    printf "# padding line %06d, bulk that makes the transfer span many chunks\n", i }' \
    >"$tmp/src/zz-padding.rules"
if "$sig" bundle --key "$tmp/rel.key" --version 2 -o "$tmp/b2.bundle" "$tmp/src" >"$tmp/err" 2>&1 &&
    [ "$(fsize "$tmp/b2.bundle")" -gt 4000000 ]; then
    ok "bundle 2 made ($(fsize "$tmp/b2.bundle") bytes, 3000 rules)"
else
    bad make-bundle; summary
fi
size=$(fsize "$tmp/b2.bundle")
# Cut once the partial file holds at least this much (two fifths).
cut_at=$((size * 2 / 5))

start_collector() {
    ip netns exec "$ns" "$col" $C >"$tmp/collector-$1.log" 2>&1 &
    cpid=$!
    pids="$pids $cpid"
}
# start_sensor ID RUN: its config (enrolled + rules + bundles) and itself
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
    ip netns exec "$ns" "$sensor" -c "$d/sensor.yaml" -i lo -f 'udp port 9' >"$d/log-$2" 2>&1 &
    eval "pid_$id=$!"
    pids="$pids $!"
}
state_is() { grep -q "^version $2\$" "$tmp/$1/store/state" 2>/dev/null; }
# row ID VERSION STATE: bundle status has that row
row() { "$ctl" $C bundle status 2>/dev/null | grep -q "^$1  *$2  *$3 "; }
part() { echo "$tmp/$1/store/.partial/2.part"; }

# applied_checks ID LOG: bundle 2 applied by ID, with a matching SHA-256
applied_checks() {
    if wait_cmd 300 state_is "$1" 2 && wait_cmd 100 row "$1" 2 applied &&
        "$ctl" $C bundle status | grep -q "^$1  *2  *applied  *$size/$size "; then
        ok "$1: bundle 2 applied, status says applied $size/$size"
    else
        { cat "$2"; "$ctl" $C bundle status; } >"$tmp/err" 2>&1; bad "$1 applied"
    fi
    # the uplink hands a bundle over only once its SHA-256 matched the OFFER
    if grep -q "uplink: bundle 2 fetched ($size bytes), handed to" "$2" &&
        ! grep -q "corrupt\|rejected" "$2" &&
        cmp -s "$tmp/src/sig.rules" "$tmp/$1/store/2/sig.rules" &&
        cmp -s "$tmp/src/zz-padding.rules" "$tmp/$1/store/2/zz-padding.rules"; then
        ok "$1: the fetched bundle matched its SHA-256; unpacked files equal the sources"
    else
        cp "$2" "$tmp/err"; bad "$1 sha256"
    fi
    if [ ! -e "$(part "$1")" ] && [ ! -e "$tmp/$1/in/uplink-2.bundle" ]; then
        ok "$1: no partial or dropped file left behind"
    else
        ls -la "$tmp/$1/store/.partial" "$tmp/$1/in" >"$tmp/err" 2>&1; bad "$1 leftovers"
    fi
}
# wire_checks ID FROM BYTES: after a resume at FROM, BYTES crossed lo
wire_checks() {
    if [ "$3" -ge $((size - $2)) ] && [ "$3" -lt "$size" ]; then
        ok "$1: $3 bytes crossed the link after the restart: at least the $((size - $2)) missing, fewer than the $size of the bundle"
    else
        echo "lo bytes after the restart: $3; missing: $((size - $2)); bundle: $size" >"$tmp/err"
        bad "$1 bytes after restart"
    fi
}

# --- cut by the collector ------------------------------------------------------------------
start_collector 1
start_sensor cutc 1
if wait_count "$tmp/collector-1.log" "sensor cutc: hello" 1 150; then
    ok "collector up in namespace $ns, sensor cutc connected"
else
    cat "$tmp/collector-1.log" "$tmp/cutc/log-1" >"$tmp/err"; bad start; summary
fi
"$ctl" $C bundle publish "$tmp/b2.bundle" --to sensor:cutc >"$tmp/out" 2>"$tmp/err" ||
    bad publish
if wait_cmd 400 part_between "$(part cutc)" "$cut_at" "$size"; then
    kill -KILL "$cpid"
    wait "$cpid" 2>/dev/null
    ok "collector killed with $(fsize "$(part cutc)") of $size bytes in cutc's partial file"
else
    { ls -la "$tmp/cutc/store/.partial"; cat "$tmp/cutc/log-1"; } >"$tmp/err" 2>&1
    bad "cut: the partial file never held part of the bundle"; summary
fi
# once the sensor saw the connection go, nothing more is written
wait_count "$tmp/cutc/log-1" "uplink: connection to .* lost" 1 100 || bad "cutc saw no disconnect"
sleep 0.5
p1=$(fsize "$(part cutc)")
if is_prefix "$(part cutc)" "$tmp/b2.bundle" && ! state_is cutc 2 && row cutc 2 fetching; then
    ok "cutc's partial file is a strict prefix of the bundle ($p1 of $size bytes); status says fetching"
else
    { ls -la "$tmp/cutc/store/.partial"; "$ctl" $C bundle status; } >"$tmp/err" 2>&1
    bad "cutc partial prefix"
fi
b0=$(lo_bytes)
start_collector 2
if wait_count "$tmp/cutc/log-1" "uplink: bundle 2 offered again ($size bytes); resuming at byte $p1\$" 1 200; then
    ok "collector restarted on the same store; cutc resumes at byte $p1"
else
    { grep "uplink" "$tmp/cutc/log-1"; cat "$tmp/collector-2.log"; } >"$tmp/err"; bad "cutc resume"
fi
applied_checks cutc "$tmp/cutc/log-1"
wire_checks cutc "$p1" $(($(lo_bytes) - b0))
# the restarted collector knew from its store that cutc had not finished
if grep -q "sensor cutc: offered bundle 2 (rules, $size bytes)" "$tmp/collector-2.log" &&
    grep -q "sensor cutc: applied bundle 2" "$tmp/collector-2.log"; then
    ok "the restarted collector offered bundle 2 to cutc again at its HELLO and recorded the result"
else
    cp "$tmp/collector-2.log" "$tmp/err"; bad "cutc offered again"
fi

# --- cut by the sensor ---------------------------------------------------------------------
start_sensor cuts 1
if wait_count "$tmp/collector-2.log" "sensor cuts: hello" 1 150 &&
    "$ctl" $C bundle promote 2 --to sensor:cuts >"$tmp/out" 2>"$tmp/err"; then
    ok "sensor cuts connected; bundle 2 promoted to it"
else
    cat "$tmp/collector-2.log" "$tmp/cuts/log-1" >>"$tmp/err"; bad "cuts start"; summary
fi
if wait_cmd 400 part_between "$(part cuts)" "$cut_at" "$size"; then
    kill -KILL "$pid_cuts"
    wait "$pid_cuts" 2>/dev/null
    ok "sensor cuts killed with $(fsize "$(part cuts)") of $size bytes in its partial file"
else
    { ls -la "$tmp/cuts/store/.partial"; cat "$tmp/cuts/log-1"; } >"$tmp/err" 2>&1
    bad "cut: the partial file of cuts never held part of the bundle"; summary
fi
p2=$(fsize "$(part cuts)")
if is_prefix "$(part cuts)" "$tmp/b2.bundle" && ! state_is cuts 2; then
    ok "cuts's partial file is a strict prefix of the bundle ($p2 of $size bytes)"
else
    ls -la "$tmp/cuts/store/.partial" >"$tmp/err" 2>&1; bad "cuts partial prefix"
fi
b0=$(lo_bytes)
start_sensor cuts 2
if wait_count "$tmp/cuts/log-2" "uplink: bundle 2 offered ($size bytes); resuming at byte $p2 from .*/2.part\$" 1 200; then
    ok "sensor cuts started again; resumes at byte $p2 from its partial file"
else
    { grep "uplink" "$tmp/cuts/log-2"; tail -5 "$tmp/collector-2.log"; } >"$tmp/err"; bad "cuts resume"
fi
applied_checks cuts "$tmp/cuts/log-2"
wire_checks cuts "$p2" $(($(lo_bytes) - b0))

"$ctl" $C bundle status >"$tmp/status" 2>&1
if grep -q "^cutc  *2  *applied  *$size/$size .* bundle-2" "$tmp/status" &&
    grep -q "^cuts  *2  *applied  *$size/$size .* bundle-2" "$tmp/status"; then
    ok "final status: both sensors applied bundle 2 and run bundle-2"
else
    cp "$tmp/status" "$tmp/err"; bad final-status
fi
if kill -0 "$cpid" 2>/dev/null && kill -0 "$pid_cutc" 2>/dev/null && kill -0 "$pid_cuts" 2>/dev/null
then
    ok "collector and sensors still running"
else
    bad alive
fi
summary
