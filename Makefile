# Makefile for the scim extension (PGXS).
#
#   make            build the extension and scim-server
#   make install    install them into the PostgreSQL found by $(PG_CONFIG)
#   make run        install what is missing, build, serve a demo SCIM endpoint
#   make test       install what is missing, build, run every suite
#   make fuzz       build the libFuzzer targets (FUZZ_SECONDS=N make fuzz-run)
#   make bench      run the benchmarks in bench/
#   make deb        Debian packages (debian/) into build/deb/
#   make dist       scim-<version>.zip for PGXN
#   make test-packages  build both and check them

PG_CONFIG ?= pg_config
PKG_CONFIG ?= pkg-config

EXTENSION = scim
EXTVERSION := $(shell sed -n "s/^default_version *= *'\(.*\)'/\1/p" scim.control)

MODULE_big = scim

CORE_OBJS = \
	src/core/arena.o \
	src/core/datetime.o \
	src/core/decimal.o \
	src/core/error.o \
	src/core/filter_eval.o \
	src/core/filter_parse.o \
	src/core/filter_print.o \
	src/core/filter_resolve.o \
	src/core/filter_sql.o \
	src/core/filter_store.o \
	src/core/json_view.o \
	src/core/patch.o \
	src/core/patch_apply.o \
	src/core/patch_json.o \
	src/core/patch_path.o \
	src/core/patch_value.o \
	src/core/projection.o \
	src/core/schema.o \
	src/core/strbuf.o \
	src/core/utf8.o

PG_OBJS = \
	src/pg/auth.o \
	src/pg/body_parse.o \
	src/pg/cache.o \
	src/pg/change_notify.o \
	src/pg/change_rows.o \
	src/pg/changes.o \
	src/pg/cursor.o \
	src/pg/deadline.o \
	src/pg/discovery.o \
	src/pg/document.o \
	src/pg/errors.o \
	src/pg/filter_funcs.o \
	src/pg/filter_type.o \
	src/pg/handle.o \
	src/pg/import.o \
	src/pg/import_keys.o \
	src/pg/json_sink.o \
	src/pg/jsonb_ops.o \
	src/pg/jsonb_view.o \
	src/pg/jsonc_conv.o \
	src/pg/list.o \
	src/pg/list_funcs.o \
	src/pg/members.o \
	src/pg/user_groups.o \
	src/pg/module.o \
	src/pg/patch_funcs.o \
	src/pg/project_funcs.o \
	src/pg/registry.o \
	src/pg/read.o \
	src/pg/request.o \
	src/pg/respond.o \
	src/pg/route.o \
	src/pg/secrets.o \
	src/pg/statements.o \
	src/pg/tenant.o \
	src/pg/user_patch.o \
	src/pg/values.o \
	src/pg/write.o

OBJS = $(CORE_OBJS) $(PG_OBJS)

# Install scripts live in src/ext/ (hand-written SQL) and src/schemas/ (the
# RFC 7643 schemas as JSON); the script PostgreSQL runs is assembled from
# them.  sql/ and expected/ hold only pg_regress inputs and outputs.
DATA_built = scim--$(EXTVERSION).sql
# Each release's install script as released, frozen (src/ext/released/,
# never edited), and the upgrade scripts from one release to the next
# (src/ext/upgrade/): ALTER EXTENSION scim UPDATE follows them.
DATA = src/ext/released/scim--0.1.0.sql \
	src/ext/released/scim--0.2.0.sql \
	src/ext/upgrade/scim--0.1.0--0.2.0.sql \
	src/ext/upgrade/scim--0.2.0--0.3.0.sql
SCHEMA_JSON = src/schemas/common.json src/schemas/user.json src/schemas/group.json \
	src/schemas/enterprise_user.json

REGRESS = filter_parse filter_sql filter_matches filter_idp schema_registry patch patch_idp patch_prepared responses handle handle_fast handle_text handle_members \
	filter_index filter_property
REGRESS += security secrets deadline
REGRESS += filter_limits
REGRESS += handle_revocation
REGRESS += handle_hygiene
REGRESS += handle_corpus
REGRESS += error_codes
REGRESS += handle_filters_members
REGRESS += discovery_claims
REGRESS += tenant_keys
REGRESS += handle_write
REGRESS += handle_read_only
REGRESS += changes
REGRESS += import
REGRESS_OPTS = --inputdir=. --encoding=UTF8

JSONC_CFLAGS := $(shell $(PKG_CONFIG) --cflags json-c 2>/dev/null)
JSONC_LIBS := $(shell $(PKG_CONFIG) --libs json-c 2>/dev/null || echo -ljson-c)

WARNINGS = -Wall -Wextra -Wno-unused-parameter -Wno-sign-compare \
	-Wno-missing-field-initializers -Wno-cast-function-type
PG_CPPFLAGS = -Isrc/core $(JSONC_CFLAGS)
PG_CFLAGS = $(WARNINGS) $(if $(SCIM_WERROR),-Werror)
SHLIB_LINK = $(JSONC_LIBS)

EXTRA_CLEAN = build results regression.diffs regression.out scim-server scim-*.zip

PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# The core is plain C99 without PostgreSQL; json-c's foreach macro declares
# its variables where it stands, which PostgreSQL's C90-style warning rejects.
$(CORE_OBJS): override CFLAGS += -Wno-declaration-after-statement

# PGXS tracks no header dependencies: rebuild everything when a header changes
$(OBJS): $(wildcard src/core/*.h src/pg/*.h)

# the install script's parts, in the order they run
EXT_SQL = src/ext/scim.sql src/ext/store.sql src/ext/changes.sql src/ext/handle.sql src/ext/import.sql src/ext/privileges.sql

scim--$(EXTVERSION).sql: $(EXT_SQL) src/ext/build-install.sh $(SCHEMA_JSON)
	sh src/ext/build-install.sh src/schemas $(EXT_SQL) > $@.tmp && mv $@.tmp $@

# ---- scim-server: the HTTP layer (libmicrohttpd + libpq) -----------------

SERVER_SRCS = src/server/config.c src/server/db.c src/server/json_text.c \
	src/server/pool.c src/server/resolve.c src/server/server.c src/core/utf8.c \
	src/server/access_log.c src/server/requests.c src/server/pool_connect.c src/server/pool_tick.c
SERVER_SRCS += src/server/clients.c src/server/tls.c
# the server serves the extension of its own version (db.c checks each connection's)
SERVER_CFLAGS = -std=gnu11 -O2 -g $(WARNINGS) $(if $(SCIM_WERROR),-Werror) -pthread -Isrc/core \
	-DSCIM_EXTVERSION=\"$(EXTVERSION)\" \
	$(shell $(PKG_CONFIG) --cflags libmicrohttpd 2>/dev/null) -I$(shell $(PG_CONFIG) --includedir) $(JSONC_CFLAGS) \
	$(shell $(PKG_CONFIG) --cflags gnutls 2>/dev/null)
SERVER_LIBS = $(shell $(PKG_CONFIG) --libs libmicrohttpd 2>/dev/null || echo -lmicrohttpd) \
	$(shell $(PKG_CONFIG) --libs gnutls 2>/dev/null || echo -lgnutls) \
	-L$(shell $(PG_CONFIG) --libdir) -lpq $(JSONC_LIBS) -pthread

# SERVER_BUILD_FLAGS: a packager's flags (debian/rules: dpkg's hardening)
scim-server: $(SERVER_SRCS) src/server/server.h src/server/pool_int.h src/core/utf8.h src/core/defaults.h scim.control
	$(CC) $(SERVER_CFLAGS) $(SERVER_BUILD_FLAGS) -o $@ $(SERVER_SRCS) $(SERVER_LIBS)

all: scim-server

install: install-server

install-server: scim-server
	$(MKDIR_P) '$(DESTDIR)$(bindir)'
	$(INSTALL_PROGRAM) scim-server '$(DESTDIR)$(bindir)/scim-server'

# ---- the core's unit tests: plain C, no server -------------------------

CORE_SRCS = $(CORE_OBJS:.o=.c)
UNIT_TESTS = $(patsubst test/unit/%.c,build/unit/%,$(wildcard test/unit/test_*.c))
UNIT_CFLAGS = -std=c11 -g -O1 $(WARNINGS) -Werror -Isrc/core -Itest/unit $(JSONC_CFLAGS) \
	-DSCIM_SOURCE_DIR=\"$(CURDIR)\"

build/unit/%: test/unit/%.c $(CORE_SRCS) $(wildcard src/core/*.h) test/unit/unit.h
	@mkdir -p build/unit
	$(CC) $(UNIT_CFLAGS) -o $@ $< $(CORE_SRCS) $(JSONC_LIBS)

unit: $(UNIT_TESTS)

# ---- fuzzing (clang's libFuzzer) ---------------------------------------

FUZZ_TARGETS = $(patsubst test/fuzz/%.c,build/fuzz/%,$(wildcard test/fuzz/fuzz_*.c))
FUZZ_SECONDS ?= 60

build/fuzz/%: test/fuzz/%.c $(CORE_SRCS) $(wildcard src/core/*.h) test/unit/fixtures.h
	@mkdir -p build/fuzz
	clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
		-Isrc/core -Itest/unit $(JSONC_CFLAGS) -DSCIM_SOURCE_DIR=\"$(CURDIR)\" \
		-o $@ $< $(CORE_SRCS) $(JSONC_LIBS)

# the server's own JSON reader, against json-c
build/fuzz/fuzz_headers: test/fuzz/fuzz_headers.c src/server/json_text.c src/server/server.h src/core/utf8.c
	@mkdir -p build/fuzz
	clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
		-Isrc/server -Isrc/core -I$(shell $(PG_CONFIG) --includedir) $(JSONC_CFLAGS) \
		-o $@ $< src/server/json_text.c src/core/utf8.c $(JSONC_LIBS)

fuzz: $(FUZZ_TARGETS)

fuzz-run: fuzz
	sh test/fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_TARGETS)

# ---- everything ----------------------------------------------------------

test:
	sh test/deps.sh
	$(MAKE) all unit SCIM_WERROR=1
	sh test/run.sh

run:
	sh src/server/run.sh

bench: all
	sh bench/run.sh

# ---- packages ---------------------------------------------------------------

# what building and checking the packages needs, besides test/deps.sh's own
PACKAGING_DEPS = debhelper dpkg-dev postgresql-server-dev-all postgresql-all help2man \
	lintian systemd unzip git
DEB_DIR ?= build/deb
DIST_DIR ?= .

deb:
	sh test/deps.sh $(PACKAGING_DEPS)
	sh src/pkg/deb.sh $(DEB_DIR)

dist:
	sh src/pkg/dist.sh $(DIST_DIR)

test-packages:
	sh test/deps.sh $(PACKAGING_DEPS)
	sh test/packages.sh

.PHONY: unit fuzz fuzz-run test run bench install-server deb dist test-packages
