# SPDX-License-Identifier: MIT
#
# bench/lib.sh: what bench/run.sh and bench/overlay.sh share: checks and
# the build, namespaces, the results file and the table of medians.
# Sourced; the caller sets BUILD, BUILD_DIR, REPO, TMP, KEEP, RES (the
# results file), PIDS and NS_MADE (arrays: background jobs to end,
# namespaces to remove), and defines stop_daemons.

# prepare NAME TOOL...: root, the tools, 2 CPUs (generator on 0, the
# daemons on 1), the build in $BUILD_DIR (unless BUILD=0, from $REPO);
# sets UBRIDGE, UBCTL and UBGEN.
prepare()
{
	local name=$1 t b
	shift
	[[ $EUID -eq 0 ]] || { echo "$name needs root" >&2; exit 1; }
	for t; do
		command -v "$t" >/dev/null || { echo "$name needs '$t'" >&2; exit 1; }
	done
	(($(nproc) >= 2)) || { echo "$name needs 2 CPUs (generator on 0, daemons on 1)" >&2; exit 1; }
	if ((BUILD)); then
		echo "==> building in $BUILD_DIR"
		cmake -S "$REPO" -B "$BUILD_DIR" -DUB_BUILD_BENCH=ON >/dev/null
		cmake --build "$BUILD_DIR" -j2 --target ubridge ubctl ubgen >/dev/null
	fi
	UBRIDGE=$BUILD_DIR/tools/ubridge
	UBCTL=$BUILD_DIR/tools/ubctl
	UBGEN=$BUILD_DIR/bench/ubgen
	for b in "$UBRIDGE" "$UBCTL" "$UBGEN"; do
		[[ -x $b ]] || { echo "missing $b (build first)" >&2; exit 1; }
	done
}

# daemon_wait PID BIN BRIDGE LOG: the daemon started in the background as
# PID runs (the commands in front of it, ip netns exec, nsenter, taskset,
# env, exec in turn until it does: its executable BIN tells, not its
# name) and serves its socket; else its LOG, and exit.
daemon_wait()
{
	local pid=$1 bin=$2 br=$3 log=$4
	for _ in $(seq 50); do
		[[ $(readlink "/proc/$pid/exe" 2>/dev/null) == "$bin" ]] && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	[[ $(readlink "/proc/$pid/exe" 2>/dev/null) == "$bin" ]] ||
		{ echo "PID $pid is not the daemon" >&2; cat "$log" >&2; exit 1; }
	for _ in $(seq 50); do
		[[ -S /run/ubridge/$br.sock ]] && break
		kill -0 "$pid" 2>/dev/null || { cat "$log" >&2; exit 1; }
		sleep 0.1
	done
	[[ -S /run/ubridge/$br.sock ]] || { echo "ubridge $br did not start" >&2; exit 1; }
}

# The EXIT trap: ends the background jobs in PIDS and the daemons (the
# caller's stop_daemons), removes the namespaces, copies TMP to KEEP
# (--keep-log) and removes it.
cleanup()
{
	local rc=$? pid ns

	set +e
	trap - EXIT INT TERM
	for pid in "${PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null
	done
	for pid in "${PIDS[@]}"; do
		wait "$pid" 2>/dev/null
	done
	stop_daemons
	for ns in "${NS_MADE[@]}"; do
		ip netns del "$ns" 2>/dev/null
	done
	if [[ -n $KEEP ]]; then
		mkdir -p "$KEEP" && cp -r "$TMP"/. "$KEEP"/
	fi
	rm -rf "$TMP"
	exit "$rc"
}

nsx() { local ns=$1; shift; ip netns exec "$ns" "$@"; }
# Waits up to 5 s for a socket of PROTO (t: TCP, u: UDP) listening on
# PORT in namespace NS.
wait_listening() # NS t|u PORT
{
	for _ in $(seq 50); do
		nsx "$1" ss -H"$2"ln "sport = :$3" | grep -q . && return 0
		sleep 0.1
	done
}

# mkns NS: a namespace, registered for cleanup, IPv6 off, lo up.
mkns()
{
	ip netns add "$1"
	NS_MADE+=("$1")
	nsx "$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
		net.ipv6.conf.default.disable_ipv6=1
	nsx "$1" ip link set lo up
}

mac_of() { nsx "$1" cat "/sys/class/net/$2/address"; }

# kv KEY: the value of KEY in "k=v k=v ..." on stdin.
kv() { tr ' ' '\n' | awk -F= -v k="$1" '$1 == k { print $2 }'; }

record() # SCENARIO TARGET ROUND METRIC VALUE
{
	printf '%s\t%s\t%s\t%s\t%s\n' "$@" >>"$RES"
}

# table SCENARIOS TARGETS KERNEL_LABEL FIRST: the medians [min-max] of
# every metric in $RES, a column per target (target "kernel" headed
# KERNEL_LABEL), then the ratio to the kernel's median of each target
# from the FIRST-th on ("ub/kbr", or "TARGET/kbr" when there are
# several; the suffix is "/kernel" for a lone ratio when KERNEL_LABEL
# says more than "kernel bridge").
table()
{
	awk -F'\t' -v order="$1" -v targets="$2" -v klabel="$3" -v first="$4" '
function fmt(m, v) {
	if (m ~ /pps/) return sprintf("%.3f", v / 1e6)
	return sprintf("%g", v)
}
function unit(m) {
	if (m ~ /pps/) return m " (M)"
	return m
}
{
	key = $1 SUBSEP $4 SUBSEP $2
	n[key]++
	v[key, n[key]] = $5 + 0
	if (!(($1 SUBSEP $4) in seen)) {
		seen[$1 SUBSEP $4] = 1
		rows[++nrows] = $1 SUBSEP $4
	}
}
END {
	nt = split(targets, tg, " ")
	suffix = klabel == "kernel bridge" ? "/kbr" : "/kernel"
	head = sprintf("| %-14s | %-25s |", "scenario", "metric")
	rule = "|----------------|---------------------------|"
	for (t = 1; t <= nt; t++) {
		head = head sprintf(" %-24s |", tg[t] == "kernel" ? klabel : tg[t])
		rule = rule "--------------------------|"
	}
	for (t = first; t <= nt; t++) {
		head = head sprintf(" %-12s |", (nt > first ? tg[t] : "ub") suffix)
		rule = rule "--------------|"
	}
	print head
	print rule
	ns = split(order, sc, " ")
	for (s = 1; s <= ns; s++) for (i = 1; i <= nrows; i++) {
		split(rows[i], rk, SUBSEP)
		if (rk[1] != sc[s]) continue
		line = sprintf("| %-14s | %-25s |", rk[1], unit(rk[2]))
		delete med
		for (t = 1; t <= nt; t++) {
			key = rk[1] SUBSEP rk[2] SUBSEP tg[t]
			c = n[key]
			if (!c) { line = line sprintf(" %-24s |", "-"); continue }
			delete a
			for (j = 1; j <= c; j++) a[j] = v[key, j]
			# insertion sort
			for (j = 2; j <= c; j++) { x = a[j]; k = j - 1
				while (k >= 1 && a[k] > x) { a[k + 1] = a[k]; k-- }
				a[k + 1] = x }
			m = (c % 2) ? a[(c + 1) / 2] : (a[c / 2] + a[c / 2 + 1]) / 2
			med[tg[t]] = m
			line = line sprintf(" %-24s |", fmt(rk[2], m) " [" fmt(rk[2], a[1]) "-" fmt(rk[2], a[c]) "]")
		}
		for (t = first; t <= nt; t++) {
			if (("kernel" in med) && (tg[t] in med) && med["kernel"] > 0)
				line = line sprintf(" %-12s |", sprintf("%.2f", med[tg[t]] / med["kernel"]))
			else
				line = line sprintf(" %-12s |", "-")
		}
		print line
	}
}' "$RES"
}
