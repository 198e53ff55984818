#!/bin/sh
# stream.sh BUILD — end-to-end tests of TCP stream reassembly as detection
# sees it: crafted sessions (kanshi-pktgen's tcpseg lines: segments placed,
# reordered, repeated, overlapped, dropped, corrupted) read by kanshi-sensor,
# and the alerts per signature compared with what Suricata raises in IDS mode
# on the same packets.  Every case says why Suricata gives its count.
#
# What the counts rest on (Suricata 7, default settings, IDS mode):
#   - a TCP rule with content looks at the reassembled raw stream, one chunk
#     at a time: the bytes the receiver acknowledged, once 2560 of them wait
#     (stream.reassembly.toserver/toclient-chunk-size, +-5% random), or at once
#     when the session is closing (after the TIME_WAIT state), or everything
#     left, acknowledged or not, when the flow ends; each byte is inspected
#     once, and a rule alerts at most once per packet (chunk);
#   - a packet whose data did not go into the stream (no session, after a RST,
#     rejected by the stream engine) is inspected as if it were a chunk;
#   - tcp-pkt rules and rules with dsize look at packets only;
#   - overlapping data: the host OS policy, bsd by default: bytes already
#     held win, unless the new segment starts before the held one;
#   - flow:established needs the handshake, or midstream pickup.
# None of the traffic is on a port Suricata parses (no app-layer triggers).
#
# Run from the repository root: sh tests/e2e/stream.sh build
# Prints "ok NAME" / "FAIL NAME" lines and ends with
# "stream-e2e: N passed, N failed, N skipped"; exits 1 when anything failed.
# Work files (specs, pcaps, EVE) are in BUILD/e2e-stream.
build=${1:-build}
pktgen="$build/kanshi-pktgen"
sensor="$build/kanshi-sensor"
tmp="$(pwd)/$build/e2e-stream"
case "$build" in /*) tmp="$build/e2e-stream" ;; esac
rm -rf "$tmp" && mkdir -p "$tmp"
pass=0 fail=0 skip=0
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
        echo "stream-e2e: 0 passed, 1 failed, 0 skipped"
        exit 1
    fi
done

# gen NAME: the tcpseg spec on stdin becomes $tmp/NAME.pcap.  0 on success.
gen() {
    cat >"$tmp/$1.spec"
    "$pktgen" spec "$tmp/$1.spec" "$tmp/$1.pcap" 2>"$tmp/$1.gen"
}

# expect NAME PCAP RULES "SID:N..." [SENSOR-OPTION...]: runs the sensor over
# $tmp/PCAP.pcap with $tmp/RULES.rules; passes when each listed SID alerted
# exactly N times and no other SID of the rules file alerted at all.
# Cases where the sensor still differs from Suricata (expected counts are
# Suricata's, from its source): the reason, or nothing.
known_why() {
    case "$1" in
    esac
}

expect() {
    name=$1 pcap=$tmp/$2.pcap rules=$tmp/$3.rules want=$4
    shift 4
    eve="$tmp/$name.json"
    : >"$tmp/err"
    if [ ! -s "$pcap" ]; then
        cat "$tmp/$2.gen" >"$tmp/err" 2>/dev/null
        bad "$name: kanshi-pktgen made no $pcap"
        return 0
    fi
    rm -f "$eve"
    if ! "$sensor" --no-hs-cache -S "$rules" -r "$pcap" --eve "$eve" "$@" \
        >/dev/null 2>"$tmp/$name.stderr"; then
        cp "$tmp/$name.stderr" "$tmp/err"
        bad "$name: kanshi-sensor failed"
        return 0
    fi
    touch "$eve"
    sids=" $(sed -n 's/.*[(; ]sid: *\([0-9][0-9]*\);.*/\1/p' "$rules" | tr '\n' ' ')"
    got=""
    for w in $want; do
        case "$sids" in
        *" ${w%%:*} "*) ;;
        *) got="$got ${w%%:*}:not-in-$3.rules" ;;
        esac
    done
    for sid in $sids; do
        n=$(grep -c "\"signature_id\":${sid}[,}]" "$eve")
        w=$(echo " $want " | sed -n "s/.* $sid:\([0-9][0-9]*\) .*/\1/p")
        [ "$n" -ne "${w:-0}" ] && got="$got $sid:$n(want ${w:-0})"
    done
    why=$(known_why "$name")
    if [ -n "$why" ]; then
        # A difference from Suricata the sensor still has (issue 4, left
        # open): reported, not hidden; once fixed, the case must be taken
        # off the list, or it fails.
        if [ -z "$got" ]; then
            echo "known difference now gone: take '$name' off known_why" >"$tmp/err"
            bad "$name"
        else
            skip=$((skip + 1))
            echo "skip $name: known difference from Suricata:$got — $why"
        fi
    elif [ -z "$got" ]; then
        ok "$name (${want:-no alerts})"
    else
        {
            echo "alerts:$got"
            grep -E 'stream:' "$tmp/$name.stderr"
        } >"$tmp/err"
        bad "$name"
    fi
}

# --- a content split across segments ----------------------------------------
cat >"$tmp/split.rules" <<'R'
alert tcp any any -> any any (msg:"stream ATTACK"; content:"ATTACK"; sid:1;)
alert tcp-pkt any any -> any any (msg:"packet ATTACK"; content:"ATTACK"; sid:2;)
alert tcp any any -> any any (msg:"dsize ATTACK"; content:"ATTACK"; dsize:<100; sid:3;)
alert tcp any any -> any any (msg:"one-byte segment"; dsize:1; sid:4;)
alert tcp any any -> any any (msg:"stream ATTACK-NOW"; content:"ATTACK-NOW"; sid:5;)
R

# Control: the content in one segment.  The stream rule fires once, on the
# chunk (the packet's data went into the stream, so it is not inspected
# again as a packet); the tcp-pkt rule and the dsize rule (packet-only) on
# the one packet that holds it.
gen whole <<'S'
tcpseg 10.0.0.5:40000 > 192.0.2.10:4444 client:"ATTACK" server
S
expect whole whole split "1:1 2:1 3:1"

# Two, three and ten segments: only the reassembled stream holds the
# content, so the stream rules fire once and the packet-only rules never;
# dsize:1 fires on each one-byte data packet (a packet rule; Suricata does
# not run packet rules on its flow-end pseudo packets).
gen split2 <<'S'
tcpseg 10.0.0.5:40001 > 192.0.2.10:4444 client:"ATT" client:"ACK" server
S
expect split2 split2 split "1:1"
gen split3 <<'S'
tcpseg 10.0.0.5:40002 > 192.0.2.10:4444 client:"A" client:"TTAC" client:"K" server
S
expect split3 split3 split "1:1 4:2"
gen split10 <<'S'
tcpseg 10.0.0.5:40003 > 192.0.2.10:4444 client:"A" client:"T" client:"T" client:"A" \
    client:"C" client:"K" client:"-" client:"N" client:"O" client:"W" server
S
expect split10 split10 split "1:1 4:10 5:1"
# The same over IPv6, on VLAN 110.
gen split-v6 <<'S'
tcpseg [2001:db8::5]:40005 > [2001:db8::10]:4444 client:"ATT" client:"A" client:"CK" server \
    vlan=110
S
expect split-v6 split-v6 split "1:1 4:1"
# Not acknowledged and not closed: what is left goes through detection when
# the flow ends (Suricata's flow-end pseudo packet inspects unacked data).
gen split-unacked <<'S'
tcpseg 10.0.0.5:40004 > 192.0.2.10:4444 client:"ATT" client:"ACK" close=no
S
expect split-unacked split-unacked split "1:1"

# --- out-of-order arrival ---------------------------------------------------
# Segments reversed, and one arriving after later ones: held until the hole
# fills, then reassembled in sequence order, inspected once.
gen ooo-reversed <<'S'
tcpseg 10.0.0.5:40010 > 192.0.2.10:4444 client@4:"CK" client@2:"TA" client@0:"AT" server
S
expect ooo-reversed ooo-reversed split "1:1"
gen ooo-late <<'S'
tcpseg 10.0.0.5:40011 > 192.0.2.10:4444 client@0:"AT" client@4:"CK" client@6:"-NOW" \
    client@2:"TA" server
S
expect ooo-late ooo-late split "1:1 5:1"

# --- retransmissions and overlaps -------------------------------------------
cat >"$tmp/overlap.rules" <<'R'
alert tcp any any -> any any (msg:"stream ATTACK"; content:"ATTACK"; sid:1;)
alert tcp-pkt any any -> any any (msg:"packet ATTACK"; content:"ATTACK"; sid:2;)
alert tcp any any -> any any (msg:"stream BENIGN"; content:"BENIGN"; sid:5;)
alert tcp-pkt any any -> any any (msg:"packet BENIGN"; content:"BENIGN"; sid:6;)
alert tcp any any -> any any (msg:"old end kept"; content:"ATTACKYYYY"; sid:7;)
alert tcp any any -> any any (msg:"new end taken"; content:"ATTAXXYYYY"; sid:8;)
alert tcp any any -> any any (msg:"earlier start taken"; content:"ATTACK!!XX"; sid:9;)
alert tcp any any -> any any (msg:"held bytes kept"; content:"ATTAXXXXXX"; sid:10;)
alert tcp any any -> any any (msg:"coalesced copy ignored"; content:"ATTXYZ"; sid:3;)
R
printf 'stream:\n  reassembly:\n    overlap-policy: last\n' >"$tmp/last.yaml"

# The same bytes again before they are acknowledged: a duplicate of a
# segment in flight goes into the stream (nothing new), so the stream rule
# still fires once; the tcp-pkt rule sees both packets.
gen retrans-same <<'S'
tcpseg 10.0.0.5:40020 > 192.0.2.10:4444 client@0:"ATTACK" client@0:"ATTACK" server
S
expect retrans-same retrans-same overlap "1:1 2:2"

# A retransmission of bytes the server acknowledged already, ending before
# the last ACK: Suricata's stream engine rejects it (HandleEstablished-
# PacketToServer: STREAM_EST_PKT_BEFORE_LAST_ACK), so its data is not added
# to the stream and the packet is inspected on its own: a second alert,
# besides the one of the stream chunk.
gen retrans-acked <<'S'
tcpseg 10.0.0.5:40021 > 192.0.2.10:4444 client@0:"ATTACK" client@6:"-more" server \
    client@0:"ATTACK"
S
expect retrans-acked retrans-acked overlap "1:2 2:2"

# The same offsets with different bytes, both unacknowledged: bsd (and
# kanshi's default, first) keeps the bytes first held, so the stream says
# ATTACK; with the last policy (Suricata: host-os-policy last) the later
# copy replaces them.  Each copy's packet is seen by its tcp-pkt rule.
gen retrans-diff <<'S'
tcpseg 10.0.0.5:40022 > 192.0.2.10:4444 client@0:"ATTACK" client@0:"BENIGN" server
S
expect retrans-diff retrans-diff overlap "1:1 2:1 6:1"
expect retrans-diff-last retrans-diff overlap "2:1 5:1 6:1" -c "$tmp/last.yaml"

# Bytes already inspected do not change: with a 6-byte chunk size, the
# client's packet after the ACK of ATTACK makes it inspected; the different
# copy that follows (its end is not before the last ACK, so it is accepted
# into the stream) changes nothing that is inspected again, whatever the
# policy.
printf 'stream:\n  reassembly:\n    toserver-chunk-size: 6\n' >"$tmp/chunk6.yaml"
printf 'stream:\n  reassembly:\n    toserver-chunk-size: 6\n    overlap-policy: last\n' \
    >"$tmp/chunk6-last.yaml"
gen retrans-inspected <<'S'
tcpseg 10.0.0.5:40023 > 192.0.2.10:4444 client@0:"ATTACK" server client@6:"xx" \
    client@0:"BENIGN" server
S
expect retrans-inspected retrans-inspected overlap "1:1 2:1 6:1" -c "$tmp/chunk6.yaml"
expect retrans-inspected-last retrans-inspected overlap "1:1 2:1 6:1" -c "$tmp/chunk6-last.yaml"

# A segment overlapping the end of the previous one with different bytes:
# it starts after the held segment, so bsd keeps the held bytes (ATTACK then
# YYYY); last takes the new ones (ATTA, XX, YYYY).
gen overlap-end <<'S'
tcpseg 10.0.0.5:40024 > 192.0.2.10:4444 client@0:"ATTACK" client@4:"XXYYYY" server
S
expect overlap-end overlap-end overlap "1:1 2:1 7:1"
expect overlap-end-last overlap-end overlap "2:1 8:1" -c "$tmp/last.yaml"

# A segment that starts before out-of-order bytes held beyond a hole and
# overlaps them with different bytes.  Suricata's bsd policy takes the new
# segment's bytes where it starts first (DoHandleDataOverlap, "seg starts
# before list segment": new data for bsd, linux, windows, macos ...), so the
# stream reads ATTACK!!XX, not ATTAXXXXXX; so does last.
gen overlap-start <<'S'
tcpseg 10.0.0.5:40025 > 192.0.2.10:4444 client@4:"XXXXXX" client@0:"ATTACK!!" server
S
expect overlap-start overlap-start overlap "1:1 2:1 9:1"
expect overlap-start-last overlap-start overlap "1:1 2:1 9:1" -c "$tmp/last.yaml"
# The same rule with all data in order: a retransmission that covers two
# unacknowledged segments at once (stacks coalesce what they resend) and
# differs in the second.  For the first held segment it starts at the same
# place (bsd keeps the held bytes), for the second it starts before (bsd
# takes the new ones): the stream reads ATTACK, not ATTXYZ.
gen overlap-coalesced <<'S'
tcpseg 10.0.0.5:40026 > 192.0.2.10:4444 client@0:"ATT" client@3:"XYZ" client@0:"ATTACK" server
S
expect overlap-coalesced overlap-coalesced overlap "1:1 2:1"
expect overlap-coalesced-last overlap-coalesced overlap "1:1 2:1" -c "$tmp/last.yaml"

# --- holes ------------------------------------------------------------------
cat >"$tmp/gap.rules" <<'R'
alert tcp any any -> any any (msg:"stream ATTACK"; content:"ATTACK"; sid:1;)
alert tcp any any -> any any (msg:"stream EVIL"; content:"EVIL"; sid:11;)
alert tcp any any -> any any (msg:"across the hole"; content:"ATTEVIL"; sid:12;)
R
# The sensor missed a segment that the server got and acknowledged: the
# hole is skipped as a gap, the bytes after it are inspected, and nothing
# matches across it (the raw stream is handed over block by block).
gen gap-acked <<'S'
tcpseg 10.0.0.5:40030 > 192.0.2.10:4444 client:"ATT" client,drop:"ACK" client:"EVIL" server
S
expect gap-acked gap-acked gap "11:1"
# Lost for the server too: it acknowledges only up to the hole, and the
# connection is never closed.  At flow end Suricata's pseudo packet
# inspects everything held, acknowledged or not, every block after a hole
# included: EVIL matches, nothing across the hole does.
gen gap-unacked <<'S'
tcpseg 10.0.0.5:40031 > 192.0.2.10:4444 client:"ATT" client,drop:"ACK" client:"EVIL" \
    server,ack=3 close=no
S
expect gap-unacked gap-unacked gap "11:1"

# --- directions -------------------------------------------------------------
cat >"$tmp/dir.rules" <<'R'
alert tcp any any -> any any (msg:"to client"; flow:to_client; content:"SECRET"; sid:20;)
alert tcp any any -> any any (msg:"to server"; flow:to_server; content:"SECRET"; sid:21;)
alert tcp any any -> any any (msg:"server"; flow:established,from_server; content:"SECRET"; sid:22;)
alert tcp any any -> any any (msg:"any way"; content:"SECRET"; sid:23;)
alert tcp any any -> any any (msg:"request"; flow:to_server; content:"GET /x"; sid:24;)
alert tcp any any -> any any (msg:"request as response"; flow:to_client; content:"GET /x"; sid:25;)
R
# The server's response, split over two segments, is the to_client stream,
# inspected on the server's side: the to_client rules fire once, the
# to_server one never; the request is the to_server stream.
gen to-client <<'S'
tcpseg 10.0.0.5:40040 > 192.0.2.10:4444 client:"GET /x\r\n" server:"200 SEC" server:"RET\r\n" \
    client
S
expect to-client to-client dir "20:1 22:1 23:1 24:1"

# --- chunks: how often a content is found -----------------------------------
cat >"$tmp/chunk.rules" <<'R'
alert tcp any any -> any any (msg:"stream ATTACK"; content:"ATTACK"; sid:1;)
R
# Twice in one request, and in two small requests of one connection: all of
# it is one chunk (inspected once the session closes, as less than a chunk
# size was acknowledged before), so one alert per connection.
gen chunk-one <<'S'
tcpseg 10.0.0.5:40050 > 192.0.2.10:4444 client:"ATTACK and ATTACK" server
tcp 10.0.0.5:40051 > 192.0.2.10:4444 "ATTACK 1\n" server:"ok\n" "ATTACK 2\n" server:"ok\n"
S
expect chunk-one chunk-one chunk "1:2"
# Two requests with more than a chunk size (2560 +-5%) acknowledged between
# them: the client's first packet after the ACK of the first request makes
# it a chunk of its own, the second request is inspected when the session
# closes: two alerts.
pad=$(head -c 3000 /dev/zero | tr '\0' x)
gen chunk-two <<S
tcp 10.0.0.5:40052 > 192.0.2.10:4444 "ATTACK 1 $pad\n" server:"ok\n" "ATTACK 2\n" server:"ok\n"
S
expect chunk-two chunk-two chunk "1:2"
# Chunks do not overlap: a content cut by the end of an inspected chunk
# (ATT acknowledged with the padding and inspected, ACK after it) is found
# in neither.
gen chunk-cut <<S
tcp 10.0.0.5:40053 > 192.0.2.10:4444 "$pad ATT" server:"ok\n" "ACK\n" server:"ok\n"
S
expect chunk-cut chunk-cut chunk ""

# --- sessions without handshake ---------------------------------------------
cat >"$tmp/mid.rules" <<'R'
alert tcp any any -> any any (msg:"stream ATTACK"; content:"ATTACK"; sid:1;)
alert tcp any any -> any any (msg:"stream EVIL"; content:"EVIL"; sid:11;)
alert tcp any any -> any any (msg:"established ATTACK"; flow:established; content:"ATTACK"; sid:14;)
alert tcp any any -> any any (msg:"established EVIL"; flow:established; content:"EVIL"; sid:15;)
alert tcp any any -> any any (msg:"only stream EVIL"; flow:only_stream; content:"EVIL"; sid:16;)
R
# Without midstream pickup there is no session: nothing is established or
# reassembled, packets are inspected one by one (EVIL is in one packet,
# ATTACK in none).  With it the session is picked up, established, and its
# stream inspected once.
gen midstream <<'S'
tcpseg 10.0.0.5:40060 > 192.0.2.10:4444 client:"ATT" client:"ACK" client:" EVIL" server \
    handshake=no
S
expect midstream-off midstream mid "11:1"
expect midstream-on midstream mid "1:1 11:1 14:1 15:1 16:1" --midstream
printf 'stream:\n  midstream: yes\n' >"$tmp/midstream.yaml"
expect midstream-config midstream mid "1:1 11:1 14:1 15:1 16:1" -c "$tmp/midstream.yaml"

# --- bad checksums ----------------------------------------------------------
# The second half of ATTACK has a wrong TCP checksum; the server
# acknowledges everything.  Validating checksums (-k yes, and auto on a
# capture this short) keeps the segment out of the stream, leaving a hole:
# no alert.  Without validation (-k no) it is reassembled: one alert.
gen csum <<'S'
tcpseg 10.0.0.5:40070 > 192.0.2.10:4444 client:"ATT" client,badsum:"ACK" server
S
expect csum-yes csum mid "" -k yes
expect csum-auto csum mid ""
expect csum-no csum mid "1:1 14:1" -k no

# --- FIN and RST ------------------------------------------------------------
# Data up to the FIN (here the FIN rides on the last segment) is stream:
# inspected when the session closes, or at flow end when nobody closes it.
gen fin <<'S'
tcpseg 10.0.0.5:40080 > 192.0.2.10:4444 client:"ATT" client,flags=FPA:"ACK EVIL" \
    server,flags=FA client close=no
tcpseg 10.0.0.5:40081 > 192.0.2.10:4444 client:"ATT" client,flags=FPA:"ACK" close=no
S
expect fin fin mid "1:2 11:1 14:2 15:1 16:1"
# After a RST at the next sequence number the session is closed: data sent
# after it is not stream (ATTACK across the RST: no alert; only_stream: no
# alert), but each packet is still inspected on its own (EVIL).  Data before
# an unacknowledged RST is inspected at flow end.
gen rst <<'S'
tcpseg 10.0.0.5:40082 > 192.0.2.10:4444 client:"ATT" server client,flags=RA client:"ACK" \
    client:" EVIL" close=no
tcpseg 10.0.0.5:40083 > 192.0.2.10:4444 client:"ATTACK" client,flags=RA close=no
S
expect rst rst mid "1:1 11:1 14:1 15:1"

# --- kanshi-pktgen: tcpseg lines that are wrong name SPEC:LINE --------------
# spec_error NAME "MESSAGE" LINE...: the spec made of LINEs fails with MESSAGE
# and leaves no pcap behind.
spec_error() {
    name=$1 want=$2
    shift 2
    printf '%s\n' "$@" >"$tmp/$name.spec"
    rm -f "$tmp/$name.pcap"
    if "$pktgen" spec "$tmp/$name.spec" "$tmp/$name.pcap" 2>"$tmp/err"; then
        bad "pktgen-$name: accepted"
    elif ! grep -qF "$tmp/$name.spec:$want" "$tmp/err"; then
        echo "    expected: $tmp/$name.spec:$want" >>"$tmp/err"
        bad "pktgen-$name"
    elif [ -e "$tmp/$name.pcap" ]; then
        bad "pktgen-$name: left a pcap behind"
    else
        ok "pktgen-$name"
    fi
}
spec_error seg-offset "2: 'client@x:': @ needs an offset from 0 to 4294967295" '# x' \
    'tcpseg 10.0.0.1:1 > 10.0.0.2:80 client@x:"a"'
spec_error seg-flag "1: 'server,flags=AQ': unknown TCP flag 'Q'" \
    'tcpseg 10.0.0.1:1 > 10.0.0.2:80 "a" server,flags=AQ'
spec_error seg-data "1: 'client,drop:' needs a quoted string" \
    'tcpseg 10.0.0.1:1 > 10.0.0.2:80 client,drop: server'
spec_error seg-word "1: unknown option 'ack'" \
    'tcpseg 10.0.0.1:1 > 10.0.0.2:80 "a" ack=3'
spec_error seg-option "1: option 'split' does not apply to this protocol" \
    'tcpseg 10.0.0.1:1 > 10.0.0.2:80 "a" split=1'
spec_error seg-kind "1: unknown line type 'tcpsegs' (expected tcp, tcpseg, udp, icmp or sleep)" \
    'tcpsegs 10.0.0.1:1 > 10.0.0.2:80'

echo "stream-e2e: $pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
