# Shared by test/fuzz/run-*: a build of the extension with AddressSanitizer
# and UndefinedBehaviorSanitizer, and a throwaway cluster whose server runs
# with the ASan runtime preloaded.  Sourced, not run.
#
# The server itself is not instrumented: ASan checks our C code's accesses
# (stack, globals, memory from malloc) and, through test/fuzz/palloc_wrap.c,
# every chunk our code allocates with palloc and friends.  Memory that the
# server allocates (pstrdup, StringInfo, hash tables, detoasted values) is
# checked only at the bounds of its memory-context block.

pg_config=${PG_CONFIG:-pg_config}
bindir=$("$pg_config" --bindir)
asan_runtime=$(gcc -print-file-name=libasan.so)
sanitize="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all"
# abort_on_error: a report kills the backend with SIGABRT, which the server
# log records as a crash; detect_leaks=0: the server never frees some memory
# on purpose.  Backends inherit the options from the postmaster.
asan_options="detect_leaks=0:abort_on_error=1"
ubsan_options="print_stacktrace=1:halt_on_error=1:abort_on_error=1"
# What a sanitizer report or a crash looks like in the server log.
crash_pattern='Sanitizer|runtime error:|terminated by signal|server process .* exited with exit code|PANIC'

# The server refuses to run as root: as root (CI), the cluster belongs to postgres.
as_owner=()
[ "$(id -u)" -ne 0 ] || as_owner=(runuser -u postgres --)

# fuzz_setup NAME: a work directory with the sanitizer build installed in
# $work/dest, and a cleanup on exit (the directory stays after a failure,
# or always with FUZZ_KEEP=1).
fuzz_setup() {
	fuzz_name=$1
	work=$(mktemp -d "${TMPDIR:-/tmp}/ra-$fuzz_name.XXXXXX")
	chmod 755 "$work"
	fuzz_ok=0
	trap fuzz_cleanup EXIT
	# A copy, so that the checkout's own build is left alone.
	mkdir "$work/build"
	cp -a Makefile ./*.control src sql test "$work/build/"
	make -s -C "$work/build" clean >/dev/null
	local objs wrap="" f
	objs="$(cd "$work/build" && echo src/*.c | sed 's/\.c\b/.o/g') test/fuzz/palloc_wrap.o"
	for f in palloc palloc0 palloc_extended repalloc repalloc_huge pnstrdup MemoryContextAlloc \
		MemoryContextAllocZero MemoryContextAllocHuge MemoryContextAllocExtended; do
		wrap="$wrap,--wrap=$f"
	done
	local flags=(PG_CONFIG="$pg_config" OBJS="$objs" PG_CFLAGS="$sanitize -Werror" PG_LDFLAGS="$sanitize -Wl$wrap")
	make -s -C "$work/build" "${flags[@]}" >/dev/null
	make -s -C "$work/build" "${flags[@]}" install DESTDIR="$work/dest" >/dev/null
	gcc -shared -fPIC -O2 -o "$work/asan_preload_fix.so" test/fuzz/asan_preload_fix.c
	chmod -R a+rX "$work"
}

fuzz_cleanup() {
	if [ -f "$work/data/postmaster.pid" ]; then
		"${as_owner[@]}" "$bindir/pg_ctl" -D "$work/data" -m immediate stop >/dev/null 2>&1 || true
	fi
	if [ "$fuzz_ok" = 1 ] && [ "${FUZZ_KEEP:-0}" != 1 ]; then
		rm -rf "$work"
	else
		echo "$fuzz_name: files kept in $work (server log: $work/server.log)"
	fi
}

# fuzz_start: a new cluster in $work/data on the socket directory
# $work/sock, loading the sanitizer build; PG* are set for the clients.
fuzz_start() {
	mkdir "$work/data" "$work/sock"
	[ ${#as_owner[@]} -eq 0 ] || chown postgres "$work/data" "$work/sock"
	"${as_owner[@]}" "$bindir/initdb" -D "$work/data" -U postgres -A trust --no-sync >"$work/initdb.log"
	: >"$work/server.log"
	[ ${#as_owner[@]} -eq 0 ] || chown postgres "$work/server.log"
	# timeout: should the runtime hang at start again, fail instead of waiting
	# (long enough for a loaded machine: a guard, not a measure).
	"${as_owner[@]}" env LD_PRELOAD="$asan_runtime $work/asan_preload_fix.so" \
		ASAN_OPTIONS="$asan_options" UBSAN_OPTIONS="$ubsan_options" \
		timeout 900 "$bindir/pg_ctl" -D "$work/data" -l "$work/server.log" -w -t 840 \
		-o "-c listen_addresses= -c unix_socket_directories=$work/sock -c port=5432 -c fsync=off" \
		-o "-c extension_destdir=$work/dest" start >/dev/null
	export PGHOST=$work/sock PGPORT=5432 PGUSER=postgres
	unset PGDATABASE PGSERVICE PGPASSWORD PGOPTIONS
}

# fuzz_stop: stops the server; fails if the server log shows a sanitizer
# report or a crashed backend (and prints those lines).
fuzz_stop() {
	"${as_owner[@]}" "$bindir/pg_ctl" -D "$work/data" -m fast -w stop >/dev/null
	if grep -qE "$crash_pattern" "$work/server.log"; then
		echo "$fuzz_name: sanitizer reports or crashes in the server log:"
		grep -nE -A30 "$crash_pattern" "$work/server.log" | head -200
		return 1
	fi
}
