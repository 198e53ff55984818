#!/bin/sh
# bench.sh BUILD — the figures every change is measured by.
#
# 1. Sensor throughput: reads ../shared/data/pcaps/corpus-ether.pcap (268k
#    real packets) when it is there, else a capture kanshi-pktgen makes, with
#    the shipped ruleset; runs it REPEAT times (default 3) and reports the best
#    run's packets/s, Gbit/s and alert count, as the sensor measured its own
#    packet loop.
# 1b. ET Open (the kanshi-loadable part) over the corpus through the whole
#    pipeline, against Hyperscan alone over the same payloads and patterns.
# 1c. ET Open through kanshi-sensor with and without the application layer:
#    throughput and peak memory of each.
# 2. The GSOC side, real processes on 127.0.0.1 (GSOC=0 skips it):
#    - alerts/s from one sensor into the collector's SQLite store with
#      durability on (synchronous=full; the spool's fsync "batch"), with a
#      subscriber on the feed, measured by the store's own clock (first to
#      last alert received) and from the sensor's start to the last ACK;
#    - latency from the moment the sensor made an alert (kanshi-sensor
#      --stamp) to its arrival at a tier feed's subscriber (kanshictl alerts
#      tail --stamp; same host, same clock), at a steady 2,000 alerts/s fed
#      through a FIFO, with the spool's fsync "batch" (every 100 ms, the
#      default) and "always".  Latency at full throughput would only measure
#      the queue.  Needs python3 (the pacer and the percentiles) and sqlite3.
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
alerts=$(grep '  detect:   rules' "$out/best.txt" | awk '{print $5}')
rules_n=$(grep '  detect:   rules' "$out/best.txt" | awk '{print $3}')
secs=$(grep 'packet loop' "$out/best.txt" | awk '{print $2}')
gbps=$(grep 'packet loop' "$out/best.txt" | awk '{print $10}')
printf 'bench: %s packets, %s bytes, %s rules\n' "$pkts" "$bytes" "$rules_n"
printf 'bench: %.0f packets/s  %s Gbit/s  %s alerts  (%s s in the packet loop)\n' \
    "$best" "$gbps" "$alerts" "$secs"

# --- 1b. ET Open against Hyperscan alone ----------------------------------------------------
# The rules of ET Open that kanshi loads, over the corpus replayed ET_REPEAT
# times (a run of several seconds), timed through the sensor's whole pipeline
# and, in the same run, Hyperscan alone scanning the same payload bytes with
# the same fast patterns (kanshi-sig bench).
et="$shared/data/rules/et-open-2024"
if [ -d "$et" ] && [ -r "$shared/data/pcaps/corpus-ether.pcap" ]; then
    echo "bench: ET Open ($et) over the corpus, ${ET_REPEAT:-8} passes"
    "$build/kanshi-sig" bench -S "$et" -r "$shared/data/pcaps/corpus-ether.pcap" \
        --repeat "${ET_REPEAT:-8}" 2>"$out/et-errors.txt" | sed 's/^bench: /bench: ET Open: /'
else
    echo "bench: ET Open part skipped ($et or the corpus not found)"
fi

# --- 1c. ET Open with and without the application layer ------------------------------------
# All of ET Open (HTTP, DNS and TLS rules included) through kanshi-sensor over
# the corpus read ET_REPEAT times, once with the application layer (protocol
# detection, parsers, app-layer rules) and once without it (app-layer.enabled:
# no), each with its throughput and the process's peak memory.
if [ -d "$et" ] && [ -r "$shared/data/pcaps/corpus-ether.pcap" ]; then
    corpus="$shared/data/pcaps/corpus-ether.pcap"
    reads=$(for i in $(seq "${ET_REPEAT:-8}"); do printf -- '-r %s ' "$corpus"; done)
    printf 'app-layer:\n  enabled: no\n' >"$out/no-app.yaml"
    : >"$out/empty.yaml"
    for mode in with without; do
        cfg="$out/empty.yaml"
        [ "$mode" = without ] && cfg="$out/no-app.yaml"
        # shellcheck disable=SC2086
        "$build/kanshi-sensor" -c "$cfg" --no-hs-cache -S "$et" $reads --eve "$out/app-eve.json" \
            2>"$out/app-$mode.txt" || { tail -5 "$out/app-$mode.txt"; exit 1; }
        rm -f "$out/app-eve.json"
        line=$(grep 'packet loop' "$out/app-$mode.txt")
        printf 'bench: ET Open, %s app layer: %s packets/s  %s Gbit/s  %s alerts  max RSS %s MiB\n' \
            "$mode" "$(echo "$line" | awk '{print $8}')" "$(echo "$line" | awk '{print $10}')" \
            "$(grep '  detect:   rules' "$out/app-$mode.txt" | awk '{print $5}')" \
            "$(echo "$line" | sed -n 's/.*max RSS \([0-9.]*\) MiB.*/\1/p')"
    done
fi

[ "${GSOC:-1}" = 0 ] && exit 0

# --- 2. the GSOC side ----------------------------------------------------------------------
for t in sqlite3 python3; do
    command -v $t >/dev/null || { echo "bench: GSOC part skipped (needs $t)"; exit 0; }
done
g="$out/gsoc"
rm -rf "$g" && mkdir -p "$g"
ctl="$build/kanshictl"
pids=""
cleanup() { for p in $pids; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT
trap 'cleanup; exit 1' HUP INT PIPE TERM
used=$(ss -Htln 2>/dev/null | awk '{print $4}' | sed 's/.*://')
port=18700
while echo "$used" | grep -qx "$port\|$((port + 1))"; do port=$((port + 10)); done
"$ctl" keygen --out "$g/collector.key" >/dev/null 2>&1
cat >"$g/collector.yaml" <<EOF
listen: tcp://127.0.0.1:$port
secret-key-file: $g/collector.key
database: $g/collector.db
synchronous: full
feeds:
  - name: tier1
    endpoint: tcp://127.0.0.1:$((port + 1))
    tiers: [1]
EOF
C="-c $g/collector.yaml"
"$ctl" $C registry import collector/registry.example >/dev/null
"$ctl" $C sensor enroll bench-gw-01 --org "Digital Agency" --endpoint "tcp://127.0.0.1:$port" \
    --out "$g" --spool-dir "$g/spool" >/dev/null 2>&1
sed -i '/^uplink:/a\  drain-timeout: 120' "$g/bench-gw-01.yaml"
sed 's/^spool:/spool:\n  fsync: always/' "$g/bench-gw-01.yaml" >"$g/bench-gw-01-always.yaml"
"$ctl" $C analyst add bench --tiers 1 --out "$g" >/dev/null 2>&1
echo 'alert udp any any -> any any (msg:"KANSHI BENCH"; content:"KANSHIBENCH"; sid:9400001;)' \
    >"$g/bench.rules"
# 100,000 datagrams, one alert each.
awk 'BEGIN {
    for (f = 0; f < 400; f++) {
        line = sprintf("udp 10.3.%d.%d:%d > 192.0.2.%d:5353", int(f / 250), f % 250 + 1,
                       20000 + f, f % 50 + 1)
        for (i = 0; i < 250; i++)
            line = line sprintf(" \"KANSHIBENCH %d/%d\"", f, i)
        print line
    }
}' >"$g/bench.spec"
"$build/kanshi-pktgen" spec "$g/bench.spec" "$g/bench.pcap" >/dev/null

"$build/kanshi-collector" $C >"$g/collector.log" 2>&1 &
colpid=$!
pids="$pids $colpid"
n=0
until grep -q "listening on" "$g/collector.log"; do
    n=$((n + 1))
    [ $n -gt 50 ] && { cat "$g/collector.log"; exit 1; }
    sleep 0.1
done
subscribe() { # OUT [--stamp]: a tier-1 analyst on the feed
    "$ctl" $C alerts tail --tier 1 --key "$g/bench.key" --json ${2:-} >"$g/$1" 2>"$g/$1.err" &
    subpid=$!
    pids="$pids $subpid"
    n=0
    until grep -q subscribed "$g/$1.err"; do
        n=$((n + 1))
        [ $n -gt 50 ] && { cat "$g/$1.err"; exit 1; }
        sleep 0.1
    done
}
unsubscribe() {
    kill "$subpid" 2>/dev/null || true
    wait "$subpid" 2>/dev/null || true
}

# Throughput: 400,000 alerts as fast as the sensor makes them.
echo "bench: GSOC: one kanshi-sensor -> kanshi-collector (SQLite synchronous=full) -> a feed" \
    "subscriber, on 127.0.0.1"
subscribe throughput.json
t0=$(date +%s.%N)
"$build/kanshi-sensor" -c "$g/bench-gw-01.yaml" -S "$g/bench.rules" -r "$g/bench.pcap" \
    -r "$g/bench.pcap" -r "$g/bench.pcap" -r "$g/bench.pcap" >"$g/throughput.log" 2>&1 ||
    { cat "$g/throughput.log"; exit 1; }
t1=$(date +%s.%N)
unsubscribe
rm -f "$g/throughput.json"
set -- $(sqlite3 -cmd ".timeout 5000" -separator ' ' "$g/collector.db" \
    "SELECT count(*), max(received) - min(received) FROM alerts")
stored=$1 span_us=$2
grep -q "acked seq $stored  pending 0" "$g/throughput.log" ||
    { echo "bench: not everything was acknowledged:"; tail -3 "$g/throughput.log"; exit 1; }
awk -v n="$stored" -v span="$span_us" -v t0="$t0" -v t1="$t1" 'BEGIN {
    printf "bench: %d alerts, spool fsync batch: %.0f alerts/s into the store (first to last " \
           "stored in %.2f s)\n", n, n / (span / 1e6), span / 1e6
    printf "bench: %.2f s from the sensor'"'"'s start to the last ACK: %.0f alerts/s end to end\n",
           t1 - t0, n / (t1 - t0) }'

# Latency: packets written into a FIFO the sensor reads, at a steady rate.
cat >"$g/pace.py" <<'PY'
import struct, sys, time
src, dst, rate, count = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4])
data = open(src, "rb").read()
order = "<" if data[:4] == b"\xd4\xc3\xb2\xa1" else ">"
recs, off = [], 24
while off + 16 <= len(data) and len(recs) < count:
    n = struct.unpack(order + "I", data[off + 8:off + 12])[0]
    recs.append(data[off:off + 16 + n])
    off += 16 + n
out = open(dst, "wb", buffering=0)
out.write(data[:24])
t0, per, i = time.monotonic(), max(1, int(rate / 500)), 0
while i < len(recs):
    out.write(b"".join(recs[i:i + per]))
    i += per
    delay = t0 + i / rate - time.monotonic()
    if delay > 0:
        time.sleep(delay)
out.close()
PY
cat >"$g/latency.py" <<'PY'
import json, sys
lat = []
for line in open(sys.argv[1]):
    arrived, alert = line.split("\t", 1)
    lat.append(int(arrived) - json.loads(alert)["kanshi"]["stamp_us"])
lat.sort()
n = len(lat)
q = lambda p: lat[min(n - 1, int(p * n))] / 1000
print("p50 %5.1f ms  p99 %5.1f ms  max %5.1f ms  (%d alerts)"
      % (q(0.50), q(0.99), lat[-1] / 1000, n))
PY
rate=2000
count=10000
for policy in batch always; do
    if [ $policy = batch ]; then
        cfg="$g/bench-gw-01.yaml" label="fsync batch (100 ms):"
    else
        cfg="$g/bench-gw-01-always.yaml" label="fsync always:"
    fi
    subscribe "latency-$policy.out" --stamp
    rm -f "$g/fifo" && mkfifo "$g/fifo"
    "$build/kanshi-sensor" --stamp -c "$cfg" -S "$g/bench.rules" -r "$g/fifo" \
        >"$g/latency-$policy.log" 2>&1 &
    senpid=$!
    pids="$pids $senpid"
    python3 "$g/pace.py" "$g/bench.pcap" "$g/fifo" "$rate" "$count"
    wait "$senpid" || { cat "$g/latency-$policy.log"; exit 1; }
    sleep 0.3
    unsubscribe
    printf 'bench: latency sensor -> feed subscriber at %d alerts/s, spool %-22s %s\n' "$rate" \
        "$label" "$(python3 "$g/latency.py" "$g/latency-$policy.out")"
done
kill -TERM "$colpid" 2>/dev/null || true
wait "$colpid" 2>/dev/null || true
rm -f "$g"/*.pcap "$g/fifo" "$g"/latency-*.out
