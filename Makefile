# inkflow — plain Makefile.  Overridable: CC, CFLAGS, LDFLAGS, PREFIX, DESTDIR.
#   make            build build/inkflow
#   make SAN=1      build with AddressSanitizer + UBSan into build-san/
#   make check      unit + integration tests (also run with SAN=1)
#   make demo       run the main job on a copy of the sample mailboxes
#   make install    PREFIX=/usr/local DESTDIR=

PREFIX  ?= /usr/local
BINDIR  ?= $(PREFIX)/bin
SHAREDIR ?= $(PREFIX)/share/inkflow
MANDIR  ?= $(PREFIX)/share/man
CC      ?= cc
CFLAGS  ?= -O2 -g
PKGS    := sqlite3 jansson nettle libytnef
# Opened on first use, not linked into inkflow (src/lazylib.h): their
# headers are compiled against and their SONAMEs go into sonames.h.
# libxml2 (with the ICU and C++ libraries it brings), libharu, libpng,
# libetpan and GnuTLS are also closed again while the daemon is idle
# (src/lazyxml.h, src/lazyharu.h, src/lazyetpan.h).
LAZY_PKGS := libcurl libtiff-4 libjpeg libqpdf libxml-2.0 libpng libetpan gnutls
LAZY_SONAMES := CURL:curl TIFF:tiff JPEG:jpeg QPDF:qpdf XML:xml2 HPDF:hpdf PNG:png16 \
	ETPAN:etpan GNUTLS:gnutls

ifeq ($(SAN),1)
BUILD   ?= build-san
SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
else
BUILD   ?= build
SANFLAGS :=
endif

WARN    := -Wall -Wextra -Werror -Wformat=2 -Wno-format-nonliteral -Wshadow -Wpointer-arith -Wstrict-prototypes
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) $(LAZY_PKGS) 2>/dev/null)
# libetpan's .pc adds a dpkg -specs file meant for its own build; drop it.
PKG_LIBS   := $(filter-out -specs=%,$(shell pkg-config --libs $(PKGS) 2>/dev/null))
ALL_CFLAGS := -std=c11 -D_GNU_SOURCE $(WARN) $(CFLAGS) $(SANFLAGS) $(PKG_CFLAGS) -I$(BUILD) -MMD -MP
ALL_LDFLAGS := $(LDFLAGS) $(SANFLAGS)
LIBS    := $(PKG_LIBS) -lunistring -lm
# For programs that call those libraries themselves (tests making images).
LAZY_LIBS := $(filter-out -specs=%,$(shell pkg-config --libs $(LAZY_PKGS) 2>/dev/null)) -lhpdf

SRCS    := $(filter-out src/main.c,$(wildcard src/*.c))
OBJS    := $(SRCS:src/%.c=$(BUILD)/obj/%.o)
LIB     := $(BUILD)/libinkflow.a
BIN     := $(BUILD)/inkflow
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)

.PHONY: all check unit integration demo install uninstall clean deps san bench bench-scale fuzz

all: $(BIN)

$(BUILD)/obj/%.o: src/%.c | $(BUILD)/sonames.h
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

# The SONAME of each library in LAZY_SONAMES, as the linker would find it.
$(BUILD)/sonames.h: Makefile
	@mkdir -p $(@D)
	@for p in $(LAZY_SONAMES); do \
		f=$$($(CC) -print-file-name=lib$${p#*:}.so); \
		so=$$(objdump -p "$$f" 2>/dev/null | awk '$$1 == "SONAME" { print $$2 }'); \
		[ -n "$$so" ] || { echo "no SONAME for lib$${p#*:}.so (found: $$f); is its -dev package installed?" >&2; exit 1; }; \
		echo "#define SONAME_$${p%%:*} \"$$so\""; \
	done >$@.tmp && mv $@.tmp $@

$(LIB): $(OBJS)
	@rm -f $@
	ar rcs $@ $^

$(BIN): $(BUILD)/obj/main.o $(LIB)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/tests/%: tests/unit/%.c tests/unit/timing.h $(LIB)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -Isrc -o $@ $< $(LIB) $(ALL_LDFLAGS) $(LIBS) $(LAZY_LIBS) -lcmocka

unit: $(UNIT_BINS)
	@tests/run-unit $(UNIT_BINS)

# Integration modules run in this many lanes at once (tests/integration/run.py).
TEST_JOBS ?= 2

# (test_reports fills a database with the benchmark's generator)
integration: $(BIN) $(BUILD)/bench/gen-bigdb
	@INKFLOW=$(abspath $(BIN)) GEN_BIGDB=$(abspath $(BUILD)/bench/gen-bigdb) \
		INKFLOW_TEST_JOBS=$(TEST_JOBS) tests/run-integration

check: all unit integration

san:
	$(MAKE) SAN=1 check

demo: $(BIN)
	@INKFLOW=$(abspath $(BIN)) tools/demo

install: $(BIN)
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(SHAREDIR)/templates/pl $(DESTDIR)$(SHAREDIR)/templates/de $(DESTDIR)$(SHAREDIR)/conf
	install -m 755 $(BIN) $(DESTDIR)$(BINDIR)/inkflow
	install -m 644 templates/pl/* $(DESTDIR)$(SHAREDIR)/templates/pl/
	install -m 644 templates/de/* $(DESTDIR)$(SHAREDIR)/templates/de/
	install -m 644 conf/*.xml $(DESTDIR)$(SHAREDIR)/conf/
	install -d $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(SHAREDIR)/contrib
	install -m 644 doc/inkflow.1 $(DESTDIR)$(MANDIR)/man1/inkflow.1
	install -m 644 doc/inkflow.xml.5 $(DESTDIR)$(MANDIR)/man5/inkflow.xml.5
	install -m 644 contrib/inkflow.service $(DESTDIR)$(SHAREDIR)/contrib/

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/inkflow $(DESTDIR)$(MANDIR)/man1/inkflow.1 $(DESTDIR)$(MANDIR)/man5/inkflow.xml.5
	rm -rf $(DESTDIR)$(SHAREDIR)

clean:
	rm -rf build build-san tests/out

# make bench: IMAP and Maildir ingest rates, IDLE latency and RSS on a
# throwaway mail lab (tests/bench/run: root, several minutes; a quick run:
# make bench BENCH_N=200 BENCH_IDLE_N=20).  Prints figures, never fails on them.
$(BUILD)/bench/sqlite-ceiling: tests/bench/sqlite-ceiling.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(ALL_LDFLAGS) $(shell pkg-config --libs sqlite3 2>/dev/null || echo -lsqlite3)

bench: $(BIN) $(BUILD)/bench/sqlite-ceiling $(BUILD)/bench/gen-bigdb
	@INKFLOW=$(abspath $(BIN)) SQLITE_CEILING=$(abspath $(BUILD)/bench/sqlite-ceiling) tests/bench/run
	@$(MAKE) --no-print-directory bench-scale

# make bench-scale: ingest rate, query times and idle RSS on a database of
# 1,000,000 projects, 10,000,000 events and 2,000,000 messages (made once by
# gen-bigdb, 5.3 GB, cached in $(BUILD)/bench/ per schema version; needs about
# twice that free).  Prints figures, never fails on them.  A quick run:
# make bench-scale SCALE_PROJECTS=20000 SCALE_N=200
$(BUILD)/bench/gen-bigdb: tests/bench/gen-bigdb.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(ALL_LDFLAGS) $(shell pkg-config --libs sqlite3 2>/dev/null || echo -lsqlite3)

bench-scale: $(BIN) $(BUILD)/bench/gen-bigdb
	@INKFLOW=$(abspath $(BIN)) GEN_BIGDB=$(abspath $(BUILD)/bench/gen-bigdb) tests/bench/scale

-include $(OBJS:.o=.d) $(BUILD)/obj/main.d

# make fuzz: libFuzzer targets in tests/fuzz/ (clang with compiler-rt; on
# Debian 12 the packages clang and libclang-rt-14-dev), built with ASan and
# UBSan into build-fuzz/ and run FUZZ_SECONDS each (default 60) on a work
# corpus in build-fuzz/corpus/<target> seeded from tests/fuzz/seeds/<target>
# (the seeds are never written).  Fails on any crash, leak, timeout or
# sanitizer report; prints a line per target and "N passed, N failed".
#   make fuzz FUZZ_SECONDS=30            all targets, 30 s each
#   make fuzz FUZZ_TARGETS="calc reply"  some of them
#   make fuzz FUZZ_TARGETS=ingest_db     whole ingest on a database (slower)
FUZZ_CC      ?= clang
FUZZ_CFLAGS  ?= -g -O1
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?= ingest reply calc template config
FUZZ_BUILD   := build-fuzz
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
# Warnings on but not fatal: clang warns where gcc, which builds and tests
# inkflow, does not, and that must not stop the fuzzing.
FUZZ_ALL_CFLAGS := -std=c11 -D_GNU_SOURCE $(filter-out -Werror,$(WARN)) $(FUZZ_CFLAGS) $(FUZZ_SAN) $(PKG_CFLAGS) -I$(BUILD) -MMD -MP
FUZZ_OBJS    := $(SRCS:src/%.c=$(FUZZ_BUILD)/obj/%.o)
FUZZ_LIB     := $(FUZZ_BUILD)/libinkflow.a
FUZZ_BINS    := $(FUZZ_TARGETS:%=$(FUZZ_BUILD)/fuzz_%)

$(FUZZ_BUILD)/obj/%.o: src/%.c | $(BUILD)/sonames.h
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_ALL_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

$(FUZZ_LIB): $(FUZZ_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(FUZZ_BUILD)/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz_common.h $(FUZZ_LIB)
	$(FUZZ_CC) $(FUZZ_ALL_CFLAGS) -fsanitize=fuzzer -Isrc -o $@ $< $(FUZZ_LIB) $(LIBS)

fuzz: $(FUZZ_BINS)
	@FUZZ_SECONDS=$(FUZZ_SECONDS) FUZZ_BUILD=$(FUZZ_BUILD) tests/fuzz/run $(FUZZ_TARGETS)

-include $(FUZZ_OBJS:.o=.d) $(FUZZ_BINS:=.d)

# make lint: cppcheck and clang-tidy over src/*.c with the build's language
# flags and include paths; fails on any finding.  Configuration: .clang-tidy
# and tests/lint/ (cppcheck.supp, jansson.cfg); tests/lint/README.md gives
# the reason for every excluded check and every suppression.  clang-tidy
# runs one process per file, so `make -j2 lint` halves its time.
CPPCHECK   ?= cppcheck
CLANG_TIDY ?= clang-tidy
LINT_SRCS  := $(wildcard src/*.c)
LINT_FLAGS := -std=c11 -D_GNU_SOURCE $(WARN) $(PKG_CFLAGS) -Isrc -I$(BUILD)

.PHONY: lint lint-cppcheck lint-clang-tidy valgrind

lint: lint-cppcheck lint-clang-tidy

lint-cppcheck: $(BUILD)/sonames.h
	@$(CPPCHECK) -q --std=c11 -D_GNU_SOURCE -Isrc -I$(BUILD) \
		--enable=warning,performance,portability --inline-suppr --error-exitcode=1 \
		--library=gnu,posix,libcurl,sqlite3,tests/lint/jansson.cfg \
		--suppressions-list=tests/lint/cppcheck.supp --template=gcc $(LINT_SRCS)
	@echo "cppcheck: $(words $(LINT_SRCS)) files clean"

lint-clang-tidy: $(LINT_SRCS:src/%.c=lint-tidy-%)
	@echo "clang-tidy: $(words $(LINT_SRCS)) files clean"

# TIDY_PENDING_<file> := -check,...  turns checks off for src/<file>.c while
# the fix of a finding there is pending; each one is listed with its finding
# in tests/lint/README.md.
# (none pending)

# never a file: the check runs each time
lint-tidy-%: src/%.c | $(BUILD)/sonames.h
	@out=$$($(CLANG_TIDY) --quiet $(if $(TIDY_PENDING_$*),--checks=$(TIDY_PENDING_$*)) \
		$< -- $(LINT_FLAGS) 2>&1) || \
		{ printf '%s\n' "$$out" | grep -v '^[0-9]* warnings\? generated\.$$'; exit 1; }

# make valgrind: the unit programs, then the integration tests with every
# inkflow process they start, under valgrind memcheck; fails on any memory
# error or definite leak (--errors-for-leak-kinds=definite), whether or not
# the test looked at the exit status: each process logs to
# $(BUILD)/valgrind/log/<pid>.log and any non-empty log fails the run.
# Library leaks inkflow cannot free are in tests/lint/valgrind.supp.
# Every unit program runs (IMAP and SMTP against the mail lab when root),
# then every integration module, in TEST_JOBS lanes (test_lab, test_fault
# and test_torture need root and the mail lab).  Under valgrind every
# inkflow process pays a second of start-up and runs 20-50 times slower:
# measured on two cores, the unit programs take about 100 s and the
# integration suite about 36 min one module after another, 20 min in two
# lanes.  --vgdb=no: valgrind's debugger link would create FIFOs in /tmp
# named by PID alone, which a killed process leaves behind; a later process
# of another user (Postfix's pipe user) given the same PID cannot open them
# and valgrind exits 1 before inkflow starts.  VALGRIND_TESTS names modules
# to run instead of all (e.g. VALGRIND_TESTS="test_corpus test_order" for a quick look);
# VALGRIND_SKIP leaves tests out (run.py --skip=).
VALGRIND       ?= valgrind
VALGRIND_TESTS ?=
VALGRIND_SKIP  ?=
VG_DIR        := $(abspath $(BUILD))/valgrind
VALGRIND_CMD  := $(VALGRIND) -q --vgdb=no --error-exitcode=99 --leak-check=full --num-callers=40 \
	--errors-for-leak-kinds=definite --show-leak-kinds=definite --suppressions=$(abspath tests/lint/valgrind.supp) \
	--log-file=$(VG_DIR)/log/%p.log

valgrind: $(BIN) $(UNIT_BINS) $(BUILD)/bench/gen-bigdb
	@rm -rf $(VG_DIR) && mkdir -p $(VG_DIR)/log && chmod 1777 $(VG_DIR)/log
	@printf '#!/bin/sh\nexec %s %s "$$@"\n' "$(VALGRIND_CMD)" "$(abspath $(BIN))" >$(VG_DIR)/inkflow
	@chmod 755 $(VG_DIR)/inkflow && ln -s $(abspath $(BUILD))/tests $(VG_DIR)/tests
	@fail=0; VALGRIND="$(VALGRIND_CMD)" INKFLOW_TEST_SLOWDOWN=20 tests/run-unit $(UNIT_BINS) || fail=1; \
	INKFLOW=$(VG_DIR)/inkflow GEN_BIGDB=$(abspath $(BUILD)/bench/gen-bigdb) \
		INKFLOW_TEST_JOBS=$(TEST_JOBS) tests/run-integration $(VALGRIND_TESTS:%=%.) \
		$(VALGRIND_SKIP:%=--skip=%) || fail=1; \
	for f in $(VG_DIR)/log/*.log; do [ -s "$$f" ] || continue; fail=1; \
		echo "== valgrind: $$f"; cat "$$f"; done; \
	[ $$fail = 0 ] && echo "valgrind: no memory errors, no definite leaks ($$(ls $(VG_DIR)/log | wc -l) processes)"; \
	exit $$fail
