# tlsblame - plain GNU make. `make demo` and `make check` set everything up
# on a fresh Debian 12 machine (they run `deps` first).
PREFIX  ?= /usr/local
BINDIR  ?= $(PREFIX)/bin
MANDIR  ?= $(PREFIX)/share/man
RULEDIR ?= $(PREFIX)/share/tlsblame/rules
VERSION := 0.1.0

PKGS     = libpcap libndpi yaml-0.1
WARN     = -Wall -Wextra -Wshadow -Wconversion -Wformat=2 -Wvla -Wundef \
           -Wstrict-prototypes -Wmissing-prototypes -Wcast-qual -Wwrite-strings
DEP_CFLAGS := $(patsubst -I%,-isystem %,$(shell pkg-config --cflags $(PKGS) 2>/dev/null))
DEP_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lmbedx509 -lmbedcrypto -lz -lpthread
CFLAGS  ?= -O2 -g
HARDEN   = -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fPIE
# Link-time optimisation lets the per-packet readers inline across modules (~10% on bulk).
LTO     ?= -flto=auto
HARDEN_LD = -pie -Wl,-z,relro,-z,now
SAN      = -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
# ThreadSanitizer: for -j on one capture, whose workers share queues and counters.
TSAN     = -O1 -g -fno-omit-frame-pointer -fsanitize=thread
ALL_CFLAGS = -std=c11 -D_DEFAULT_SOURCE -Iinclude -Isrc $(DEP_CFLAGS) $(WARN) \
             -DTB_RULEDIR='"$(RULEDIR)"' -DTB_SRC_RULEDIR='"$(CURDIR)/rules"' \
             -DTB_VERSION='"$(VERSION)"' $(CPPFLAGS) $(EXTRA_CFLAGS) -MMD -MP

SRCS      := $(wildcard src/*.c src/util/*.c)
LIB_SRCS  := $(filter-out src/main.c,$(SRCS))
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)

# One object dir per flavour.
REL ?= build/release
ASN ?= build/asan
TSN ?= build/tsan
REL_OBJS := $(SRCS:%.c=$(REL)/%.o)
ASN_OBJS := $(SRCS:%.c=$(ASN)/%.o)
TSN_OBJS := $(SRCS:%.c=$(TSN)/%.o)
REL_LIB_OBJS := $(LIB_SRCS:%.c=$(REL)/%.o)
ASN_LIB_OBJS := $(LIB_SRCS:%.c=$(ASN)/%.o)
UNIT_BINS_REL := $(UNIT_SRCS:tests/unit/%.c=$(REL)/tests/%)
UNIT_BINS_ASN := $(UNIT_SRCS:tests/unit/%.c=$(ASN)/tests/%)
FUZZ_REPLAY_ASN := $(FUZZ_SRCS:tests/fuzz/%.c=$(ASN)/fuzz/%)

.PHONY: all demo check test deps bench install uninstall clean lint samples fuzz golden-update asan

all: tlsblame

tlsblame: $(REL)/tlsblame
	cp $< $@

$(REL)/tlsblame: $(REL_OBJS)
	$(CC) $(CFLAGS) $(LTO) $(HARDEN_LD) -o $@ $^ $(DEP_LIBS) $(LDFLAGS)

$(ASN)/tlsblame: $(ASN_OBJS)
	$(CC) $(SAN) -o $@ $^ $(DEP_LIBS) $(LDFLAGS)

$(TSN)/tlsblame: $(TSN_OBJS)
	$(CC) $(TSAN) -o $@ $^ $(DEP_LIBS) $(LDFLAGS)

$(TSN)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(TSAN) -c -o $@ $<

$(REL)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(HARDEN) $(CFLAGS) $(LTO) -c -o $@ $<

$(ASN)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(SAN) -c -o $@ $<

$(REL)/tests/%: $(REL)/tests/unit/%.o $(REL_LIB_OBJS)
	$(CC) $(CFLAGS) $(LTO) $(HARDEN_LD) -o $@ $^ $(DEP_LIBS) -lcmocka $(LDFLAGS)

$(ASN)/tests/%: $(ASN)/tests/unit/%.o $(ASN_LIB_OBJS)
	$(CC) $(SAN) -o $@ $^ $(DEP_LIBS) -lcmocka $(LDFLAGS)

# Fuzz targets replayed on their saved corpora by a plain main() driver.
$(ASN)/fuzz/%: $(ASN)/tests/fuzz/%.o $(ASN)/tests/fuzz/replay_main.o $(ASN_LIB_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(SAN) -o $@ $^ $(DEP_LIBS) $(LDFLAGS)

asan: deps $(ASN)/tlsblame $(UNIT_BINS_ASN) $(FUZZ_REPLAY_ASN)

deps:
	@tests/deps.sh

demo: deps tlsblame
	./tlsblame --ca-file samples/pki/ca-chain.pem \
	    samples/java-untrusted-client-ca-tls12.pcap samples/openssl-go-bad-certificate-verify-tls12.pcap

check: deps
	@$(MAKE) --no-print-directory tlsblame $(UNIT_BINS_REL) asan $(TSN)/tlsblame
	@TB_SRC_DIR=$(CURDIR) tests/run

test: check

samples:
	samples/gen/make-samples.sh

bench: deps tlsblame
	@tests/bench/run.sh

fuzz:
	@tests/fuzz/run.sh $(FUZZ_SECONDS)

golden-update: tlsblame
	@tests/golden/update.sh

lint:
	@tests/lint.sh

install: tlsblame
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(RULEDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5
	install -m 755 tlsblame $(DESTDIR)$(BINDIR)/tlsblame
	install -m 644 rules/*.yaml $(DESTDIR)$(RULEDIR)/
	install -m 644 man/tlsblame.1 $(DESTDIR)$(MANDIR)/man1/tlsblame.1
	install -m 644 man/tlsblame-rules.5 $(DESTDIR)$(MANDIR)/man5/tlsblame-rules.5

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/tlsblame $(DESTDIR)$(MANDIR)/man1/tlsblame.1 \
	      $(DESTDIR)$(MANDIR)/man5/tlsblame-rules.5
	rm -rf $(DESTDIR)$(RULEDIR)

clean:
	rm -rf build tlsblame

-include $(REL_OBJS:.o=.d) $(ASN_OBJS:.o=.d) $(TSN_OBJS:.o=.d)
