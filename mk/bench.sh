#!/bin/sh
# bench.sh BUILD — sensor throughput, the figure every change is measured by.
#
# Reads ../shared/data/pcaps/corpus-ether.pcap (268k real packets) when it is
# there, else a capture kanshi-pktgen makes, with the shipped ruleset; runs
# it REPEAT times (default 3) and reports the best run's packets/s, Gbit/s
# and alert count, as the sensor measured its own packet loop.
set -eu
build=${1:-build}
repeat=${REPEAT:-3}
shared=${KANSHI_SHARED:-../shared}
pcap="$shared/data/pcaps/corpus-ether.pcap"
out="$build/bench"
mkdir -p "$out"
inputs="-r $pcap"
if [ ! -r "$pcap" ]; then
    # Without the corpus: the demo's generated gateway traffic, read 200
    # times over so the run lasts long enough to measure.
    echo "bench: $pcap not found; using generated traffic instead"
    pcap="$out/generated.pcap"
    "$build/kanshi-pktgen" demo "$pcap"
    inputs=$(for i in $(seq 200); do printf -- '-r %s ' "$pcap"; done)
fi
rules=${RULES:-signatures/rules}
echo "bench: kanshi-sensor over $pcap with rules $rules ($repeat runs, best shown)"
best=""
for i in $(seq "$repeat"); do
    # shellcheck disable=SC2086
    "$build/kanshi-sensor" -S "$rules" $inputs --eve "$out/eve.json" 2>"$out/stats.txt" || {
        cat "$out/stats.txt"; exit 1; }
    rm -f "$out/eve.json"
    line=$(grep 'packet loop' "$out/stats.txt")
    pps=$(echo "$line" | awk '{print $8}')
    if [ -z "$best" ] || awk "BEGIN{exit !($pps > $best)}"; then
        best=$pps
        cp "$out/stats.txt" "$out/best.txt"
    fi
done
pkts=$(grep 'capture:' "$out/best.txt" | awk '{print $3}')
bytes=$(grep 'capture:' "$out/best.txt" | awk '{print $5}')
alerts=$(grep 'detect:' "$out/best.txt" | awk '{print $5}')
rules_n=$(grep 'detect:' "$out/best.txt" | awk '{print $3}')
secs=$(grep 'packet loop' "$out/best.txt" | awk '{print $2}')
gbps=$(grep 'packet loop' "$out/best.txt" | awk '{print $10}')
printf 'bench: %s packets, %s bytes, %s rules\n' "$pkts" "$bytes" "$rules_n"
printf 'bench: %.0f packets/s  %s Gbit/s  %s alerts  (%s s in the packet loop)\n' \
    "$best" "$gbps" "$alerts" "$secs"
