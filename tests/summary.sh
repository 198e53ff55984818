#!/bin/sh
# summary.sh RESULTS... — adds up the results files of tests/run.sh and prints
# the closing line CI reads: "N passed, N failed" (skipped tests, if any, are
# counted on the line before).  Exits 1 when anything failed or nothing ran.
cat "$@" 2>/dev/null | awk '
    { p += $3; f += $4; s += $5 }
    END {
        if (p + f == 0) { print "0 passed, 1 failed"; exit 1 }
        if (s > 0) printf "%d skipped (see the skip lines above)\n", s
        printf "%d passed, %d failed\n", p, f
        exit (f > 0)
    }'
