# emgap - top-level build. See README.md.
#
#   make            build the four tools (build/release/bin)
#   make check      install missing packages, build, run every test in a
#                   normal build and again under ASan+UBSan
#   make demo       run the whole pipeline on the bundled samples
#   make bench      measure speed and memory (bench/)
#   make fuzz       libFuzzer targets (FUZZ_SECONDS=N each)
#   make install    PREFIX=/usr/local DESTDIR=
#
# Part targets for working on one part: make keys, make check-keys
# (also bundle, mirror, apply, common); VARIANT=asan for the sanitizer build.

VARIANT ?= release
B := build/$(VARIANT)
PREFIX ?= /usr/local
DESTDIR ?=

PKGS := libsodium openssl libarchive libxml-2.0 xmlsec1-openssl libcurl
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

CC ?= cc
# Truncating snprintf into fixed message buffers is intended; the warning
# for it would make every error message a special case.
WARN := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wstrict-prototypes -Wmissing-prototypes -Wno-format-truncation
BASE_CFLAGS := -std=c11 -D_GNU_SOURCE $(WARN) -Icommon -I. $(PKG_CFLAGS)

# What ships is built with the hardening Debian builds its own packages
# with (dpkg-buildflags, hardening=+all): fortified libc calls, stack
# protector and clash protection, CET, and full RELRO (every symbol bound
# at start-up, the GOT then read-only: 0.1 ms of emgap-apply's 3 ms start).
HARDEN_CFLAGS := -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fstack-clash-protection -fcf-protection
HARDEN_LDFLAGS := -Wl,-z,relro -Wl,-z,now

ifeq ($(VARIANT),release)
VCFLAGS := -O2 -g $(HARDEN_CFLAGS)
VLDFLAGS := $(HARDEN_LDFLAGS)
else ifeq ($(VARIANT),asan)
VCFLAGS := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
VLDFLAGS := -fsanitize=address,undefined
else ifeq ($(VARIANT),fault)
VCFLAGS := -O1 -g -DEMG_FAULT_INJECTION
VLDFLAGS :=
else ifeq ($(VARIANT),fuzz)
# clang does not know gcc's -Wno-format-truncation: let it pass unknown -W options.
CC := clang
VCFLAGS := -O1 -g -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer -Wno-unknown-warning-option
VLDFLAGS := -fsanitize=fuzzer,address,undefined
else ifeq ($(VARIANT),bench)
# The release build's flags without -g: the bench measures what ships.
VCFLAGS := -O2 $(HARDEN_CFLAGS)
VLDFLAGS := $(HARDEN_LDFLAGS)
else
$(error unknown VARIANT '$(VARIANT)': release, asan, fault or bench)
endif

ALL_CFLAGS := $(BASE_CFLAGS) $(VCFLAGS) $(CFLAGS)
# --as-needed: each program loads only the libraries it calls (emgap-apply
# opens libcurl itself when it has URL sources; see apply/curl_dl.h).
ALL_LDFLAGS := -Wl,--as-needed $(VLDFLAGS) $(LDFLAGS)

PARTS := common keys bundle mirror apply
PROGS := keys bundle mirror apply

# What each part links against, most dependent first.
DEPS_common := common
DEPS_keys := keys common
DEPS_bundle := bundle keys common
DEPS_mirror := mirror bundle keys common
DEPS_apply := apply bundle keys common

# A part's library is every .c in its directory but main.c (the program).
lib_srcs = $(filter-out $(1)/main.c,$(wildcard $(1)/*.c))
lib_objs = $(patsubst %.c,$(B)/obj/%.o,$(call lib_srcs,$(1)))
lib_file = $(B)/lib/libemgap_$(1).a
dep_libs = $(foreach d,$(DEPS_$(1)),$(call lib_file,$(d)))

UNIT_SRCS := $(wildcard tests/unit/*_*.c)
unit_part = $(firstword $(subst _, ,$(notdir $(basename $(1)))))
UNIT_BINS := $(patsubst tests/unit/%.c,$(B)/tests/%,$(UNIT_SRCS))

.PHONY: all deps check demo bench bench-tools fuzz fuzz-build install clean tests $(PARTS) $(addprefix check-,$(PARTS))
all: $(foreach p,$(PROGS),$(B)/bin/emgap-$(p)) $(B)/bin/emgap-apply-engine

# V=1 shows whole command lines.
Q := $(if $(V),,@)

$(B)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(V),,echo "  CC      $<")
	$(Q)$(CC) $(ALL_CFLAGS) -MMD -MP -c $< -o $@

define part_rules
$(call lib_file,$(1)): $(call lib_objs,$(1))
	@mkdir -p $$(dir $$@)
	$(Q)rm -f $$@
	$(Q)ar rcs $$@ $$^
endef
$(foreach p,$(PARTS),$(eval $(call part_rules,$(p))))

# prog_rules NAME MAIN-OBJECT PART: build/<variant>/bin/NAME from its main
# and the libraries PART depends on.
define prog_rules
$(B)/bin/$(1): $(2) $(call dep_libs,$(3))
	@mkdir -p $$(dir $$@)
	@$(if $(V),,echo "  LD      $$@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $$@ $$^ $(PKG_LIBS)
endef
$(foreach p,$(filter-out apply,$(PROGS)),$(eval $(call prog_rules,emgap-$(p),$(B)/obj/$(p)/main.o,$(p))))
# emgap-apply is a small front (apply/front/main.c): an idle hourly run
# ends there with libc and libcrypto only (--as-needed drops the rest);
# everything else executes emgap-apply-engine, the program of apply/main.c.
$(eval $(call prog_rules,emgap-apply,$(B)/obj/apply/front/main.o,apply))
$(eval $(call prog_rules,emgap-apply-engine,$(B)/obj/apply/main.o,apply))

define unit_rules
$(B)/tests/$(notdir $(basename $(1))): $(B)/obj/$(basename $(1)).o $(call dep_libs,$(call unit_part,$(1)))
	@mkdir -p $$(dir $$@)
	@$(if $(V),,echo "  LD      $$@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $$@ $$^ $(PKG_LIBS)
endef
$(foreach u,$(UNIT_SRCS),$(eval $(call unit_rules,$(u))))

# Fuzz targets: tests/fuzz/fuzz_<part>_<name>.c. In normal builds they are
# linked with a small driver that replays the saved corpus (make check); with
# `make fuzz` they are linked with libFuzzer (clang).
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*_*.c)
fuzz_part = $(word 2,$(subst _, ,$(notdir $(basename $(1)))))
FUZZ_BINS := $(patsubst tests/fuzz/%.c,$(B)/fuzz/%,$(FUZZ_SRCS))

define fuzz_rules
$(B)/fuzz/$(notdir $(basename $(1))): $(B)/obj/$(basename $(1)).o $(B)/obj/tests/fuzz/driver.o $(call dep_libs,$(call fuzz_part,$(1)))
	@mkdir -p $$(dir $$@)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $$@ $$^ $(PKG_LIBS)
endef
ifneq ($(VARIANT),fuzz)
$(foreach f,$(FUZZ_SRCS),$(eval $(call fuzz_rules,$(f))))
endif

tests: all $(UNIT_BINS) $(FUZZ_BINS)

# Per-part targets: the part's program (if any) and its unit tests.
define part_targets
$(1): $(if $(filter $(1),$(PROGS)),$(B)/bin/emgap-$(1)) $(if $(filter apply,$(1)),$(B)/bin/emgap-apply-engine) $(filter $(B)/tests/$(1)_%,$(UNIT_BINS)) $(call lib_file,$(1))
check-$(1): $(1)
	@tests/run.sh --only $(1) $(VARIANT)
endef
$(foreach p,$(PARTS),$(eval $(call part_targets,$(p))))

# windows: the Service Control Manager host backend (apply/win/), cross-
# compiled with mingw-w64 into build/windows/libemgap_win.a. The rest of
# emgap-apply is portable C; only this part talks to Windows.
WIN_CC ?= x86_64-w64-mingw32-gcc
WIN_AR ?= x86_64-w64-mingw32-ar
WIN_SRCS := $(wildcard apply/win/*.c) common/err.c
WIN_OBJS := $(patsubst %.c,build/windows/obj/%.o,$(WIN_SRCS))
.PHONY: windows
windows: build/windows/libemgap_win.a
build/windows/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(V),,echo "  WINCC   $<")
	$(Q)$(WIN_CC) -std=c11 $(WARN) -O2 -Icommon -I. -c $< -o $@
build/windows/libemgap_win.a: $(WIN_OBJS)
	$(Q)rm -f $@
	$(Q)$(WIN_AR) rcs $@ $^

deps:
	@scripts/deps.sh

# check: packages first, then a fresh make so pkg-config sees them. The
# valgrind pass reuses the release build (tests/lib/valgrind.sh); run.sh
# skips it when valgrind is not installed.
check: deps
	@$(MAKE) --no-print-directory VARIANT=release tests
	@$(MAKE) --no-print-directory VARIANT=asan tests
	@tests/run.sh release asan valgrind

demo: deps
	@$(MAKE) --no-print-directory VARIANT=release all
	@scripts/demo.sh

# libFuzzer builds: each target runs FUZZ_SECONDS, new inputs kept in
# build/fuzz/corpus-new/<name> (review, then copy crashers into the corpus).
FUZZ_SECONDS ?= 60
fuzz-build: $(if $(filter fuzz,$(VARIANT)),$(FUZZ_SRCS:tests/fuzz/%.c=$(B)/fuzz/%))
ifeq ($(VARIANT),fuzz)
$(B)/fuzz/%: $(B)/obj/tests/fuzz/%.o $(foreach p,$(PARTS),$(call lib_file,$(p)))
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $< $(foreach p,apply mirror bundle keys common,$(call lib_file,$(p))) $(PKG_LIBS)
endif

fuzz:
	@scripts/deps.sh --all
	@$(MAKE) --no-print-directory VARIANT=fuzz fuzz-build
	@scripts/fuzz.sh $(FUZZ_SECONDS)

# bench: its peers (hyperfine, GNU time) are in deps.sh's --all list.
# bench/<name>.c are its drivers, each linked against the apply part.
BENCH_BINS := $(patsubst bench/%.c,$(B)/bench/%,$(wildcard bench/*.c))
$(BENCH_BINS): $(B)/bench/%: $(B)/obj/bench/%.o $(call dep_libs,apply)
	@mkdir -p $(dir $@)
	@$(if $(V),,echo "  LD      $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS)
bench-tools: all $(BENCH_BINS)

bench:
	@scripts/deps.sh --all
	@$(MAKE) --no-print-directory VARIANT=bench bench-tools
	@bench/run.sh

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/man/man5
	install -m 0755 $(foreach p,$(PROGS),$(B)/bin/emgap-$(p)) $(DESTDIR)$(PREFIX)/bin/
	install -d $(DESTDIR)$(PREFIX)/libexec/emgap
	install -m 0755 $(B)/bin/emgap-apply-engine $(DESTDIR)$(PREFIX)/libexec/emgap/
	install -m 0644 $(wildcard docs/man/*.1) $(DESTDIR)$(PREFIX)/share/man/man1/
	$(if $(wildcard docs/man/*.5),install -m 0644 $(wildcard docs/man/*.5) $(DESTDIR)$(PREFIX)/share/man/man5/)

clean:
	rm -rf build

-include $(shell find $(B)/obj -name '*.d' 2>/dev/null)
