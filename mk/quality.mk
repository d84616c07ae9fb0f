# Proof in the build: strict compilers, static analysis, luacheck,
# the spec suite under AddressSanitizer/UndefinedBehaviorSanitizer and under
# valgrind.  Included by the top Makefile.
#
#   make lint-all        C with gcc and clang at the strictest warning set, -Werror;
#                        cppcheck; clang's static analyzer; luacheck
#   make lint            the same (this file only adds lint-all as a prerequisite
#                        of the top Makefile's `lint`)
#   make test-asan       core.so built with -fsanitize=address,undefined (-O1 -g,
#                        build/asan-gcc/), the runtimes preloaded into $(LUA):
#                        the whole busted suite; the suite again with the
#                        collector under stress; tools/gc-pressure.lua
#   make test-valgrind   the whole busted suite and tools/gc-pressure.lua under
#                        valgrind memcheck (-O0 -g build in build/valgrind/)
#   make coverage-c      C line coverage of src/ by those same runs, per file, and
#                        the functions they never enter (what the runs cannot vouch for)
#
# Pass = exit 0 and zero reports: any ASan/LSan/UBSan report, memcheck error
# or definite leak fails.  Suppressions (tools/lsan.supp, tools/valgrind.supp)
# only ever name third-party frames.
#
# Every target installs the Debian packages it needs (like `make deps`, only
# what is missing), starts its own emulator on its own ports and directory
# (a running `make test` or demo is left alone) and always stops it, and ends
# with one line: "<target>: PASS|FAIL ... in N s".
#
# Knobs: QA_SPECS (spec files/dirs, e.g. QA_SPECS=spec/core/03-list_spec.lua),
# QA_BUSTED_FLAGS (e.g. --tags=x), QA_TIMEOUT (s, per run), QA_GC_STRESS and
# DT_GC_STRESS_EVERY (see tools/sanitizer-prelude.lua), ASAN_CC (gcc; clang
# works too), LUA_VERSION / LUA as for the build.  tools/README.md has more.

# On top of the Makefile's DEB_PACKAGES (libasan/libubsan come with gcc;
# valgrind pulls libc6-dbg, which it needs on Debian).
QA_PACKAGES ?= gcc clang cppcheck valgrind lua-check lua-busted

QA_TIMEOUT      ?= 1800
QA_BUSTED_FLAGS ?=
# Spec files or directories for every run (empty: the whole suite for the
# plain ASan pass, QA_CORE_SPECS for the others)
QA_SPECS        ?=
# test-asan's second pass: 1 = generational GC + a collector step every
# DT_GC_STRESS_EVERY instructions; 2 = a full collection instead (slower)
QA_GC_STRESS    ?= 1
BUSTED_BIN       = $(shell command -v $(BUSTED) 2>/dev/null || echo /usr/bin/busted)
QA_PRELUDE       = $(CURDIR)/tools/sanitizer-prelude.lua
# The spec directories that run the C core inside busted's own process
# (test-asan's GC-stress pass, test-valgrind): all but the emulator's own
# specs (curl CLI only), the CLI's (it runs in child processes: covered by
# the plain ASan pass) and the support code.
QA_CORE_SPECS ?= $(patsubst %/,%,$(filter-out spec/emulator/ spec/cli/ spec/support/,$(wildcard spec/*/))) \
                 $(wildcard spec/*_spec.lua)
# Spec directories and Lua sources that exist (luacheck refuses missing paths).
LUACHECK_DIRS    = $(wildcard lua spec bench emulator bin examples)

# --- make lint ----------------------------------------------------------------
#
# The strictest set, on top of the Makefile's WARNINGS.  All of them
# are clean with Lua 5.4's, and libcurl's headers on gcc 12 and
# clang 14, so none is dropped.
LINT_FLAGS = -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wsign-conversion \
             -Wstrict-prototypes -Wmissing-prototypes -Werror
LINT_CCS   ?= gcc clang
LINT_SRCS   = $(wildcard src/*/*.c)
CPPCHECK_FLAGS = --enable=warning,performance,portability --error-exitcode=1 --std=c99 \
                 --quiet --inline-suppr --library=posix --template=gcc \
                 -D_POSIX_C_SOURCE=200809L -Isrc
# cppcheck reads only our headers: Lua's luaconf.h stops it with
# '#error "Compiler does not support long long"' (it does not see <limits.h>),
# and system headers only slow it down.

.PHONY: lint-all lint-deps lint-cc lint-cppcheck lint-analyzer lint-lua \
        test-asan test-asan-run asan-build \
        test-valgrind test-valgrind-run valgrind-build qa-deps

# `lint` is the lead's in the Makefile (luacheck); adding a prerequisite is
# allowed without a second recipe, so `make lint` runs all of this first.
lint: lint-all

qa-deps:
	@$(MAKE) --no-print-directory deps DEB_PACKAGES="$(DEB_PACKAGES) $(QA_PACKAGES)"

lint-all:
	@t0=$$(date +%s); failed=""; \
	$(MAKE) --no-print-directory qa-deps || exit 1; \
	for step in lint-cc lint-cppcheck lint-analyzer lint-lua; do \
	  $(MAKE) --no-print-directory $$step || failed="$$failed $$step"; \
	done; \
	t=$$(( $$(date +%s) - t0 )); \
	if [ -z "$$failed" ]; then \
	  echo "lint: PASS in $${t}s ($(words $(LINT_SRCS)) C files x {$(LINT_CCS)} -Werror, cppcheck, clang analyzer, luacheck)"; \
	else echo "lint: FAIL in $${t}s (failed:$$failed)"; exit 1; fi

# Every file with every compiler, all diagnostics shown before failing.
# Objects go to build/lint-<cc>/ only; -O2 keeps the flow-based warnings.
lint-cc:
	@rc=0; for cc in $(LINT_CCS); do \
	  mkdir -p $(BUILD_DIR)/lint-$$cc; \
	  for f in $(LINT_SRCS); do \
	    $$cc $(ALL_CFLAGS) $(LINT_FLAGS) -c -o $(BUILD_DIR)/lint-$$cc/$$(basename $$(dirname $$f))-$$(basename $$f .c).o $$f \
	      || { echo "lint-cc: $$cc $$f failed"; rc=1; }; \
	  done; \
	done; \
	[ $$rc -eq 0 ] && echo "lint-cc: $(LINT_CCS): $(words $(LINT_SRCS)) files clean"; exit $$rc

lint-cppcheck:
	@mkdir -p $(BUILD_DIR)/lint-cppcheck
	@if [ -z "$(LINT_SRCS)" ]; then echo "lint-cppcheck: no C sources"; exit 0; fi; \
	cppcheck $(CPPCHECK_FLAGS) --cppcheck-build-dir=$(BUILD_DIR)/lint-cppcheck src \
	  && echo "lint-cppcheck: clean"

# clang --analyze, every checker's finding an error (-analyzer-werror).  One line
# per finding; for the path that leads to it:
#   make lint-analyzer LINT_ANALYZER_FLAGS="-Xanalyzer -analyzer-output=text"
LINT_ANALYZER_FLAGS ?=
lint-analyzer:
	@rc=0; mkdir -p $(BUILD_DIR)/lint-analyzer; \
	for f in $(LINT_SRCS); do \
	  clang --analyze -Xclang -analyzer-werror $(LINT_ANALYZER_FLAGS) \
	    -include $(CURDIR)/tools/lua-noreturn.h $(filter-out $(WARNINGS),$(ALL_CFLAGS)) \
	    -o $(BUILD_DIR)/lint-analyzer/$$(basename $$f .c).plist $$f || rc=1; \
	done; \
	[ $$rc -eq 0 ] && echo "lint-analyzer: $(words $(LINT_SRCS)) files clean"; exit $$rc

lint-lua:
	@luacheck --no-color -q $(LUACHECK_DIRS) tools

# --- make test-asan ----------------------------------------------------------

ASAN_CC      ?= gcc
ASAN_DIR      = $(BUILD_DIR)/asan-$(notdir $(ASAN_CC))
ASAN_SO       = $(ASAN_DIR)/doctranslate/core.so
ASAN_FLAGS    = -fsanitize=address,undefined -fno-sanitize-recover=undefined \
                -fno-omit-frame-pointer -O1 -g
# Emulator ports of these targets (mk/ holds the others: 18480 make test,
# 18580 bench, 18780 bench-noblock): 18680 asan, 19180 valgrind, 19280 coverage.
ASAN_HTTP_PORT  ?= 18680
ASAN_HTTPS_PORT ?= 18643
ASAN_EMU_DIR    ?= $(BUILD_DIR)/emu-asan
# gcc: libasan + libubsan; clang: one runtime holds both.
ifeq ($(findstring clang,$(ASAN_CC)),clang)
ASAN_RUNTIMES = $(shell $(ASAN_CC) -print-file-name=libclang_rt.asan-x86_64.so)
else
ASAN_RUNTIMES = $(shell $(ASAN_CC) -print-file-name=libasan.so):$(shell $(ASAN_CC) -print-file-name=libubsan.so)
endif
# Reports go to files (one per process) so nothing hides in busted's output.
ASAN_ENV = ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:detect_stack_use_after_return=1:strict_string_checks=1:check_initialization_order=1:log_path=$(abspath $(ASAN_DIR))/report \
           LSAN_OPTIONS=suppressions=$(CURDIR)/tools/lsan.supp:print_suppressions=0 \
           UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1:log_path=$(abspath $(ASAN_DIR))/report \
           LD_PRELOAD=$(ASAN_PRELOAD) DT_CORE_SO=$(abspath $(ASAN_SO)) \
           LUA_CPATH='$(abspath $(ASAN_DIR))/?.so;;' \
           DT_CLI_LUA=$(CURDIR)/tools/asan-lua DT_ASAN_PRELOAD=$(ASAN_PRELOAD) DT_ASAN_LUA=$(LUA)
# Child processes: the specs' curl and shells run without the runtimes (see
# tools/asan-preload.c); the CLI specs' Lua runs with them (tools/asan-lua)
# and, through LUA_CPATH, with the instrumented core.
ASAN_PRELOAD = $(ASAN_RUNTIMES):$(abspath $(ASAN_DIR))/preload.so

# Emulator on its own ports and directory, stopped on any exit: $(call qa_emulator,port,port,dir)
qa_emu_args = EMULATOR_HTTP_PORT=$(1) EMULATOR_HTTPS_PORT=$(2) EMULATOR_DIR=$(3)
qa_emu_env  = DT_EMULATOR_HTTP=http://127.0.0.1:$(1) DT_EMULATOR_HTTPS=https://127.0.0.1:$(2) \
              DT_EMULATOR_KEY=$(EMULATOR_KEY) DT_EMULATOR_CA=$(abspath $(3))/ca.pem

asan-build:
	@for rt in $(subst :, ,$(ASAN_RUNTIMES)); do \
	  case $$rt in /*) [ -f $$rt ] && continue;; esac; \
	  echo "test-asan: sanitizer runtime '$$rt' not found for $(ASAN_CC)" >&2; exit 1; \
	done
	@$(MAKE) --no-print-directory all CC=$(ASAN_CC) CFLAGS="$(ASAN_FLAGS)" LDFLAGS="$(ASAN_FLAGS)" \
	  OBJ_DIR=$(ASAN_DIR)/obj CORE_SO=$(ASAN_SO)
	@mkdir -p $(ASAN_DIR)
	@$(ASAN_CC) -shared -fPIC -O1 -o $(ASAN_DIR)/preload.so tools/asan-preload.c

# One run under the sanitizers: $(call asan_run,label,extra env,script and arguments)
# `env` sets LD_PRELOAD for the interpreter alone (not for `timeout`, whose
# environment would lose it to preload.so before lua starts).
define asan_run
	rm -f $(ASAN_DIR)/report.*; \
	echo "== test-asan: $(1)"; \
	timeout -k 10 $(QA_TIMEOUT) env $(call qa_emu_env,$(ASAN_HTTP_PORT),$(ASAN_HTTPS_PORT),$(ASAN_EMU_DIR)) \
	  $(ASAN_ENV) $(2) $(LUA) -e "dofile'$(QA_PRELUDE)'" $(3) 2>&1 | tee $(ASAN_DIR)/run-$(1).log; \
	rc=$${PIPESTATUS[0]}; \
	reports=$$(ls $(ASAN_DIR)/report.* 2>/dev/null | wc -l); \
	if [ $$reports -gt 0 ]; then cat $(ASAN_DIR)/report.*; \
	  mkdir -p $(ASAN_DIR)/reports-$(1); mv $(ASAN_DIR)/report.* $(ASAN_DIR)/reports-$(1)/; \
	  echo "test-asan: $(1): $$reports sanitizer report(s), kept in $(ASAN_DIR)/reports-$(1)/"; fi; \
	[ $$rc -eq 0 ] && [ $$reports -eq 0 ] || { echo "test-asan: $(1): exit $$rc, $$reports report(s)"; false; }
endef

# The result of each run, from its log: busted's counts or gc-pressure's line.
define qa_summary
	for f in $(1); do [ -f $$f ] || continue; l=$$(basename $$f .log); l=$${l#run-}; \
	  r=$$(sed 's/\x1b\[[0-9;]*m//g' $$f | grep -E '^[0-9]+ success|^gc-pressure: [0-9]+ steps' | tail -n 1 \
	    | sed -E 's/ +:.*//; s/^gc-pressure: ([0-9]+ steps).*/\1/'); \
	  printf '%s: %s; ' "$$l" "$${r:-no result}"; done | sed 's/; $$//'
endef

ASAN_LOGS = $(ASAN_DIR)/run-plain.log $(ASAN_DIR)/run-gc-stress.log $(ASAN_DIR)/run-gc-pressure.log

test-asan:
	@t0=$$(date +%s); \
	$(MAKE) --no-print-directory qa-deps || exit 1; \
	$(MAKE) --no-print-directory asan-build || exit 1; \
	$(MAKE) --no-print-directory test-asan-run; status=$$?; \
	t=$$(( $$(date +%s) - t0 )); \
	summary=$$($(call qa_summary,$(ASAN_LOGS))); \
	if [ $$status -eq 0 ]; then echo "test-asan: PASS in $${t}s, 0 sanitizer reports ($$summary)"; \
	else echo "test-asan: FAIL in $${t}s ($$summary; see $(ASAN_DIR)/)"; fi; exit $$status

# Three runs against one emulator: the whole suite; the specs that load the
# core (ASAN_GC_SPECS) with the collector under stress; tools/gc-pressure.lua
# (lifetimes, hostile answers) under stress.
ASAN_GC_SPECS ?= $(or $(QA_SPECS),$(QA_CORE_SPECS))
test-asan-run:
	@set -o pipefail; rm -rf $(ASAN_DIR)/reports-* $(ASAN_DIR)/run-*.log; \
	stop() { $(MAKE) --no-print-directory emulator-stop $(call qa_emu_args,$(ASAN_HTTP_PORT),$(ASAN_HTTPS_PORT),$(ASAN_EMU_DIR)) >/dev/null 2>&1 || true; }; \
	trap stop EXIT; trap 'exit 130' INT TERM; \
	$(MAKE) --no-print-directory emulator-start $(call qa_emu_args,$(ASAN_HTTP_PORT),$(ASAN_HTTPS_PORT),$(ASAN_EMU_DIR)) || exit 1; \
	status=0; \
	{ $(call asan_run,plain,,$(BUSTED_BIN) $(BUSTED_FLAGS) $(QA_BUSTED_FLAGS) $(QA_SPECS)); } || status=1; \
	{ $(call asan_run,gc-stress,DT_GC_STRESS=$(QA_GC_STRESS),$(BUSTED_BIN) $(BUSTED_FLAGS) $(QA_BUSTED_FLAGS) $(ASAN_GC_SPECS)); } || status=1; \
	{ $(call asan_run,gc-pressure,DT_GC_STRESS=$(QA_GC_STRESS),tools/gc-pressure.lua); } || status=1; \
	exit $$status

# --- make test-valgrind --------------------------------------------------------

VALGRIND_DIR  = $(BUILD_DIR)/valgrind
VALGRIND_SO   = $(VALGRIND_DIR)/doctranslate/core.so
VALGRIND_HTTP_PORT  ?= 19180
VALGRIND_HTTPS_PORT ?= 19143
VALGRIND_EMU_DIR    ?= $(BUILD_DIR)/emu-valgrind
# The spec files or directories run under valgrind: every spec directory that
# runs the C core in busted's process, i.e. all but spec/emulator (the
# emulator's own specs talk to it with the curl CLI and never load
# doctranslate.core; several time the emulator's clock and fail when valgrind
# slows the Lua side 20x) and spec/cli (the CLI runs in child processes,
# which memcheck does not follow).
# Together with tools/gc-pressure.lua they reach the same C lines as the whole
# suite (make coverage-c).
# Specs that time the service's clock against the wall clock (a job's
# duration, poll gaps) and cannot keep their margins 20x slower are skipped.
# spec/core/13-fork_spec.lua forks the interpreter: the child runs on under memcheck, whose
# --error-exitcode then decides the child's exit status the spec checks.
VALGRIND_SKIP  ?= spec/lifecycle/04-wait_spec.lua spec/core/13-fork_spec.lua
qa_spec_files   = $(foreach p,$(1),$(if $(filter %_spec.lua,$(p)),$(p),$(sort $(wildcard $(p)/*_spec.lua $(p)/*/*_spec.lua))))
VALGRIND_SPECS ?= $(or $(QA_SPECS),$(filter-out $(VALGRIND_SKIP),$(call qa_spec_files,$(QA_CORE_SPECS))))
VALGRIND_FLAGS = --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite \
                 --show-leak-kinds=definite --suppressions=$(CURDIR)/tools/valgrind.supp \
                 --num-callers=40 --track-origins=yes --keep-debuginfo=yes \
                 --trace-children=no --child-silent-after-fork=yes \
                 --log-file=$(abspath $(VALGRIND_DIR))/memcheck.%p.log

valgrind-build:
	@$(MAKE) --no-print-directory all CFLAGS="-O0 -g" OBJ_DIR=$(VALGRIND_DIR)/obj CORE_SO=$(VALGRIND_SO)

VALGRIND_LOGS = $(VALGRIND_DIR)/run-suite.log $(VALGRIND_DIR)/run-gc-pressure.log

test-valgrind:
	@t0=$$(date +%s); \
	$(MAKE) --no-print-directory qa-deps || exit 1; \
	$(MAKE) --no-print-directory valgrind-build || exit 1; \
	$(MAKE) --no-print-directory test-valgrind-run; status=$$?; \
	t=$$(( $$(date +%s) - t0 )); \
	summary=$$($(call qa_summary,$(VALGRIND_LOGS))); \
	errs=$$(grep -h 'ERROR SUMMARY' $(VALGRIND_DIR)/memcheck.*.log 2>/dev/null | sed 's/.*ERROR SUMMARY: //; s/ from .*//' \
	  | awk '{n += $$1} END {print n + 0}'); \
	if [ $$status -eq 0 ]; then echo "test-valgrind: PASS in $${t}s, memcheck: $$errs errors ($$summary)"; \
	else echo "test-valgrind: FAIL in $${t}s, memcheck: $$errs errors ($$summary; see $(VALGRIND_DIR)/)"; fi; exit $$status

# One run under memcheck: $(call valgrind_run,label,script and arguments)
define valgrind_run
	echo "== test-valgrind: $(1)"; \
	env $(call qa_emu_env,$(VALGRIND_HTTP_PORT),$(VALGRIND_HTTPS_PORT),$(VALGRIND_EMU_DIR)) DT_CORE_SO=$(abspath $(VALGRIND_SO)) DT_SLOW=1 \
	  LUA_CPATH='$(abspath $(VALGRIND_DIR))/?.so;;' \
	  timeout -k 10 $(QA_TIMEOUT) valgrind $(VALGRIND_FLAGS) $(LUA) -e "dofile'$(QA_PRELUDE)'" $(2) \
	  2>&1 | tee $(VALGRIND_DIR)/run-$(1).log; \
	rc=$${PIPESTATUS[0]}; [ $$rc -eq 0 ] || echo "test-valgrind: $(1): exit $$rc"; [ $$rc -eq 0 ]
endef

test-valgrind-run:
	@mkdir -p $(VALGRIND_DIR); rm -f $(VALGRIND_DIR)/memcheck.*.log $(VALGRIND_DIR)/run-*.log; \
	stop() { $(MAKE) --no-print-directory emulator-stop $(call qa_emu_args,$(VALGRIND_HTTP_PORT),$(VALGRIND_HTTPS_PORT),$(VALGRIND_EMU_DIR)) >/dev/null 2>&1 || true; }; \
	trap stop EXIT; trap 'exit 130' INT TERM; \
	$(MAKE) --no-print-directory emulator-start $(call qa_emu_args,$(VALGRIND_HTTP_PORT),$(VALGRIND_HTTPS_PORT),$(VALGRIND_EMU_DIR)) || exit 1; \
	status=0; \
	{ $(call valgrind_run,suite,$(BUSTED_BIN) $(BUSTED_FLAGS) $(QA_BUSTED_FLAGS) $(VALGRIND_SPECS)); } || status=1; \
	{ $(call valgrind_run,gc-pressure,tools/gc-pressure.lua); } || status=1; \
	logs=$$(grep -l 'ERROR SUMMARY' $(VALGRIND_DIR)/memcheck.*.log 2>/dev/null); \
	if [ -z "$$logs" ]; then echo "test-valgrind: no memcheck summary (did valgrind run?)"; exit 1; fi; \
	bad=$$(grep -L 'ERROR SUMMARY: 0 errors' $$logs); \
	if [ -n "$$bad" ]; then cat $$bad; echo "test-valgrind: memcheck errors, see $$bad"; exit 1; fi; \
	exit $$status

# --- make coverage-c -----------------------------------------------------------
#
# What the sanitizer and valgrind runs can vouch for: C line coverage of
# src/ by the whole suite plus tools/gc-pressure.lua (a --coverage -O0 build
# in build/coverage/), per file, with the functions never entered.  Annotated
# sources land in build/coverage/gcov/.

COVERAGE_DIR = $(BUILD_DIR)/coverage
COVERAGE_SO  = $(COVERAGE_DIR)/doctranslate/core.so
COVERAGE_HTTP_PORT  ?= 19280
COVERAGE_HTTPS_PORT ?= 19243
COVERAGE_EMU_DIR    ?= $(BUILD_DIR)/emu-coverage

.PHONY: coverage-c
coverage-c:
	@t0=$$(date +%s); \
	$(MAKE) --no-print-directory qa-deps || exit 1; \
	$(MAKE) --no-print-directory -s all CFLAGS="-O0 -g --coverage" LDFLAGS="--coverage" \
	  OBJ_DIR=$(COVERAGE_DIR)/obj CORE_SO=$(COVERAGE_SO) >/dev/null || exit 1; \
	rm -f $(COVERAGE_DIR)/obj/*.gcda $(COVERAGE_DIR)/run*.log; rm -rf $(COVERAGE_DIR)/gcov; mkdir -p $(COVERAGE_DIR)/gcov; \
	args="$(call qa_emu_args,$(COVERAGE_HTTP_PORT),$(COVERAGE_HTTPS_PORT),$(COVERAGE_EMU_DIR))"; \
	stop() { $(MAKE) --no-print-directory emulator-stop $$args >/dev/null 2>&1 || true; }; \
	trap stop EXIT; trap 'exit 130' INT TERM; \
	$(MAKE) --no-print-directory emulator-start $$args >/dev/null || exit 1; \
	for run in "suite $(BUSTED_BIN) $(BUSTED_FLAGS) $(QA_BUSTED_FLAGS) $(QA_SPECS)" "gc-pressure tools/gc-pressure.lua"; do \
	  set -- $$run; log=$(COVERAGE_DIR)/run-$$1.log; shift; \
	  env $(call qa_emu_env,$(COVERAGE_HTTP_PORT),$(COVERAGE_HTTPS_PORT),$(COVERAGE_EMU_DIR)) \
	    DT_CORE_SO=$(abspath $(COVERAGE_SO)) LUA_CPATH='$(abspath $(COVERAGE_DIR))/?.so;;' timeout -k 10 $(QA_TIMEOUT) \
	    $(LUA) -e "dofile'$(QA_PRELUDE)'" "$$@" > $$log 2>&1 \
	    || echo "coverage-c: $$* failed (its coverage still counts; see $$log)"; \
	done; \
	( cd $(COVERAGE_DIR)/gcov && gcov -f -o $(abspath $(COVERAGE_DIR))/obj $(abspath $(LINT_SRCS)) ) > $(COVERAGE_DIR)/gcov.txt 2>/dev/null; \
	grep -E -A1 "^File '([^']*/)?src/" $(COVERAGE_DIR)/gcov.txt | grep -v '^--' | paste - - \
	  | sed -E "s|File '([^']*/)?(src/[^']*)'.*Lines executed:([0-9.]+)% of ([0-9]+)|\2 \3 \4|" \
	  | awk '{printf "  %-20s %6.2f%% of %d lines\n", $$1, $$2, $$3; run += $$2 * $$3 / 100; all += $$3} \
	         END {printf "  %-20s %6.2f%% of %d lines\n", "total", all ? 100 * run / all : 0, all}'; \
	never=$$(grep -A1 "^Function '" $(COVERAGE_DIR)/gcov.txt | grep -v '^--' | paste - - | grep 'executed:0.00%' \
	  | sed -E "s/Function '([^']*)'.*/\1/" | tr '\n' ' '); \
	echo "  never entered: $${never:-none}"; \
	echo "coverage-c: done in $$(( $$(date +%s) - t0 ))s (annotated sources in $(COVERAGE_DIR)/gcov/)"
