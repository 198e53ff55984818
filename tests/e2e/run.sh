#!/bin/sh
# run.sh BUILD — end-to-end tests of the shipped ruleset (signatures/rules/).
#
# Every rule of kanshi-gateway.rules has a case tests/e2e/rules/SID.spec with
# two sections: [fire], traffic the rule must alert on (at least once), and
# [nofire], near-miss traffic it must stay silent on.  kanshi-pktgen turns
# each section into a pcap and kanshi-sensor reads it with the whole ruleset
# loaded, so a case also catches one rule's pattern shadowing another's.
# Besides the per-rule cases:
#   ruleset-strict  every rule loads (kanshi-sensor -n --strict)
#   benign          tests/e2e/rules/benign.spec, ordinary traffic, fires nothing
#   demo            the demo scenario fires at least 30 different rules
#
# Run from the repository root: sh tests/e2e/run.sh build
# Prints "ok CASE" / "FAIL CASE" lines and ends with "e2e: N passed, N failed";
# exits 1 when anything failed.  Work files are in BUILD/e2e-tmp.
build=${1:-build}
pktgen="$build/kanshi-pktgen"
sensor="$build/kanshi-sensor"
rules=signatures/rules
ruleset="$rules/kanshi-gateway.rules"
cases=tests/e2e/rules
tmp="$build/e2e-tmp"
pass=0
fail=0

for prog in "$pktgen" "$sensor"; do
    if [ ! -x "$prog" ]; then
        echo "FAIL setup: $prog not built (make programs)"
        echo "e2e: 0 passed, 1 failed"
        exit 1
    fi
done
rm -rf "$tmp" && mkdir -p "$tmp"

ok() {
    pass=$((pass + 1))
    echo "ok   $1"
}

bad() {
    fail=$((fail + 1))
    echo "FAIL $1"
    shift
    for f in "$@"; do
        [ -s "$f" ] && sed 's/^/    /' "$f" | head -n 15
    done
    return 0
}

# alerts EVE [SID]: number of alert lines in EVE (of signature SID when given).
alerts() {
    if [ ! -f "$1" ]; then
        echo 0
    elif [ -n "$2" ]; then
        grep -c "\"signature_id\":$2[,}]" "$1"
    else
        grep -c '"event_type":"alert"' "$1"
    fi
}

# sid_summary EVE: "SID xN" for every signature that fired, for messages.
sid_summary() {
    [ -f "$1" ] || return 0
    sed -n 's/.*"signature_id":\([0-9]*\).*/\1/p' "$1" | sort | uniq -c |
        awk '{ printf "%s%s x%s", sep, $2, $1; sep = ", " } END { if (NR) print "" }'
}

# sensor_run NAME PCAP: runs the sensor over PCAP into $tmp/NAME/; 0 on success.
sensor_run() {
    out="$tmp/$1"
    mkdir -p "$out"
    "$sensor" -q -S "$rules" -r "$2" -l "$out" >"$out/stdout" 2>"$out/stderr"
}

# --- every rule loads --------------------------------------------------------
if "$sensor" -n --strict -S "$rules" >"$tmp/strict.out" 2>&1; then
    ok "ruleset-strict ($(sed -n 's/.*: \([0-9]*\) rules loaded.*/\1/p' "$tmp/strict.out") rules)"
else
    bad "ruleset-strict" "$tmp/strict.out"
fi

# --- one case per shipped rule -----------------------------------------------
sids=$(sed -n 's/^alert .*[(; ]sid: *\([0-9][0-9]*\);.*/\1/p' "$ruleset")
if [ -z "$sids" ]; then
    bad "rule-list: no sids found in $ruleset"
fi
for sid in $sids; do
    spec="$cases/$sid.spec"
    if [ ! -f "$spec" ]; then
        bad "$sid: no test case $spec"
        continue
    fi
    for section in fire nofire; do
        name="$sid-$section"
        pcap="$tmp/$name.pcap"
        if ! "$pktgen" spec -s "$section" "$spec" "$pcap" 2>"$tmp/$name.gen"; then
            bad "$name: kanshi-pktgen failed" "$tmp/$name.gen"
            continue
        fi
        if ! sensor_run "$name" "$pcap"; then
            bad "$name: kanshi-sensor failed" "$tmp/$name/stderr"
            continue
        fi
        eve="$tmp/$name/eve.json"
        n=$(alerts "$eve" "$sid")
        if [ "$section" = fire ] && [ "$n" -ge 1 ]; then
            ok "$name ($n alerts)"
        elif [ "$section" = nofire ] && [ "$n" -eq 0 ]; then
            ok "$name"
        else
            echo "    fired: $(sid_summary "$eve")" >"$tmp/$name.why"
            bad "$name: $n alerts of $sid" "$tmp/$name.why"
        fi
    done
done

# Cases without a rule are left over from a removed rule.
for spec in "$cases"/9*.spec; do
    [ -f "$spec" ] || continue
    sid=$(basename "$spec" .spec)
    case " $(echo $sids) " in
    *" $sid "*) ;;
    *) bad "$sid: $spec has no rule in $ruleset" ;;
    esac
done

# --- ordinary traffic fires nothing ------------------------------------------
if "$pktgen" spec "$cases/benign.spec" "$tmp/benign.pcap" 2>"$tmp/benign.gen"; then
    if sensor_run benign "$tmp/benign.pcap"; then
        n=$(alerts "$tmp/benign/eve.json")
        if [ "$n" -eq 0 ]; then
            ok "benign"
        else
            echo "    fired: $(sid_summary "$tmp/benign/eve.json")" >"$tmp/benign.why"
            bad "benign: $n alerts" "$tmp/benign.why"
        fi
    else
        bad "benign: kanshi-sensor failed" "$tmp/benign/stderr"
    fi
else
    bad "benign: kanshi-pktgen failed" "$tmp/benign.gen"
fi

# --- kanshi-pktgen names SPEC:LINE and writes nothing on a bad spec ----------
# spec_error NAME "MESSAGE" LINE...: the spec made of LINEs fails with MESSAGE.
spec_error() {
    name=$1 want=$2
    shift 2
    printf '%s\n' "$@" >"$tmp/$name.spec"
    rm -f "$tmp/$name.pcap"
    if "$pktgen" spec "$tmp/$name.spec" "$tmp/$name.pcap" 2>"$tmp/$name.err"; then
        bad "pktgen-error-$name: accepted"
    elif ! grep -qF "$tmp/$name.spec:$want" "$tmp/$name.err"; then
        echo "    expected: $tmp/$name.spec:$want" >"$tmp/$name.why"
        bad "pktgen-error-$name" "$tmp/$name.err" "$tmp/$name.why"
    elif [ -e "$tmp/$name.pcap" ]; then
        bad "pktgen-error-$name: left a pcap behind"
    else
        ok "pktgen-error-$name"
    fi
}
spec_error unterminated '2: unterminated string' '# x' 'tcp 10.0.0.1:1 > 10.0.0.2:80 "abc'
spec_error escape '1: unknown escape \q' 'udp 10.0.0.1:1 > 10.0.0.2:53 "a\qb"'
spec_error port "1: '10.0.0.1': missing :PORT" 'tcp 10.0.0.1 > 10.0.0.2:80'
spec_error v6 "1: '2001:db8::1:80': write IPv6 endpoints as [ADDR]:PORT" \
    'tcp 2001:db8::1:80 > [2001:db8::2]:80'
spec_error family '1: both endpoints must be IPv4 or both IPv6' 'tcp 10.0.0.1:1 > [2001:db8::2]:80'
spec_error option "2: unknown option 'bogus'" 'sleep 1' 'tcp 10.0.0.1:1 > 10.0.0.2:80 \' \
    '"x" bogus=1'
spec_error proto "1: option 'split' does not apply to this protocol" \
    'udp 10.0.0.1:1 > 10.0.0.2:53 split=3'
spec_error kind "1: unknown line type 'ftp'" 'ftp 10.0.0.1:1 > 10.0.0.2:21'

# --- the demo shows the ruleset's range --------------------------------------
if "$pktgen" demo "$tmp/demo.pcap" >/dev/null 2>"$tmp/demo.gen"; then
    if sensor_run demo "$tmp/demo.pcap"; then
        distinct=$(sed -n 's/.*"signature_id":\([0-9]*\).*/\1/p' "$tmp/demo/eve.json" |
            sort -u | wc -l)
        if [ "$distinct" -ge 30 ]; then
            ok "demo ($distinct rules fired)"
        else
            echo "    fired: $(sid_summary "$tmp/demo/eve.json")" >"$tmp/demo.why"
            bad "demo: only $distinct different rules fired" "$tmp/demo.why"
        fi
    else
        bad "demo: kanshi-sensor failed" "$tmp/demo/stderr"
    fi
else
    bad "demo: kanshi-pktgen failed" "$tmp/demo.gen"
fi

echo "e2e: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
