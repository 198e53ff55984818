#!/bin/sh
# demo.sh BUILD — `make demo`: a government gateway's morning, replayed.
#
# kanshi-pktgen writes BUILD/demo/demo.pcap (ten minutes of web, DNS, mail
# and NTP traffic with a campaign woven in: Log4Shell, Shellshock, web shells,
# a Cobalt Strike beacon, RATs, a coin miner, cleartext passwords), then
# kanshi-sensor reads it with the shipped rules and prints its alerts as a
# table.  With MaxMind's test databases in ../shared/data/geoip/ (or
# $KANSHI_SHARED/data/geoip/) the alerts carry country and AS; without them
# the demo runs all the same.
set -e
build=${1:-build}
dir="$build/demo"
geo="${KANSHI_SHARED:-../shared}/data/geoip"

mkdir -p "$dir"
rm -f "$dir/eve.json"
"$build/kanshi-pktgen" demo "$dir/demo.pcap" >/dev/null

cat >"$dir/sensor.yaml" <<EOF
# Written by mk/demo.sh.
sensor-id: demo-gw-01
ruleset-version: kanshi-gateway-demo
vars:
  address-groups:
    HOME_NET: "[10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,2001:db8:10::/48]"
    EXTERNAL_NET: "!\$HOME_NET"
EOF
if [ -r "$geo/GeoLite2-Country-Test.mmdb" ] && [ -r "$geo/GeoLite2-ASN-Test.mmdb" ]; then
    geo=$(cd "$geo" && pwd)
    cat >>"$dir/sensor.yaml" <<EOF
geoip:
  country: $geo/GeoLite2-Country-Test.mmdb
  asn: $geo/GeoLite2-ASN-Test.mmdb
EOF
    geonote="GeoIP: MaxMind test databases from $geo"
else
    geonote="GeoIP: off (MaxMind test databases not found in $geo)"
fi

echo "kanshi demo: sensor demo-gw-01 at a ministry's internet gateway"
echo "  traffic: $dir/demo.pcap ($(($(wc -c <"$dir/demo.pcap") / 1024)) KiB)"
echo "  rules:   signatures/rules/"
echo "  $geonote"
echo

"$build/kanshi-sensor" -c "$dir/sensor.yaml" -S signatures/rules -r "$dir/demo.pcap" \
    -l "$dir" --table

eve="$dir/eve.json"
total=$(grep -c '"event_type":"alert"' "$eve" 2>/dev/null || true)
echo
echo "Alerts per signature:"
pattern='s/.*"signature_id":\([0-9]*\),.*"signature":"\(\([^"\\]\|\\.\)*\)".*/\1 \2/p'
sed -n "$pattern" "$eve" |
    sort | uniq -c | sort -k1,1nr -k2,2n |
    awk '{ n = $1; sid = $2; $1 = ""; $2 = ""; sub(/^  /, ""); printf "  %4d  %s  %s\n", n, sid, $0 }'
echo
echo "${total:-0} alerts in $eve (EVE JSON, one alert per line), e.g.:"
echo "  grep 9000024 $eve | head -n 1 | python3 -m json.tool"
