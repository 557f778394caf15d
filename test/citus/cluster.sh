# shellcheck shell=bash
# Sourced by test/citus/run and bench/citus: a Citus coordinator and two
# workers, each a throwaway cluster under one temporary directory, run as the
# postgres user (PostgreSQL refuses root), trusting connections from this
# machine only.
#   citus_ports FIRST                   the first three free local ports from FIRST on, into ports
#   citus_dir NAME                      a new directory for the nodes, the postgres user's
#   citus_start DIR PORT0 PORT1 PORT2   make and start the three nodes
#   citus_stop DIR                      stop them (idempotent)
#   node_ctl DIR N start|stop           one node
#   sql N DB [psql arguments]           psql on node N (port ${ports[N]})
#   citus_database                      a database retail with Citus on each node, the workers added,
#                                       and pg_stat_statements (loaded on the workers: the tasks they ran)
#   fingerprints DB                     silver and gold of DB on node 0, a line each
# EXTENSION_DESTDIR, when set, is where the servers find retail_analytics.
pg_bin=$(pg_config --bindir)
as_postgres() {
	if [ "$(id -u)" -eq 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}
node_ctl() { # node_ctl DIR N start|stop
	local dir=$1 n=$2
	case $3 in
		start) as_postgres "$pg_bin/pg_ctl" -D "$dir/node$n" -l "$dir/node$n.log" -w -t 120 start > /dev/null ;;
		stop) as_postgres "$pg_bin/pg_ctl" -D "$dir/node$n" -m fast -w -t 120 stop > /dev/null ;;
	esac
}
citus_ports() { # citus_ports FIRST
	local p
	ports=()
	for p in $(seq "$1" $(($1 + 100))); do
		if ! (exec 3<> "/dev/tcp/127.0.0.1/$p") 2> /dev/null; then
			ports+=("$p")
			[ ${#ports[@]} -lt 3 ] || break
		fi
	done
}
citus_dir() { # citus_dir NAME
	local dir
	dir=$(mktemp -d "/tmp/citus-$1.XXXXXX")
	chmod 755 "$dir"
	[ "$(id -u)" -ne 0 ] || chown postgres "$dir"
	echo "$dir"
}
citus_start() { # citus_start DIR PORT0 PORT1 PORT2
	local dir=$1 n port
	shift
	for n in 0 1 2; do
		port=$1
		shift
		as_postgres "$pg_bin/initdb" -D "$dir/node$n" -A trust -U postgres --no-sync > "$dir/initdb$n.log"
		cat >> "$dir/node$n/postgresql.conf" <<CONF
port = $port
listen_addresses = '127.0.0.1'
unix_socket_directories = '$dir'
shared_preload_libraries = 'citus$([ "$n" -eq 0 ] || echo ", pg_stat_statements")'
pg_stat_statements.track = all
max_connections = 100
max_prepared_transactions = 100
shared_buffers = 64MB
fsync = off
synchronous_commit = off
full_page_writes = off
wal_level = logical
citus.shard_replication_factor = 1
${EXTENSION_DESTDIR:+extension_destdir = '$EXTENSION_DESTDIR'}
CONF
		echo "$port" > "$dir/port$n"
		node_ctl "$dir" "$n" start
	done
}
citus_stop() {
	local dir=$1 n
	for n in 0 1 2; do
		if [ -f "$dir/node$n/postmaster.pid" ]; then
			node_ctl "$dir" "$n" stop || true
		fi
	done
}
sql() { # sql NODE DB [psql arguments]
	local node=$1 db=$2
	shift 2
	psql -X -q -At -v ON_ERROR_STOP=1 -p "${ports[$node]}" -d "$db" "$@"
}
# One line per relation of silver and gold: its name, its rows and the sum
# of their md5s' first 64 bits (in any order, and in constant memory where
# one string of 10M rows would pass 1 GB), every column but batch_id, the id
# of the loading transaction, which differs between two databases.  Each row
# is made an object column by column: in a whole row of a view over a
# distributed table, Citus names the columns f1, f2, ...
fingerprints() { # fingerprints DB
	sql 0 "$1" <<'SQL'
SELECT format('SELECT %L || '' '' || count(*) || '' '' || coalesce(sum((''x'' || left(md5(r), 16))::bit(64)::bigint::numeric), 0)
			   FROM (SELECT jsonb_build_object(%s)::text AS r FROM %s t) t',
			  c.oid::regclass,
			  (SELECT string_agg(format('%L, t.%I', a.attname, a.attname), ', ' ORDER BY a.attnum)
			   FROM pg_attribute a
			   WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attname <> 'batch_id'),
			  c.oid::regclass)
FROM pg_class c
WHERE c.relnamespace IN ('silver'::regnamespace, 'gold'::regnamespace, 'gold_store'::regnamespace)
  AND c.relkind IN ('r', 'v', 'm')
ORDER BY c.oid::regclass::text
\gexec
SQL
}
citus_database() {
	local n
	for n in 0 1 2; do
		sql "$n" postgres -c "CREATE DATABASE retail"
		sql "$n" retail -c "CREATE EXTENSION citus"
	done
	sql 0 retail -c "SELECT citus_set_coordinator_host('127.0.0.1', ${ports[0]})" \
		-c "SELECT citus_add_node('127.0.0.1', ${ports[1]})" -c "SELECT citus_add_node('127.0.0.1', ${ports[2]})" \
		-c "CREATE EXTENSION pg_stat_statements" > /dev/null  # Citus creates it on the workers
}
# shard_rows CALL: the call on node 0; prints the rows the workers sent the
# coordinator for it: those of the tasks on shards that read (their results
# go to the coordinator; those that write, COPY into a shard included,
# aside), counted by pg_stat_statements on the workers; then the number of
# tasks.  With DETAIL set, the reads that sent the most, per worker, on
# standard error.
shard_rows() {
	local n
	for n in 1 2; do
		sql $n retail -c "SELECT pg_stat_statements_reset()" > /dev/null
	done
	sql 0 retail -c "$1" > /dev/null
	for n in 1 2; do
		sql $n retail -c "SELECT coalesce(sum(s.rows) FILTER (WHERE s.query !~* '\m(insert|update|delete|copy)\M'), 0),
				coalesce(sum(s.calls), 0)
			FROM pg_stat_statements s
			WHERE s.dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
			  AND s.query ~ '\m[a-z_]+_[0-9]{6,}\M'"
	done | awk -F'|' '{ rows += $1; tasks += $2 } END { printf "%d %d\n", rows, tasks }'
	[ -z "${DETAIL:-}" ] || for n in 1 2; do
		sql $n retail -c "SELECT s.rows, s.calls, left(regexp_replace(s.query, '\s+', ' ', 'g'), 150)
			FROM pg_stat_statements s
			WHERE s.query ~ '\m[a-z_]+_[0-9]{6,}\M' AND s.query !~* '\m(insert|update|delete|copy)\M'
			ORDER BY s.rows DESC LIMIT 6" | sed "s/^/== citus: worker $n: /" >&2
	done
}
