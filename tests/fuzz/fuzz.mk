# Fuzzing and valgrind checks, included at the end of the Makefile.
#   make fuzz [FUZZ_SECONDS=300]  each libFuzzer target for FUZZ_SECONDS on a
#                                copy of its seed corpus (tests/fuzz/corpus/)
#   make fuzz-smoke              the same, 5 s per target
#   make fuzz-brief              the same, FUZZ_BRIEF_SECONDS (3) per
#                                target: what `make check` runs
#   make check-valgrind          the unit tests (test_screens only with
#                                VG_ALL=1: it takes 20 minutes there),
#                                built without sanitizers in build-vg/, each
#                                under valgrind memcheck; then the login
#                                path and each step of the real binary
#                                under it (tests/valgrind/e2e.sh)
# A crash leaves its input in build-fuzz/NAME-crash-*; replay it with
#   build-fuzz/fuzz_NAME build-fuzz/NAME-crash-...

FUZZ_SECONDS ?= 300
FUZZ_CC      ?= clang
FUZZ_BUILD    = build-fuzz
FUZZ_TARGETS  = config uri pe profile inf cert ps1 audit plan tsa \
		cmsverify acverify
FUZZ_BRIEF_SECONDS ?= 3
FUZZ_BINS     = $(FUZZ_TARGETS:%=$(FUZZ_BUILD)/fuzz_%)
# UBSan findings abort, so libFuzzer counts them as crashes
FUZZ_CFLAGS   = -fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=undefined -g -O1 -std=c11 -D_GNU_SOURCE \
		-Icore $(shell pkg-config --cflags libcrypto libp11 yaml-0.1 p11-kit-1)
FUZZ_LDLIBS   = $(shell pkg-config --libs libcrypto libssl libp11 yaml-0.1) -ldl

# All of core, instrumented, in one archive: the linker takes only the
# files a target needs (config.c and what it calls; uri.c and err.c;
# pe*.c and fileio.c; cert_parse.c, cert_check.c, thumb.c and theirs),
# so the list need not follow core's internal calls.
FUZZ_CORE_OBJ = $(patsubst %.c,$(FUZZ_BUILD)/%.o,$(wildcard core/*.c))

.PHONY: fuzz fuzz-smoke fuzz-brief check-valgrind clean-fuzz

$(FUZZ_BUILD)/core/%.o: core/%.c $(wildcard core/*.h)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -c -o $@ $<

$(FUZZ_BUILD)/fuzz_%.o: tests/fuzz/fuzz_%.c $(wildcard core/*.h)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -Wall -Wextra -Werror -c -o $@ $<

$(FUZZ_BUILD)/libcore.a: $(FUZZ_CORE_OBJ)
	rm -f $@
	$(AR) rcs $@ $^

$(FUZZ_BINS): $(FUZZ_BUILD)/%: $(FUZZ_BUILD)/%.o $(FUZZ_BUILD)/libcore.a
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $^ $(FUZZ_LDLIBS)

# $(call fuzz_run,SECONDS): every target on a fresh copy of its seed corpus,
# one line each; exits non-zero if any crashed, leaked or timed out.
define fuzz_run
@fail=0; \
for t in $(FUZZ_TARGETS); do \
	c=$(FUZZ_BUILD)/corpus-$$t; log=$(FUZZ_BUILD)/fuzz_$$t.log; \
	rm -rf "$$c" && cp -R tests/fuzz/corpus/$$t "$$c" || exit 2; \
	n0=$$(ls "$$c" | wc -l); \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	$(FUZZ_BUILD)/fuzz_$$t -max_total_time=$(1) -timeout=10 \
		-print_final_stats=1 -dict=tests/fuzz/$$t.dict \
		-artifact_prefix=$(FUZZ_BUILD)/$$t- "$$c" >"$$log" 2>&1; \
	rc=$$?; \
	runs=$$(sed -n 's/^stat::number_of_executed_units: *//p' "$$log"); \
	cov=$$(grep -o 'cov: [0-9]*' "$$log" | tail -n 1 | cut -d' ' -f2); \
	if [ $$rc -eq 0 ]; then \
		echo "fuzz_$$t: ok, $${runs:-?} runs in $(1) s, cov $${cov:-?}," \
		    "corpus $$n0 -> $$(ls "$$c" | wc -l) inputs"; \
	else \
		fail=1; \
		why=$$(grep -m 1 '^SUMMARY:' "$$log" || \
		    grep -m 1 'ERROR: ' "$$log"); \
		art=$$(sed -n 's/.*Test unit written to //p' "$$log" | tail -n 1); \
		echo "fuzz_$$t: FAILED (exit $$rc): $${why:-see log};" \
		    "input $${art:-none}; log $$log"; \
	fi; \
done; \
exit $$fail
endef

fuzz: $(FUZZ_BINS)
	$(call fuzz_run,$(FUZZ_SECONDS))

fuzz-smoke: $(FUZZ_BINS)
	$(call fuzz_run,5)

# A few seconds per target: enough to replay every seed (the regressions
# among them) and try some mutations, cheap enough for `make check`.
fuzz-brief: $(FUZZ_BINS)
	$(call fuzz_run,$(FUZZ_BRIEF_SECONDS))

# Memcheck on the plain build, in tests/run.sh's environment (without the
# >4 GiB signing test: hashing under valgrind takes minutes).  Only
# definite leaks fail; tests/valgrind.supp (if present) names the PKCS#11
# libraries we load but do not own.
VG_BUILD = build-vg
VG_FLAGS = --error-exitcode=1 --leak-check=full \
	   --errors-for-leak-kinds=definite \
	   $(if $(wildcard tests/valgrind.supp),--suppressions=tests/valgrind.supp)

check-valgrind:
	@$(MAKE) --no-print-directory BUILD=$(VG_BUILD) SAN=0 unit
	@mkdir -p $(VG_BUILD)/valgrind
	@export HSMDESK_BUILD="$(CURDIR)/$(VG_BUILD)" HSMDESK_TOP="$(CURDIR)"; \
	export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:halt_on_error=1"; \
	export LSAN_OPTIONS="suppressions=$(CURDIR)/tests/lsan.supp:print_suppressions=0"; \
	export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"; \
	unset HSMDESK_MODULE SOFTHSM2_CONF; \
	export TERM=xterm-256color LC_ALL=C.UTF-8; \
	export HSMDESK_SKIP_BIG=1; \
	n=0 failed=0; \
	for t in $(VG_BUILD)/tests/test_*; do \
		[ -x "$$t" ] || continue; \
		case $$t in */test_screens) [ -n "$(VG_ALL)" ] || continue;; esac; \
		name=$${t##*/}; log=$(VG_BUILD)/valgrind/$$name.log; n=$$((n + 1)); \
		valgrind $(VG_FLAGS) "$$t" >"$$log" 2>&1; \
		rc=$$?; \
		p=$$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$$log"); \
		f=$$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$$log"); \
		e=$$(sed -n 's/.*ERROR SUMMARY: \([0-9]*\) error.*/\1/p' "$$log" | \
		    awk '{ s += $$1 } END { print s + 0 }'); \
		if [ $$rc -eq 0 ] && [ -z "$$f" ] && [ "$$e" -eq 0 ]; then \
			echo "$$name: ok under valgrind, $${p:-0} passed, 0 errors"; \
		else \
			failed=$$((failed + 1)); \
			echo "$$name: FAILED under valgrind (exit $$rc):" \
			    "$${p:-0} passed, $${f:-0} failed, $$e errors; log $$log"; \
		fi; \
	done; \
	vgbin=$(CURDIR)/$(VG_BUILD)/vgbin; mkdir -p "$$vgbin" "$$vgbin/logs"; \
	ln -sf ../fakep11.so "$$vgbin/fakep11.so"; \
	printf '#!/bin/sh\nexec valgrind --error-exitcode=99 %s --log-file=%s/%%p.log %s "$$@"\n' \
	    "$(VG_FLAGS)" "$$vgbin/logs" "$(CURDIR)/$(VG_BUILD)/hsmdesk" \
	    >"$$vgbin/hsmdesk"; chmod 755 "$$vgbin/hsmdesk"; \
	HSMDESK_BUILD="$$vgbin" HSMDESK_VG_LOGS="$$vgbin/logs" \
	    bash tests/valgrind/e2e.sh >$(VG_BUILD)/valgrind/e2e.log 2>&1; \
	rc=$$?; n=$$((n + 1)); \
	p=$$(grep -c '^ok ' $(VG_BUILD)/valgrind/e2e.log); \
	if [ $$rc -eq 0 ]; then echo "e2e under valgrind: ok, $$p passed"; \
	else failed=$$((failed + 1)); \
		echo "e2e under valgrind: FAILED; log $(VG_BUILD)/valgrind/e2e.log"; \
		grep -v '^ok ' $(VG_BUILD)/valgrind/e2e.log | head -n 20; fi; \
	echo "check-valgrind: $$n runs, $$failed failed"; \
	[ $$n -gt 0 ] && [ $$failed -eq 0 ]

# `make clean` removes these build trees too.
clean: clean-fuzz
clean-fuzz:
	rm -rf $(FUZZ_BUILD) $(VG_BUILD)
