# hsmdesk — see README.md.  `make run` and `make check` are all a new user
# needs: both install missing Debian packages first (make deps).

PREFIX   ?= /usr/local
BUILD    ?= build
CC       ?= cc
PKGS      = ncursesw libcrypto libssl libp11 yaml-0.1
# p11-kit only for its standard <p11-kit/pkcs11.h>; nothing is linked from it
HDR_PKGS  = p11-kit-1
TEST_PKGS = cmocka

# Debian packages for building, running, testing and benchmarking.
DEB_PKGS = gcc make libc6-dev pkg-config openssl libssl-dev libncurses-dev \
	libyaml-dev libcmocka-dev libp11-dev libp11-kit-dev p11-kit \
	libengine-pkcs11-openssl softhsm2 opensc tmux osslsigncode \
	gcc-mingw-w64-x86-64-win32 gcc-mingw-w64-i686-win32 clang \
	libclang-rt-14-dev valgrind procps time p11-kit-modules

# snprintf truncation is the intended bound on every message buffer here
WARN     = -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wno-format-nonliteral \
	   -Wno-format-truncation
BASE     = -std=c11 -D_GNU_SOURCE -g -pthread -Icore $(WARN)
ifeq ($(SAN),1)
OPT      = -O1 -fno-omit-frame-pointer -fsanitize=address,undefined \
	   -fno-sanitize-recover=undefined
else
OPT      = -O2 -D_FORTIFY_SOURCE=2 -fstack-protector-strong
endif
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) $(HDR_PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CFLAGS   = $(BASE) $(OPT) $(PKG_CFLAGS)
LDLIBS   = $(PKG_LIBS) -ldl
# -pthread: the TUI generates keys on a worker thread (tui/req_job.c)
LDFLAGS  = -pthread $(if $(filter 1,$(SAN)),-fsanitize=address$(comma)undefined)
comma := ,

CORE_SRC = $(wildcard core/*.c)
CLI_SRC  = $(wildcard cli/*.c)
TUI_SRC  = $(wildcard tui/*.c)
CORE_OBJ = $(CORE_SRC:%.c=$(BUILD)/%.o)
# everything but main(), so the screen tests can link the front-ends
APP_OBJ  = $(filter-out $(BUILD)/cli/main.o,$(CLI_SRC:%.c=$(BUILD)/%.o) \
	   $(TUI_SRC:%.c=$(BUILD)/%.o))
SCR_SRC  = $(wildcard tests/tui/test_*.c)
SCR_BIN  = $(SCR_SRC:tests/tui/%.c=$(BUILD)/tests/%)
UNIT_SRC = $(wildcard tests/unit/test_*.c)
UNIT_BIN = $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
TESTLIB  = $(BUILD)/tests/testlib.o $(BUILD)/tests/testlib_pe.o \
	   $(BUILD)/tests/testlib_sign.o $(BUILD)/tests/testca.o

.PHONY: all run check deps install clean unit update-screens bench
all: $(BUILD)/hsmdesk

# every object is rebuilt when any header changes: few files, no stale
# struct layouts (testlib.o reads struct hd_session)
HDRS     = $(wildcard core/*.h cli/*.h tui/*.h tests/unit/*.h)

$(BUILD)/%.o: %.c $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

$(BUILD)/libhsmdesk-core.a: $(CORE_OBJ)
	$(AR) rcs $@ $^

$(BUILD)/libhsmdesk-app.a: $(APP_OBJ)
	$(AR) rcs $@ $^

$(BUILD)/hsmdesk: $(BUILD)/cli/main.o $(BUILD)/libhsmdesk-app.a \
		$(BUILD)/libhsmdesk-core.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# The fault-injecting test module (tests/fakep11/README.md).
$(BUILD)/fakep11.so: tests/fakep11/fakep11.c tests/fakep11/vendor.c
	@mkdir -p $(dir $@)
	$(CC) $(BASE) $(OPT) -fPIC -shared $(shell pkg-config --cflags p11-kit-1) \
		-o $@ $< -ldl

$(BUILD)/tests/testlib.o: tests/unit/testlib.c tests/unit/testlib.h $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests/unit -c -o $@ $<

$(BUILD)/tests/testlib_pe.o: tests/unit/testlib_pe.c $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests/unit $(shell pkg-config --cflags cmocka) \
		-c -o $@ $<

$(BUILD)/tests/testlib_sign.o: tests/unit/testlib_sign.c $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests/unit $(shell pkg-config --cflags cmocka) \
		-c -o $@ $<

$(BUILD)/tests/testca.o: tests/unit/testca.c $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests/unit -c -o $@ $<

$(BUILD)/tests/test_%: tests/unit/test_%.c $(TESTLIB) $(BUILD)/libhsmdesk-core.a \
		$(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests/unit $(shell pkg-config --cflags cmocka) \
		$(LDFLAGS) -o $@ $< $(TESTLIB) $(BUILD)/libhsmdesk-core.a \
		$(LDLIBS) $(shell pkg-config --libs cmocka)

# The allocation-failure sweep counts core's own allocations through
# these wrappers (tests/unit/test_alloc_sweep.c).
$(BUILD)/tests/test_alloc_sweep: LDFLAGS += -Wl,--wrap=malloc,--wrap=calloc \
	-Wl,--wrap=realloc,--wrap=strdup,--wrap=strndup

# Screen tests: the TUI driven by key scripts, dumped as text (tests/tui/).
$(BUILD)/tests/test_screens: tests/tui/test_screens.c $(TESTLIB) $(HDRS) \
		$(BUILD)/libhsmdesk-app.a $(BUILD)/libhsmdesk-core.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests/unit -Itui $(shell pkg-config --cflags cmocka) \
		$(LDFLAGS) -o $@ $< $(TESTLIB) $(BUILD)/libhsmdesk-app.a \
		$(BUILD)/libhsmdesk-core.a $(LDLIBS) $(shell pkg-config --libs cmocka)

# make bench's CMS part (tests/bench/cms.sh builds it on demand).
# (testlib.o and testca.o only: the others need cmocka)
$(BUILD)/tests/bench_cms: tests/bench/bench_cms.c $(BUILD)/tests/testlib.o \
		$(BUILD)/tests/testca.o $(BUILD)/libhsmdesk-core.a $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests/unit $(LDFLAGS) -o $@ $< \
		$(BUILD)/tests/testlib.o $(BUILD)/tests/testca.o \
		$(BUILD)/libhsmdesk-core.a $(LDLIBS)

# make bench's certificate part (tests/bench/certs.sh builds it on demand).
$(BUILD)/tests/bench_certs: tests/bench/bench_certs.c $(BUILD)/tests/testlib.o \
		$(BUILD)/libhsmdesk-core.a $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests/unit $(LDFLAGS) -o $@ $< \
		$(BUILD)/tests/testlib.o $(BUILD)/libhsmdesk-core.a $(LDLIBS)

# The local RFC 3161 TSA the timestamp tests and bench talk to (tests/tsa/).
$(BUILD)/tests/tsa_server: tests/tsa/tsa_server.c $(BUILD)/tests/testca.o
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests/unit $(LDFLAGS) -o $@ $< \
		$(BUILD)/tests/testca.o $(LDLIBS)

$(BUILD)/tests/fakep11-selftest: tests/fakep11/selftest.c \
		tests/fakep11/selftest_vendor.c
	@mkdir -p $(dir $@)
	$(CC) $(BASE) $(OPT) $(LDFLAGS) $(shell pkg-config --cflags p11-kit-1) \
		-o $@ $< -ldl

unit: $(UNIT_BIN) $(SCR_BIN) $(BUILD)/hsmdesk $(BUILD)/fakep11.so \
	$(BUILD)/tests/fakep11-selftest $(BUILD)/tests/tsa_server

# Rewrite tests/tui/expected/*.txt from the current screens; review the diff.
update-screens:
	@$(MAKE) --no-print-directory BUILD=build-asan SAN=1 unit
	HSMDESK_UPDATE_SCREENS=1 HSMDESK_BUILD=$(CURDIR)/build-asan \
		HSMDESK_TOP=$(CURDIR) build-asan/tests/test_screens

# --- set-up ------------------------------------------------------------------
# Installs only what is missing; silent when nothing is.
deps:
	@command -v dpkg-query >/dev/null 2>&1 || { \
	  echo "make deps: not a Debian system; install by hand: $(DEB_PKGS)" >&2; exit 1; }; \
	missing=$$(for p in $(DEB_PKGS); do \
	  dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed$$' \
	    || printf '%s ' $$p; done); \
	[ -z "$$missing" ] && exit 0; \
	if [ "$$(id -u)" = 0 ]; then sudo=""; \
	elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo="sudo -n"; \
	else echo "make deps: missing Debian packages: $$missing" >&2; \
	  echo "make deps: run as root: apt-get install $$missing" >&2; exit 1; fi; \
	echo "make deps: installing $$missing"; \
	$$sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	$$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	  --no-install-recommends $$missing >/dev/null

run: deps
	@$(MAKE) --no-print-directory all
	./$(BUILD)/hsmdesk

# Tests run against the sanitizer build; the normal build must compile too,
# and every fuzz target replays its seeds and mutates them for a few
# seconds (fuzz-brief) before the tests, whose summary line ends the output.
check: deps
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory BUILD=build-asan SAN=1 unit
	@$(MAKE) --no-print-directory fuzz-brief
	@sh tests/run.sh build-asan

# Speed claims, each against the standard tool on the same input in the
# same run (tests/bench/*.sh); the optimized build, not the sanitizer one.
bench: deps
	@$(MAKE) --no-print-directory all
	@rc=0; for b in tests/bench/*.sh; do bash "$$b" $(BUILD) || rc=1; done; \
	exit $$rc

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 \
		$(DESTDIR)$(PREFIX)/share/hsmdesk/profiles
	install -m 0755 $(BUILD)/hsmdesk $(DESTDIR)$(PREFIX)/bin/hsmdesk
	install -m 0644 man/hsmdesk.1 $(DESTDIR)$(PREFIX)/share/man/man1/
	[ -z "$$(ls profiles/*.yaml 2>/dev/null)" ] || \
		install -m 0644 profiles/*.yaml $(DESTDIR)$(PREFIX)/share/hsmdesk/profiles/

clean:
	rm -rf build build-asan
include tests/fuzz/fuzz.mk
