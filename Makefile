# pancake: one hand-written Makefile for the launcher, its library and tests.
#   make                 build ./pancake and the library
#   make test            unit tests, then integration tests (needs dockerd)
#   make unit            unit tests only
#   make fuzz            libFuzzer targets for FUZZ_SECONDS each (clang), or
#                        the corpus replayed with sanitizers (no clang)
#   make fuzz-smoke      the corpus replayed with sanitizers ($(CC), for CI)
#   DEVELOPER=1          adds -Werror
#   SANITIZE=address,undefined   builds with sanitizers

CC      ?= cc
CFLAGS  ?= -O2 -g
WARN    := -Wall -Wextra -Wshadow -Wvla -Wstrict-prototypes \
           -Wmissing-prototypes -Wformat=2 -Wno-format-nonliteral
ifeq ($(DEVELOPER),1)
WARN    += -Werror
endif
ifneq ($(SANITIZE),)
CFLAGS  += -fsanitize=$(SANITIZE) -fno-omit-frame-pointer
LDFLAGS += -fsanitize=$(SANITIZE)
endif
PKGS    := libcurl jansson rdkafka hiredis
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE -pthread $(WARN) $(CFLAGS) \
           -Isandbox $(shell pkg-config --cflags $(PKGS) ncursesw)
LIBS    := $(shell pkg-config --libs $(PKGS)) -pthread -lm
TUILIBS := $(shell pkg-config --libs ncursesw)

# the library every binary links: util, clients, core
LIB_SRC := $(wildcard sandbox/util/*.c sandbox/clients/*.c sandbox/core/*.c)
LIB_OBJ := $(LIB_SRC:.c=.o)
LIB     := sandbox/libpancake.a
# the model library (sandbox/model): the model file, the registry (libgit2),
# the Redis key layout, sparse rows and top-k scoring (OpenBLAS). Its own
# archive, so that only what pulls the registry or top-k links libgit2 or
# OpenBLAS. Core uses it (the loader's key names) and it uses util and
# clients, so links name $(LIB) again after it: $(LIBA).
MODEL_SRC := $(wildcard sandbox/model/*.c)
MODEL_OBJ := $(MODEL_SRC:.c=.o)
MODEL_LIB := sandbox/libpancake-model.a
MODEL_PKGS := openblas libgit2
# -O3: top-k's loops vectorise
MODEL_CFLAGS = $(ALL_CFLAGS) -O3 $(shell pkg-config --cflags $(MODEL_PKGS))
MODEL_LIBS := $(shell pkg-config --libs $(MODEL_PKGS))
GIT_LIBS := $(shell pkg-config --libs libgit2)
LIBA    := $(LIB) $(MODEL_LIB) $(LIB)
# the launcher: commands and the terminal UI
APP_SRC := $(wildcard sandbox/cmd-*.c sandbox/tui/*.c) sandbox/cli.c sandbox/main.c
APP_OBJ := $(APP_SRC:.c=.o)

UNIT_SRC := $(wildcard tests/unit/test-*.c)
UNIT_BIN := $(UNIT_SRC:.c=)

# the recommender (services/recommender): ALS on OpenBLAS and its commands
RECO     := services/recommender/recommender
RECO_DIR := services/recommender
# -O3: the kernels' loops vectorise (the CG gather ran twice as fast)
RECO_CFLAGS = $(ALL_CFLAGS) -O3 $(shell pkg-config --cflags openblas)
# the kernels and solves (everything but the commands), for unit tests too
RECO_CORE := als eval publish
RECO_CORE_OBJ := $(RECO_CORE:%=$(RECO_DIR)/%.o)
RECO_OBJ := $(RECO_CORE_OBJ) $(patsubst %.c,%.o,$(wildcard $(RECO_DIR)/cmd-*.c)) \
           $(RECO_DIR)/rec.o $(RECO_DIR)/main.o
RECO_UNIT := tests/unit/test-als
# the model library's own tests, with libgit2 and OpenBLAS
MODEL_UNIT := tests/unit/test-registry tests/unit/test-keys tests/unit/test-servingrun
UNIT_BIN := $(filter-out $(RECO_UNIT) $(MODEL_UNIT),$(UNIT_BIN)) $(RECO_UNIT) $(MODEL_UNIT)

# the serving binary (services/serving): libmicrohttpd, and the model library
# for the model in memory
SERV     := services/serving/serving
SERV_DIR := services/serving
SERV_CFLAGS = $(ALL_CFLAGS) -O3 $(shell pkg-config --cflags openblas libmicrohttpd)
SERV_LIBS := $(MODEL_LIBS) $(shell pkg-config --libs libmicrohttpd)
SERV_CORE := route bandit ledger
SERV_CORE_OBJ := $(SERV_CORE:%=$(SERV_DIR)/%.o)
SERV_OBJ := $(SERV_CORE_OBJ) $(SERV_DIR)/variant.o $(SERV_DIR)/server.o $(SERV_DIR)/main.o
SERV_UNIT := tests/unit/test-serving
UNIT_BIN := $(filter-out $(SERV_UNIT),$(UNIT_BIN)) $(SERV_UNIT)

all: pancake $(RECO) $(SERV)

$(SERV): $(SERV_OBJ) $(LIB) $(MODEL_LIB)
	$(CC) $(LDFLAGS) -o $@ $(SERV_OBJ) $(LIBA) $(SERV_LIBS) $(LIBS)

$(SERV_DIR)/%.o: $(SERV_DIR)/%.c
	$(CC) $(SERV_CFLAGS) -MMD -MP -c -o $@ $<

$(SERV_UNIT): tests/unit/test-%: tests/unit/test-%.c tests/unit/tap.h $(SERV_CORE_OBJ) $(LIB) $(MODEL_LIB)
	$(CC) $(SERV_CFLAGS) -I$(SERV_DIR) -Itests/unit $(LDFLAGS) -o $@ $< $(SERV_CORE_OBJ) \
	  $(LIBA) $(LIBS)

$(RECO): $(RECO_OBJ) $(LIB) $(MODEL_LIB)
	$(CC) $(LDFLAGS) -o $@ $(RECO_OBJ) $(LIBA) $(MODEL_LIBS) $(LIBS)

$(RECO_DIR)/%.o: $(RECO_DIR)/%.c
	$(CC) $(RECO_CFLAGS) -MMD -MP -c -o $@ $<

$(RECO_UNIT): tests/unit/test-%: tests/unit/test-%.c tests/unit/tap.h $(RECO_CORE_OBJ) $(LIB) $(MODEL_LIB)
	$(CC) $(RECO_CFLAGS) -I$(RECO_DIR) -Itests/unit $(LDFLAGS) -o $@ $< $(RECO_CORE_OBJ) \
	  $(LIBA) $(MODEL_LIBS) $(LIBS)

sandbox/model/%.o: sandbox/model/%.c
	$(CC) $(MODEL_CFLAGS) -MMD -MP -c -o $@ $<

$(MODEL_UNIT): tests/unit/test-%: tests/unit/test-%.c tests/unit/tap.h $(LIB) $(MODEL_LIB)
	$(CC) $(MODEL_CFLAGS) -Itests/unit $(LDFLAGS) -o $@ $< $(LIBA) $(MODEL_LIBS) $(LIBS)

# the terminal UI's pure helpers (no curses), tested without the screen
TUI_UNIT := tests/unit/test-text
$(TUI_UNIT): tests/unit/test-%: tests/unit/test-%.c tests/unit/tap.h sandbox/tui/%.o
	$(CC) $(ALL_CFLAGS) -Itests/unit $(LDFLAGS) -o $@ $< sandbox/tui/$*.o
# markdown wraps with text and keeps its lines in the library's buffers; chart
# keeps its points and grid text in them
TUI_UNIT_LIB := tests/unit/test-markdown tests/unit/test-chart
UNIT_BIN := $(filter-out $(TUI_UNIT_LIB),$(UNIT_BIN)) $(TUI_UNIT_LIB)
$(TUI_UNIT_LIB): tests/unit/test-%: tests/unit/test-%.c tests/unit/tap.h sandbox/tui/%.o \
		sandbox/tui/text.o $(LIB)
	$(CC) $(ALL_CFLAGS) -Itests/unit $(LDFLAGS) -o $@ $< sandbox/tui/$*.o sandbox/tui/text.o $(LIBA) $(LIBS)

# the launcher links the registry (pancake models), so libgit2 too
pancake: $(APP_OBJ) $(LIB) $(MODEL_LIB)
	$(CC) $(LDFLAGS) -o $@ $(APP_OBJ) $(LIBA) $(GIT_LIBS) $(LIBS) $(TUILIBS)

$(LIB): $(LIB_OBJ)
	rm -f $@
	ar rcs $@ $(LIB_OBJ)

$(MODEL_LIB): $(MODEL_OBJ)
	rm -f $@
	ar rcs $@ $(MODEL_OBJ)

%.o: %.c
	$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

tests/unit/test-%: tests/unit/test-%.c tests/unit/tap.h $(LIB) $(MODEL_LIB)
	$(CC) $(ALL_CFLAGS) -Itests/unit $(LDFLAGS) -o $@ $< $(LIBA) $(LIBS)

# programs the integration tests and benchmarks run against real services
tests/tools/%: tests/tools/%.c $(LIB) $(MODEL_LIB)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< $(LIBA) $(LIBS)

# checks that are scripts: ARCHITECTURE.md against the tree
UNIT_SH := tests/unit/test-architecture.sh

unit: $(UNIT_BIN)
	@sh tests/run-unit $(UNIT_BIN) $(UNIT_SH)

integration: pancake
	@sh tests/run-integration

test: pancake $(RECO) $(SERV) $(UNIT_BIN) fuzz-smoke
	@sh tests/run-all $(UNIT_BIN) $(UNIT_SH)

# a three-engine Swarm in network namespaces (issue 16): up, swarm, an
# image on every node, a 3-replica service on an overlay network, down;
# then t-swarm-up.sh: pancake up/ps/down --swarm with redis; then
# t-stack.sh: the whole stack across the nodes, images saved and loaded,
# drain and engine-restart drills, a class of two stacks.
# Needs root, iproute2 and docker.io's dockerd; not part of test or CI.
test-cluster: pancake
	@bash tests/cluster/cluster.sh test
	@bash tests/cluster/t-swarm-up.sh
	@bash tests/cluster/t-stack.sh

# every benchmark, each beside its anchor in the same run (the stack is
# brought up by the first and left up for the rest)
BENCHES := up launcher datagen load-kafka load-redis-es cql load-cassandra als serving
bench: pancake
	@for b in $(BENCHES); do echo "== bench-$$b"; BENCH_KEEP_STACK=1 bash tests/bench/bench-$$b.sh || exit 1; done

# pancake's swarm mode against docker stack deploy, and serving's requests
# per second on 1 and 3 replicas against one machine (issue 16), on a
# three-engine harness of its own (pb-*, 10.78.0.0/24, /tmp/pbench). Needs
# root and what make test-cluster needs; not in BENCHES, not in CI.
bench-swarm: all
	@bash tests/bench/bench-swarm.sh

# fuzzing: tests/fuzz/fuzz-NAME.c, seeds in tests/fuzz/corpus/NAME/. The
# parsers are compiled into each binary, with the fuzzing compiler's own
# instrumentation, rather than taken from the $(CC)-built $(LIB).
FUZZ_TARGETS := docker-stream cql service dataset model route feedback framing lab markdown \
           progress chart prom
FUZZ_SECONDS ?= 30
FUZZ_CC      ?= $(shell command -v clang 2>/dev/null || command -v clang-14 2>/dev/null)
FUZZ_LIB_SRC := $(wildcard sandbox/util/*.c) sandbox/clients/docker-stream.c \
           sandbox/clients/cql.c sandbox/core/service.c sandbox/core/lab.c \
           sandbox/model/model.c sandbox/model/progress.c services/serving/route.c \
           sandbox/tui/markdown.c sandbox/tui/text.c sandbox/tui/chart.c
FUZZ_DEPS    := $(FUZZ_LIB_SRC) $(wildcard sandbox/util/*.h) \
           sandbox/clients/docker-stream.h sandbox/clients/cql.h \
           sandbox/core/service.h sandbox/core/dataset.h sandbox/core/lab.h \
           sandbox/model/model.h sandbox/model/progress.h sandbox/tui/markdown.h sandbox/tui/text.h \
           sandbox/tui/chart.h \
           services/serving/route.h tests/fuzz/fuzz.h
FUZZ_CFLAGS   = -std=c11 -D_GNU_SOURCE -pthread $(WARN) -O1 -g \
           -fno-omit-frame-pointer -fno-sanitize-recover=all -Isandbox \
           -Itests/fuzz -Iservices/serving $(shell pkg-config --cflags jansson)
FUZZ_LIBS    := $(shell pkg-config --libs jansson) -pthread -lm
FUZZ_BIN     := $(FUZZ_TARGETS:%=tests/fuzz/%-fuzz)
FUZZ_SMOKE   := $(FUZZ_TARGETS:%=tests/fuzz/%-smoke)

tests/fuzz/%-fuzz: tests/fuzz/fuzz-%.c $(FUZZ_DEPS)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer,address,undefined -o $@ \
	  $< $(FUZZ_LIB_SRC) $(FUZZ_LIBS)

tests/fuzz/%-smoke: tests/fuzz/fuzz-%.c tests/fuzz/driver.c $(FUZZ_DEPS)
	$(CC) $(FUZZ_CFLAGS) -fsanitize=address,undefined -o $@ \
	  $< tests/fuzz/driver.c $(FUZZ_LIB_SRC) $(FUZZ_LIBS)

# new inputs go to tests/out/fuzz/NAME/ (ignored), crashes to .../crash-*
ifneq ($(FUZZ_CC),)
fuzz: $(FUZZ_BIN)
	@for t in $(FUZZ_TARGETS); do \
	  mkdir -p tests/out/fuzz/$$t/corpus || exit 1; \
	  echo "fuzz $$t for $(FUZZ_SECONDS)s"; \
	  tests/fuzz/$$t-fuzz -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
	    -artifact_prefix=tests/out/fuzz/$$t/ \
	    tests/out/fuzz/$$t/corpus tests/fuzz/corpus/$$t || exit 1; \
	done
else
fuzz: fuzz-smoke
endif

fuzz-smoke: $(FUZZ_SMOKE)
	@for t in $(FUZZ_TARGETS); do \
	  tests/fuzz/$$t-smoke tests/fuzz/corpus/$$t || exit 1; \
	done

clean:
	rm -f pancake $(LIB) $(LIB_OBJ) $(APP_OBJ) $(UNIT_BIN) \
	  $(LIB_OBJ:.o=.d) $(APP_OBJ:.o=.d) $(FUZZ_BIN) $(FUZZ_SMOKE) \
	  $(MODEL_LIB) $(MODEL_OBJ) $(MODEL_OBJ:.o=.d) \
	  $(RECO) $(RECO_OBJ) $(RECO_OBJ:.o=.d) $(SERV) $(SERV_OBJ) $(SERV_OBJ:.o=.d)

.PHONY: all unit integration test test-cluster bench bench-swarm clean fuzz fuzz-smoke
-include $(LIB_OBJ:.o=.d) $(MODEL_OBJ:.o=.d) $(APP_OBJ:.o=.d) $(RECO_OBJ:.o=.d) $(SERV_OBJ:.o=.d)
