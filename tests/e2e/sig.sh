#!/bin/sh
# sig.sh BUILD — kanshi-sig as the signature team uses it: lint exit codes
# and messages, test agreeing with kanshi-sensor alert for alert, stats over
# the shipped ruleset (and ET Open when ../shared is there).
build=${1:-build}
sig="$build/kanshi-sig"
tmp="$build/e2e-sig"
shared=${KANSHI_SHARED:-../shared}
rm -rf "$tmp" && mkdir -p "$tmp"
pass=0 fail=0 skip=0
ok() { pass=$((pass + 1)); echo "ok   $1"; }
bad() { fail=$((fail + 1)); echo "FAIL $1"; }

if "$sig" lint signatures/rules >"$tmp/out" 2>&1; then ok lint-shipped-clean; else bad lint-shipped-clean; fi
printf 'alert tcp any any -> any any (msg:"a"; content:"x"; sid:1;)\n\nalert tcp any any -> any any (msg:"b"; content:"|zz|"; sid:2;)\n' >"$tmp/bad.rules"
if ! "$sig" lint "$tmp/bad.rules" >"$tmp/out" 2>&1 && grep -q "bad.rules:3: content" "$tmp/out"; then
    ok lint-names-file-line
else
    bad lint-names-file-line
fi
"$build/kanshi-pktgen" demo "$tmp/demo.pcap" >/dev/null 2>&1
"$sig" test -S signatures/rules -r "$tmp/demo.pcap" -l "$tmp/sig" >"$tmp/counts" 2>&1
"$build/kanshi-sensor" -S signatures/rules -r "$tmp/demo.pcap" -l "$tmp/sensor" -q 2>/dev/null
a=$(grep -o '"signature_id":[0-9]*' "$tmp/sig/eve.json" | sort | uniq -c)
b=$(grep -o '"signature_id":[0-9]*' "$tmp/sensor/eve.json" | sort | uniq -c)
if [ -n "$a" ] && [ "$a" = "$b" ] && grep -q "alerts from 42 rules" "$tmp/counts"; then
    ok test-agrees-with-sensor
else
    bad test-agrees-with-sensor
fi
if "$sig" stats signatures/rules >"$tmp/stats" 2>&1 && grep -q "rules loaded: *42" "$tmp/stats" &&
    grep -q "fast patterns" "$tmp/stats"; then
    ok stats-shipped
else
    bad stats-shipped
fi
if [ -d "$shared/data/rules/et-open-2024" ]; then
    # issue 5: at least 90% of ET Open's 24,827 rules load; what does not is
    # listed by reason (protocols without a parser here, such as smb)
    if "$sig" stats "$shared/data/rules/et-open-2024" >"$tmp/et" 2>&1 &&
        grep -q "protocol smb" "$tmp/et" &&
        [ "$(awk '/^rules loaded:/ {print $3}' "$tmp/et")" -ge 22345 ]; then
        ok "stats-et-open ($(grep 'rules loaded' "$tmp/et" | tr -s ' '))"
    else
        bad stats-et-open
    fi
else
    skip=$((skip + 1)); echo "skip stats-et-open: ET Open absent"
fi
if "$sig" bench -S signatures/rules -r "$tmp/demo.pcap" --repeat 1 >"$tmp/bench" 2>&1 &&
    grep -q "kanshi pipeline:" "$tmp/bench" && grep -q "hyperscan alone:" "$tmp/bench"; then
    ok bench-runs-both
else
    bad bench-runs-both
fi
if ! "$sig" frobnicate x >/dev/null 2>&1; then ok unknown-command-fails; else bad unknown-command-fails; fi
echo "sig-e2e: $pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
