# bench/bench.mk: benchmark targets, included by the top-level Makefile.
#
#   make bench         full run (under 15 minutes on 2 cores; PROFILE=quick for the
#                      reduced grid): results/<date>-<host>-<commit>.csv,
#                      results/latest.csv, results/summary-*.md, plots/*.png and *.svg
#   make bench-quick   reduced grid (under 4 minutes) into build/bench/quick/
#   make plots         redraw plots/ from results/latest.csv (or BENCH_CSV=file)
#   make bench-smoke   the few-second check that `make test` runs
#   make bench-floors  the floor servers of bench/floor/ into build/bench/ (hosted C)
#   make bench-pipeline-load  the pipelining load generator bench/pipeline_load.c (hosted C)
#   make bench-idle    RSS of 10,000 idle keep-alive connections vs nginx (about 2 minutes):
#                      results/idle-<date>-<host>-<commit>.csv, results/idle-latest.csv
#   make bench-profile where a pipelined request's CPU goes (perf, under a minute), ours vs
#                      the epoll floor: results/profile-pipelined-<date>-<host>-<commit>.md, .csv
#
# Uses STAGE and B of the including Makefile: the server is $(B)/bin/async-nostd.

BENCH_PY      ?= python3
BENCH_CC      ?= cc
BENCH_SERVER   = $(B)/bin/async-nostd
BENCH_WS_LOAD := build/bench/ws_load
BENCH_PIPELINE_LOAD := build/bench/pipeline_load
BENCH_FLOORS  := build/bench/floor_epoll build/bench/floor_uring
BENCH_OPENLOOP := build/bench/openloop
BENCH_CSV     ?= results/latest.csv
BENCH_ARGS    ?=
# Two alternating runs per server for the idle-memory figures of `make bench`.
BENCH_IDLE_ARGS ?= --runs 2

.PHONY: bench bench-quick bench-idle bench-profile plots bench-smoke bench-setup bench-server bench-floors bench-pipeline-load

bench-setup:
	@bash scripts/setup.sh bench interop

# The server is built by the main Makefile's own rule, at the chosen stage.
bench-server:
	@test "$(STAGE)" -ge 6 || { echo "bench: the HTTP server exists from STAGE=6 on (now STAGE=$(STAGE))" >&2; exit 1; }
	@$(MAKE) --no-print-directory STAGE=$(STAGE) B=$(B) $(BENCH_SERVER)

$(BENCH_WS_LOAD): bench/ws_load.c bench/hist.h
	@mkdir -p $(@D)
	@echo "  CC      $@ (hosted)"
	$(Q)$(BENCH_CC) -O2 -Wall -Wextra -o $@ $<

$(BENCH_OPENLOOP): bench/openloop.c
	@mkdir -p $(@D)
	@echo "  CC      $@ (hosted)"
	$(Q)$(BENCH_CC) -O2 -Wall -Wextra -pthread -o $@ $< -lm

$(BENCH_PIPELINE_LOAD): bench/pipeline_load.c bench/hist.h
	@mkdir -p $(@D)
	@echo "  CC      $@ (hosted)"
	$(Q)$(BENCH_CC) -O2 -Wall -Wextra -o $@ $<

# The floor servers (bench/floor/): hosted C, never part of the server.
build/bench/floor_epoll: bench/floor/floor_epoll.c bench/floor/common.c bench/floor/common.h
	@mkdir -p $(@D)
	@echo "  CC      $@ (hosted)"
	$(Q)$(BENCH_CC) -O2 -Wall -Wextra -o $@ bench/floor/floor_epoll.c bench/floor/common.c

build/bench/floor_uring: bench/floor/floor_uring.c bench/floor/common.c bench/floor/common.h
	@mkdir -p $(@D)
	@echo "  CC      $@ (hosted, liburing)"
	$(Q)$(BENCH_CC) -O2 -Wall -Wextra -o $@ bench/floor/floor_uring.c bench/floor/common.c -luring

bench-floors: $(BENCH_FLOORS)                          ## build the floor servers into build/bench/

bench-pipeline-load: $(BENCH_PIPELINE_LOAD)            ## build the pipelining load generator into build/bench/

# [snippet: bench-make-targets]
bench: bench-setup bench-server $(BENCH_WS_LOAD) $(BENCH_PIPELINE_LOAD) $(BENCH_OPENLOOP) $(BENCH_FLOORS) ## benchmark vs nginx, h2o, node ws, the floors: results/, plots/
	$(BENCH_PY) bench/run.py $(if $(PROFILE),--profile $(PROFILE)) --server $(BENCH_SERVER) \
	    --command "make bench$(if $(PROFILE), PROFILE=$(PROFILE))" $(BENCH_ARGS)
	$(if $(filter-out default,$(PROFILE)),@echo "bench: no idle-memory run with PROFILE=$(PROFILE) (make bench-idle runs it)",\
	    $(BENCH_PY) bench/idle_mem.py --server $(BENCH_SERVER) --command "make bench" $(BENCH_IDLE_ARGS))

bench-quick: bench-setup bench-server $(BENCH_WS_LOAD) $(BENCH_PIPELINE_LOAD) $(BENCH_OPENLOOP) $(BENCH_FLOORS) ## reduced benchmark grid (< 4 min) into build/bench/quick/
	$(BENCH_PY) bench/run.py --profile quick --server $(BENCH_SERVER) --command "make bench-quick" $(BENCH_ARGS)

bench-idle: bench-setup bench-server                   ## idle-connection memory vs nginx (~2 min): results/idle-*.csv
	$(BENCH_PY) bench/idle_mem.py --server $(BENCH_SERVER) --command "make bench-idle" $(BENCH_IDLE_ARGS)

bench-profile: bench-server $(BENCH_PIPELINE_LOAD) build/bench/floor_epoll ## perf profile at depth 16 vs the floor: results/
	$(BENCH_PY) bench/profile_pipelined.py --server $(BENCH_SERVER) --command "make bench-profile" $(BENCH_ARGS)

plots:                                                 ## redraw plots/ from results/latest.csv (BENCH_CSV=...)
	$(BENCH_PY) bench/report.py plots $(BENCH_CSV) --out plots
# [end: bench-make-targets]

bench-smoke: bench-server                              ## a few-second bench run: a CSV row, a plot, >= 10,000 req/s
	$(BENCH_PY) bench/smoke.py --server $(BENCH_SERVER)
