#!/bin/sh
# bundle.sh BUILD — signed rules bundles with kanshi-sig as the signature team
# makes them: keygen (secret key 0600), bundle of the shipped ruleset, verify
# and show; every tampering (a flipped byte, truncation, appended bytes, the
# wrong key) makes verify fail with its reason; bundle refuses a broken rule,
# a group-readable key and a rules file not named *.rules.
#
# Run from the repository root: sh tests/e2e/bundle.sh build
# Prints "ok NAME" / "FAIL NAME" lines and ends with
# "bundle-e2e: N passed, N failed"; exits 1 when anything failed.
# Work files are in BUILD/e2e-bundle.
build=${1:-build}
sig="$build/kanshi-sig"
tmp="$build/e2e-bundle"
rm -rf "$tmp" && mkdir -p "$tmp"
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok   $1"; }
bad() {
    fail=$((fail + 1))
    echo "FAIL $1"
    [ -s "$tmp/out" ] && sed 's/^/    /' "$tmp/out" | head -20
    return 0
}
finish() {
    echo "bundle-e2e: $pass passed, $fail failed"
    [ "$fail" -eq 0 ]
    exit
}
if [ ! -x "$sig" ]; then
    echo "FAIL setup: $sig not built (make programs)"
    fail=1
    finish
fi

# flip BYTE at OFFSET of FILE into a copy OUT
flip() {
    cp "$1" "$3"
    b=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
    printf "$(printf '\\%03o' $((b ^ 1)))" | dd of="$3" bs=1 seek="$2" conv=notrunc 2>/dev/null
}
size() { wc -c <"$1" | tr -d ' '; }

# keygen
umask 022
if "$sig" keygen --out "$tmp/rel" >"$tmp/out" 2>&1 &&
    [ "$(stat -c %a "$tmp/rel.key")" = 600 ] && [ -s "$tmp/rel.pub" ] &&
    grep -q "key id [0-9a-f]\{16\}" "$tmp/out"; then
    ok keygen-secret-0600
else
    bad keygen-secret-0600
fi
cp "$tmp/rel.key" "$tmp/keep.key"
if ! "$sig" keygen --out "$tmp/rel" >"$tmp/out" 2>&1 && grep -q "File exists" "$tmp/out" &&
    cmp -s "$tmp/rel.key" "$tmp/keep.key"; then
    ok keygen-keeps-existing-key
else
    bad keygen-keeps-existing-key
fi
"$sig" keygen --out "$tmp/other" >/dev/null 2>&1

# bundle and verify
if "$sig" bundle --key "$tmp/rel.key" --version 7 --min-sensor-version 0.1.0 \
    -o "$tmp/b.kb" signatures/rules >"$tmp/out" 2>&1 && [ -s "$tmp/b.kb" ] &&
    grep -q "kind rules, version 7, 42 rules in 2 files" "$tmp/out"; then
    ok bundle-shipped-rules
else
    bad bundle-shipped-rules
fi
if "$sig" verify --pub "$tmp/rel.pub" "$tmp/b.kb" >"$tmp/out" 2>&1 &&
    grep -q "verified: kind rules, version 7, 2 files" "$tmp/out"; then
    ok verify-ok
else
    bad verify-ok
fi
# several trusted keys: the bundle's key id picks the right one
if "$sig" verify --pub "$tmp/other.pub" --pub "$tmp/rel.pub" "$tmp/b.kb" >"$tmp/out" 2>&1; then
    ok verify-several-keys
else
    bad verify-several-keys
fi
sum=$(sha256sum signatures/rules/kanshi-gateway.rules | cut -d' ' -f1)
if "$sig" show --pub "$tmp/rel.pub" "$tmp/b.kb" >"$tmp/out" 2>&1 &&
    grep -q "signature: *verified" "$tmp/out" && grep -q "min sensor version: 0.1.0" "$tmp/out" &&
    grep -q "$sum  kanshi-gateway.rules" "$tmp/out"; then
    ok show-verified-manifest
else
    bad show-verified-manifest
fi
if "$sig" show "$tmp/b.kb" >"$tmp/out" 2>&1 && grep -q "NOT CHECKED" "$tmp/out" &&
    ! grep -q "kanshi-gateway.rules" "$tmp/out"; then
    ok show-unverified-header-only
else
    bad show-unverified-header-only
fi

# tampering: each must fail verify with its reason
n=$(size "$tmp/b.kb")
for spec in "data $((n - 1000))" "manifest 40" "signature $((n - 3))"; do
    set -- $spec
    flip "$tmp/b.kb" "$2" "$tmp/t.kb"
    if ! "$sig" verify --pub "$tmp/rel.pub" "$tmp/t.kb" >"$tmp/out" 2>&1 &&
        grep -q "REJECTED: signature does not verify" "$tmp/out"; then
        ok "tamper-$1-byte-refused"
    else
        bad "tamper-$1-byte-refused"
    fi
done
flip "$tmp/b.kb" 0 "$tmp/t.kb"
if ! "$sig" verify --pub "$tmp/rel.pub" "$tmp/t.kb" >"$tmp/out" 2>&1 &&
    grep -q "REJECTED: not a kanshi bundle (bad magic)" "$tmp/out"; then
    ok tamper-magic-refused
else
    bad tamper-magic-refused
fi
head -c $((n - 10)) "$tmp/b.kb" >"$tmp/t.kb"
if ! "$sig" verify --pub "$tmp/rel.pub" "$tmp/t.kb" >"$tmp/out" 2>&1 &&
    grep -q "REJECTED: truncated" "$tmp/out"; then
    ok truncated-refused
else
    bad truncated-refused
fi
{ cat "$tmp/b.kb"; printf 'extra'; } >"$tmp/t.kb"
if ! "$sig" verify --pub "$tmp/rel.pub" "$tmp/t.kb" >"$tmp/out" 2>&1 &&
    grep -q "REJECTED: 5 bytes after the end" "$tmp/out"; then
    ok appended-refused
else
    bad appended-refused
fi
if ! "$sig" verify --pub "$tmp/other.pub" "$tmp/b.kb" >"$tmp/out" 2>&1 &&
    grep -q "REJECTED: signed with unknown key id" "$tmp/out"; then
    ok wrong-key-refused
else
    bad wrong-key-refused
fi

# bundle refuses what a sensor could not load
mkdir -p "$tmp/broken"
cp signatures/rules/* "$tmp/broken/"
printf 'alert tcp any any -> any any (msg:"b"; content:"|zz|"; sid:9999001;)\n' \
    >"$tmp/broken/zz-broken.rules"
if ! "$sig" bundle --key "$tmp/rel.key" --version 8 -o "$tmp/broken.kb" "$tmp/broken" \
    >"$tmp/out" 2>&1 && grep -q "zz-broken.rules:1: content" "$tmp/out" &&
    grep -q "not bundling" "$tmp/out" && [ ! -e "$tmp/broken.kb" ]; then
    ok bundle-refuses-broken-rule
else
    bad bundle-refuses-broken-rule
fi
# ... unless told to leave such rules out: they are commented out in the
# bundle ("# skip"), with a continuation line, and the rest loads
printf 'alert tcp any any -> any any (msg:"c"; \\\n    content:"|zz|"; sid:9999002;)\n' \
    >>"$tmp/broken/zz-broken.rules"
if "$sig" bundle --key "$tmp/rel.key" --version 8 --skip-unloadable -o "$tmp/skip.kb" \
    "$tmp/broken" >"$tmp/out" 2>&1 && grep -q "2 rule(s) above left out" "$tmp/out" &&
    "$sig" verify --pub "$tmp/rel.pub" "$tmp/skip.kb" >/dev/null 2>&1 &&
    [ "$(grep -a -c '^# skip ' "$tmp/skip.kb")" -eq 3 ] &&
    grep -q "wrote.*42 rules" "$tmp/out"; then
    ok bundle-skip-unloadable
else
    cp "$tmp/out" "$tmp/err" 2>/dev/null
    bad bundle-skip-unloadable
fi
printf 'suppress gen_id 1, sig_id 0, track by_nothing, ip 10.0.0.1\n' >"$tmp/bad-threshold.config"
if ! "$sig" bundle --key "$tmp/rel.key" --version 8 --threshold "$tmp/bad-threshold.config" \
    -o "$tmp/broken.kb" signatures/rules >"$tmp/out" 2>&1 &&
    grep -q "bad-threshold.config:1: threshold.config" "$tmp/out" && [ ! -e "$tmp/broken.kb" ]; then
    ok bundle-refuses-broken-threshold
else
    bad bundle-refuses-broken-threshold
fi
cp "$tmp/rel.key" "$tmp/loose.key" && chmod 640 "$tmp/loose.key"
if ! "$sig" bundle --key "$tmp/loose.key" --version 8 -o "$tmp/broken.kb" signatures/rules \
    >"$tmp/out" 2>&1 &&
    grep -q "mode 0640, a secret key file must be 0600 or stricter" "$tmp/out" &&
    [ ! -e "$tmp/broken.kb" ]; then
    ok bundle-refuses-readable-key
else
    bad bundle-refuses-readable-key
fi
cp signatures/rules/kanshi-gateway.rules "$tmp/gateway.txt"
if ! "$sig" bundle --key "$tmp/rel.key" --version 8 -o "$tmp/broken.kb" "$tmp/gateway.txt" \
    >"$tmp/out" 2>&1 && grep -q "must be named \*.rules" "$tmp/out"; then
    ok bundle-refuses-unnamed-rules
else
    bad bundle-refuses-unnamed-rules
fi

# with vars, threshold and a GeoIP database (when ../shared has one)
printf 'vars:\n  address-groups:\n    HOME_NET: "[10.0.0.0/8]"\n' >"$tmp/vars.yaml"
printf 'suppress gen_id 1, sig_id 9000001, track by_src, ip 10.0.0.1\n' >"$tmp/threshold.config"
shared=${KANSHI_SHARED:-../shared}
geo=""
[ -r "$shared/data/geoip/GeoLite2-Country-Test.mmdb" ] &&
    geo="--geoip $shared/data/geoip/GeoLite2-Country-Test.mmdb"
nf=4
[ -n "$geo" ] && nf=5
if "$sig" bundle --key "$tmp/rel.key" --version 9 --vars "$tmp/vars.yaml" \
    --threshold "$tmp/threshold.config" $geo -o "$tmp/full.kb" signatures/rules \
    >"$tmp/out" 2>&1 &&
    "$sig" show --pub "$tmp/rel.pub" "$tmp/full.kb" >"$tmp/out" 2>&1 &&
    grep -q "files: *$nf" "$tmp/out" && grep -q " vars.yaml$" "$tmp/out" &&
    grep -q " threshold.config$" "$tmp/out"; then
    ok "bundle-with-vars-threshold$([ -n "$geo" ] && echo -geoip)"
else
    bad bundle-with-vars-threshold
fi
if ! "$sig" bundle -c "$tmp/vars.yaml" --key "$tmp/rel.key" --version 9 -o "$tmp/x.kb" \
    signatures/rules >"$tmp/out" 2>&1 && grep -q "give vars with --vars" "$tmp/out"; then
    ok bundle-usage-errors
else
    bad bundle-usage-errors
fi
# --precompile: an unknown target is refused before anything is done; two
# targets give each group's database twice (under two keys), all verified
if ! "$sig" bundle --key "$tmp/rel.key" --version 9 --precompile native,sse9 -o "$tmp/x.kb" \
    signatures/rules >"$tmp/out" 2>&1 && grep -q "unknown target 'sse9'" "$tmp/out" &&
    [ ! -e "$tmp/x.kb" ]; then
    ok bundle-precompile-unknown-target
else
    bad bundle-precompile-unknown-target
fi
if "$sig" bundle --key "$tmp/rel.key" --version 9 --precompile native,generic -o "$tmp/pre.kb" \
    signatures/rules >"$tmp/out" 2>&1 &&
    n=$(sed -n 's/^precompiled \([0-9]*\) Hyperscan databases.*/\1/p' "$tmp/out") &&
    "$sig" show --pub "$tmp/rel.pub" "$tmp/pre.kb" >"$tmp/out" 2>&1 &&
    [ "$(grep -c ' [0-9a-f]\{64\}\.hsdb$' "$tmp/out")" = "$n" ] && [ "$n" -gt 0 ] &&
    [ $((n % 2)) = 0 ] && "$sig" verify --pub "$tmp/rel.pub" "$tmp/pre.kb" >/dev/null 2>&1; then
    ok "bundle-precompile ($n databases for 2 targets)"
else
    bad bundle-precompile
fi
finish
