# rblkit — build, test, demo.  See README.md.
#   make            build ./rblkit
#   make test       unit tests, fuzz corpus replay, integration tests
#   make demo       serve the bundled example zone on loopback and query it
#   make SANITIZE=1 address+undefined sanitizer build (CI runs the tests under it)
#   make SANITIZE=thread  ThreadSanitizer build (CI runs the threaded tests)
#   make fuzz       libFuzzer binaries (clang)
#   make check-layers  fail on an include against the layers

CC      ?= cc
VERSION := 0.1.0
BUILD   ?= build

WARN    := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
           -Wformat=2 -Wno-unused-parameter
HARDEN  := -fstack-protector-strong -D_FORTIFY_SOURCE=2
CFLAGS  ?= -O2 -g
# src/lib/<part>/, in layers (docs/architecture.md; make check-layers):
#   base  <-  dnsbl, store  <-  serve, policy, mail  <-  list, watch  <-  web  <-  src/cmd
# Headers are named from src/lib: #include "base/util.h".
CFLAGS  += -std=gnu11 $(WARN) -pthread -Isrc/lib -I/usr/include/postgresql -DRBLKIT_VERSION='"$(VERSION)"'
LDFLAGS += -pthread -Wl,-z,relro -Wl,-z,now
LDLIBS  += -lz
# libpq, libsqlite3, libmicrohttpd, libsodium, libunbound, libssl, libxdp
# and libpsl are opened at first use (src/lib/base/dynlib.h); their headers
# are still needed to build.
# The unit tests look into an SQLite store themselves.
UNIT_LDLIBS := -lsqlite3

ifeq ($(WERROR),1)
CFLAGS  += -Werror
endif
ifeq ($(SANITIZE),1)
CFLAGS  += -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer -O1
LDFLAGS += -fsanitize=address,undefined
BUILD   := build-asan
else ifeq ($(SANITIZE),thread)
CFLAGS  += -fsanitize=thread -O1
LDFLAGS += -fsanitize=thread
BUILD   := build-tsan
else
CFLAGS  += $(HARDEN)
endif

LIB_SRC := $(sort $(wildcard src/lib/*/*.c))
CMD_SRC := $(sort $(wildcard src/cmd/*.c))
UNIT_SRC:= $(sort $(wildcard tests/unit/test_*.c))
# data/lists.conf (the blocklist catalogue) is linked in by catalog_data.S
LIB_ASM := $(sort $(wildcard src/lib/*/*.S))
LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/%.o) $(LIB_ASM:%.S=$(BUILD)/%.o)
CMD_OBJ := $(CMD_SRC:%.c=$(BUILD)/%.o)
UNIT_BIN:= $(UNIT_SRC:tests/unit/%.c=$(BUILD)/unit/%)
FUZZ_SRC:= $(sort $(wildcard tests/fuzz/fuzz_*.c))
REPLAY_BIN := $(FUZZ_SRC:tests/fuzz/%.c=$(BUILD)/replay/%)

all: rblkit

# --- AF_XDP (serve --xdp): the XDP program, built with clang -target bpf and
# linked in by src/bpf/xdp_obj.S.  Without clang the object is empty: the
# build works and serve --xdp says at start-up that it was built without it.
BPF_CLANG ?= clang
BPF_OBJ := $(BUILD)/bpf/xdp_dns.bpf.o
LIB_OBJ += $(BUILD)/src/bpf/xdp_obj.o

$(BPF_OBJ): src/bpf/xdp_dns.bpf.c
	@mkdir -p $(dir $@)
	@if command -v $(BPF_CLANG) >/dev/null 2>&1; then \
		echo "$(BPF_CLANG) -target bpf -c -o $@ $<"; \
		$(BPF_CLANG) -O2 -g -Wall -target bpf -I/usr/include/$(shell $(CC) -print-multiarch) \
			-c -o $@ $<; \
	else \
		echo "NOTE: no $(BPF_CLANG): rblkit serve --xdp will not work (apt-get install clang, then make clean)" >&2; \
		: > $@; \
	fi

$(BUILD)/src/bpf/xdp_obj.o: src/bpf/xdp_obj.S $(BPF_OBJ)
	@mkdir -p $(dir $@)
	$(CC) -c -DXDP_OBJ='"$(BPF_OBJ)"' -o $@ $<

# ./rblkit is the plain build; a sanitizer build stays in its own folder
# (build-asan/rblkit, build-tsan/rblkit) and never replaces it.
rblkit: $(BUILD)/rblkit
ifeq ($(BUILD),build)
	cp $< $@.tmp && mv -f $@.tmp $@
endif

# rebuilt from scratch: `ar r` alone keeps the members of removed or
# renamed sources, and the linker may take a stale one
$(BUILD)/librblkit.a: $(LIB_OBJ)
	rm -f $@
	ar rcs $@ $^

$(BUILD)/rblkit: $(CMD_OBJ) $(BUILD)/librblkit.a
	$(CC) $(LDFLAGS) -o $@ $(CMD_OBJ) $(BUILD)/librblkit.a $(LDLIBS)

$(BUILD)/%.o: %.c $(wildcard src/lib/*/*.h) $(wildcard src/cmd/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

$(BUILD)/%.o: %.S data/lists.conf
	@mkdir -p $(dir $@)
	$(CC) -c -o $@ $<

$(BUILD)/unit/%: tests/unit/%.c tests/unit/unit.h $(BUILD)/librblkit.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests/unit $(LDFLAGS) -o $@ $< $(BUILD)/librblkit.a $(LDLIBS) $(UNIT_LDLIBS)

# Fuzz targets built with a small driver that replays a corpus (no clang needed).
$(BUILD)/replay/%: tests/fuzz/%.c tests/fuzz/replay.c $(BUILD)/librblkit.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< tests/fuzz/replay.c $(BUILD)/librblkit.a $(LDLIBS)

units: $(UNIT_BIN)
replays: $(REPLAY_BIN)

test: deps-test
	$(MAKE) rblkit units replays
	@BUILD=$(BUILD) sh tests/run.sh

demo: deps-build
	$(MAKE) rblkit
	@sh examples/demo.sh

deps-build:
	@sh scripts/deps.sh build

deps-test:
	@sh scripts/deps.sh test

fuzz:
	$(MAKE) -f tests/fuzz/Makefile.fuzz

check-layers:
	@sh scripts/check-layers.sh

deps:
	sh scripts/deps.sh

# The catalogue is compiled in; the copy in share/ is for reading and for
# /etc/rblkit/lists.conf overrides.
PREFIX  ?= /usr/local
install: rblkit
	install -D -m 755 rblkit $(DESTDIR)$(PREFIX)/bin/rblkit
	install -D -m 644 data/lists.conf $(DESTDIR)$(PREFIX)/share/rblkit/lists.conf
	install -d $(DESTDIR)$(PREFIX)/share/doc/rblkit
	install -m 644 README.md docs/*.md examples/policy.conf contrib/systemd/*.service \
		$(DESTDIR)$(PREFIX)/share/doc/rblkit/

clean:
	rm -rf build build-asan build-fuzz rblkit

.PHONY: all rblkit test demo fuzz check-layers deps deps-build deps-test clean units replays install
