#!/bin/bash
# SPDX-License-Identifier: MIT
# "ubctl stats --prometheus" after traffic and a drop provoked on purpose:
# its samples are exactly the values of "ubctl -j -s port show" and
# "ubctl -j stats", every one of them and nothing else (by the rules of
# ubctl(8)); the output keeps the text format 0.0.4 (one HELP and one
# TYPE line before each family's samples, the families' samples together,
# valid names, labels and values; there is no promtool here); and
# --prometheus is a usage error with -j and with other commands.
UBT_ID=pm
. "$(dirname "$0")/lib.sh"

start_bridge "$P"
make_ns 1 10.79.0.1/24
make_ns 2 10.79.0.2/24
# Fixed neighbours (and no IPv6): nothing but what the test sends crosses
# the bridge, so the counters stand still while they are compared.
in_ns "${P}1" ip neigh replace "${IP[2]}" lladdr "${MAC[2]}" dev eth0 nud permanent
in_ns "${P}2" ip neigh replace "${IP[1]}" lladdr "${MAC[1]}" dev eth0 nud permanent

step "traffic, and LLDP frames the bridge drops (link-local)"
ping_ok 1 2 5
send 1 --dst 01:80:c2:00:00:0e --src "${MAC[1]}" --type 0x88cc --count 3 --id 1
ll_dropped() { [[ $(port_stat "${HOSTIF[1]}" rx_drop_link_local) == 3 ]]; }
wait_until 3 "3 frames in rx_drop_link_local of ${HOSTIF[1]}" ll_dropped

step "a snapshot: JSON, Prometheus, JSON again until nothing moved"
snap()
{
	ubctl -j -s port show >"$UBT_TMP/ports.json"
	ubctl -j stats >"$UBT_TMP/stats.json"
	ubctl stats --prometheus >"$UBT_TMP/prom"
	ubctl -j -s port show >"$UBT_TMP/ports2.json"
	ubctl -j stats >"$UBT_TMP/stats2.json"
	cmp -s "$UBT_TMP/ports.json" "$UBT_TMP/ports2.json" &&
		cmp -s "$UBT_TMP/stats.json" "$UBT_TMP/stats2.json"
}
wait_until 10 "counters that hold still for a snapshot" snap
info "$(wc -l <"$UBT_TMP/prom") lines"

step "a few samples by hand"
# prom_value NAME LABELS: the value of the sample NAME{LABELS}.
prom_value()
{
	awk -v s="$1{$2}" '$1 == s { print $2 }' "$UBT_TMP/prom"
}
for i in 1 2; do
	read -r pkts bytes tx < <(jq -r --arg p "${HOSTIF[$i]}" '.[] |
		select(.name == $p) | "\(.rx_packets) \(.rx_bytes) \(.tx_packets)"' \
		"$UBT_TMP/ports.json")
	((pkts >= 5)) || fail "rx_packets of ${HOSTIF[$i]} after 5 pings: $pkts"
	l="bridge=\"$P\",port=\"${HOSTIF[$i]}\""
	expect_eq "rx_packets of ${HOSTIF[$i]}" "$pkts" "$(prom_value ubridge_port_rx_packets_total "$l")"
	expect_eq "rx_bytes of ${HOSTIF[$i]}" "$bytes" "$(prom_value ubridge_port_rx_bytes_total "$l")"
	expect_eq "tx_packets of ${HOSTIF[$i]}" "$tx" "$(prom_value ubridge_port_tx_packets_total "$l")"
done
l="bridge=\"$P\",port=\"${HOSTIF[1]}\""
expect_eq "link-local drops of ${HOSTIF[1]}" 3 \
	"$(prom_value ubridge_port_drops_total "$l,direction=\"rx\",reason=\"link_local\"")"
expect_eq "ports" 2 "$(prom_value ubridge_ports "bridge=\"$P\"")"
expect_eq "addresses learned" "$(jq .fdb_learned "$UBT_TMP/stats.json")" \
	"$(prom_value ubridge_fdb_learned_total "bridge=\"$P\"")"

step "the format, and every value of the JSON as a sample"
python3 - "$UBT_TMP/prom" "$UBT_TMP/ports.json" "$UBT_TMP/stats.json" "$P" <<-'PY' ||
	import json, re, sys

	prom, ports, stats, bridge = sys.argv[1:5]
	errors = []
	NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
	LABEL = r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"'
	SAMPLE = re.compile(rf"^({NAME})(?:\{{(.*)\}})? (\S+)$")

	# The format: HELP and TYPE once per family, before its samples;
	# a family's samples together; names, labels and values valid.
	help, types, done, series = {}, {}, set(), {}
	family = None
	text = open(prom).read()
	if not text.endswith("\n"):
	    errors.append("no newline at the end")
	for n, line in enumerate(text.split("\n")[:-1], 1):
	    if not line:
	        continue
	    m = re.match(rf"^# (HELP|TYPE) ({NAME}) (.+)$", line)
	    if m:
	        kind, name, text = m.groups()
	        seen = help if kind == "HELP" else types
	        if name in seen:
	            errors.append(f"line {n}: a second {kind} for {name}")
	        if name in done:
	            errors.append(f"line {n}: {kind} after {name}'s samples")
	        if kind == "TYPE" and text not in ("counter", "gauge"):
	            errors.append(f"line {n}: type {text}")
	        seen[name] = text
	        if family != name:
	            done.add(family)
	            family = name
	        continue
	    m = SAMPLE.match(line)
	    if not m:
	        errors.append(f"line {n}: not a sample: {line!r}")
	        continue
	    name, labels, value = m.groups()
	    if name != family or name not in help or name not in types:
	        errors.append(f"line {n}: {name} without its HELP and "
	                      "TYPE lines just before its samples")
	    pairs = re.findall(LABEL, labels or "")
	    if ",".join(f'{k}="{v}"' for k, v in pairs) != (labels or ""):
	        errors.append(f"line {n}: bad labels {labels!r}")
	    try:
	        v = float(value)
	    except ValueError:
	        errors.append(f"line {n}: bad value {value!r}")
	        continue
	    if types.get(name) == "counter" and (v < 0 or v != int(v)):
	        errors.append(f"line {n}: counter value {value}")
	    if (types.get(name) == "counter") != name.endswith("_total"):
	        errors.append(f"line {n}: {name} is a {types.get(name)}")
	    key = (name, tuple(sorted(pairs)))
	    if key in series:
	        errors.append(f"line {n}: {key} twice")
	    series[key] = value

	# The samples the JSON gives, by ubctl(8)'s rules.
	def sample(name, value, **labels):
	    want[(name, tuple(sorted(labels.items())))] = str(value)

	def gauge_or_skip(prefix, key, value, labels):
	    if value in ("on", "off"):
	        sample(prefix + key, int(value == "on"), **labels)
	    elif isinstance(value, int):
	        if key.endswith("_ms"):
	            sample(prefix + key[:-3] + "_seconds",
	                   f"{value // 1000}.{value % 1000:03}", **labels)
	        elif key.endswith("_kib"):
	            sample(prefix + key[:-4] + "_bytes", value * 1024,
	                   **labels)
	        else:
	            sample(prefix + key, value, **labels)

	want = {}
	for rec in json.load(open(ports)):
	    lab = {"bridge": bridge, "port": rec["name"]}
	    for key, value in rec.items():
	        m = re.match(r"^(rx|tx)_drop_(.+)$", key)
	        if key == "name":
	            pass
	        elif m:
	            sample("ubridge_port_drops_total", value, **lab,
	                   direction=m[1], reason=m[2])
	        elif key.startswith(("rx_", "tx_")) or key == "blocks":
	            sample(f"ubridge_port_{key}_total", value, **lab)
	        elif key == "state":
	            sample("ubridge_port_up", int(value != "down"), **lab)
	        elif key == "blocked":
	            sample("ubridge_port_blocked", int(value != "no"), **lab)
	        else:
	            gauge_or_skip("ubridge_port_", key, value, lab)
	for key, value in json.load(open(stats)).items():
	    lab = {"bridge": bridge}
	    if key == "bridge":
	        pass
	    elif key.startswith("fdb_") and not key.endswith("_entries"):
	        sample(f"ubridge_{key}_total", value, **lab)
	    elif key == "ageing":
	        sample("ubridge_ageing_seconds", value, **lab)
	    else:
	        gauge_or_skip("ubridge_", key, value, lab)

	for k in sorted(want.keys() - series.keys()):
	    errors.append(f"missing: {k} {want[k]}")
	for k in sorted(series.keys() - want.keys()):
	    errors.append(f"unexpected: {k} {series[k]}")
	for k in sorted(want.keys() & series.keys()):
	    if want[k] != series[k]:
	        errors.append(f"{k}: JSON {want[k]}, Prometheus {series[k]}")
	for e in errors[:40]:
	    print(e, file=sys.stderr)
	print(f"    {len(series)} samples in {len(types)} families checked")
	sys.exit(1 if errors else 0)
	PY
	fail "the Prometheus output (above) against the format and the JSON"

step "--prometheus before the command, and usage errors"
ubctl --prometheus stats >"$UBT_TMP/prom"
expect_eq "first line of ubctl --prometheus stats" "# HELP ubridge_ports Ports of the bridge." \
	"$(head -n 1 "$UBT_TMP/prom")"
# usage_error WHAT UBCTL-ARGS...: exit 2, one "ubctl:" line, nothing out.
usage_error()
{
	local what=$1 rc=0
	shift
	ubctl "$@" >"$UBT_TMP/out" 2>"$UBT_TMP/err" || rc=$?
	expect_eq "exit status of ubctl $*" 2 "$rc"
	if [[ -s $UBT_TMP/out || $(wc -l <"$UBT_TMP/err") != 1 ]] ||
		! matches "^ubctl: .*--prometheus" "$UBT_TMP/err"; then
		fail "$what: ubctl $*: stdout '$(cat "$UBT_TMP/out")', stderr '$(cat "$UBT_TMP/err")'"
	fi
	info "$what: $(cat "$UBT_TMP/err")"
}
usage_error "with -j" -j stats --prometheus
usage_error "with -p" --prometheus -p stats
usage_error "with port show" port show --prometheus

bridge_alive
test_done
