EXTENSION = retail_analytics
EXTVERSION = $(shell sed -n "s/^default_version = '\(.*\)'/\1/p" $(EXTENSION).control)

MODULE_big = retail_analytics
OBJS = $(patsubst %.c,%.o,$(sort $(wildcard src/*.c)))

# The install script of the current version and each upgrade script are
# assembled from one file per feature area, in name order: sql/install/*.sql
# and sql/upgrade/OLD--NEW/*.sql, for the version in development.  The scripts
# of released versions are plain files kept as they shipped, never assembled
# again: sql/$(EXTENSION)--OLD.sql (for the upgrade-chain test) and
# sql/$(EXTENSION)--OLDER--OLD.sql.
INSTALL_PARTS = $(sort $(wildcard sql/install/*.sql))
UPGRADES = $(notdir $(wildcard sql/upgrade/*--*))
UPGRADE_SCRIPTS = $(patsubst %,sql/$(EXTENSION)--%.sql,$(UPGRADES))
DATA_built = sql/$(EXTENSION)--$(EXTVERSION).sql $(UPGRADE_SCRIPTS)
DATA = $(filter-out $(DATA_built),$(wildcard sql/$(EXTENSION)--*.sql))
EXTRA_CLEAN = $(DATA_built)

TESTS = $(sort $(wildcard test/sql/*.sql))
REGRESS = $(patsubst test/sql/%.sql,%,$(TESTS))
REGRESS_OPTS = --inputdir=test --load-extension=$(EXTENSION)
# Concurrency: isolation specs, test/specs/*.spec (pg_isolation_regress).
ISOLATION = $(patsubst test/specs/%.spec,%,$(sort $(wildcard test/specs/*.spec)))
ISOLATION_OPTS = --inputdir=test --load-extension=$(EXTENSION)

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

sql/$(EXTENSION)--$(EXTVERSION).sql: $(INSTALL_PARTS)
	cat $^ > $@

.SECONDEXPANSION:
$(UPGRADE_SCRIPTS): sql/$(EXTENSION)--%.sql: $$(sort $$(wildcard sql/upgrade/%/*.sql))
	cat $^ > $@

# Checks on the real UCI file in ../shared/data (skipped, with a message, where it is absent).
installcheck-realdata:
	test/realdata/run

.PHONY: installcheck-realdata
