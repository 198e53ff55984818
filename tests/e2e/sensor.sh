#!/bin/sh
# sensor.sh BUILD — end-to-end tests of kanshi-sensor as a program: real
# captures, bad input of every kind, privilege dropping, and the strict and
# extended tiers of Suricata's verification suite.  Prints "sensor-e2e: N passed, N failed,
# N skipped" last.
build=${1:-build}
sensor="$build/kanshi-sensor"
shared=${KANSHI_SHARED:-../shared}
tmp="$(pwd)/$build/e2e-sensor"
case "$build" in /*) tmp="$build/e2e-sensor" ;; esac
rm -rf "$tmp" && mkdir -p "$tmp"
pass=0 fail=0 skip=0
ok() { pass=$((pass + 1)); echo "ok   $1"; }
bad() { fail=$((fail + 1)); echo "FAIL $1"; [ -f "$tmp/err" ] && sed 's/^/    /' "$tmp/err" | head -20; }
skipped() { skip=$((skip + 1)); echo "skip $1: $2"; }

rules="$tmp/t.rules"
cat >"$rules" <<'R'
alert tcp any any -> any any (msg:"tcp payload GET"; content:"GET "; depth:4; sid:1; rev:1;)
alert udp any any -> any 53 (msg:"dns query"; dsize:>10; sid:2; rev:1;)
R

# --- the real capture corpus: counts match capinfos ------------------------
corpus="$shared/data/pcaps/corpus-ether.pcap"
if [ ! -r "$corpus" ]; then
    skipped corpus-counts "$corpus absent"
elif ! command -v capinfos >/dev/null; then
    skipped corpus-counts "capinfos not installed"
else
    want_pkts=$(capinfos -M -c "$corpus" | awk -F: '/Number of packets/ {gsub(/ /,"",$2); print $2}')
    want_bytes=$(capinfos -M -d "$corpus" | awk -F: '/Data size/ {gsub(/ bytes| /,"",$2); print $2}')
    if "$sensor" -S "$rules" -r "$corpus" --eve "$tmp/corpus.json" 2>"$tmp/err"; then
        got_pkts=$(awk '/capture:/ {print $3}' "$tmp/err")
        got_bytes=$(awk '/capture:/ {print $5}' "$tmp/err")
        if [ "$got_pkts" = "$want_pkts" ] && [ "$got_bytes" = "$want_bytes" ]; then
            ok "corpus-counts ($got_pkts packets, $got_bytes bytes, as capinfos)"
        else
            echo "    sensor: $got_pkts packets $got_bytes bytes; capinfos: $want_pkts $want_bytes"
            bad corpus-counts
        fi
        # every alert line is JSON with the EVE fields
        if python3 -c '
import json, sys
n = 0
for line in open(sys.argv[1]):
    o = json.loads(line)
    assert o["event_type"] == "alert" and "signature_id" in o["alert"], line
    n += 1
assert n > 0, "no alerts"
' "$tmp/corpus.json" 2>>"$tmp/err"; then
            ok "corpus-eve-json ($(wc -l <"$tmp/corpus.json") alert lines parse)"
        else
            bad corpus-eve-json
        fi
    else
        bad "corpus-counts (sensor failed)"
    fi
fi

# --- bad input gets a clear error naming what and where ---------------------
if ! "$sensor" -S "$rules" -r "$tmp/missing.pcap" 2>"$tmp/err" >/dev/null &&
    grep -q "missing.pcap" "$tmp/err"; then
    ok missing-pcap-named
else
    bad missing-pcap-named
fi
printf 'this is not a capture file at all, just text\n' >"$tmp/garbage.pcap"
if ! "$sensor" -S "$rules" -r "$tmp/garbage.pcap" 2>"$tmp/err" >/dev/null &&
    grep -q "garbage.pcap" "$tmp/err"; then
    ok garbage-pcap-named
else
    bad garbage-pcap-named
fi
# A capture cut mid-packet: what came before is inspected and kept.
"$build/kanshi-pktgen" spec /dev/stdin "$tmp/full.pcap" <<'S' 2>"$tmp/err"
tcp 10.0.0.1:40000 > 192.0.2.1:80 "GET / HTTP/1.1\r\nHost: a\r\n\r\n"
tcp 10.0.0.2:40000 > 192.0.2.1:80 "GET /two HTTP/1.1\r\nHost: a\r\n\r\n"
S
if [ -s "$tmp/full.pcap" ]; then
    size=$(wc -c <"$tmp/full.pcap")
    head -c $((size - 20)) "$tmp/full.pcap" >"$tmp/cut.pcap"
    if "$sensor" -S "$rules" -r "$tmp/cut.pcap" -l "$tmp/cut" 2>"$tmp/err" &&
        grep -q "cut.pcap" "$tmp/err" && [ "$(grep -c '"signature_id":1' "$tmp/cut/eve.json")" -ge 1 ]; then
        ok truncated-pcap-keeps-earlier-alerts
    else
        bad truncated-pcap-keeps-earlier-alerts
    fi
else
    bad "truncated-pcap (kanshi-pktgen failed)"
fi
printf 'alert tcp any any -> any any (msg:"ok"; content:"x"; sid:10;)\nalert tcp any any -> any any (msg:"bad"; content:"|4"; sid:11;)\nalert tcp any any -> any any (msg:"kw"; frobnicate; sid:12;)\n' >"$tmp/bad.rules"
if "$sensor" -S "$tmp/bad.rules" -n 2>"$tmp/err" &&
    grep -q "bad.rules:2: content" "$tmp/err" && grep -q "bad.rules:3: frobnicate" "$tmp/err"; then
    ok bad-rules-reported-rest-load
else
    bad bad-rules-reported-rest-load
fi
if ! "$sensor" -S "$tmp/bad.rules" --strict -n 2>"$tmp/err"; then
    ok strict-refuses-bad-rules
else
    bad strict-refuses-bad-rules
fi
printf 'sensor-id: x\nflow:\n  memcap: lots\n' >"$tmp/bad.yaml"
if ! "$sensor" -c "$tmp/bad.yaml" -S "$rules" -n 2>"$tmp/err" && grep -q "bad.yaml:3" "$tmp/err"; then
    ok bad-config-line-named
else
    bad bad-config-line-named
fi
if [ -r "$shared/data/geoip/MaxMind-DB-test-broken-search-tree-24.mmdb" ]; then
    printf 'geoip:\n  country: %s\n' "$shared/data/geoip/MaxMind-DB-test-broken-search-tree-24.mmdb" >"$tmp/geo.yaml"
    if ! "$sensor" -c "$tmp/geo.yaml" -S "$rules" -n 2>"$tmp/err" &&
        grep -q "broken-search-tree" "$tmp/err"; then
        ok broken-geoip-refused
    else
        bad broken-geoip-refused
    fi
else
    skipped broken-geoip-refused "MaxMind test databases absent"
fi

# --- privileges: as root with user: nobody, the sensor runs as nobody -------
if [ "$(id -u)" -eq 0 ] && id nobody >/dev/null 2>&1; then
    printf 'user: nobody\n' >"$tmp/priv.yaml"
    mkdir -p "$tmp/priv"
    if "$sensor" -c "$tmp/priv.yaml" -S "$rules" -r "$tmp/full.pcap" -l "$tmp/priv" -v 2>"$tmp/err" &&
        grep -q "running as user nobody" "$tmp/err"; then
        ok privdrop-to-nobody
    else
        bad privdrop-to-nobody
    fi
else
    skipped privdrop-to-nobody "not root"
fi

# --- Suricata verification suite: strict and extended tiers -----------------
# Settings a test ran with map to sensor arguments: stream.midstream through
# --config-arg, "-k none" from the test's notes (tests/tools/sv-sensor.sh).
suite="$shared/peer-tests/suricata-verify/run_suite.py"
if [ -r "$suite" ] && command -v python3 >/dev/null; then
    abs=$(cd "$(dirname "$sensor")" && pwd)/$(basename "$sensor")
    manifest=$(cd "$(dirname "$suite")" && pwd)/manifest.tsv
    for tier in strict extended; do
        if python3 "$suite" --tier $tier --workdir "$tmp/sv-$tier" -q \
            --config-arg 'stream.midstream=true:--midstream' \
            --config-arg 'stream.async-oneside=true:--async-oneside' \
            --cmd "sh $(pwd)/tests/tools/sv-sensor.sh $manifest {name} $abs -c {vars} -S {rules} -r {pcap} -l {out} -q {extra}" \
            >"$tmp/sv.txt" 2>&1; then
            ok "peer-suite-$tier ($(tail -n 1 "$tmp/sv.txt"))"
        else
            grep -v '^PASS' "$tmp/sv.txt" >"$tmp/err"
            bad "peer-suite-$tier ($(tail -n 1 "$tmp/sv.txt"))"
        fi
    done
else
    skipped peer-suite-strict "$suite absent"
    skipped peer-suite-extended "$suite absent"
fi

echo "sensor-e2e: $pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
