# tfadesk - one Makefile, C11, every dependency through pkg-config.
#   make            build ./tfadesk and ./tfadesk-verify
#   make deps       install the Debian packages that are missing (root)
#   make demo       deps + build + run the whole batch on samples/
#   make check      deps + build + every test   (SANITIZE=1: ASan + UBSan;
#                   DB=sqlite or DB=postgresql: all on one backend; unset:
#                   all on SQLite, store/verifier/case tests on both)
#   make bench      benchmarks
#   make fuzz       libFuzzer harnesses (clang), each run FUZZ_SECONDS (60)
#   make screenshots  doc/desk-*.png: the staff desk on the demo data
#   make install    PREFIX=/usr/local DESTDIR=

PREFIX  ?= /usr/local
BINDIR  ?= $(PREFIX)/bin
MANDIR  ?= $(PREFIX)/share/man
DATADIR ?= $(PREFIX)/share/tfadesk
# systemd units, sysusers.d and tmpfiles.d: systemd reads /usr/local/lib too
UNITDIR ?= $(PREFIX)/lib/systemd/system
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
TMPFILESDIR ?= $(PREFIX)/lib/tmpfiles.d
CC      ?= cc
CXX     ?= c++
PKG_CONFIG ?= pkg-config

# Debian 12's libphonenumber-dev has no .pc file: mk/ holds one, searched last.
PC_PATH := $(if $(PKG_CONFIG_PATH),$(PKG_CONFIG_PATH):)$(CURDIR)/mk

CORE_PKGS   = sqlite3 libpq yaml-0.1 libsodium libpcre2-8 libphonenumber
MAIL_PKGS   = libetpan gnutls libcurl
VERIFY_PKGS = libmicrohttpd jansson libcurl gnutls
# The allocator of the two programs (not of the sanitizer and fuzzing
# builds, whose runtimes bring their own): jemalloc. SQLite (built without
# its lookaside by Debian), ICU and libetpan make about 400 small
# allocations a ticket; with glibc's malloc they were an eighth of
# process's CPU, jemalloc takes 8% off the whole (make bench).
ALLOC_PKGS  = jemalloc

CFLAGS   ?= -O2 -g
CXXFLAGS ?= -O2 -g
WARN      = -Wall -Wextra
ALL_CFLAGS   = -std=c11 $(WARN) -D_GNU_SOURCE -Isrc/core -Isrc $(CPPFLAGS) $(CFLAGS)
ALL_CXXFLAGS = -std=c++17 $(WARN) -Isrc/core -Isrc $(CPPFLAGS) $(CXXFLAGS)
ALL_LDFLAGS  = $(LDFLAGS)

# DEBUG=1: fdm's stricter warning set, and any warning stops the build (a
# packager's CFLAGS may carry the same set, without -Werror: it builds clean).
# The C++ adapter gets the options that are valid for C++.
DEBUG_WARN = -Wmissing-prototypes -Wstrict-prototypes -Wshadow -Wformat=2 \
	-Wcast-qual -Wwrite-strings -Wpointer-arith -Wold-style-definition \
	-Wmissing-declarations -Wnested-externs -Wundef -Wredundant-decls
DEBUG_CXXWARN = -Wshadow -Wformat=2 -Wcast-qual -Wwrite-strings -Wpointer-arith \
	-Wmissing-declarations -Wundef -Wredundant-decls
ifeq ($(DEBUG),1)
ALL_CFLAGS   += $(DEBUG_WARN) -Werror
ALL_CXXFLAGS += $(DEBUG_CXXWARN) -Werror
endif

ifeq ($(FUZZ),1)
# The fuzzing build (make fuzz): everything instrumented for libFuzzer,
# ASan and UBSan; the harnesses (tests/fuzz/fuzz_*.c) bring the main.
CC       = $(FUZZ_CC)
CXX      = $(FUZZ_CXX)
CFLAGS   = -O1 -g
CXXFLAGS = -O1 -g
SAN = -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
ALL_CFLAGS   += $(SAN)
ALL_CXXFLAGS += $(SAN)
ALLOC_PKGS =
B = build/fuzz
else ifeq ($(SANITIZE),1)
SAN = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
ALL_CFLAGS   += $(SAN)
ALL_CXXFLAGS += $(SAN)
ALL_LDFLAGS  += $(SAN)
ALLOC_PKGS =
B = build/san
else ifeq ($(DEBUG),1)
B = build/debug
else
B = build/rel
endif
FUZZ_CC  ?= clang
FUZZ_CXX ?= clang++
FUZZ_SECONDS ?= 60
FUZZERS = $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))

# Before anything is compiled: every package there? If not, one line that
# names what is missing and stop. deps, demo, check, bench, fuzz and
# screenshots install what is missing first (mk/deps.sh) and check in the
# make they start; clean and uninstall need nothing.
NO_PKG_CHECK = deps demo check bench fuzz screenshots clean uninstall
ifeq ($(filter $(NO_PKG_CHECK),$(MAKECMDGOALS)),)
ifeq ($(shell command -v $(PKG_CONFIG) 2>/dev/null),)
$(error tfadesk: $(PKG_CONFIG) not found: run `make deps` (as root) to install what is missing)
endif
PKGS_MISSING := $(foreach p,$(sort $(CORE_PKGS) $(MAIL_PKGS) $(VERIFY_PKGS) $(ALLOC_PKGS)),$(shell \
	PKG_CONFIG_PATH=$(PC_PATH) $(PKG_CONFIG) --exists $(p) || echo $(p)))
ifneq ($(strip $(PKGS_MISSING)),)
$(error tfadesk: missing packages (pkg-config): $(strip $(PKGS_MISSING)): run `make deps` (as root) to install them)
endif
endif

pc_cflags = $(shell PKG_CONFIG_PATH=$(PC_PATH) $(PKG_CONFIG) --cflags $(1))
pc_libs   = $(if $(strip $(1)),$(shell PKG_CONFIG_PATH=$(PC_PATH) $(PKG_CONFIG) --libs $(1)))

# Every source file by name, one a line, sorted (no wildcards: a file is
# built because it is listed here, and a merge adds one line).
CORE_SRCS = \
	src/core/buf.c \
	src/core/config.c \
	src/core/db-pg.c \
	src/core/db-sqlite.c \
	src/core/db.c \
	src/core/json.c \
	src/core/log.c \
	src/core/maildir.c \
	src/core/numbering.c \
	src/core/store-account.c \
	src/core/store-copy.c \
	src/core/store-desk.c \
	src/core/store-ticket.c \
	src/core/store.c \
	src/core/term.c \
	src/core/tmpl.c \
	src/core/utf8.c \
	src/core/util.c \
	src/core/xmalloc.c \
	src/core/yaml.c
CORE_CXX = \
	src/core/phone.cc
TFADESK_SRCS = \
	src/tfadesk/addr.c \
	src/tfadesk/admin.c \
	src/tfadesk/authres.c \
	src/tfadesk/autoreply.c \
	src/tfadesk/batch.c \
	src/tfadesk/charset.c \
	src/tfadesk/cmd.c \
	src/tfadesk/dbcopy.c \
	src/tfadesk/desk-html.c \
	src/tfadesk/desk.c \
	src/tfadesk/fetch.c \
	src/tfadesk/header.c \
	src/tfadesk/html.c \
	src/tfadesk/import.c \
	src/tfadesk/mime.c \
	src/tfadesk/outbox.c \
	src/tfadesk/process-job.c \
	src/tfadesk/process-names.c \
	src/tfadesk/process-numbers.c \
	src/tfadesk/process-plan.c \
	src/tfadesk/process-policy.c \
	src/tfadesk/process-twofa.c \
	src/tfadesk/process.c \
	src/tfadesk/queue.c \
	src/tfadesk/quoted.c \
	src/tfadesk/reply.c \
	src/tfadesk/rfc5322.c \
	src/tfadesk/rules.c \
	src/tfadesk/send-smtp.c \
	src/tfadesk/send-spool.c \
	src/tfadesk/send.c \
	src/tfadesk/source-imap.c \
	src/tfadesk/source-maildir.c \
	src/tfadesk/source-pop3.c \
	src/tfadesk/source.c \
	src/tfadesk/staff.c \
	src/tfadesk/table.c \
	src/tfadesk/watch.c
VERIFY_SRCS = \
	src/verify/apikeys.c \
	src/verify/metrics.c \
	src/verify/otp.c \
	src/verify/serve.c \
	src/verify/sms-http.c \
	src/verify/sms-spool.c \
	src/verify/sms.c \
	src/verify/verifier.c \
	src/verify/vstore.c

CORE_OBJS    = $(CORE_SRCS:%.c=$(B)/%.o) $(CORE_CXX:%.cc=$(B)/%.o)
TFADESK_OBJS = $(TFADESK_SRCS:%.c=$(B)/%.o)
VERIFY_OBJS  = $(VERIFY_SRCS:%.c=$(B)/%.o)

# Unit tests (isync's tst_* style): each links only the modules it tests and
# what those need, as the linker found it (tst_NAME_SRCS), and the packages
# those modules use (tst_NAME_PKGS).
UNIT_TESTS = \
	tst_addr \
	tst_auth \
	tst_buf \
	tst_config \
	tst_corpus \
	tst_identity \
	tst_json \
	tst_maildir \
	tst_mime \
	tst_otp \
	tst_phone \
	tst_reply \
	tst_rules \
	tst_store \
	tst_tmpl \
	tst_utf8 \
	tst_yaml

tst_yaml_SRCS = \
	src/core/buf.c \
	src/core/log.c \
	src/core/utf8.c \
	src/core/xmalloc.c \
	src/core/yaml.c
tst_yaml_PKGS = yaml-0.1

tst_json_SRCS = \
	src/core/buf.c \
	src/core/json.c \
	src/core/log.c \
	src/core/utf8.c \
	src/core/xmalloc.c
tst_json_PKGS = 

tst_buf_SRCS = \
	src/core/buf.c \
	src/core/log.c \
	src/core/utf8.c \
	src/core/xmalloc.c
tst_buf_PKGS = 

tst_addr_SRCS = \
	src/core/buf.c \
	src/core/log.c \
	src/core/term.c \
	src/core/utf8.c \
	src/core/util.c \
	src/core/xmalloc.c \
	src/tfadesk/addr.c
tst_addr_PKGS = libetpan

tst_maildir_SRCS = \
	src/core/buf.c \
	src/core/log.c \
	src/core/maildir.c \
	src/core/term.c \
	src/core/utf8.c \
	src/core/util.c \
	src/core/xmalloc.c
tst_maildir_PKGS = 

tst_auth_SRCS = \
	src/core/buf.c \
	src/core/log.c \
	src/core/term.c \
	src/core/utf8.c \
	src/core/util.c \
	src/core/xmalloc.c \
	src/tfadesk/addr.c \
	src/tfadesk/authres.c \
	src/tfadesk/charset.c \
	src/tfadesk/header.c \
	src/tfadesk/html.c \
	src/tfadesk/mime.c \
	src/tfadesk/quoted.c
tst_auth_PKGS = libetpan libsodium

tst_config_SRCS = \
	src/core/buf.c \
	src/core/config.c \
	src/core/db-pg.c \
	src/core/db-sqlite.c \
	src/core/db.c \
	src/core/log.c \
	src/core/store.c \
	src/core/term.c \
	src/core/utf8.c \
	src/core/util.c \
	src/core/xmalloc.c \
	src/core/yaml.c
tst_config_PKGS = yaml-0.1 sqlite3 libpq

tst_corpus_SRCS = \
	src/core/buf.c \
	src/core/log.c \
	src/core/term.c \
	src/core/utf8.c \
	src/core/util.c \
	src/core/xmalloc.c \
	src/tfadesk/addr.c \
	src/tfadesk/autoreply.c \
	src/tfadesk/charset.c \
	src/tfadesk/header.c \
	src/tfadesk/html.c \
	src/tfadesk/mime.c \
	src/tfadesk/quoted.c
tst_corpus_PKGS = libetpan libsodium

tst_identity_SRCS = \
	src/core/buf.c \
	src/core/log.c \
	src/core/term.c \
	src/core/utf8.c \
	src/core/util.c \
	src/core/xmalloc.c \
	src/tfadesk/addr.c \
	src/tfadesk/charset.c \
	src/tfadesk/header.c \
	src/tfadesk/html.c \
	src/tfadesk/mime.c \
	src/tfadesk/quoted.c
tst_identity_PKGS = libetpan libsodium

tst_mime_SRCS = \
	src/core/buf.c \
	src/core/log.c \
	src/core/term.c \
	src/core/utf8.c \
	src/core/util.c \
	src/core/xmalloc.c \
	src/tfadesk/addr.c \
	src/tfadesk/autoreply.c \
	src/tfadesk/charset.c \
	src/tfadesk/header.c \
	src/tfadesk/html.c \
	src/tfadesk/mime.c \
	src/tfadesk/quoted.c
tst_mime_PKGS = libetpan libsodium

tst_otp_SRCS = \
	src/core/buf.c \
	src/core/db-pg.c \
	src/core/db-sqlite.c \
	src/core/db.c \
	src/core/json.c \
	src/core/log.c \
	src/core/maildir.c \
	src/core/store-account.c \
	src/core/store.c \
	src/core/term.c \
	src/core/tmpl.c \
	src/core/utf8.c \
	src/core/util.c \
	src/core/xmalloc.c \
	src/verify/metrics.c \
	src/verify/otp.c \
	src/verify/sms-http.c \
	src/verify/sms-spool.c \
	src/verify/sms.c \
	src/verify/verifier.c \
	src/verify/vstore.c
tst_otp_PKGS = sqlite3 libsodium libcurl libpq

tst_phone_SRCS = \
	src/core/buf.c \
	src/core/log.c \
	src/core/numbering.c \
	src/core/phone.cc \
	src/core/term.c \
	src/core/utf8.c \
	src/core/util.c \
	src/core/xmalloc.c \
	src/core/yaml.c
tst_phone_PKGS = yaml-0.1 libphonenumber

tst_reply_SRCS = \
	src/core/buf.c \
	src/core/db-pg.c \
	src/core/db-sqlite.c \
	src/core/db.c \
	src/core/log.c \
	src/core/store-ticket.c \
	src/core/store.c \
	src/core/term.c \
	src/core/tmpl.c \
	src/core/utf8.c \
	src/core/util.c \
	src/core/xmalloc.c \
	src/tfadesk/addr.c \
	src/tfadesk/autoreply.c \
	src/tfadesk/charset.c \
	src/tfadesk/header.c \
	src/tfadesk/html.c \
	src/tfadesk/mime.c \
	src/tfadesk/quoted.c \
	src/tfadesk/reply.c \
	src/tfadesk/rfc5322.c
tst_reply_PKGS = sqlite3 libetpan libsodium libpq

tst_rules_SRCS = \
	src/core/buf.c \
	src/core/log.c \
	src/core/utf8.c \
	src/core/xmalloc.c \
	src/core/yaml.c \
	src/tfadesk/rules.c
tst_rules_PKGS = yaml-0.1 libpcre2-8

tst_store_SRCS = \
	src/core/buf.c \
	src/core/config.c \
	src/core/db-pg.c \
	src/core/db-sqlite.c \
	src/core/db.c \
	src/core/log.c \
	src/core/store-account.c \
	src/core/store-ticket.c \
	src/core/store.c \
	src/core/term.c \
	src/core/utf8.c \
	src/core/util.c \
	src/core/xmalloc.c \
	src/core/yaml.c \
	src/tfadesk/addr.c \
	src/tfadesk/charset.c \
	src/tfadesk/fetch.c \
	src/tfadesk/header.c \
	src/tfadesk/html.c \
	src/tfadesk/mime.c \
	src/tfadesk/quoted.c \
	src/tfadesk/source-imap.c \
	src/tfadesk/source-maildir.c \
	src/tfadesk/source-pop3.c \
	src/tfadesk/source.c
tst_store_PKGS = sqlite3 libetpan libsodium libpq yaml-0.1

tst_tmpl_SRCS = \
	src/core/buf.c \
	src/core/log.c \
	src/core/tmpl.c \
	src/core/utf8.c \
	src/core/xmalloc.c
tst_tmpl_PKGS = 

tst_utf8_SRCS = \
	src/core/buf.c \
	src/core/json.c \
	src/core/log.c \
	src/core/term.c \
	src/core/utf8.c \
	src/core/xmalloc.c
tst_utf8_PKGS = 

UNIT_BINS = $(UNIT_TESTS:%=$(B)/tests/%)

ALLOC_LIBS  = $(call pc_libs,$(ALLOC_PKGS))
CORE_LIBS   = $(call pc_libs,$(CORE_PKGS))
MAIL_LIBS   = $(call pc_libs,$(MAIL_PKGS))
VERIFY_LIBS = $(call pc_libs,$(VERIFY_PKGS))

.PHONY: FORCE all deps demo check check-build bench install uninstall clean \
	fuzz fuzz-build screenshots
all: tfadesk tfadesk-verify

# The binaries sit in the top folder; with SANITIZE=1 they are the sanitized build.
# Replaced by a rename, never rewritten in place: a test may be running it.
tfadesk tfadesk-verify: %: $(B)/% FORCE
	@cmp -s $< $@ || { cp -f $< $@.new && mv -f $@.new $@; }

# tfadesk links the verifier's core too: the staff desk's SMS login code
# goes through the same code, limits and tables (never the other way).
# The allocator first: its malloc is then the one every library calls.
$(B)/tfadesk: $(B)/src/tfadesk/main.o $(B)/libtfadesk.a $(B)/libverify.a $(B)/libcore.a
	$(CXX) -o $@ $^ $(ALL_LDFLAGS) $(ALLOC_LIBS) $(MAIL_LIBS) $(VERIFY_LIBS) \
		$(CORE_LIBS) -lpthread

$(B)/tfadesk-verify: $(B)/src/verify/main.o $(B)/libverify.a $(B)/libcore.a
	$(CXX) -o $@ $^ $(ALL_LDFLAGS) $(ALLOC_LIBS) $(VERIFY_LIBS) $(CORE_LIBS) \
		-lpthread

# tfadesk-hooks: tfadesk with its crash points (STEP in src/core/tfadesk.h) for
# tests/t_crash_points.sh; only the files that hold a STEP are built again.
HOOK_SRCS = src/core/util.c src/tfadesk/main.c src/tfadesk/fetch.c src/tfadesk/process.c \
	src/tfadesk/send.c
$(B)/tfadesk-hooks: $(HOOK_SRCS:%.c=$(B)/hooks/%.o) $(B)/libtfadesk.a $(B)/libverify.a $(B)/libcore.a
	$(CXX) -o $@ $^ $(ALL_LDFLAGS) $(ALLOC_LIBS) $(MAIL_LIBS) $(VERIFY_LIBS) \
		$(CORE_LIBS) -lpthread

$(B)/hooks/src/%.o: src/%.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -DTFADESK_TEST_HOOKS $(call pc_cflags,$(CORE_PKGS) $(MAIL_PKGS) $(VERIFY_PKGS)) -MMD -MP -c -o $@ $<

$(B)/libcore.a: $(CORE_OBJS)
$(B)/libtfadesk.a: $(TFADESK_OBJS)
$(B)/libverify.a: $(VERIFY_OBJS)
$(B)/%.a:
	@mkdir -p $(@D)
	rm -f $@; ar rcs $@ $^

$(B)/src/%.o: src/%.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(call pc_cflags,$(CORE_PKGS) $(MAIL_PKGS) $(VERIFY_PKGS)) -MMD -MP -c -o $@ $<

$(B)/src/%.o: src/%.cc
	@mkdir -p $(@D)
	$(CXX) $(ALL_CXXFLAGS) -MMD -MP -c -o $@ $<

# A unit test: its own object, its modules, the packages they use; the C++
# linker only where phone.cc is one of them.
unit_objs = $(patsubst %.cc,$(B)/%.o,$(patsubst %.c,$(B)/%.o,$($(1)_SRCS)))
define unit_test
$(B)/tests/$(1): $(B)/tests/$(1).o $(call unit_objs,$(1))
	$$(if $$(filter %.cc,$$($(1)_SRCS)),$$(CXX),$$(CC)) -o $$@ $$^ $$(ALL_LDFLAGS) \
		$$(call pc_libs,$$($(1)_PKGS)) $$(if $$(filter %.cc,$$($(1)_SRCS)),-lpthread)
endef
$(foreach t,$(UNIT_TESTS),$(eval $(call unit_test,$(t))))

$(B)/tests/%.o: tests/unit/%.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(call pc_cflags,$(CORE_PKGS) $(MAIL_PKGS) $(VERIFY_PKGS)) -MMD -MP -c -o $@ $<

ifeq ($(FUZZ),1)
# libFuzzer harnesses: build/fuzz/fuzz_NAME, linked with the fuzzer's main.
build/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(B)/libtfadesk.a $(B)/libverify.a $(B)/libcore.a
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -fsanitize=fuzzer -DFUZZ_TOP='"$(CURDIR)"' \
		$(call pc_cflags,$(CORE_PKGS) $(MAIL_PKGS) $(VERIFY_PKGS)) -c -o $@.o $<
	$(CXX) -fsanitize=fuzzer,address,undefined -o $@ $@.o $(B)/libtfadesk.a \
		$(B)/libverify.a $(B)/libcore.a $(ALL_LDFLAGS) $(filter-out -specs=%,\
		$(MAIL_LIBS) $(VERIFY_LIBS) $(CORE_LIBS)) -lpthread
endif

-include $(shell find build -name '*.d' 2>/dev/null)

deps:
	@sh mk/deps.sh

check-build: all $(UNIT_BINS) $(B)/tfadesk-hooks

demo: deps
	@$(MAKE) --no-print-directory all
	@sh samples/demo.sh

check: deps
	@$(MAKE) --no-print-directory -j2 check-build
	@B=$(B) DB=$(DB) sh tests/run.sh $(T)

# make fuzz: build the harnesses, then run each for FUZZ_SECONDS (make -j2
# runs two at a time); findings land in build/fuzz/crashes/.
fuzz-build:
	@$(MAKE) --no-print-directory FUZZ=1 $(FUZZERS:%=build/fuzz/fuzz_%)

fuzz: deps
	@$(MAKE) --no-print-directory fuzz-build
	@$(MAKE) --no-print-directory $(FUZZERS:%=fuzz-run-%)

fuzz-run-%: FORCE
	@sh tests/fuzz/run.sh run $* $(FUZZ_SECONDS)

# PNGs of the staff desk (queue, a ticket) from the demo data, for README.md
screenshots: deps
	@$(MAKE) --no-print-directory all
	@sh mk/screenshots.sh

bench: deps
	@$(MAKE) --no-print-directory all
	@sh tests/bench/run.sh

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 \
		$(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(DATADIR)/rules $(DESTDIR)$(DATADIR)/templates
	install -m 755 tfadesk tfadesk-verify $(DESTDIR)$(BINDIR)/
	for f in doc/*.1; do [ -e "$$f" ] && install -m 644 "$$f" $(DESTDIR)$(MANDIR)/man1/; done; true
	for f in doc/*.5; do [ -e "$$f" ] && install -m 644 "$$f" $(DESTDIR)$(MANDIR)/man5/; done; true
	for f in doc/*.8; do [ -e "$$f" ] && install -m 644 "$$f" $(DESTDIR)$(MANDIR)/man8/; done; true
	install -m 644 rules/*.yaml $(DESTDIR)$(DATADIR)/rules/
	for f in templates/*; do [ -f "$$f" ] && install -m 644 "$$f" $(DESTDIR)$(DATADIR)/templates/; done; true
	install -d $(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSUSERSDIR) $(DESTDIR)$(TMPFILESDIR)
	for f in samples/systemd/*; do \
		sed 's|/usr/local/bin/|$(BINDIR)/|g' "$$f" > $(DESTDIR)$(UNITDIR)/$${f##*/}.tmp && \
		chmod 644 $(DESTDIR)$(UNITDIR)/$${f##*/}.tmp && \
		mv $(DESTDIR)$(UNITDIR)/$${f##*/}.tmp $(DESTDIR)$(UNITDIR)/$${f##*/} || exit 1; done
	install -m 644 samples/sysusers.d/tfadesk.conf $(DESTDIR)$(SYSUSERSDIR)/
	install -m 644 samples/tmpfiles.d/tfadesk.conf $(DESTDIR)$(TMPFILESDIR)/

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/tfadesk $(DESTDIR)$(BINDIR)/tfadesk-verify
	for f in samples/systemd/*; do rm -f $(DESTDIR)$(UNITDIR)/$${f##*/}; done
	rm -f $(DESTDIR)$(SYSUSERSDIR)/tfadesk.conf $(DESTDIR)$(TMPFILESDIR)/tfadesk.conf
	rm -rf $(DESTDIR)$(DATADIR)

clean:
	rm -rf build tfadesk tfadesk-verify tests/tmp samples/var
