# pancake: one hand-written Makefile for the launcher, its library and tests.
#   make                 build ./pancake and the library
#   make test            unit tests, then integration tests (needs dockerd)
#   make unit            unit tests only
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
# the launcher: commands and the terminal UI
APP_SRC := $(wildcard sandbox/cmd-*.c sandbox/tui/*.c) sandbox/cli.c sandbox/main.c
APP_OBJ := $(APP_SRC:.c=.o)

UNIT_SRC := $(wildcard tests/unit/test-*.c)
UNIT_BIN := $(UNIT_SRC:.c=)

all: pancake

pancake: $(APP_OBJ) $(LIB)
	$(CC) $(LDFLAGS) -o $@ $(APP_OBJ) $(LIB) $(LIBS) $(TUILIBS)

$(LIB): $(LIB_OBJ)
	rm -f $@
	ar rcs $@ $(LIB_OBJ)

%.o: %.c
	$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

tests/unit/test-%: tests/unit/test-%.c tests/unit/tap.h $(LIB)
	$(CC) $(ALL_CFLAGS) -Itests/unit $(LDFLAGS) -o $@ $< $(LIB) $(LIBS)

unit: $(UNIT_BIN)
	@sh tests/run-unit $(UNIT_BIN)

integration: pancake
	@sh tests/run-integration

test: pancake $(UNIT_BIN)
	@sh tests/run-all $(UNIT_BIN)

bench: pancake
	@bash tests/bench/bench-up.sh
	@bash tests/bench/bench-launcher.sh

clean:
	rm -f pancake $(LIB) $(LIB_OBJ) $(APP_OBJ) $(UNIT_BIN) \
	  $(LIB_OBJ:.o=.d) $(APP_OBJ:.o=.d)

.PHONY: all unit integration test bench clean
-include $(LIB_OBJ:.o=.d) $(APP_OBJ:.o=.d)
