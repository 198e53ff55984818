# kanshi — one plain GNU Makefile.
#
#   make            build the programs into build/
#   make check      unit tests, sanitizer build of the unit tests, e2e tests,
#                   fuzz-corpus replay; last line "N passed, N failed"
#   make demo       run the sensor over generated traffic and show the alerts
#   make bench      throughput over ../shared/data/pcaps/corpus-ether.pcap
#   make fuzz       libFuzzer targets (clang) into build/fuzz/
#   make install    PREFIX=/usr/local DESTDIR=
#   make format     clang-format every source file
#
# The top-level targets first run mk/deps.sh (installs missing Debian packages
# as root, otherwise prints the apt-get line), then re-enter this Makefile with
# KANSHI_DEPS_OK=1, so pkg-config is only asked once the libraries exist.

TOP_GOALS := all check demo bench fuzz install unit e2e fuzz-replay sanitize programs

ifeq ($(KANSHI_DEPS_OK),)

.DEFAULT_GOAL := all
$(TOP_GOALS):
	@sh mk/deps.sh
	@$(MAKE) --no-print-directory KANSHI_DEPS_OK=1 $@

clean:
	rm -rf build

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

.PHONY: $(TOP_GOALS) clean format

else # ---------------------------------------------------------------------

BUILD    ?= build
PREFIX   ?= /usr/local
DESTDIR  ?=
CC       ?= cc
WERROR   ?= -Werror
SANITIZE ?=

PKGS := libpcap libhs libmaxminddb yaml-0.1 libzmq libsodium sqlite3 libpcre2-8 zlib
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS))
PKG_LIBS   := $(shell pkg-config --libs $(PKGS))

CFLAGS ?= -O2 -g
KCFLAGS := -std=c11 -D_GNU_SOURCE -Wall -Wextra $(WERROR) -Wshadow -Wstrict-prototypes \
	-Wmissing-prototypes -Wformat=2 -fstack-protector-strong -Iinclude $(PKG_CFLAGS) -MMD -MP
ifneq ($(SANITIZE),)
KCFLAGS += -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
KLDFLAGS += -fsanitize=$(SANITIZE)
else
KCFLAGS += -D_FORTIFY_SOURCE=2
endif
KCFLAGS += $(EXTRA_CFLAGS)
LIBS := $(PKG_LIBS) -lpthread -lm

# Every .c of a component is a module of libkanshi.a except the programs'
# main files, listed here.
PROG_MAINS := sensor/main.c collector/collector_main.c collector/kanshictl.c signatures/kanshi_sig.c
LIB_SRCS := $(filter-out $(PROG_MAINS),$(wildcard sensor/*.c signatures/*.c collector/*.c firmware/*.c))
LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/obj/%.o)
LIB      := $(BUILD)/libkanshi.a

PROGRAMS := $(BUILD)/kanshi-sensor $(BUILD)/kanshi-collector $(BUILD)/kanshictl $(BUILD)/kanshi-sig
TOOLS    := $(BUILD)/kanshi-pktgen $(BUILD)/kanshi-sensorsim

UNIT_SRCS  := $(wildcard tests/unit/*_test.c)
UNIT_TESTS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/unit/%)
FUZZ_SRCS  := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_REPLAY := $(FUZZ_SRCS:tests/fuzz/%.c=$(BUILD)/tests/fuzz/%-replay)

.DEFAULT_GOAL := all
all: programs
programs: $(PROGRAMS) $(TOOLS)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(KCFLAGS) -c $< -o $@

$(LIB): $(LIB_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@
	ar rcs $@ $^

$(BUILD)/kanshi-sensor: $(BUILD)/obj/sensor/main.o $(LIB)
	$(CC) $(KLDFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/kanshi-sig: $(BUILD)/obj/signatures/kanshi_sig.o $(LIB)
	$(CC) $(KLDFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/kanshi-collector: $(BUILD)/obj/collector/collector_main.o $(LIB)
	$(CC) $(KLDFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/kanshictl: $(BUILD)/obj/collector/kanshictl.o $(LIB)
	$(CC) $(KLDFLAGS) -o $@ $^ $(LIBS)

# A scriptable stand-in for a sensor's uplink (tests/e2e/collector.sh).
$(BUILD)/kanshi-sensorsim: $(BUILD)/obj/tests/tools/sensorsim.o $(LIB)
	$(CC) $(KLDFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/kanshi-pktgen: $(BUILD)/obj/tests/tools/pktgen.o $(BUILD)/obj/tests/tools/pktgen_main.o $(LIB)
	$(CC) $(KLDFLAGS) -o $@ $^ $(LIBS)

# Unit tests may use the packet crafting library of tests/tools/.
TEST_TOOL_OBJS := $(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard tests/tools/pktgen.c))

$(BUILD)/tests/unit/%: $(BUILD)/obj/tests/unit/%.o $(TEST_TOOL_OBJS) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(KLDFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/tests/fuzz/%-replay: $(BUILD)/obj/tests/fuzz/%.o $(BUILD)/obj/tests/fuzz/replay.o $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(KLDFLAGS) -o $@ $^ $(LIBS)

# --- tests -----------------------------------------------------------------
# tests/run.sh runs each test program, reads its "N passed, N failed" line and
# prints the total; each suite appends its counts to $(BUILD)/results.

unit: $(UNIT_TESTS)
	@sh tests/run.sh unit $(BUILD) $(UNIT_TESTS)

sanitize:
	@$(MAKE) --no-print-directory BUILD=build/san SANITIZE=address,undefined \
		CFLAGS="-O1 -g" $(UNIT_TESTS:$(BUILD)/%=build/san/%) \
		$(FUZZ_REPLAY:$(BUILD)/%=build/san/%) $(PROGRAMS:$(BUILD)/%=build/san/%) \
		$(TOOLS:$(BUILD)/%=build/san/%)
	@sh tests/run.sh unit-asan build/san $(UNIT_TESTS:$(BUILD)/%=build/san/%)
	@sh tests/run.sh fuzz-replay-asan build/san $(FUZZ_REPLAY:$(BUILD)/%=build/san/%)
	@sh tests/run.sh e2e-asan build/san tests/e2e/sensor.sh tests/e2e/collector.sh \
		tests/e2e/zeroloss.sh tests/e2e/stream.sh tests/e2e/app.sh

fuzz-replay: $(FUZZ_REPLAY)
	@sh tests/run.sh fuzz-replay $(BUILD) $(FUZZ_REPLAY)

e2e: programs
	@sh tests/run.sh e2e $(BUILD) $(wildcard tests/e2e/*.sh)

check:
	@rm -f $(BUILD)/results build/san/results
	@$(MAKE) --no-print-directory programs $(UNIT_TESTS) $(FUZZ_REPLAY)
	@$(MAKE) --no-print-directory -k unit fuzz-replay e2e sanitize || true
	@sh tests/summary.sh $(BUILD)/results build/san/results

# --- fuzzing with libFuzzer ------------------------------------------------
FUZZ_BUILD := build/fuzz
fuzz:
	@$(MAKE) --no-print-directory BUILD=$(FUZZ_BUILD) CC=clang \
		SANITIZE=address,undefined EXTRA_CFLAGS=-fsanitize=fuzzer-no-link \
		$(FUZZ_SRCS:tests/fuzz/%.c=$(FUZZ_BUILD)/%)

$(FUZZ_BUILD)/fuzz_%: $(FUZZ_BUILD)/obj/tests/fuzz/fuzz_%.o $(LIB)
	$(CC) -fsanitize=fuzzer,address,undefined -o $@ $^ $(LIBS)

# --- demo and bench --------------------------------------------------------
demo: programs
	@sh mk/demo.sh $(BUILD)

bench: programs
	@sh mk/bench.sh $(BUILD)

# --- install ---------------------------------------------------------------
install: programs
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/kanshi/rules \
		$(DESTDIR)$(PREFIX)/share/man/man8 $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 0755 $(PROGRAMS) $(DESTDIR)$(PREFIX)/bin/
	install -m 0644 signatures/rules/*.rules signatures/rules/classification.config \
		$(DESTDIR)$(PREFIX)/share/kanshi/rules/
	install -m 0644 sensor/kanshi-sensor.8 collector/kanshi-collector.8 collector/kanshictl.8 \
		$(DESTDIR)$(PREFIX)/share/man/man8/
	install -m 0644 signatures/kanshi-sig.1 $(DESTDIR)$(PREFIX)/share/man/man1/
	install -m 0644 collector/collector.yaml.example collector/registry.example \
		sensor/kanshi-sensor.yaml.example $(DESTDIR)$(PREFIX)/share/kanshi/
	install -d -m 0755 $(DESTDIR)/var/lib/kanshi/hs-cache

.PHONY: all programs unit sanitize fuzz-replay e2e check fuzz demo bench install

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

endif
