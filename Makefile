# Makefile: builds stage N of async-nostd (layers 1..N) freestanding; `make help` lists targets.

SHELL := /bin/bash  # PIPESTATUS in `make fuzz`

# ---- which stage -----------------------------------------------------------
# Stage N = layers 1..N. Each stage builds into its own directory so switching
# stages never reuses objects compiled with another STAGE define.
STAGE       ?= 7
LAYERS_ALL  := sys mem sched exec net http ws
LAYERS      := $(wordlist 1,$(STAGE),$(LAYERS_ALL))
B           ?= build/stage-$(STAGE)

# ---- toolchains ------------------------------------------------------------
ifeq ($(origin CC),default)
CC := gcc
endif
HOSTED_CC   ?= clang
OPT         ?= -O2
WARN        := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
               -Wmissing-prototypes -Wpointer-arith -Wundef
# -iquote (not -I) so that our src/sys/*.h never shadows the host's <sys/*.h>
# in hosted builds of the pure code.
CPPFLAGS    := -iquote src -DSTAGE=$(STAGE)
CFLAGS_FS   := -std=gnu11 $(OPT) -g -ffreestanding -fno-stack-protector \
               -fno-pie -fno-plt -ffunction-sections -fdata-sections \
               -fno-asynchronous-unwind-tables $(WARN)
LDFLAGS_FS  := -nostdlib -static -no-pie -Wl,--gc-sections \
               -Wl,-z,noexecstack -Wl,--build-id=none
# clang calls -no-pie "unused" when it already links non-PIE; that is fine.
ifneq ($(findstring clang,$(CC)),)
LDFLAGS_FS  += -Wno-unused-command-line-argument
else
# gcc only (clang has no such warning): a jump over a local's initialiser,
# which is what a resume into the middle of an AWAIT body would be.
CFLAGS_FS   += -Wjump-misses-init
endif
CFLAGS_HOST := -std=gnu11 -O1 -g -fno-omit-frame-pointer \
               -fsanitize=address,undefined -fno-sanitize-recover=all \
               -DHOSTED=1 $(WARN)
CFLAGS_FUZZ := -std=gnu11 -O1 -g -fsanitize=fuzzer,address,undefined \
               -DHOSTED=1 $(WARN)
FUZZ_SECONDS ?= 30
# `make V=1` shows full command lines.
Q           := $(if $(V),,@)

# ---- what to build ---------------------------------------------------------
# Layer fragments may set PURE_SRCS_<layer> (pure code also built hosted),
# GEN_SRCS_<layer> (generated C files under $(B)/gen) and extra rules.
include $(wildcard $(foreach L,$(LAYERS),src/$(L)/layer.mk))

lib_srcs     = $(wildcard src/$(1)/*.c)
LIB_OBJS     := $(foreach L,$(LAYERS),$(patsubst src/%.c,$(B)/obj/%.o,$(call lib_srcs,$(L)))) \
                $(foreach L,$(LAYERS),$(patsubst $(B)/gen/%.c,$(B)/obj/gen/%.o,$(GEN_SRCS_$(L))))
LIB          := $(B)/libnostd.a
TEST_BINS    := $(foreach L,$(LAYERS),$(patsubst src/$(L)/tests/%.c,$(B)/tests/$(L)/%,$(wildcard src/$(L)/tests/test_*.c)))
DEMO_BINS    := $(foreach L,$(LAYERS),$(patsubst src/$(L)/demo/%.c,$(B)/bin/%,$(wildcard src/$(L)/demo/*.c)))
HOSTED_BINS  := $(foreach L,$(LAYERS),$(patsubst src/$(L)/tests/%.c,$(B)/hosted/$(L)/%,$(wildcard src/$(L)/tests/hosted_*.c)))
FUZZ_BINS    := $(foreach L,$(LAYERS),$(patsubst src/$(L)/fuzz/%.c,$(B)/fuzz/$(L)/%,$(wildcard src/$(L)/fuzz/fuzz_*.c)))
# The book's small programs (chapters/code/*.c: each chapter's first program
# and its measurement programs), linked like tests: each is built from the
# stage its header's build command names (-DSTAGE=N) on.
chapter_stage = $(patsubst -DSTAGE=%,%,$(firstword $(shell grep -o -- '-DSTAGE=[0-9]' $(1))))
CHAPTER_BINS := $(foreach f,$(wildcard chapters/code/*.c),\
                  $(if $(shell test $(call chapter_stage,$(f)) -le $(STAGE) && echo y),$(B)/chapters/$(basename $(notdir $(f)))))
# The final server exists from stage 6 (HTTP) on; stage 7 adds WebSocket to it.
SERVER       := $(if $(and $(filter http,$(LAYERS)),$(wildcard src/main.c)),$(B)/bin/async-nostd)
FREESTANDING_BINS := $(TEST_BINS) $(DEMO_BINS) $(CHAPTER_BINS) $(SERVER)

.PHONY: all tests test check run check-freestanding fuzz tsan tsan-build clean help compile_commands.json format \
        format-check lab lab-check check-solutions
.DEFAULT_GOAL := all

all: $(FREESTANDING_BINS) $(HOSTED_BINS)  ## build stage $(STAGE): library, tests, demos, server

tests: $(TEST_BINS) $(HOSTED_BINS)        ## build the unit-test programs of stage $(STAGE)

# `make test` runs the fast half of the suite (test.py --fast says what it
# leaves out); `make check` runs all of it and then every exercise solution,
# which is what CI runs. `STAGE=N` narrows either to stages 1..N. Both first
# install what is missing (scripts/setup.sh is quick when nothing is);
# NO_SETUP=1 skips that. SETUP_GROUPS names the setup.sh groups to install
# (empty: all). A lab (`make lab`) sets it to what its stage's tests need,
# and LAB_STAGE to its stage, which `make test` there tests by default.
SETUP_GROUPS ?=
LAB_STAGE    :=
STAGE_FILTER = $(if $(filter command line environment,$(origin STAGE)),ch$(STAGE),$(if $(LAB_STAGE),ch$(LAB_STAGE)))
test:                                     ## install what is missing, then run the fast half of the tests
	$(if $(NO_SETUP),,@scripts/setup.sh $(SETUP_GROUPS))
	python3 test.py --fast $(STAGE_FILTER)

check:                                    ## install what is missing, then run every test, the book and the solutions
	$(if $(NO_SETUP),,@scripts/setup.sh $(SETUP_GROUPS))
	python3 test.py $(STAGE_FILTER)
	$(if $(STAGE_FILTER),,$(MAKE) -s check-solutions NO_SETUP=1)

# ---- freestanding compile and link -----------------------------------------
$(B)/obj/%.o: src/%.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS_FS) -MMD -MP -c $< -o $@

$(B)/obj/gen/%.o: $(B)/gen/%.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS_FS) -MMD -MP -c $< -o $@

$(LIB): $(LIB_OBJS)
	@mkdir -p $(@D)
	@rm -f $@
	@$(if $(Q),echo "  AR      $@")
	$(Q)ar rcs $@ $^

# Every linked program is checked at once: a binary that is not freestanding
# is a build failure, not a warning.
define link_freestanding
	@mkdir -p $(@D) $(B)/dep
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS_FS) -MMD -MP -MF $(B)/dep/$(subst /,_,$@).d $(LDFLAGS_FS) $< $(LIB) -o $@
	@sh scripts/check-freestanding.sh $@
endef

# src/<layer>/tests/test_x.c -> $(B)/tests/<layer>/test_x
$(foreach L,$(LAYERS),$(eval $(B)/tests/$(L)/%: src/$(L)/tests/%.c $(LIB) scripts/check-freestanding.sh ; $$(link_freestanding)))
$(foreach L,$(LAYERS),$(eval $(B)/bin/%: src/$(L)/demo/%.c $(LIB) scripts/check-freestanding.sh ; $$(link_freestanding)))
$(B)/chapters/%: chapters/code/%.c $(LIB) scripts/check-freestanding.sh ; $(link_freestanding)
$(B)/bin/async-nostd: src/main.c $(LIB) scripts/check-freestanding.sh
	$(link_freestanding)

check-freestanding: $(FREESTANDING_BINS)  ## prove every binary is static with no libc
	@for b in $^; do sh scripts/check-freestanding.sh $$b || exit 1; done
	@echo "freestanding: $(words $^) binaries: no dynamic section, no undefined symbols"

# ---- hosted builds of the pure code (sanitizers, fuzzers) -------------------
# Compiled and linked in one command, so no .d file records their headers:
# they depend on every header of the stage's layers instead (they are small).
HOSTED_HDRS  = src/config.h $(foreach L,$(LAYERS),$(wildcard src/$(L)/*.h src/$(L)/tests/*.h))
$(foreach L,$(LAYERS),$(eval $(B)/hosted/$(L)/%: src/$(L)/tests/%.c $$(PURE_SRCS_$(L)) $$(HOSTED_HDRS) ; \
	@mkdir -p $$(@D) ; echo "  HOSTED  $$@" ; $$(HOSTED_CC) $$(CPPFLAGS) $$(CFLAGS_HOST) $$(filter %.c,$$^) -o $$@))
$(foreach L,$(LAYERS),$(eval $(B)/fuzz/$(L)/%: src/$(L)/fuzz/%.c $$(PURE_SRCS_$(L)) $$(HOSTED_HDRS) ; \
	@mkdir -p $$(@D) ; echo "  FUZZ    $$@" ; $$(HOSTED_CC) $$(CPPFLAGS) $$(CFLAGS_FUZZ) $$(filter %.c,$$^) -o $$@))

fuzz: $(FUZZ_BINS)                        ## run every libFuzzer target for FUZZ_SECONDS
	@for f in $^; do echo "fuzz: $$f ($(FUZZ_SECONDS) s)"; mkdir -p $(B)/corpus/$$(basename $$f); \
	  $$f -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 $(B)/corpus/$$(basename $$f) 2>&1 \
	    | grep -E '^(Done|stat::number_of_executed_units|stat::peak_rss_mb|==[0-9]+==ERROR|SUMMARY)' ; \
	  test $${PIPESTATUS[0]} -eq 0 || exit 1; done

# ---- ThreadSanitizer build of the cross-thread code -------------------------
# TSan cannot see our clone() threads or the thread block behind %fs, so the
# real mem/sched/exec sources are compiled unchanged against a hosted
# stand-in for src/sys (src/sys/hosted/: pthreads, a __thread pointer, libc's
# mmap) and src/sys's pure parts. src/<layer>/tests/tsan_x.c becomes
# build/tsan/<layer>/tsan_x, linked with layers 2..<layer> only.
TSAN_B        := build/tsan
CFLAGS_TSAN   := -std=gnu11 -O1 -g -fno-omit-frame-pointer -fsanitize=thread -DHOSTED=1 $(WARN)
TSAN_SYS_SRCS := $(wildcard src/sys/hosted/*.c) src/sys/string.c src/sys/fmt.c src/sys/errno.c src/sys/io.c \
                 src/sys/vdso.c
$(foreach i,1 2 3 4 5 6 7,$(eval TSAN_UPTO_$(word $(i),$(LAYERS_ALL)) := $(wordlist 2,$(i),$(LAYERS_ALL))))
tsan_objs     = $(patsubst src/%.c,$(TSAN_B)/obj/%.o,$(TSAN_SYS_SRCS) $(foreach M,$(TSAN_UPTO_$(1)),$(wildcard src/$(M)/*.c)))
TSAN_BINS     := $(foreach L,$(LAYERS),$(patsubst src/$(L)/tests/%.c,$(TSAN_B)/$(L)/%,$(wildcard src/$(L)/tests/tsan_*.c)))

$(TSAN_B)/obj/%.o: src/%.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  TSAN    $<")
	$(Q)$(HOSTED_CC) -iquote src $(CFLAGS_TSAN) -MMD -MP -c $< -o $@
$(foreach L,$(LAYERS),$(eval $(TSAN_B)/$(L)/%: $(TSAN_B)/obj/$(L)/tests/%.o $(call tsan_objs,$(L)) ; \
	@mkdir -p $$(@D) ; echo "  LD      $$@" ; $$(HOSTED_CC) -fsanitize=thread $$^ -o $$@))

tsan-build: $(TSAN_BINS)                  ## build the ThreadSanitizer stress tests of stage $(STAGE)
tsan: $(TSAN_BINS)                        ## run the ThreadSanitizer stress tests (full counts); any report fails
	@bad=0; for t in $^; do s=$$(date +%s%N); sh scripts/tsan-run.sh $$t; rc=$$?; \
	  d=$$(( ($$(date +%s%N) - s) / 100000000 )); t="$$t $$((d / 10)).$$((d % 10)) s"; \
	  if [ $$rc -eq 0 ]; then echo "tsan: passed $$t"; else echo "tsan: FAILED (status $$rc) $$t"; bad=1; fi; \
	  done; exit $$bad

# ---- one dialect -----------------------------------------------------------
# Every C file of the project is formatted by .clang-format; `make test` runs
# the check, so a file that drifts fails the suite instead of a review.
FORMAT_FILES = $(sort $(shell find src bench chapters/code -name '*.[ch]' 2>/dev/null))
CLANG_FORMAT ?= clang-format

format:                                   ## reformat every C file in place
	$(CLANG_FORMAT) -i $(FORMAT_FILES)

format-check:                             ## fail if any C file differs from its clang-format form
	@$(CLANG_FORMAT) --dry-run -Werror $(FORMAT_FILES)
	@python3 scripts/check_dialect.py $(FORMAT_FILES)
	@echo "format-check: $(words $(FORMAT_FILES)) files match .clang-format and scripts/check_dialect.py"

# ---- lab mode --------------------------------------------------------------
# `make lab STAGE=N LAB=DIR` exports stage N with the bodies marked
# `// [lab: name]` in its layer replaced by stubs that panic with
# "lab: write name (chapter N)": the reader writes them, `make test STAGE=N`
# in DIR grades them. It also writes the lab's edition of the book to
# DIR/book/ (listings show those functions' contracts and stubs, not their
# bodies). STAGE must be given: the default 7 is no choice.
lab:                                      ## export stage STAGE as a workspace in LAB=DIR to write its key bodies
	@python3 scripts/lab.py export "$(if $(filter command line environment,$(origin STAGE)),$(STAGE))" "$(LAB)"

lab-check:                                ## prove every stage's lab fails its tests and the reference passes them
	@python3 scripts/lab.py check

# Each exercise solution (chapters/solutions/*.patch) applied to a clean copy,
# that stage's tests and the exercise's own check run on it.
check-solutions:                          ## apply and test every exercise solution in chapters/solutions/
	python3 scripts/check_solutions.py

# ---- running ---------------------------------------------------------------
RUN_ARGS ?=
run: all                                  ## run the stage's demo (the server from stage 6 on)
	$(if $(SERVER),$(SERVER) $(RUN_ARGS),$(foreach d,$(DEMO_BINS),$(d) $(RUN_ARGS);))

# ---- editor support --------------------------------------------------------
compile_commands.json:                    ## write compile_commands.json for clangd
	@python3 scripts/compile_db.py "$(CC) $(CPPFLAGS) $(CFLAGS_FS)" \
	    $(foreach L,$(LAYERS),$(wildcard src/$(L)/*.c src/$(L)/tests/test_*.c src/$(L)/demo/*.c)) \
	    $(wildcard src/main.c) > $@
	@echo "wrote $@"

-include $(wildcard scripts/book/book.mk bench/bench.mk)

# `make book` first installs what its transcripts need: without the npm
# packages the browser test skips, and its transcript fails. setup.sh takes a
# fraction of a second when nothing is missing; NO_SETUP=1 skips it.
.PHONY: book-setup
book-setup:
	$(if $(NO_SETUP),@:,@scripts/setup.sh)
book-transcripts: book-setup
-include $(shell find $(B) $(TSAN_B) -name '*.d' 2>/dev/null)

clean:                                    ## remove build/
	rm -rf build

help:                                     ## list the targets
	@echo "usage: make [target] [STAGE=1..7] [CC=gcc|clang]   (now: STAGE=$(STAGE), layers: $(LAYERS))"
	@grep -hE '^[a-zA-Z_.-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/^([^:]+):.*## (.*)/  \1\t\2/' | expand -t 24
