#!/bin/sh
# bundle_apply.sh BUILD — signed rules bundles applied by a running sensor
# (issue 6, items 4 and 6) through its drop directory (bundles.incoming).
#
# A capture file is read through a FIFO while a python writer keeps sending
# a MARKA and a MARKB datagram every few ms, from source port 20000+PHASE
# and 21000+PHASE, so that each alert says under which phase it was made.
#   phase 1  the config's rules: sid 1 (MARKA); ruleset "e2e-local"
#   phase 2  bundle 5 dropped (taken by the periodic look, no signal): sid 1
#            and sid 77 (MARKB, from $BUNDLE_NET of the bundle's vars.yaml);
#            every alert says ruleset "bundle-5"; its Hyperscan databases,
#            precompiled for the generic x86-64 target, are loaded, not
#            compiled
#   phase 3  refusals, each dropped and taken at once by SIGHUP, each renamed
#            .rejected with its reason: signed by another key (bad-bundle),
#            version 4 (rollback), version 7 with one broken rule beside the
#            good ones (rules: a bundle's rules must all load),
#            version 8 of kind firmware (wrong-kind), version 9 for sensor
#            99.0 (sensor-too-old); bundle 5 keeps alerting throughout
#   restart  the sensor started again on a capture file: it runs bundle 5
#            (sid 77, "bundle-5") without being given it; with -S it runs
#            the -S rules and the config's label
# and the statistics count 1 applied, 5 refused.
#
# Prints "ok"/"FAIL" lines and "bundle-apply-e2e: N passed, N failed[, N skipped]".
build=${1:-build}
sensor="$build/kanshi-sensor"
sig="$build/kanshi-sig"
mk="$build/tests/unit/bundle_apply_test"
tmp="$build/e2e-bundle-apply"
rm -rf "$tmp" && mkdir -p "$tmp"
pass=0 fail=0 skip=0
ok() { pass=$((pass + 1)); echo "ok   $1"; }
bad() {
    fail=$((fail + 1)); echo "FAIL $1"
    [ -s "$tmp/err" ] && sed 's/^/    /' "$tmp/err" | tail -15
    return 0
}
pids=""
cleanup() { for p in $pids; do kill -KILL "$p" 2>/dev/null; done; }
trap cleanup EXIT
trap 'cleanup; exit 1' HUP INT PIPE TERM
summary() {
    if [ "$skip" -gt 0 ]; then
        echo "bundle-apply-e2e: $pass passed, $fail failed, $skip skipped"
    else
        echo "bundle-apply-e2e: $pass passed, $fail failed"
    fi
    [ "$fail" -eq 0 ]
    exit
}
for p in "$sensor" "$sig" "$mk"; do
    [ -x "$p" ] || { echo "FAIL $p not built"; fail=1; summary; }
done
command -v python3 >/dev/null || { echo "skip bundle-apply: python3 not installed"; skip=1; summary; }

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
alive() { kill -0 "$1" 2>/dev/null; }

d="$tmp/run"
mkdir -p "$d/in" "$d/src" "$d/bad" "$d/old"
"$sig" keygen --out "$tmp/rel" >/dev/null 2>&1 && "$sig" keygen --out "$tmp/other" >/dev/null 2>&1 ||
    { echo "FAIL keygen"; fail=1; summary; }
ruleA='alert udp any any -> any any (msg:"config A"; content:"MARKA"; sid:1;)'
echo "$ruleA" >"$d/config.rules"
cat >"$d/sensor.yaml" <<EOF
ruleset-version: e2e-local
rules: [$d/config.rules]
detect:
  cache-dir: ''
bundles:
  keys: [$tmp/rel.pub]
  dir: $d/store
  incoming: $d/in
  check-interval: 1
EOF
# The bundle's rules: sid 1, and sid 77 on an address group only its vars.yaml defines.
printf '%s\n%s\n' "$ruleA" \
    'alert udp $BUNDLE_NET any -> any any (msg:"bundle B"; content:"MARKB"; sid:77;)' \
    >"$d/src/sig.rules"
printf 'vars:\n  address-groups:\n    BUNDLE_NET: "[10.9.0.0/24]"\n' >"$d/vars.yaml"
# mkbundle KEY VERSION OUT [kanshi-sig options]
mkbundle() {
    k=$1 v=$2 o=$3
    shift 3
    "$sig" bundle --key "$k" --version "$v" --vars "$d/vars.yaml" "$@" -o "$o" "$d/src" \
        >"$tmp/err" 2>&1
}
echo 'alert udp any any -> any any (msg:"broken"; content:"MARKB"; nosuchkeyword; sid:78;)' \
    >"$d/bad/broken.rules"
if mkbundle "$tmp/rel.key" 5 "$d/b5.bundle" --precompile generic && mkbundle "$tmp/other.key" 6 "$d/other.bundle" &&
    mkbundle "$tmp/rel.key" 4 "$d/b4.bundle" &&
    mkbundle "$tmp/rel.key" 9 "$d/b9.bundle" --min-sensor-version 99.0 &&
    "$mk" --make-bundle "$tmp/rel.key" 7 rules "" "$d/b7.bundle" "$d/bad/broken.rules" \
        "$d/src/sig.rules" "$d/vars.yaml" 2>"$tmp/err" &&
    "$mk" --make-bundle "$tmp/rel.key" 8 firmware "" "$d/b8.bundle" "$d/src/sig.rules" \
        2>"$tmp/err"; then
    ok "bundles made: 5 good, 6 by another key, 4 older, 7 broken rules, 8 firmware, 9 for sensor 99.0"
else
    bad "make-bundles"; summary
fi
# The same rules without vars.yaml do not load: the bundle's vars are what make sid 77 work.
if ! "$sig" lint "$d/src" >"$tmp/err" 2>&1 && grep -q "BUNDLE_NET" "$tmp/err"; then
    ok "sid 77 needs the bundle's vars (lint without them: $(grep -o 'BUNDLE_NET[^;]*' "$tmp/err" | head -1))"
else
    bad "vars-needed"
fi

mkfifo "$d/in.pcap"
echo 1 >"$d/phase"
python3 - "$d" >"$d/writer.log" 2>&1 <<'PY' &
import os, struct, sys, time
d = sys.argv[1]
def csum(b):
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xffff)
    return ~(s + (s >> 16)) & 0xffff
def frame(sport, payload):
    udp = struct.pack("!HHHH", sport, 5353, 8 + len(payload), 0) + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0,
                     bytes([10, 9, 0, 1]), bytes([10, 9, 0, 2]))
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    return b"\x02\0\0\0\0\x02\x02\0\0\0\0\x01\x08\x00" + ip + udp
out = open(os.path.join(d, "in.pcap"), "wb")
out.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
pairs = {}
n = 0
while not os.path.exists(os.path.join(d, "stop")):
    try:
        ph = int(open(os.path.join(d, "phase")).read())
    except ValueError:
        continue
    if ph == 0:  # a pause between phases: filler that matches no rule
        f = frame(22000, b"FILLER %d" % n)
        t = time.time()
        out.write(struct.pack("<IIII", int(t), int(t * 1e6) % 1000000, len(f), len(f)) + f)
        out.flush()
        n += 1
        time.sleep(0.003)
        continue
    for sport, tag in ((20000 + ph, b"MARKA"), (21000 + ph, b"MARKB")):
        f = frame(sport, tag + b" %d/%d" % (ph, n))
        t = time.time()
        out.write(struct.pack("<IIII", int(t), int(t * 1e6) % 1000000, len(f), len(f)) + f)
    out.flush()
    pairs[ph] = pairs.get(ph, 0) + 1
    if pairs[ph] == 50:
        open(os.path.join(d, "ready%d" % ph), "w").close()
    n += 1
    time.sleep(0.003)
out.close()
with open(os.path.join(d, "pairs"), "w") as o:
    for ph in sorted(pairs):
        o.write("%d %d\n" % (ph, pairs[ph]))
PY
wpid=$!
pids="$pids $wpid"
"$sensor" -c "$d/sensor.yaml" -r "$d/in.pcap" --eve "$d/eve.json" 2>"$d/log" &
spid=$!
pids="$pids $spid"

phase() { echo "$1" >"$d/phase.tmp" && mv "$d/phase.tmp" "$d/phase"; sleep 0.3; }
waitfile() { i=0; while [ ! -e "$1" ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done; [ -e "$1" ]; }
# drop FILE NAME: copies a bundle into the drop directory as its writers
# should: under a dot name, then renamed
drop() { cp "$1" "$d/in/.$2" && mv "$d/in/.$2" "$d/in/$2"; }

if waitfile "$d/ready1" && alive "$spid"; then
    ok "sensor runs the config's rules (phase 1)"
else
    cp "$d/log" "$tmp/err"; bad "start"
fi

# phase 2: the good bundle, found by the periodic look (no signal)
phase 0
drop "$d/b5.bundle" 05-good.bundle
if wait_count "$d/log" "bundle: version 5 applied" 1 100 && [ ! -e "$d/in/05-good.bundle" ] &&
    [ -f "$d/store/5/sig.rules" ] && grep -q "^version 5$" "$d/store/state"; then
    ok "bundle 5 applied without a signal ($(grep -o 'bundle: version 5 applied.*' "$d/log"))"
else
    cp "$d/log" "$tmp/err"; bad "apply-good"
fi
# All of its databases came from the bundle: N of N precompiled, none compiled.
pre=$(grep -o 'detect: [0-9]* of [0-9]* Hyperscan databases loaded as precompiled.*' "$d/log" |
    tail -1)
if [ -n "$pre" ] && echo "$pre" | awk '{ exit !($2 == $4 && $2 > 0) }' &&
    echo "$pre" | grep -q ', 0 compiled,' &&
    [ "$(ls "$d/store/5/" | grep -c '^[0-9a-f]\{64\}\.hsdb$')" -gt 0 ]; then
    ok "bundle 5's precompiled (generic x86-64) databases were used: $pre"
else
    cp "$d/log" "$tmp/err"; bad "apply-precompiled"
fi
phase 2
waitfile "$d/ready2"

# phase 3: every refusal, each taken at once on SIGHUP
phase 0
# refuse FILE NAME REASON N WHAT
refuse() {
    drop "$1" "$2"
    kill -HUP "$spid"
    if wait_count "$d/log" "refused ($3)" 1 100 && [ -f "$d/in/$2.rejected" ] &&
        grep -q . "$d/in/$2.rejected.reason" && [ ! -e "$d/in/$2" ]; then
        ok "$4: refused ($3): $(cat "$d/in/$2.rejected.reason")"
    else
        cp "$d/log" "$tmp/err"; bad "refuse-$3"
    fi
}
refuse "$d/other.bundle" 06-other-key.bundle bad-bundle "signed by another key"
refuse "$d/b4.bundle" 04-older.bundle rollback "older version 4"
refuse "$d/b7.bundle" 07-broken.bundle rules "one broken rule among good ones"
refuse "$d/b8.bundle" 08-firmware.bundle wrong-kind "firmware bundle"
refuse "$d/b9.bundle" 09-newer-sensor.bundle sensor-too-old "needs sensor 99.0"
if grep -q "nosuchkeyword" "$d/in/07-broken.bundle.rejected.reason" && [ ! -e "$d/store/7" ] && [ ! -e "$d/store/4" ] &&
    grep -q "^version 5$" "$d/store/state"; then
    ok "refused bundles left nothing in the store; it still says version 5; the broken rule is named"
else
    cp "$d/log" "$tmp/err"; bad "store-after-refusals"
fi
phase 3
waitfile "$d/ready3"
phase 0
touch "$d/stop"
wait "$wpid"
i=0
while alive "$spid" && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
wait "$spid"
rc=$?
cp "$d/log" "$tmp/err"
if [ $rc -eq 0 ] && grep -q "bundles:  applied 1  refused 5  running bundle-5  version 5" "$d/log"; then
    ok "statistics: 1 bundle applied, 5 refused, bundle-5 running"
else
    bad "stats (rc $rc)"
fi
# Per phase (source port): alerts of each sid against the pairs written, and the ruleset named.
if python3 - "$d" >"$tmp/out" 2>"$tmp/err" <<'PY'
import json, sys
d = sys.argv[1]
pairs = dict(map(int, l.split()) for l in open(d + "/pairs"))
got, bad = {}, []
for line in open(d + "/eve.json"):
    e = json.loads(line)
    if e.get("event_type") != "alert":
        continue
    sp, sid = e["src_port"], e["alert"]["signature_id"]
    rv = e["kanshi"]["ruleset_version"]
    if sp == 22000:
        bad.append("filler alerted: sid %d" % sid)
        continue
    ph, kind = sp % 1000, "A" if sp < 21000 else "B"
    got[(ph, kind, sid, rv)] = got.get((ph, kind, sid, rv), 0) + 1
want = {1: {("A", 1, "e2e-local")},
        2: {("A", 1, "bundle-5"), ("B", 77, "bundle-5")},
        3: {("A", 1, "bundle-5"), ("B", 77, "bundle-5")}}
for key, c in got.items():
    if key[0] not in want or key[1:] not in want[key[0]]:
        bad.append("unexpected: phase %d %s sid %d ruleset %s: %d alerts" % (key + (c,)))
for ph, n in pairs.items():
    for w in want.get(ph, ()):
        c = got.get((ph,) + w, 0)
        if c != n:
            bad.append("phase %d: %s sid %d ruleset %s: %d alerts, want %d" % ((ph,) + w + (c, n)))
if sorted(pairs) != [1, 2, 3] or min(pairs.values()) < 20:
    bad.append("phases written: %s" % pairs)
if bad:
    print("\n".join(bad), file=sys.stderr)
    sys.exit(1)
print(" ".join("%d:%d" % kv for kv in sorted(pairs.items())))
PY
then
    ok "every datagram alerted on the rules in force, named by their ruleset (pairs $(cat "$tmp/out"))"
else
    bad "per-phase alerts"
fi

# restart: the applied bundle runs without being given
python3 - "$tmp/restart.pcap" <<'PY'
import struct, sys
def csum(b):
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xffff)
    return ~(s + (s >> 16)) & 0xffff
def frame(sport, payload):
    udp = struct.pack("!HHHH", sport, 5353, 8 + len(payload), 0) + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0,
                     bytes([10, 9, 0, 1]), bytes([10, 9, 0, 2]))
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    return b"\x02\0\0\0\0\x02\x02\0\0\0\0\x01\x08\x00" + ip + udp
with open(sys.argv[1], "wb") as out:
    out.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
    for i in range(10):
        for sport, tag in ((20009, b"MARKA"), (21009, b"MARKB")):
            f = frame(sport, tag + b" %d" % i)
            out.write(struct.pack("<IIII", 1700000000 + i, 0, len(f), len(f)) + f)
PY
"$sensor" -c "$d/sensor.yaml" -r "$tmp/restart.pcap" --eve "$tmp/restart.json" 2>"$tmp/err"
a=$(grep -c '"signature_id":1,.*"ruleset_version":"bundle-5"' "$tmp/restart.json")
b=$(grep -c '"signature_id":77,.*"ruleset_version":"bundle-5"' "$tmp/restart.json")
if grep -q "bundle: running version 5 from" "$tmp/err" && [ "$a" = 10 ] && [ "$b" = 10 ] &&
    [ "$(grep -c '"event_type":"alert"' "$tmp/restart.json")" = 20 ] &&
    grep -q 'Hyperscan databases loaded as precompiled in the bundle, 0 from the cache, 0 compiled' \
        "$tmp/err"; then
    ok "restart runs bundle 5 (its precompiled databases): 10 alerts of sid 1 and 10 of sid 77, all bundle-5"
else
    bad "restart (sid 1: $a, sid 77: $b)"
fi
"$sensor" -c "$d/sensor.yaml" -S "$d/config.rules" -r "$tmp/restart.pcap" \
    --eve "$tmp/restart-s.json" 2>"$tmp/err"
if grep -q "bundle: version 5 is applied, but -S was given" "$tmp/err" &&
    [ "$(grep -c '"signature_id":1,.*"ruleset_version":"e2e-local"' "$tmp/restart-s.json")" = 10 ] &&
    ! grep -q '"signature_id":77' "$tmp/restart-s.json"; then
    ok "restart with -S: the -S rules run, named e2e-local"
else
    bad "restart-with-S"
fi
# An older bundle dropped while stopped is refused at the next run, too.
drop "$d/b4.bundle" 04-again.bundle
"$sensor" -c "$d/sensor.yaml" -r "$d/../restart.pcap" --eve /dev/null 2>"$tmp/err"
if grep -q "refused (rollback)" "$tmp/err" && [ -f "$d/in/04-again.bundle.rejected" ]; then
    ok "after a restart an older bundle is still refused (state read from disk)"
else
    bad "rollback-after-restart"
fi

# GeoIP databases carried by a bundle replace the config's (none here) while
# it runs: applied at the start of a capture file, then loaded again at the
# next start from the store.
shared=${KANSHI_SHARED:-../shared}
gc="$shared/data/geoip/GeoLite2-Country-Test.mmdb" ga="$shared/data/geoip/GeoLite2-ASN-Test.mmdb"
if [ -r "$gc" ] && [ -r "$ga" ]; then
    python3 - "$tmp/geo.pcap" <<'PY'
import struct, sys
def csum(b):
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xffff)
    return ~(s + (s >> 16)) & 0xffff
with open(sys.argv[1], "wb") as out:
    out.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
    for i in range(3):
        payload = b"MARKA geo %d" % i
        udp = struct.pack("!HHHH", 20100, 5353, 8 + len(payload), 0) + payload
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0,
                         bytes([2, 125, 160, 216]), bytes([1, 128, 0, 1]))
        ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
        f = b"\x02\0\0\0\0\x02\x02\0\0\0\0\x01\x08\x00" + ip + udp
        out.write(struct.pack("<IIII", 1700000100 + i, 0, len(f), len(f)) + f)
PY
    if mkbundle "$tmp/rel.key" 10 "$d/b10.bundle" --geoip "$gc" --geoip "$ga"; then
        drop "$d/b10.bundle" 10-geo.bundle
        "$sensor" -c "$d/sensor.yaml" -r "$tmp/geo.pcap" --eve "$tmp/geo.json" 2>"$tmp/err"
        "$sensor" -c "$d/sensor.yaml" -r "$tmp/geo.pcap" --eve "$tmp/geo2.json" 2>>"$tmp/err"
        g1=$(grep -c '"ruleset_version":"bundle-10","src_geo":{"country":"GB"},"dest_geo":{"asn":1221,' "$tmp/geo.json")
        g2=$(grep -c '"ruleset_version":"bundle-10","src_geo":{"country":"GB"},"dest_geo":{"asn":1221,' "$tmp/geo2.json")
        if grep -q "bundle: version 10 applied" "$tmp/err" && [ "$g1" = 3 ] && [ "$g2" = 3 ]; then
            ok "bundle 10's GeoIP databases enrich its alerts (GB, AS1221), applied and after a restart"
        else
            head -c 800 "$tmp/geo.json" >>"$tmp/err"
            bad "bundle-geoip (alerts enriched: $g1 applied, $g2 restarted, of 3)"
        fi
    else
        bad "make bundle 10 with GeoIP"
    fi
else
    skip=$((skip + 1))
    echo "skip bundle-geoip: $shared/data/geoip not found"
fi
[ "$fail" -eq 0 ] && rm -rf "$d/store" "$d/in.pcap"
summary
