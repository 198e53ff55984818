#!/bin/sh
# run.sh SUITE BUILD PROGRAM... — runs test programs from the repository root,
# takes each one's last "N passed, N failed[, N skipped]" line and appends
# "SUITE PROGRAM PASSED FAILED SKIPPED" to BUILD/results.  A program that
# crashes, times out or prints no summary counts as one failure.
suite=$1; build=$2; shift 2
mkdir -p "$build"
results="$build/results"
for prog in "$@"; do
    name=$(basename "$prog")
    log="$build/logs/$suite-$name.log"
    mkdir -p "$build/logs"
    case "$prog" in
    *.sh) timeout 1200 sh "$prog" "$build" >"$log" 2>&1; rc=$? ;;
    *) timeout 600 "$prog" >"$log" 2>&1; rc=$? ;;
    esac
    line=$(grep -E '[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
    p=$(echo "$line" | sed -n 's/.*\b\([0-9][0-9]*\) passed.*/\1/p')
    f=$(echo "$line" | sed -n 's/.* \([0-9][0-9]*\) failed.*/\1/p')
    s=$(echo "$line" | sed -n 's/.* \([0-9][0-9]*\) skipped.*/\1/p')
    [ -z "$p" ] && p=0
    [ -z "$f" ] && f=0
    [ -z "$s" ] && s=0
    if [ -z "$line" ] || { [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; }; then
        f=$((f + 1))
        echo "$suite $name: exit $rc without a failing count; log: $log"
        tail -n 20 "$log" | sed 's/^/    /'
    fi
    if [ "$f" -ne 0 ]; then
        echo "FAIL $suite $name: $p passed, $f failed (log: $log)"
        grep -E 'failed|error|ERROR|FAIL' "$log" | head -n 20 | sed 's/^/    /'
    else
        echo "ok   $suite $name: $p passed, $f failed, $s skipped"
    fi
    echo "$suite $name $p $f $s" >>"$results"
done
exit 0
