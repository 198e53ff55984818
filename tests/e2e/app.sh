#!/bin/sh
# app.sh BUILD — end-to-end tests of application-layer detection: crafted
# HTTP, DNS and TLS traffic (kanshi-pktgen) read by kanshi-sensor with rules
# on the protocol buffers (http.uri, dns.query, tls.sni, ...), the alerts per
# signature compared with what Suricata raises (one alert per transaction
# and rule), and the protocol objects the alerts carry in EVE.
#
# Run from the repository root: sh tests/e2e/app.sh build
# Prints "ok NAME" / "FAIL NAME" lines and ends with
# "app-e2e: N passed, N failed"; exits 1 when anything failed.
# Work files (specs, pcaps, EVE) are in BUILD/e2e-app.
build=${1:-build}
pktgen="$build/kanshi-pktgen"
sensor="$build/kanshi-sensor"
tmp="$(pwd)/$build/e2e-app"
case "$build" in /*) tmp="$build/e2e-app" ;; esac
rm -rf "$tmp" && mkdir -p "$tmp"
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok   $1"; }
bad() {
    fail=$((fail + 1))
    echo "FAIL $1"
    [ -s "$tmp/err" ] && sed 's/^/    /' "$tmp/err" | head -20
    return 0
}

for prog in "$pktgen" "$sensor"; do
    if [ ! -x "$prog" ]; then
        echo "FAIL setup: $prog not built (make programs)"
        echo "app-e2e: 0 passed, 1 failed"
        exit 1
    fi
done

# case_run NAME RULES "SID:N ..." [SENSOR-OPTION...] — the spec on stdin
# (traffic) and $tmp/RULES.rules (written before): passes when each listed
# SID alerted exactly N times and no other SID of the rules alerted.
case_run() {
    name=$1 rules=$tmp/$2.rules want=$3
    shift 3
    : >"$tmp/err"
    cat >"$tmp/$name.spec"
    if ! "$pktgen" spec "$tmp/$name.spec" "$tmp/$name.pcap" 2>"$tmp/err"; then
        bad "$name: kanshi-pktgen failed"
        return 0
    fi
    if ! "$sensor" --no-hs-cache -k none -S "$rules" -r "$tmp/$name.pcap" \
        --eve "$tmp/$name.json" "$@" >/dev/null 2>"$tmp/$name.stderr"; then
        cp "$tmp/$name.stderr" "$tmp/err"
        bad "$name: kanshi-sensor failed"
        return 0
    fi
    touch "$tmp/$name.json"
    got=""
    for sid in $(sed -n 's/.*[(; ]sid: *\([0-9][0-9]*\);.*/\1/p' "$rules"); do
        n=$(grep -c "\"signature_id\":${sid}[,}]" "$tmp/$name.json")
        w=$(echo " $want " | sed -n "s/.* $sid:\([0-9][0-9]*\) .*/\1/p")
        [ "$n" -ne "${w:-0}" ] && got="$got $sid:$n(want ${w:-0})"
    done
    if [ -z "$got" ]; then
        ok "$name ($want)"
    else
        grep -h "kanshi-sensor:" "$tmp/$name.stderr" | head -5 >"$tmp/err"
        bad "$name:$got"
    fi
}

# has NAME TEXT: the EVE output of case NAME contains TEXT.
has() {
    if grep -qF "$2" "$tmp/$1.json"; then
        ok "$1-eve ($2)"
    else
        head -c 600 "$tmp/$1.json" >"$tmp/err"
        bad "$1-eve: no $2"
    fi
}

GET='GET /shop/../admin/%41dd.php?id=1 HTTP/1.1\r\nHost: WWW.Example.COM:8080\r\nUser-Agent: EvilBot/2.0\r\nCookie: session=abc\r\n\r\n'
OK='HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Type: text/html\r\nContent-Length: 21\r\n\r\n<html>payload!</html>'

# --- HTTP buffers, sticky and legacy ----------------------------------------
cat >"$tmp/http.rules" <<'R'
alert http any any -> any any (msg:"uri normalised"; http.uri; content:"/admin/Add.php"; sid:1;)
alert http any any -> any any (msg:"raw uri"; http.uri.raw; content:"/shop/../"; sid:2;)
alert http any any -> any any (msg:"host lower, no port"; http.host; content:"www.example.com"; bsize:15; sid:3;)
alert http any any -> any any (msg:"user agent"; http.user_agent; content:"EvilBot"; startswith; sid:4;)
alert http any any -> any any (msg:"legacy modifiers"; content:"GET"; http_method; content:"id=1"; http_uri; sid:5;)
alert http any any -> any any (msg:"uricontent"; uricontent:"admin"; urilen:>10; sid:6;)
alert http any any -> any any (msg:"pcre U"; pcre:"/\/admin\/[a-z]+\.php/Ui"; sid:7;)
alert http any any -> any any (msg:"cookie"; http.cookie; content:"session=abc"; sid:8;)
alert http any any -> any any (msg:"status"; flow:to_client; http.stat_code; content:"200"; sid:9;)
alert http any any -> any any (msg:"body"; file_data; content:"payload!"; sid:10;)
alert http any any -> any any (msg:"server"; http.server; content:"nginx"; http.stat_msg; content:"OK"; sid:11;)
alert http any any -> any any (msg:"header names"; http.header_names; content:"|0d 0a|Cookie|0d 0a|"; sid:12;)
alert http any any -> any any (msg:"uri not in body"; http.uri; content:"payload"; sid:13;)
alert http any any -> any any (msg:"method mismatch"; http.method; content:"POST"; sid:14;)
alert tcp any any -> any any (msg:"tcp rule with http buffer"; http.method; content:"GET"; sid:15;)
R
case_run http-buffers http "1:1 2:1 3:1 4:1 5:1 6:1 7:1 8:1 9:1 10:1 11:1 12:1 15:1" <<EOF
tcp 10.0.0.5:40000 > 192.0.2.80:8080 "$GET" server:"$OK"
EOF
has http-buffers '"app_proto":"http"'
has http-buffers '"hostname":"www.example.com"'
has http-buffers '"http_user_agent":"EvilBot/2.0"'

# --- the same request cut in 3-byte segments --------------------------------
case_run http-split http "1:1 2:1 3:1 4:1 5:1 6:1 7:1 8:1 9:1 10:1 11:1 12:1 15:1" <<EOF
tcp 10.0.0.5:40001 > 192.0.2.80:80 split=3 "$GET" server:"$OK"
EOF

# --- headers one by one, and buffers that must be absent -------------------
cat >"$tmp/http-hdr.rules" <<'R'
alert http any any -> any any (msg:"a whole header"; http.request_header; content:"Host: a"; startswith; endswith; sid:1;)
alert http any any -> any any (msg:"response header"; http.response_header; content:"X-Id: 7"; bsize:7; sid:2;)
alert http any any -> any any (msg:"no body"; http.request_body; absent; http.method; content:"GET"; sid:3;)
alert http any any -> any any (msg:"body absent or not evil"; http.request_body; absent: or_else; content:!"evil"; sid:4;)
alert http any any -> any any (msg:"body present"; http.request_body; bsize:>0; sid:5;)
R
case_run http-headers http-hdr "1:2 2:2 3:1 4:1 5:1" <<'EOF'
tcp 10.0.0.5:40005 > 192.0.2.80:80 "GET /a HTTP/1.1\r\nHost: a\r\n\r\n" server:"HTTP/1.1 200 OK\r\nX-Id: 7\r\nContent-Length: 0\r\n\r\n"
tcp 10.0.0.5:40006 > 192.0.2.80:80 "POST /b HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n\r\nevil" server:"HTTP/1.1 200 OK\r\nX-Id: 7\r\nContent-Length: 0\r\n\r\n"
EOF

# --- pipelining: two requests, one alert each; chunked body ------------------
cat >"$tmp/http-pipe.rules" <<'R'
alert http any any -> any any (msg:"each uri"; http.uri; content:"/item"; sid:1;)
alert http any any -> any any (msg:"chunked body"; flow:to_client; file_data; content:"hello world"; sid:2;)
alert http any any -> any any (msg:"second only"; http.uri; content:"/item2"; sid:3;)
R
case_run http-pipeline http-pipe "1:2 2:1 3:1" <<'EOF'
tcp 10.0.0.5:40002 > 192.0.2.80:80 "GET /item1 HTTP/1.1\r\nHost: a\r\n\r\nGET /item2 HTTP/1.1\r\nHost: a\r\n\r\n" server:"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nhello \r\n5\r\nworld\r\n0\r\n\r\n"
EOF

# --- when a flow is HTTP: from the packet that acknowledges the request -------
# Suricata (IDS) parses a direction's bytes once the other side acknowledged
# them, so the request's own packet is not yet HTTP; packet rules skip the
# flow-end pseudo packets.  10 packets: SYN, SYN/ACK, ACK, request, then 6.
cat >"$tmp/http-when.rules" <<'R'
alert http any any -> any any (msg:"every http packet"; sid:1;)
R
case_run http-from-ack http-when "1:6" <<'EOF'
tcp 10.0.0.5:40010 > 192.0.2.80:80 "GET /a HTTP/1.1\r\nHost: a\r\n\r\n" server:"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
EOF

# --- protocol-detection-only rules: once per direction -----------------------
# Nothing but app-layer-protocol (Suricata's PD-only rules): inspected on the
# packet of each direction after its protocol became known (the client's
# ACK of the response, the server's FIN), not on every packet; with a
# header test (flags:A) a rule is a packet rule again.
cat >"$tmp/pd-only.rules" <<'R'
alert tcp any any -> any any (msg:"pd only"; app-layer-protocol:http; sid:1;)
alert tcp any any -> any any (msg:"pd only to server"; flow:to_server; app-layer-protocol:http; sid:2;)
alert tcp any any -> any any (msg:"packet rule"; app-layer-protocol:http; flags:A; sid:3;)
R
case_run pd-only pd-only "1:2 2:1 3:3" <<'EOF'
tcp 10.0.0.5:40011 > 192.0.2.80:80 "GET /a HTTP/1.1\r\nHost: a\r\n\r\n" server:"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
EOF

# --- detection by content: HTTP on an odd port, not-HTTP on 80 ---------------
cat >"$tmp/http-detect.rules" <<'R'
alert http any any -> any any (msg:"any http"; http.method; content:"GET"; sid:1;)
alert tcp any any -> any any (msg:"http flows"; app-layer-protocol:http; content:"GET"; sid:2;)
alert tcp any any -> any any (msg:"non-http flows"; app-layer-protocol:!http; content:"GET"; sid:3;)
R
case_run http-detect http-detect "1:1 2:1 3:1" <<'EOF'
tcp 10.0.0.5:40003 > 192.0.2.80:31337 "GET / HTTP/1.0\r\n\r\n" server:"HTTP/1.0 200 OK\r\n\r\n"
tcp 10.0.0.5:40004 > 192.0.2.80:80 "xGET / HTTP/1.0\r\n\r\n" server:"nope"
EOF

# --- midstream pickup whose first data is the server's: the flow is turned
# round (Suricata does the same), so the response is a response -------------
cat >"$tmp/midstream.rules" <<'R'
alert http any any -> any any (msg:"status"; flow:to_client; http.stat_code; content:"200"; sid:1;)
alert http any any -> any any (msg:"server header"; http.server; content:"nginx"; sid:2;)
R
case_run http-midstream-reversed midstream "1:1 2:1" --midstream <<'EOF'
tcp 10.0.0.5:40007 > 192.0.2.80:80 handshake=no server:"HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Length: 2\r\n\r\nok" "GET /next HTTP/1.1\r\nHost: a\r\n\r\n"
EOF
has http-midstream-reversed '"direction":"to_client"'

# --- DNS over UDP ------------------------------------------------------------
# a query for evil.example.com (id 0x1234, RD), and one for example.org
Q1='\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x04evil\x07example\x03com\x00\x00\x01\x00\x01'
Q2='\x43\x21\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x07example\x03org\x00\x00\x10\x00\x01'
cat >"$tmp/dns.rules" <<'R'
alert dns any any -> any any (msg:"query"; dns.query; content:"evil.example.com"; nocase; sid:1;)
alert dns any any -> any any (msg:"dotprefix"; dns.query; dotprefix; content:".example.com"; endswith; sid:2;)
alert udp any any -> any any (msg:"legacy"; dns_query; content:"example"; sid:3;)
alert dns any any -> any any (msg:"rrtype TXT"; dns.rrtype:16; sid:4;)
alert dns any any -> any any (msg:"opcode"; dns.opcode:!0; sid:5;)
alert dns any any -> any any (msg:"not a suffix"; dns.query; dotprefix; content:".ample.com"; endswith; sid:6;)
R
case_run dns-udp dns "1:1 2:1 3:2 4:1" <<EOF
udp 10.0.0.5:50000 > 192.0.2.53:53 "$Q1"
udp 10.0.0.5:50001 > 192.0.2.53:53 "$Q2"
EOF
has dns-udp '"rrname":"evil.example.com"'

# --- TLS ClientHello with SNI, split over segments ---------------------------
# record: handshake, TLS 1.0 record version; ClientHello TLS 1.2, one cipher
# suite (0x002f), null compression, server_name "bad.example.net"
CH='\x16\x03\x01\x00\x47\x01\x00\x00\x43\x03\x03'
CH="$CH"'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'
CH="$CH"'\x00\x00\x02\x00\x2f\x01\x00\x00\x18\x00\x00\x00\x14\x00\x12\x00\x00\x0fbad.example.net'
cat >"$tmp/tls.rules" <<'R'
alert tls any any -> any any (msg:"sni"; tls.sni; content:"bad.example.net"; sid:1;)
alert tls any any -> any any (msg:"sni legacy"; tls_sni; content:"example"; sid:2;)
alert tls any any -> any any (msg:"other sni"; tls.sni; content:"good.example.net"; sid:3;)
alert tls any any -> any any (msg:"ja3 present"; ja3.hash; bsize:32; sid:4;)
R
case_run tls-sni tls "1:1 2:1 4:1" <<EOF
tcp 10.0.0.5:40010 > 192.0.2.44:443 split=7 "$CH"
EOF
has tls-sni '"sni":"bad.example.net"'

# --- after the handshake TLS is encrypted: content is not looked for in it
# (Suricata's default), before it is; TLS rules still apply ----------------
CCS='\x14\x03\x03\x00\x01\x01'
cat >"$tmp/tls-enc.rules" <<'R'
alert tcp any any -> any any (msg:"raw content"; content:"ATTACK"; sid:1;)
alert tls any any -> any any (msg:"sni"; tls.sni; content:"bad.example.net"; sid:2;)
R
case_run tls-encrypted tls-enc "1:1 2:2" <<EOF
tcp 10.0.0.5:40011 > 192.0.2.44:443 "$CH" server:"$CCS" "$CCS" "\x17\x03\x03\x00\x06ATTACK"
tcp 10.0.0.5:40012 > 192.0.2.44:443 "$CH" "\x17\x03\x03\x00\x06ATTACK"
EOF

echo "app-e2e: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
