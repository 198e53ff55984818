#!/bin/sh
# sv-sensor.sh MANIFEST NAME SENSOR ARGS... — runs SENSOR ARGS for one test of
# the suricata-verify peer suite, adding "-k none" when the manifest's notes
# for NAME say Suricata ran with checksum checks off (checksum-checks:none);
# every other test runs with kanshi's default, Suricata's "auto".
manifest=$1 name=$2
shift 2
if awk -F'\t' -v n="$name" '$1 == n && $6 ~ /(^|;)checksum-checks:none(;|$)/ {f = 1} END {exit !f}' \
    "$manifest"; then
    exec "$@" -k none
fi
exec "$@"
