# script/lib.sh: shell helpers shared by script/stack and script/cluster-test
# (sourced; set ME to the caller's name for messages).

# The PostgreSQL server binaries' directory.
pgbin() {
	local d
	d="$(pg_config --bindir 2>/dev/null || true)"
	if [ -n "$d" ] && [ -x "$d/initdb" ]; then echo "$d"; return; fi
	d="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"
	[ -x "$d/initdb" ] || { echo "$ME: no PostgreSQL server found" >&2; exit 1; }
	echo "$d"
}

# Run a command as another user.
as() { local u="$1"; shift; runuser -u "$u" -- "$@"; }

# wait_for SECONDS DESCRIPTION COMMAND...: poll every 0.1 s until COMMAND
# succeeds; 1 (and a message) if it never does.
wait_for() {
	local n=$(( $1 * 10 )) what="$2"; shift 2
	until "$@" >/dev/null 2>&1; do
		n=$((n - 1))
		if [ $n -le 0 ]; then echo "$ME: $what did not come up" >&2; return 1; fi
		sleep 0.1
	done
}
