#!/bin/sh
# collector.sh BUILD — end-to-end tests of kanshi-collector and kanshictl:
# real processes on 127.0.0.1, ports from a free range chosen at start.
# Sensors are driven by kanshi-sensorsim (tests/tools/sensorsim.c), which
# speaks the real wire protocol and can also misbehave; analysts are
# `kanshictl alerts tail` subscribers.  Prints "collector-e2e: N passed,
# N failed[, N skipped]" last and exits non-zero on failure.
build=${1:-build}
ctl="$build/kanshictl"
col="$build/kanshi-collector"
sim="$build/kanshi-sensorsim"
tmp="$build/e2e-collector"
rm -rf "$tmp" && mkdir -p "$tmp"
pass=0 fail=0 skip=0
ok() { pass=$((pass + 1)); echo "ok   $1"; }
bad() {
    fail=$((fail + 1)); echo "FAIL $1"
    [ -s "$tmp/err" ] && sed 's/^/    /' "$tmp/err" | head -20
    return 0
}
pids=""
cleanup() { for p in $pids; do kill "$p" 2>/dev/null; done; }
trap cleanup EXIT INT TERM

for p in "$ctl" "$col" "$sim"; do
    if [ ! -x "$p" ]; then
        echo "FAIL $p not built"
        echo "collector-e2e: 0 passed, 1 failed"
        exit 1
    fi
done
command -v python3 >/dev/null || { echo "collector-e2e: 0 passed, 0 failed, 1 skipped"; exit 0; }

# --- ports: ten consecutive ones nobody listens on ---------------------------
listening() { ss -Htln 2>/dev/null | awk '{print $4}' | sed 's/.*://' ; }
base=""
for try in 1 2 3 4 5 6 7 8 9 10; do
    cand=$(( 20000 + ($$ * 7 + try * 997 + $(date +%s) % 1000) % 30000 ))
    used=$(listening)
    clash=""
    i=0
    while [ $i -lt 10 ]; do
        echo "$used" | grep -qx "$((cand + i))" && clash=1
        i=$((i + 1))
    done
    [ -z "$clash" ] && { base=$cand; break; }
done
[ -z "$base" ] && base=$(( 20000 + $$ % 30000 ))
P=$base; F1=$((base + 1)); F2=$((base + 2)); FC=$((base + 3))
ep="tcp://127.0.0.1:$P"

# --- keys, registry, config ---------------------------------------------------
"$ctl" keygen --out "$tmp/collector.key" >"$tmp/ckey" 2>"$tmp/err" || bad keygen
ckey=$(cat "$tmp/ckey")
db="$tmp/collector.db"
cat >"$tmp/collector.yaml" <<EOF
listen: $ep
secret-key-file: $tmp/collector.key
database: $db
synchronous: full
retention-days: 30
feeds:
  - name: tier1
    endpoint: tcp://127.0.0.1:$F1
    tiers: [1]
  - name: tier2
    endpoint: tcp://127.0.0.1:$F2
    tiers: [2]
  - name: coordination
    endpoint: tcp://127.0.0.1:$FC
    tiers: [1, 2]
EOF
C="-c $tmp/collector.yaml"

if "$ctl" $C registry import collector/registry.example >"$tmp/out" 2>"$tmp/err" &&
    grep -q "organisation(s) added" "$tmp/out" &&
    "$ctl" $C org list --json | grep -q '"name":"Japan Pension Service","tier":2,"supervising_ministry":"Ministry of Health, Labour and Welfare"'; then
    ok registry-import
else
    bad registry-import
fi
# The registry's rules, from the command line.
"$ctl" $C org add "Some Agency" --tier 2 >"$tmp/out" 2>"$tmp/err"; rc=$?
if [ $rc -eq 1 ] && grep -q "needs its supervising ministry" "$tmp/err"; then
    ok org-tier2-needs-ministry
else
    bad "org-tier2-needs-ministry (rc $rc)"
fi
"$ctl" $C org add "Some Agency" --tier 2 --ministry "Japan Pension Service" >"$tmp/out" 2>"$tmp/err"; rc=$?
if [ $rc -eq 1 ] && grep -q "must be tier 1" "$tmp/err"; then ok org-ministry-tier1; else bad org-ministry-tier1; fi
"$ctl" $C org add >"$tmp/out" 2>"$tmp/err"; rc=$?
[ $rc -eq 2 ] && grep -q "usage:" "$tmp/err" && ok usage-exit-2 || bad "usage-exit-2 (rc $rc)"

enroll() { # ID ORG
    "$ctl" $C sensor enroll "$1" --org "$2" --endpoint "$ep" --out "$tmp/sensors" \
        --spool-dir "$tmp/spool-$1" >"$tmp/out" 2>"$tmp/err"
}
if enroll mhlw-gw-01 "Ministry of Health, Labour and Welfare" &&
    enroll jps-gw-01 "Japan Pension Service" && enroll da-gw-01 "Digital Agency" &&
    [ "$(stat -c %a "$tmp/sensors/mhlw-gw-01.key")" = 600 ] &&
    grep -qF "collector-public-key: \"$ckey\"" "$tmp/sensors/mhlw-gw-01.yaml" &&
    grep -q "endpoint: \"$ep\"" "$tmp/sensors/mhlw-gw-01.yaml" &&
    grep -q "^sensor-id: jps-gw-01" "$tmp/sensors/jps-gw-01.yaml"; then
    ok sensor-enroll
else
    bad sensor-enroll
fi
enroll mhlw-gw-01 "Ministry of Health, Labour and Welfare"; rc=$?
[ $rc -eq 1 ] && grep -q "File exists\|already exists" "$tmp/err" && ok enroll-twice-refused || bad enroll-twice-refused
enroll x-gw-01 "No Such Ministry"; rc=$?
[ $rc -eq 1 ] && grep -q 'no organisation named "No Such Ministry"' "$tmp/err" &&
    [ ! -e "$tmp/sensors/x-gw-01.key" ] && ok enroll-unknown-org || bad enroll-unknown-org

"$ctl" $C analyst add a1 --tiers 1 --out "$tmp/analysts" >/dev/null 2>"$tmp/err" &&
    "$ctl" $C analyst add a2 --tiers 2 --out "$tmp/analysts" >/dev/null 2>>"$tmp/err" &&
    "$ctl" $C analyst add a12 --tiers 1,2 --out "$tmp/analysts" >/dev/null 2>>"$tmp/err" &&
    [ "$(stat -c %a "$tmp/analysts/a2.key")" = 600 ] && ok analyst-add || bad analyst-add
"$ctl" keygen --out "$tmp/rogue.key" >/dev/null 2>&1

# --- start-up checks ------------------------------------------------------------
if "$col" -n $C >"$tmp/out" 2>"$tmp/err" && grep -q "configuration OK" "$tmp/out"; then
    ok config-check
else
    bad config-check
fi
printf 'listen: %s\nfeeds:\n  - {name: a, endpoint: x, tiers: [1]}\n' "$ep" >"$tmp/bad.yaml"
"$col" -n -c "$tmp/bad.yaml" >"$tmp/out" 2>"$tmp/err"; rc=$?
[ $rc -eq 1 ] && grep -q "bad.yaml:3: feeds\[0\].endpoint" "$tmp/err" && ok config-error-named || bad config-error-named
cp "$tmp/collector.key" "$tmp/loose.key" && chmod 644 "$tmp/loose.key"
sed "s#secret-key-file: .*#secret-key-file: $tmp/loose.key#" "$tmp/collector.yaml" >"$tmp/loose.yaml"
"$col" -c "$tmp/loose.yaml" >"$tmp/out" 2>"$tmp/err"; rc=$?
[ $rc -eq 1 ] && grep -q "loose.key.*chmod 600" "$tmp/err" && ok secret-key-mode-refused || bad "secret-key-mode-refused (rc $rc)"

# --- the collector and three analysts -------------------------------------------
"$col" $C >"$tmp/collector.log" 2>&1 &
colpid=$!
pids="$pids $colpid"
wait_for() { # FILE PATTERN TENTHS
    n=0
    while [ $n -lt "$3" ]; do
        grep -q "$2" "$1" 2>/dev/null && return 0
        sleep 0.1
        n=$((n + 1))
    done
    return 1
}
if ! wait_for "$tmp/collector.log" "listening on" 50; then
    cp "$tmp/collector.log" "$tmp/err"
    bad collector-start
    echo "collector-e2e: $pass passed, $((fail)) failed"
    exit 1
fi
tail_feed() { # NAME ANALYST PORT
    "$ctl" alerts tail --feed "tcp://127.0.0.1:$3" --collector-key "$tmp/collector.key.pub" \
        --key "$tmp/analysts/$2.key" --json >"$tmp/$1.json" 2>"$tmp/$1.err" &
    eval "tail_$1=$!"
    pids="$pids $!"
}
tail_feed t1 a1 "$F1"
tail_feed t2 a2 "$F2"
tail_feed tc a12 "$FC"
if wait_for "$tmp/t1.err" subscribed 50 && wait_for "$tmp/t2.err" subscribed 50 &&
    wait_for "$tmp/tc.err" subscribed 50; then
    ok analysts-subscribed
else
    cat "$tmp/t1.err" "$tmp/t2.err" "$tmp/tc.err" >"$tmp/err"
    bad analysts-subscribed
fi
# A tier-2 analyst on the tier-1 feed, a tier-1 analyst on the coordinating one.
"$ctl" alerts tail --feed "tcp://127.0.0.1:$F1" --collector-key "$ckey" \
    --key "$tmp/analysts/a2.key" --timeout 10 >"$tmp/out" 2>"$tmp/err"; rc=$?
[ $rc -eq 1 ] && grep -q "refused this analyst key" "$tmp/err" && ok tier2-analyst-refused-on-tier1 || bad "tier2-analyst-refused-on-tier1 (rc $rc)"
"$ctl" alerts tail --feed "tcp://127.0.0.1:$FC" --collector-key "$ckey" \
    --key "$tmp/analysts/a1.key" --timeout 10 >"$tmp/out" 2>"$tmp/err"; rc=$?
[ $rc -eq 1 ] && grep -q "refused" "$tmp/err" && ok tier1-analyst-refused-on-coordination || bad tier1-analyst-refused-on-coordination
grep -q "analyst a2 may see tiers 2, feed tier1 carries tiers 1" "$tmp/collector.log" &&
    ok refusal-logged || { cp "$tmp/collector.log" "$tmp/err"; bad refusal-logged; }

s() { # KEY-ID COMMAND...
    k=$1; shift
    "$sim" --endpoint "$ep" --collector-key "$tmp/collector.key.pub" \
        --key "$tmp/sensors/$k.key" "$@"
}

# --- two sensors of different tiers ---------------------------------------------
out=$(s mhlw-gw-01 hello alerts 1 200 --batch 50 2>"$tmp/err")
[ "$out" = "ack 0
ack 200" ] && ok tier1-sensor-acked || bad "tier1-sensor-acked ($out)"
# This one claims to be the tier-1 sensor, of the Cabinet Secretariat, tier 1.
out=$(s jps-gw-01 hello alerts 1 120 --batch 40 --claim-org "Cabinet Secretariat" \
    --claim-tier 1 --claim-sensor mhlw-gw-01 2>"$tmp/err")
[ "$out" = "ack 0
ack 120" ] && ok tier2-sensor-acked || bad "tier2-sensor-acked ($out)"

# A resend is acknowledged but neither stored nor published twice.
out=$(s mhlw-gw-01 alerts 101 50 2>"$tmp/err")
[ "$out" = "ack 200" ] && ok duplicates-acked || bad "duplicates-acked ($out)"
# HELLO tells a sensor where the collector stands.
out=$(s mhlw-gw-01 hello 2>"$tmp/err")
[ "$out" = "ack 200" ] && ok hello-acks-stored || bad "hello-acks-stored ($out)"
# A gap: 121..130 never sent.
out=$(s jps-gw-01 alerts 131 10 2>"$tmp/err")
[ "$out" = "ack 140" ] && ok gap-acked || bad "gap-acked ($out)"
"$ctl" $C sensor show jps-gw-01 >"$tmp/show" 2>"$tmp/err"
grep -q "gap  *121..130 (10 alerts)" "$tmp/show" && ok gap-recorded || { cp "$tmp/show" "$tmp/err"; bad gap-recorded; }

# --- malformed, truncated, oversized frames --------------------------------------
kinds="magic version type short length truncated trailing oversized json multipart count seq ack"
set --
for k in $kinds; do set -- "$@" junk "$k"; done
s jps-gw-01 "$@" >"$tmp/out" 2>"$tmp/err" || bad "junk-sent"
# Others are still served, and so is the sender.
out=$(s mhlw-gw-01 alerts 201 10 2>"$tmp/err")
[ "$out" = "ack 210" ] && ok others-served-after-junk || bad "others-served-after-junk ($out)"
out=$(s jps-gw-01 alerts 141 5 2>"$tmp/err")
[ "$out" = "ack 145" ] && ok sender-served-after-junk || bad "sender-served-after-junk ($out)"
sleep 1.5 # rejects are written every second
"$ctl" $C sensor show jps-gw-01 >"$tmp/show" 2>"$tmp/err"
rejected=$(awk '/rejected/ {n += $2} END {print n + 0}' "$tmp/show")
nreasons=$(grep -c "rejected" "$tmp/show")
if [ "$rejected" -eq 13 ] && [ "$nreasons" -ge 10 ] &&
    grep -q "bad magic" "$tmp/show" && grep -q "frame larger than" "$tmp/show" &&
    grep -q "several frames" "$tmp/show" && grep -q "not one well-formed JSON" "$tmp/show"; then
    ok "junk-rejected-and-counted ($rejected frames, $nreasons reasons)"
else
    cp "$tmp/show" "$tmp/err"
    bad "junk-rejected-and-counted ($rejected)"
fi
grep -q "sensor jps-gw-01: frame rejected: " "$tmp/collector.log" && ok reject-logged || bad reject-logged
"$ctl" $C sensor list --json >"$tmp/list" 2>"$tmp/err"
grep '"id":"mhlw-gw-01"' "$tmp/list" | grep -q '"rejected":0' && ok others-not-blamed || bad others-not-blamed

# --- a key that is not enrolled -----------------------------------------------------
before=$("$ctl" $C alerts search --limit 0 2>&1 >/dev/null | awk '{print $2}')
"$sim" --endpoint "$ep" --collector-key "$ckey" --key "$tmp/rogue.key" --timeout 3000 \
    hello alerts 1 10 >"$tmp/out" 2>"$tmp/err"; rc=$?
after=$("$ctl" $C alerts search --limit 0 2>&1 >/dev/null | awk '{print $2}')
if [ $rc -eq 4 ] && [ "$before" = "$after" ] && grep -q "is not enrolled" "$tmp/collector.log"; then
    ok "unenrolled-key-refused (store holds $after)"
else
    bad "unenrolled-key-refused (rc $rc, $before -> $after)"
fi

# --- STATS become fleet health ----------------------------------------------------------
s mhlw-gw-01 stats >/dev/null 2>"$tmp/err"
sleep 0.3
"$ctl" $C sensor list --json >"$tmp/list" 2>"$tmp/err"
if grep '"id":"mhlw-gw-01"' "$tmp/list" | grep -q '"packets":123456,"kernel_drops":7' &&
    grep '"id":"mhlw-gw-01"' "$tmp/list" | grep -q '"software":"sensorsim-' &&
    "$ctl" $C sensor list | grep -q "^mhlw-gw-01 .*enrolled .*123456"; then
    ok stats-in-sensor-list
else
    cp "$tmp/list" "$tmp/err"
    bad stats-in-sensor-list
fi

# --- what each analyst saw -------------------------------------------------------------
sleep 0.5
for t in t1 t2 tc; do kill -TERM "$(eval echo \$tail_$t)" 2>/dev/null; done
sleep 0.3
cat >"$tmp/check.py" <<'PY'
import json, sys
feed, want_sensors = sys.argv[1], sys.argv[2].split(",")
reg = {"mhlw-gw-01": ("Ministry of Health, Labour and Welfare", 1, None),
       "jps-gw-01": ("Japan Pension Service", 2, "Ministry of Health, Labour and Welfare")}
want = {"mhlw-gw-01": set(range(1, 211)),
        "jps-gw-01": set(range(1, 121)) | set(range(131, 146))}
got = {}
for line in open(feed):
    a = json.loads(line)
    k = a["kanshi"]
    org, tier, ministry = reg[k["sensor_id"]]
    assert (k["organisation"], k["tier"], k.get("supervising_ministry")) == (org, tier, ministry), k
    assert "Cabinet Secretariat" not in line, line
    got.setdefault(k["sensor_id"], []).append(k["sim_seq"])
for sid in set(got) | set(want_sensors):
    seqs = got.get(sid, [])
    assert sid in want_sensors, "%s published on %s" % (sid, feed)
    assert len(seqs) == len(set(seqs)), "%s: duplicates on %s" % (sid, feed)
    assert set(seqs) == want[sid], "%s: %d of %d on %s" % (sid, len(set(seqs) & want[sid]), len(want[sid]), feed)
print(sum(len(v) for v in got.values()))
PY
for case in "t1 mhlw-gw-01" "t2 jps-gw-01" "tc mhlw-gw-01,jps-gw-01"; do
    set -- $case
    if n=$(python3 "$tmp/check.py" "$tmp/$1.json" "$2" 2>"$tmp/err"); then
        ok "feed-$1-exactly-its-tiers ($n alerts, registry identity, no duplicates)"
    else
        bad "feed-$1-exactly-its-tiers"
    fi
done

# --- the store: filed under the registry's identity ----------------------------------------
"$ctl" $C alerts search --sensor jps-gw-01 --limit 0 --json >"$tmp/s2.json" 2>"$tmp/err"
if python3 - "$tmp/s2.json" <<'PY' 2>"$tmp/err"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
assert len(rows) == 135, len(rows)
for a in rows:
    k = a["kanshi"]
    assert k["organisation"] == "Japan Pension Service" and k["tier"] == 2, k
    assert k["sensor_id"] == "jps-gw-01", k
PY
then ok claimed-identity-filed-under-own; else bad claimed-identity-filed-under-own; fi
n=$("$ctl" $C alerts search --org "Cabinet Secretariat" --limit 0 2>&1 >/dev/null | awk '{print $2}')
n1=$("$ctl" $C alerts search --tier 1 --limit 0 2>&1 >/dev/null | awk '{print $2}')
n2=$("$ctl" $C alerts search --tier 2 --limit 0 2>&1 >/dev/null | awk '{print $2}')
[ "$n" = 0 ] && [ "$n1" = 210 ] && [ "$n2" = 135 ] && ok "search-by-tier-and-org (210 + 135)" ||
    bad "search-by-tier-and-org ($n, $n1, $n2)"
"$ctl" $C alerts search --addr 10.0.0.7 --since 1h --sid 9900001 >"$tmp/out" 2>"$tmp/err"
[ "$(wc -l <"$tmp/out")" -eq 2 ] && grep -q "tier2  Japan Pension Service  jps-gw-01" "$tmp/out" &&
    ok search-table || { cat "$tmp/out" >>"$tmp/err"; bad search-table; }
"$ctl" $C alerts search --since yesterday >"$tmp/out" 2>"$tmp/err"; rc=$?
[ $rc -eq 2 ] && grep -q "expected 2024-04-01" "$tmp/err" && ok search-bad-time-usage || bad search-bad-time-usage

# --- real kanshi-sensor processes, one per tier ---------------------------------------------
sensor="$build/kanshi-sensor"
pktgen="$build/kanshi-pktgen"
if [ ! -x "$sensor" ] || [ ! -x "$pktgen" ] || ! "$sensor" --help 2>&1 | grep -q uplink; then
    skip=$((skip + 1)); echo "skip real-sensors: kanshi-sensor without an uplink"
else
    enroll mhlw-gw-02 "Ministry of Health, Labour and Welfare" || bad enroll-real-1
    enroll jps-gw-02 "Japan Pension Service" || bad enroll-real-2
    printf 'alert tcp any any -> any any (msg:"KANSHI E2E GET"; content:"GET /"; sid:9100001; rev:1;)\n' >"$tmp/real.rules"
    "$pktgen" spec /dev/stdin "$tmp/real1.pcap" <<'SPEC' 2>"$tmp/err" || bad pktgen-1
tcp 10.1.20.5:40000 > 192.0.2.1:80 "GET /a HTTP/1.1\r\nHost: a\r\n\r\n"
tcp 10.1.20.6:40001 > 192.0.2.1:80 "GET /b HTTP/1.1\r\nHost: a\r\n\r\n"
tcp 10.1.20.7:40002 > 192.0.2.1:80 "GET /c HTTP/1.1\r\nHost: a\r\n\r\n"
SPEC
    "$pktgen" spec /dev/stdin "$tmp/real2.pcap" <<'SPEC' 2>"$tmp/err" || bad pktgen-2
tcp 172.16.5.5:40000 > 198.51.100.9:80 "GET /x HTTP/1.1\r\nHost: b\r\n\r\n"
tcp 172.16.5.6:40001 > 198.51.100.9:80 "GET /y HTTP/1.1\r\nHost: b\r\n\r\n"
SPEC
    rtail() { # NAME ANALYST PORT COUNT
        "$ctl" alerts tail --feed "tcp://127.0.0.1:$3" --collector-key "$ckey" \
            --key "$tmp/analysts/$2.key" --json --count "$4" --timeout 30 \
            >"$tmp/$1.json" 2>"$tmp/$1.err" &
        eval "rtail_$1=$!"
    }
    rtail r1 a1 "$F1" 3
    rtail r2 a2 "$F2" 2
    wait_for "$tmp/r1.err" subscribed 50 && wait_for "$tmp/r2.err" subscribed 50 || bad real-tails
    "$sensor" -c "$tmp/sensors/mhlw-gw-02.yaml" -S "$tmp/real.rules" -r "$tmp/real1.pcap" \
        --eve "$tmp/real1.eve" >"$tmp/real1.out" 2>&1 &
    sp1=$!
    "$sensor" -c "$tmp/sensors/jps-gw-02.yaml" -S "$tmp/real.rules" -r "$tmp/real2.pcap" \
        --eve "$tmp/real2.eve" >"$tmp/real2.out" 2>&1
    rc2=$?
    wait "$sp1"; rc1=$?
    if [ $rc1 -eq 0 ] && [ $rc2 -eq 0 ] && grep -q "acked seq 3" "$tmp/real1.out" &&
        grep -q "acked seq 2" "$tmp/real2.out"; then
        ok "real-sensors-acked (two kanshi-sensor processes)"
    else
        cat "$tmp/real1.out" "$tmp/real2.out" >"$tmp/err"
        bad "real-sensors-acked (rc $rc1 $rc2)"
    fi
    wait "$(eval echo \$rtail_r1)"; r1=$?
    wait "$(eval echo \$rtail_r2)"; r2=$?
    if [ $r1 -eq 0 ] && [ $r2 -eq 0 ] && python3 - "$tmp/r1.json" "$tmp/r2.json" <<'PY' 2>"$tmp/err"
import json, sys
t1 = [json.loads(l) for l in open(sys.argv[1])]
t2 = [json.loads(l) for l in open(sys.argv[2])]
assert len(t1) == 3 and len(t2) == 2, (len(t1), len(t2))
for a in t1:
    k = a["kanshi"]
    assert (k["sensor_id"], k["organisation"], k["tier"]) == ("mhlw-gw-02", "Ministry of Health, Labour and Welfare", 1), k
    assert a["alert"]["signature_id"] == 9100001 and a["src_ip"].startswith("10.1.20."), a
for a in t2:
    k = a["kanshi"]
    assert (k["sensor_id"], k["organisation"], k["tier"], k["supervising_ministry"]) == ("jps-gw-02", "Japan Pension Service", 2, "Ministry of Health, Labour and Welfare"), k
    assert a["src_ip"].startswith("172.16.5."), a
PY
    then
        ok "real-sensors-each-tier-feed-gets-its-own (3 tier-1, 2 tier-2)"
    else
        cat "$tmp/r1.err" "$tmp/r2.err" >>"$tmp/err"
        bad "real-sensors-each-tier-feed-gets-its-own (rc $r1 $r2)"
    fi
fi

# --- revocation cuts a sensor off within seconds ----------------------------------------------
# Run directly (not through s), so that $! is the simulator itself.
"$sim" --endpoint "$ep" --collector-key "$tmp/collector.key.pub" --key "$tmp/sensors/da-gw-01.key" \
    --timeout 60000 hello alerts 1 1000000 --batch 5 --interval 20 --nowait \
    >/dev/null 2>"$tmp/stream.err" &
streampid=$!
pids="$pids $streampid"
count_da() { "$ctl" $C alerts search --sensor da-gw-01 --limit 0 2>&1 >/dev/null | awk '{print $2}'; }
sleep 1.5
c0=$(count_da)
"$ctl" $C sensor revoke da-gw-01 >"$tmp/out" 2>"$tmp/err" || bad revoke-command
sleep 2
c1=$(count_da)
sleep 2
c2=$(count_da)
kill "$streampid" 2>/dev/null
if [ "${c0:-0}" -gt 0 ] && [ "$c1" = "$c2" ]; then
    ok "revoked-sensor-cut-off (stored $c0 before, $c1 two seconds after, $c2 later)"
else
    bad "revoked-sensor-cut-off ($c0, $c1, $c2)"
fi
grep -q "dropping frames of revoked sensor da-gw-01" "$tmp/collector.log" && ok revoked-frames-dropped-logged ||
    { tail -5 "$tmp/collector.log" >"$tmp/err"; bad revoked-frames-dropped-logged; }
s da-gw-01 --timeout 3000 hello >"$tmp/out" 2>"$tmp/err"; rc=$?
[ $rc -eq 4 ] && ok revoked-sensor-handshake-refused || bad "revoked-sensor-handshake-refused (rc $rc)"
"$ctl" $C sensor revoke da-gw-01 >"$tmp/out" 2>"$tmp/err"; rc=$?
[ $rc -eq 0 ] && grep -q "already revoked" "$tmp/err" && ok revoke-twice-harmless || bad revoke-twice-harmless
"$ctl" $C sensor list | grep -q "^da-gw-01 .* revoked " && ok sensor-list-shows-revoked || bad sensor-list-shows-revoked

# --- a revoked analyst must authenticate again and fails ---------------------------------------
"$ctl" $C analyst revoke a12 >"$tmp/out" 2>"$tmp/err" || bad analyst-revoke
wait_for "$tmp/collector.log" "re-binding the feeds" 30
"$ctl" alerts tail --feed "tcp://127.0.0.1:$FC" --collector-key "$ckey" \
    --key "$tmp/analysts/a12.key" --timeout 10 >"$tmp/out" 2>"$tmp/err"; rc=$?
[ $rc -eq 1 ] && grep -q "refused" "$tmp/err" && ok revoked-analyst-refused || bad "revoked-analyst-refused (rc $rc)"
# The others can still subscribe after the re-bind.
"$ctl" $C alerts tail --tier 1 --key "$tmp/analysts/a1.key" --count 1 --timeout 10 \
    >"$tmp/out" 2>"$tmp/err" &
tp=$!
wait_for "$tmp/err" subscribed 50
s mhlw-gw-01 alerts 211 1 >/dev/null 2>&1
wait "$tp"; rc=$?
[ $rc -eq 0 ] && grep -q "tier1  Ministry of Health, Labour and Welfare  mhlw-gw-01" "$tmp/out" &&
    ok tail-by-tier-readable || { cat "$tmp/out" >>"$tmp/err"; bad "tail-by-tier-readable (rc $rc)"; }

# --- clean stop --------------------------------------------------------------------------------
kill -TERM "$colpid"
wait "$colpid"; rc=$?
if [ $rc -eq 0 ] && grep -q "stopping: .* alerts stored" "$tmp/collector.log"; then
    ok collector-stops-cleanly
else
    tail -5 "$tmp/collector.log" >"$tmp/err"
    bad "collector-stops-cleanly (rc $rc)"
fi

if [ "$skip" -gt 0 ]; then
    echo "collector-e2e: $pass passed, $fail failed, $skip skipped"
else
    echo "collector-e2e: $pass passed, $fail failed"
fi
[ "$fail" -eq 0 ]
