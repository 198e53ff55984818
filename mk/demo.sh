#!/bin/sh
# demo.sh BUILD — `make demo`: the GSOC side of kanshi, end to end, on
# 127.0.0.1.
#
# A kanshi-collector with the registry of collector/registry.example; two
# sensors enrolled with kanshictl, one at a tier-1 ministry's gateway and one
# at a tier-2 agency's; each reads its part of the traffic kanshi-pktgen makes
# (BUILD/demo/demo.pcap: ten minutes of a gateway's web, DNS, mail and NTP with
# an attack campaign woven in) and sends its alerts to the collector; an
# analyst of each tier follows that tier's feed, and each feed is shown as a
# table — every analyst sees only their own tier's alerts, filed under the
# registry's organisation names.  Then the fleet's health and a summary.
# Every process is stopped at the end; the database stays in BUILD/demo/gsoc
# for kanshictl.  With MaxMind's test databases in ../shared/data/geoip/ (or
# $KANSHI_SHARED/data/geoip/) the alerts carry country and AS; without them
# the demo runs all the same.
set -e
build=${1:-build}
dir="$build/demo"
gsoc="$dir/gsoc"
geo="${KANSHI_SHARED:-../shared}/data/geoip"
ctl="$build/kanshictl"

pids=""
cleanup() { for p in $pids; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT
trap 'cleanup; exit 1' HUP INT PIPE TERM

mkdir -p "$dir"
rm -rf "$gsoc"
mkdir -p "$gsoc"
"$build/kanshi-pktgen" demo "$dir/demo.pcap" >/dev/null

# --- three free ports on loopback ------------------------------------------------
used=$(ss -Htln 2>/dev/null | awk '{print $4}' | sed 's/.*://')
port=17700
while echo "$used" | grep -qx "$port\|$((port + 1))\|$((port + 2))"; do port=$((port + 10)); done
ep="tcp://127.0.0.1:$port"

# --- the collector and its registry ------------------------------------------------
"$ctl" keygen --out "$gsoc/collector.key" >/dev/null 2>&1
cat >"$gsoc/collector.yaml" <<EOF
# Written by mk/demo.sh.
listen: $ep
secret-key-file: $gsoc/collector.key
database: $gsoc/collector.db
synchronous: full
feeds:
  - name: tier1           # the first GSOC: ministries and agencies
    endpoint: tcp://127.0.0.1:$((port + 1))
    tiers: [1]
  - name: tier2           # the second GSOC: independent administrative agencies
    endpoint: tcp://127.0.0.1:$((port + 2))
    tiers: [2]
EOF
C="-c $gsoc/collector.yaml"
"$ctl" $C registry import collector/registry.example >/dev/null
n1=$("$ctl" $C org list | grep -c '^1 ' || true)
n2=$("$ctl" $C org list | grep -c '^2 ' || true)

t1_org="Ministry of Health, Labour and Welfare"
t2_org="Japan Pension Service"
"$ctl" $C sensor enroll mhlw-gw-01 --org "$t1_org" --endpoint "$ep" --out "$gsoc/sensors" \
    --spool-dir "$gsoc/spool-mhlw-gw-01" >/dev/null 2>&1
"$ctl" $C sensor enroll jps-gw-01 --org "$t2_org" --endpoint "$ep" --out "$gsoc/sensors" \
    --spool-dir "$gsoc/spool-jps-gw-01" >/dev/null 2>&1
"$ctl" $C analyst add sato --tiers 1 --out "$gsoc/analysts" >/dev/null 2>&1
"$ctl" $C analyst add suzuki --tiers 2 --out "$gsoc/analysts" >/dev/null 2>&1

# The enrolled configs plus what the demo's rules and enrichment need.
geonote="GeoIP:     off (MaxMind test databases not found in $geo)"
if [ -r "$geo/GeoLite2-Country-Test.mmdb" ] && [ -r "$geo/GeoLite2-ASN-Test.mmdb" ]; then
    geo=$(cd "$geo" && pwd)
    geonote="GeoIP:     MaxMind test databases from $geo"
else
    geo=""
fi
for s in mhlw-gw-01 jps-gw-01; do
    cat >>"$gsoc/sensors/$s.yaml" <<EOF
ruleset-version: kanshi-gateway-demo
vars:
  address-groups:
    HOME_NET: "[10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,2001:db8:10::/48]"
    EXTERNAL_NET: "!\$HOME_NET"
EOF
    [ -n "$geo" ] && cat >>"$gsoc/sensors/$s.yaml" <<EOF
geoip:
  country: $geo/GeoLite2-Country-Test.mmdb
  asn: $geo/GeoLite2-ASN-Test.mmdb
EOF
done

echo "kanshi demo: the GSOC, end to end on 127.0.0.1"
echo
echo "  collector  kanshi-collector on $ep, feeds on ports $((port + 1)) (tier 1)" \
    "and $((port + 2)) (tier 2)"
echo "             registry from collector/registry.example: $n1 tier-1 and $n2 tier-2" \
    "organisations"
echo "  sensors    mhlw-gw-01  $t1_org (tier 1): its office network (10.1.20.0/24)"
echo "             jps-gw-01   $t2_org (tier 2, supervised by the MHLW): its public"
echo "                         web servers (DMZ, VLAN 110)"
echo "  analysts   sato (tier 1) follows the first GSOC's feed, suzuki (tier 2) the second's"
kib=$(($(wc -c <"$dir/demo.pcap") / 1024))
echo "  traffic    $dir/demo.pcap ($kib KiB from kanshi-pktgen), rules signatures/rules/"
echo "  $geonote"
echo

"$build/kanshi-collector" $C >"$gsoc/collector.log" 2>&1 &
colpid=$!
pids="$pids $colpid"
n=0
until grep -q "listening on" "$gsoc/collector.log"; do
    n=$((n + 1))
    if [ $n -gt 50 ]; then cat "$gsoc/collector.log"; exit 1; fi
    sleep 0.1
done

# --- the analysts subscribe ------------------------------------------------------------
json=""
command -v python3 >/dev/null && json=--json
for a in "1 sato" "2 suzuki"; do
    set -- $a
    "$ctl" $C alerts tail --tier "$1" --key "$gsoc/analysts/$2.key" $json \
        >"$gsoc/feed-tier$1.out" 2>"$gsoc/feed-tier$1.err" &
    pids="$pids $!"
    eval "tail$1=$!"
done
for t in 1 2; do
    n=0
    until grep -q subscribed "$gsoc/feed-tier$t.err"; do
        n=$((n + 1))
        if [ $n -gt 50 ]; then cat "$gsoc/feed-tier$t.err"; exit 1; fi
        sleep 0.1
    done
done

# --- traffic through both sensors --------------------------------------------------------
echo "The sensors read their traffic, spool each alert on disk and send it to the collector, which"
echo "files it under the registry's organisation and tier and publishes it on that tier's feed."
"$build/kanshi-sensor" -c "$gsoc/sensors/mhlw-gw-01.yaml" -S signatures/rules \
    -r "$dir/demo.pcap" -f "not vlan" >"$gsoc/mhlw-gw-01.log" 2>&1 &
s1=$!
pids="$pids $s1"
"$build/kanshi-sensor" -c "$gsoc/sensors/jps-gw-01.yaml" -S signatures/rules \
    -r "$dir/demo.pcap" -f "vlan" >"$gsoc/jps-gw-01.log" 2>&1 &
s2=$!
pids="$pids $s2"
wait "$s1" || { cat "$gsoc/mhlw-gw-01.log"; exit 1; }
wait "$s2" || { cat "$gsoc/jps-gw-01.log"; exit 1; }
for s in mhlw-gw-01 jps-gw-01; do
    alerts=$(sed -n 's/.*detect: *rules [0-9]* *alerts \([0-9]*\).*/\1/p' "$gsoc/$s.log")
    acked=$(sed -n 's/.*uplink:.*acked seq \([0-9]*\).*/\1/p' "$gsoc/$s.log")
    printf '  %-11s %s alerts, the collector acknowledged up to sequence %s\n' "$s" "$alerts" \
        "$acked"
done
sleep 0.5 # the last publications reach the analysts
kill "$tail1" "$tail2" 2>/dev/null || true
wait "$tail1" "$tail2" 2>/dev/null || true

# --- what each analyst saw ----------------------------------------------------------------
show_feed() { # TIER ANALYST TITLE
    echo
    echo "$3 — the tier-$1 feed as analyst $2 saw it:"
    if [ -n "$json" ]; then
        python3 - "$gsoc/feed-tier$1.out" <<'PY'
import json, sys
rows = []
for line in open(sys.argv[1]):
    a = json.loads(line)
    k = a.get("kanshi", {})
    def end(ip, port):
        if ip is None:
            return "-"
        ip = "[%s]" % ip if ":" in ip and port is not None else ip
        return "%s:%s" % (ip, port) if port is not None else ip
    sig = a["alert"]["signature"]
    rows.append((a["timestamp"][11:19], k.get("organisation", "?"),
                 k.get("sensor_id", "?"), str(k.get("seq", "")), str(a["alert"]["signature_id"]),
                 str(a["alert"]["severity"]), end(a.get("src_ip"), a.get("src_port")),
                 end(a.get("dest_ip"), a.get("dest_port")),
                 sig if len(sig) <= 64 else sig[:63] + "…"))
head = ("TIME", "ORGANISATION", "SENSOR", "SEQ", "SID", "SEV", "SOURCE", "DESTINATION", "SIGNATURE")
w = [max(len(r[i]) for r in rows + [head]) for i in range(len(head) - 1)]
for r in [head] + rows:
    print("  " + "  ".join(c.ljust(w[i]) for i, c in enumerate(r[:-1])) + "  " + r[-1])
if not rows:
    print("  (nothing)")
PY
    else
        sed 's/^/  /' "$gsoc/feed-tier$1.out"
    fi
}
show_feed 1 sato "First GSOC (ministries and agencies)"
show_feed 2 suzuki "Second GSOC (independent administrative agencies, designated corporations)"

echo
printf 'Access control: suzuki (tier 2) knocks on the tier-1 feed: '
if "$ctl" alerts tail --feed "tcp://127.0.0.1:$((port + 1))" \
    --collector-key "$gsoc/collector.key.pub" --key "$gsoc/analysts/suzuki.key" \
    --timeout 5 >/dev/null 2>"$gsoc/refused.err"; then
    echo "admitted (unexpected!)"
else
    echo "refused by the collector's ZAP handler."
fi

echo
echo "Fleet health (kanshictl sensor list):"
"$ctl" $C sensor list | sed 's/^/  /'

# --- summary -----------------------------------------------------------------------------
stored=$("$ctl" $C alerts search --limit 0 2>&1 >/dev/null | awk '{print $2}')
kill -TERM "$colpid" 2>/dev/null && wait "$colpid" 2>/dev/null || true
count() { # FEED-FILE ORGANISATION: the feed's alerts filed under it
    if [ -n "$json" ]; then
        grep -c "\"organisation\":\"$2\"" "$1" || true
    else
        grep -c "  $2  " "$1" || true
    fi
}
feed_line() { # TIER ANALYST ORG OTHER-ORG
    all=$(grep -c . "$gsoc/feed-tier$1.out" || true)
    own=$(count "$gsoc/feed-tier$1.out" "$3")
    other=$(count "$gsoc/feed-tier$1.out" "$4")
    echo "  tier-$1 feed: $all alerts for $2: $own from $3, $other from $4"
}
echo
echo "Summary:"
echo "  $stored alerts stored at the collector (SQLite, synchronous=full); each sensor's spool"
echo "  deleted an alert only after the collector's ACK"
feed_line 1 sato "$t1_org" "$t2_org"
feed_line 2 suzuki "$t2_org" "$t1_org"
echo
echo "Try, now that the demo's processes have stopped (the database stays):"
echo "  $ctl $C alerts search --tier 2"
echo "  $ctl $C sensor show mhlw-gw-01"
