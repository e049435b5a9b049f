#!/usr/bin/env bash
# compare.sh — plrelay side by side with HAProxy and nginx on this machine (issue 6's bar).
#
# Builds plrelay and plrelay-bench, installs haproxy, nginx (+ its stream module) and gnuplot if
# missing, starts each proxy on loopback with one worker/thread, logging off and 64 KiB buffers,
# and runs the same plrelay-bench workloads against direct (no proxy), plrelay, HAProxy and
# nginx — interleaved (each round visits every target, in a rotating order) and repeated; every
# figure is the median of the repeats. Prints one Markdown table and writes it, the raw JSON of
# every run, the proxy configs and a PNG chart of the ratios to bench/results/<timestamp>/.
#
# Usage: bench/compare.sh [--quick] [--build-dir DIR] [--repeats N] [--rr-rate R] [--no-build]
#                         [--no-install] [--haproxy-splice] [--out DIR]
#   --quick           1 s windows, 3 repeats, 1000 idle connections: under two minutes
#   --build-dir DIR   where plrelay and bench/plrelay-bench are built (default: build)
#   --repeats N       runs per figure and target (default 5, --quick 3; at least 3)
#   --rr-rate R       offered req/s for the p99 row (default: half the slowest proxy's rr rate)
#   --no-build        use the binaries in the build dir as they are
#   --no-install      fail instead of apt-get installing what is missing
#   --haproxy-splice  give HAProxy `option splice-auto` too (plrelay splices bulk by default)
#   --out DIR         results directory (default: bench/results/<timestamp>)
# Exit: 0 table printed; 1 a proxy could not be started or a whole figure is missing; 2 usage.
set -euo pipefail

# ---- arguments ---------------------------------------------------------------------------------
cmdline="$0 $*"
quick=0 build_dir=build repeats="" rr_rate="" do_build=1 do_install=1 splice=0 out=""
die() {
    echo "compare.sh: $*" >&2
    exit 1
}
while (($#)); do
    case "$1" in
    --quick) quick=1 ;;
    --build-dir) build_dir=${2:?--build-dir needs a directory} && shift ;;
    --repeats) repeats=${2:?--repeats needs a number} && shift ;;
    --rr-rate) rr_rate=${2:?--rr-rate needs a number} && shift ;;
    --no-build) do_build=0 ;;
    --no-install) do_install=0 ;;
    --haproxy-splice) splice=1 ;;
    --out) out=${2:?--out needs a directory} && shift ;;
    -h | --help)
        awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"
        exit 0
        ;;
    *)
        echo "compare.sh: unknown argument '$1' (try --help)" >&2
        exit 2
        ;;
    esac
    shift
done
if ((quick)); then
    duration=1s
    warmup=0.3s
    idle_conns=1000
    : "${repeats:=3}"
else
    duration=4s
    warmup=1s
    idle_conns=5000
    : "${repeats:=5}"
fi
if ! [[ "$repeats" =~ ^[0-9]+$ ]] || ((repeats < 3)); then
    echo "compare.sh: --repeats must be a number >= 3" >&2
    exit 2
fi
[[ -z "$rr_rate" || "$rr_rate" =~ ^[0-9]+$ ]] || {
    echo "compare.sh: --rr-rate must be a whole number" >&2
    exit 2
}

repo=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)
case "$build_dir" in
/*) ;;
*) build_dir="$PWD/$build_dir" ;;
esac
[[ -z "$out" ]] && out="$repo/bench/results/$(date +%Y%m%d-%H%M%S)"
t_begin=$(date +%s)

# ---- build ------------------------------------------------------------------------------------
plrelay="$build_dir/plrelay"
bench="$build_dir/bench/plrelay-bench"
if ((do_build)); then
    if [[ ! -f "$build_dir/CMakeCache.txt" ]]; then
        cmake -S "$repo" -B "$build_dir" -DPLRELAY_TESTS=OFF >/dev/null ||
            die "cmake configure failed"
    fi
    cmake --build "$build_dir" -j"$(nproc)" --target plrelay plrelay-bench >/dev/null ||
        die "build failed (cmake --build $build_dir)"
fi
[[ -x "$plrelay" && -x "$bench" ]] || die "missing $plrelay or $bench (drop --no-build)"

# ---- tools ------------------------------------------------------------------------------------
stream_module=/usr/lib/nginx/modules/ngx_stream_module.so
need=()
command -v haproxy >/dev/null || need+=(haproxy)
command -v nginx >/dev/null || need+=(nginx)
[[ -f $stream_module ]] || need+=(libnginx-mod-stream)
command -v gnuplot >/dev/null || need+=(gnuplot-nox)
if ((${#need[@]})); then
    ((do_install)) || die "missing packages: ${need[*]} (drop --no-install)"
    sudo=()
    ((EUID == 0)) || sudo=(sudo)
    echo "compare.sh: installing ${need[*]}" >&2
    "${sudo[@]}" apt-get update -qq >/dev/null || die "apt-get update failed"
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends \
        "${need[@]}" >/dev/null || die "apt-get install ${need[*]} failed"
fi
haproxy=$(command -v haproxy)
nginx=$(command -v nginx)
load_stream=""
if ! "$nginx" -V 2>&1 | grep -q -- '--with-stream\( \|$\)'; then
    [[ -f $stream_module ]] || die "nginx has no stream module ($stream_module missing)"
    load_stream="load_module $stream_module;"
fi

# ---- ports, configs, proxies ------------------------------------------------------------------
tmp=$(mktemp -d /tmp/plrelay-compare.XXXXXX)
declare -A pid=() port=()
cleanup() {
    local name
    for name in "${!pid[@]}"; do
        stop_proxy "$name"
    done
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A port below the ephemeral range that nobody listens on. plrelay binds with SO_REUSEPORT, so a
# stale listener on "our" port would silently take half of the connections: check every time.
port_free() {
    [[ -z "$(ss -Htln "sport = :$1" 2>/dev/null)" ]]
}
pick_port() {
    local p
    for _ in $(seq 200); do
        p=$((20000 + RANDOM % 12000))
        if port_free "$p" && [[ " ${port[*]} " != *" $p "* ]]; then
            echo "$p"
            return
        fi
    done
    die "no free port found"
}
port[server]=$(pick_port)
port[plrelay]=$(pick_port)
port[haproxy]=$(pick_port)
port[nginx]=$(pick_port)
sport=${port[server]}
for name in server plrelay haproxy nginx; do
    [[ -n "${port[$name]}" ]] || die "no free port found for $name"
done

nofile=$(ulimit -n)
[[ "$nofile" == unlimited ]] && nofile=65536
maxconn=$(((nofile - 200) / 2))
((maxconn > 50000)) && maxconn=50000
((idle_conns * 2 + 200 <= nofile)) || die "ulimit -n $nofile is too low for $idle_conns idle connections"

cat >"$tmp/plrelay.ini" <<EOF
; plrelay under test: one worker, no access log, 64 KiB per direction before backpressure
[global]
workers = 1
max_connections = $maxconn
access_log = off
log_level = warn
drain_timeout = 0

[route bench]
mode = tcp
listen = 127.0.0.1:${port[plrelay]}
upstreams = 127.0.0.1:$sport
buffer_size = 64k
connect_timeout = 5s
idle_timeout = 0
max_connections = 0
EOF

splice_line="" haproxy_maxconn=$maxconn pipes_line=""
if ((splice)); then
    # Pipes take fds too: HAProxy refuses to start when maxconn and maxpipes cannot fit in the
    # limit, so give it 1024 pipes (plrelay caps its own at an eighth of the limit) out of maxconn.
    splice_line="    option splice-auto"
    pipes_line="    maxpipes 1024"
    haproxy_maxconn=$((maxconn - 1100))
fi
cat >"$tmp/haproxy.cfg" <<EOF
# HAProxy under test: one thread, no log section (logging off), 64 KiB channel buffers
# (tune.bufsize: each direction of a stream buffers at most that much, as plrelay's buffer_size).
global
    nbthread 1
    maxconn $haproxy_maxconn
$pipes_line
    tune.bufsize 65536

defaults
    mode tcp
    timeout connect 5s
    timeout client 10m
    timeout server 10m
$splice_line

frontend fe
    bind 127.0.0.1:${port[haproxy]}
    default_backend be

backend be
    server s1 127.0.0.1:$sport
EOF

mkdir -p "$tmp/nginx"
cat >"$tmp/nginx/nginx.conf" <<EOF
# nginx under test: one worker, stream module, access log off, errors only at crit,
# proxy_buffer_size 64k (one buffer per direction of a session, as plrelay's buffer_size).
$load_stream
worker_processes 1;
daemon off;
master_process on;
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx/error.log crit;
worker_rlimit_nofile $nofile;
events {
    worker_connections $((maxconn * 2));
}
stream {
    access_log off;
    server {
        listen 127.0.0.1:${port[nginx]};
        proxy_pass 127.0.0.1:$sport;
        proxy_buffer_size 64k;
        proxy_connect_timeout 5s;
        proxy_timeout 10m;
    }
}
EOF

"$plrelay" -t -c "$tmp/plrelay.ini" >/dev/null 2>"$tmp/plrelay.check" ||
    die "plrelay rejects its config: $(cat "$tmp/plrelay.check")"
"$haproxy" -c -q -f "$tmp/haproxy.cfg" || die "haproxy rejects its config"
"$nginx" -t -q -p "$tmp/nginx" -c "$tmp/nginx/nginx.conf" -e "$tmp/nginx/error.log" ||
    die "nginx rejects its config ($tmp/nginx/error.log)"

# pid list given to plrelay-bench: every process of the proxy (nginx: master and worker).
declare -A pids_of=()

start_proxy() {
    local name=$1 p
    port_free "${port[$name]}" || die "port ${port[$name]} for $name is taken"
    case "$name" in
    plrelay) "$plrelay" -c "$tmp/plrelay.ini" 2>>"$tmp/plrelay.log" &
        ;;
    haproxy) "$haproxy" -db -f "$tmp/haproxy.cfg" 2>>"$tmp/haproxy.log" &
        ;;
    nginx) "$nginx" -p "$tmp/nginx" -c "$tmp/nginx/nginx.conf" -e "$tmp/nginx/error.log" \
        2>>"$tmp/nginx.log" &
        ;;
    esac
    pid[$name]=$!
    for _ in $(seq 100); do
        kill -0 "${pid[$name]}" 2>/dev/null || die "$name exited at start (see its log in $tmp)"
        if [[ -n "$(ss -Htln "sport = :${port[$name]}")" ]]; then
            pids_of[$name]=${pid[$name]}
            if [[ $name == nginx ]]; then
                p=$(ps -o pid= --ppid "${pid[$name]}" | tr -d ' ' | head -n1)
                [[ -n "$p" ]] || {
                    sleep 0.05
                    continue
                }
                pids_of[$name]="${pid[$name]},$p"
            fi
            return 0
        fi
        sleep 0.05
    done
    die "$name did not listen on ${port[$name]} within 5 s"
}

stop_proxy() {
    local name=$1 p=${pid[$1]:-}
    [[ -n "$p" ]] || return 0
    kill -TERM "$p" 2>/dev/null || true
    for _ in $(seq 60); do
        kill -0 "$p" 2>/dev/null || break
        sleep 0.05
    done
    kill -KILL "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
    unset "pid[$name]"
}

restart_proxy() {
    stop_proxy "$1"
    start_proxy "$1"
}

# ---- runs -------------------------------------------------------------------------------------
mkdir -p "$out/raw" "$out/logs" "$out/configs"
cp "$tmp/plrelay.ini" "$tmp/haproxy.cfg" "$tmp/nginx/nginx.conf" "$out/configs/"
targets=(direct plrelay haproxy nginx)
proxies=(plrelay haproxy nginx)
for name in "${proxies[@]}"; do
    start_proxy "$name"
done

tty=0
[[ -t 2 ]] && tty=1
runs_done=0
runs_total=$((repeats * (4 * 5 + 3)))
status() {
    if ((tty)); then
        printf '\r%s\033[K' "$*" >&2
    else
        printf '%s\n' "$*" >&2
    fi
}

# json FILE KEY: a value of the flat one-line JSON plrelay-bench prints ("" when absent/null).
json() {
    local v
    v=$(sed -n "s/.*\"$2\":\(\"[^\"]*\"\|[^,}]*\).*/\1/p" "$1" 2>/dev/null | head -n1)
    [[ "$v" == null ]] && v=""
    echo "${v//\"/}"
}

# noisy FILE: other processes or the hypervisor took over a quarter of a core in the window.
noisy() {
    local o st w
    o=$(json "$1" other_cpu_s) st=$(json "$1" steal_s) w=$(json "$1" window_s)
    [[ -n "$o" && -n "$w" ]] || return 1
    awk -v o="$o" -v s="${st:-0}" -v w="$w" 'BEGIN { exit !(w > 0 && (o + s) / w > 0.25) }'
}
retried=0 noisy_kept=0
retries_left=$((runs_total / 8))

# run WORKLOAD TARGET REPEAT plrelay-bench-args...: one run, raw JSON kept.
run() {
    local wl=$1 name=$2 rep=$3 f
    shift 3
    f="$out/raw/$wl-$name-r$rep.json"
    local args=(--json --no-progress --server-port "$sport" --warmup "$warmup" --duration "$duration")
    if [[ $name == direct ]]; then
        args+=(--direct)
    else
        kill -0 "${pid[$name]}" 2>/dev/null || {
            echo "compare.sh: $name died; restarting it (see $out/logs)" >&2
            cp "$tmp/$name.log" "$out/logs/$name-died-r$rep.log" 2>/dev/null || true
            restart_proxy "$name"
        }
        args+=(--target "127.0.0.1:${port[$name]}" --proxy-pid "${pids_of[$name]}")
    fi
    runs_done=$((runs_done + 1))
    "$bench" "${args[@]}" "$@" >"$f" 2>"$out/logs/$wl-$name-r$rep.log" || true
    # Another process took CPU in the window: run once more (within a budget), keep both files.
    if noisy "$f" && ((retries_left > 0)); then
        retries_left=$((retries_left - 1))
        retried=$((retried + 1))
        mv "$f" "${f%.json}.noisy.json"
        "$bench" "${args[@]}" "$@" >"$f" 2>>"$out/logs/$wl-$name-r$rep.log" || true
    fi
    noisy "$f" && noisy_kept=$((noisy_kept + 1))
    local show
    case $wl in
    bulk-*) show="$(json "$f" gbit_s) Gbit/s" ;;
    connrate) show="$(json "$f" conn_per_s) conn/s" ;;
    rr) show="$(json "$f" req_per_s) req/s" ;;
    rr-rate) show="p99 $(json "$f" lat_p99_us) µs" ;;
    idle) show="$(json "$f" kib_per_conn) KiB/conn" ;;
    esac
    [[ "$(json "$f" ok)" == true ]] || show="FAILED: $(json "$f" error)"
    status "[$runs_done/$runs_total] $wl $name r$rep: $show"
}

# rotated TARGETS... by REPEAT: each round starts with a different target.
rotated() {
    local rep=$1
    shift
    local list=("$@") n=$# i
    for ((i = 0; i < n; i++)); do
        echo "${list[$(((i + rep) % n))]}"
    done
}

# median WORKLOAD TARGET KEY: median over the repeats ("" when no run produced the figure).
median() {
    local f vals=()
    for f in "$out/raw/$1-$2"-r[0-9].json "$out/raw/$1-$2"-r[0-9][0-9].json; do
        [[ -f "$f" ]] || continue
        v=$(json "$f" "$3")
        [[ -n "$v" ]] && vals+=("$v")
    done
    ((${#vals[@]})) || return 0
    printf '%s\n' "${vals[@]}" | sort -g | awk '{ a[NR] = $1 } END {
        if (NR % 2) printf "%.6g\n", a[(NR + 1) / 2]; else printf "%.6g\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}

# Phase 1: throughput, connection rate, closed-loop request rate.
for ((rep = 1; rep <= repeats; rep++)); do
    for wl in bulk-up bulk-both connrate rr; do
        for name in $(rotated "$rep" "${targets[@]}"); do
            case $wl in
            bulk-up) run "$wl" "$name" "$rep" -w bulk --direction up --streams 4 --size 64k ;;
            bulk-both) run "$wl" "$name" "$rep" -w bulk --direction both --streams 4 --size 64k ;;
            connrate) run "$wl" "$name" "$rep" -w connrate --concurrency 32 --size 64 --resp-size 64 ;;
            rr) run "$wl" "$name" "$rep" -w rr --concurrency 32 --size 64 --resp-size 64 ;;
            esac
        done
    done
done

# The same offered load for everyone: half the slowest proxy's closed-loop rate.
if [[ -z "$rr_rate" ]]; then
    slowest=""
    for name in "${proxies[@]}"; do
        m=$(median rr "$name" req_per_s)
        [[ -z "$m" ]] && continue
        if [[ -z "$slowest" ]] || awk -v a="$m" -v b="$slowest" 'BEGIN { exit !(a < b) }'; then
            slowest=$m
        fi
    done
    [[ -n "$slowest" ]] || die "no rr figure for any proxy: cannot choose the offered rate"
    rr_rate=$(awk -v s="$slowest" 'BEGIN { r = int(s / 2 / 1000) * 1000; if (r < 1000) r = 1000; print r }')
fi

# Phase 2: p99 at the fixed rate, and memory per idle connection on a freshly started proxy
# (memory freed by earlier runs would otherwise be reused and hide the per-connection cost).
for ((rep = 1; rep <= repeats; rep++)); do
    for name in $(rotated "$rep" "${targets[@]}"); do
        run rr-rate "$name" "$rep" -w rr --concurrency 32 --size 64 --resp-size 64 --rate "$rr_rate"
    done
    for name in $(rotated "$rep" "${proxies[@]}"); do
        restart_proxy "$name"
        run idle "$name" "$rep" -w idle --conns "$idle_conns" --idle-exchange 1 --warmup 0.5s
    done
done
((tty)) && printf '\r\033[K' >&2

# ---- table ------------------------------------------------------------------------------------
# fmt VALUE DECIMALS: a figure, or an em dash when missing.
fmt() {
    [[ -z "$1" ]] && echo "—" && return
    awk -v v="$1" -v d="$2" 'BEGIN { printf "%.*f\n", d, v }'
}
# ratio A B: A÷B with two decimals, or an em dash.
ratio() {
    [[ -z "$1" || -z "$2" ]] && echo "—" && return
    awk -v a="$1" -v b="$2" 'BEGIN { if (b == 0) print "—"; else printf "%.2f\n", a / b }'
}

# label | workload | key | decimals | has-direct | better (higher|lower) | bar (vs HAProxy) | chart label
rows=(
    "bulk one-way Gbit/s (4 streams)|bulk-up|gbit_s|2|1|higher|>= 1.0|bulk 1-way"
    "bulk both-ways Gbit/s (4 streams)|bulk-both|gbit_s|2|1|higher|>= 1.0|bulk 2-way"
    "connrate conn/s (c=32, 64 B)|connrate|conn_per_s|0|1|higher|>= 1.1|conn/s"
    "rr req/s (c=32, 64 B ↔ 64 B)|rr|req_per_s|0|1|higher|>= 1.1|req/s"
    "rr p99 µs at $rr_rate req/s|rr-rate|lat_p99_us|1|1|lower|<= 1.0|p99 at same load"
    "proxy CPU s/GB (bulk one-way)|bulk-up|cpu_s_per_gb|3|0|lower|<= 0.9|CPU/GB"
    "proxy CPU s/1000 conn (connrate)|connrate|cpu_s_per_1000_conn|4|0|lower|<= 0.9|CPU/1k conn"
    "proxy CPU s/100k req (rr)|rr|cpu_s_per_100k_req|3|0|lower||CPU/100k req"
    "memory KiB/idle conn ($idle_conns conns)|idle|kib_per_conn|2|0|lower|<= 1.0|KiB/idle conn"
)

table="$out/table.md"
dat="$out/ratios.dat"
missing=0
{
    echo "| figure | direct | plrelay | haproxy | nginx | plrelay÷haproxy | plrelay÷nginx | plrelay÷direct |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|"
} >"$table"
echo "# figure  plrelay/haproxy  plrelay/nginx  plrelay/direct" >"$dat"
bar_lines=()
q() { if [[ "$1" == "—" ]]; then echo "?"; else echo "$1"; fi; }
for row in "${rows[@]}"; do
    IFS='|' read -r label wl key dec has_direct better bar short <<<"$row"
    d="" p=$(median "$wl" plrelay "$key") h=$(median "$wl" haproxy "$key") n=$(median "$wl" nginx "$key")
    ((has_direct)) && d=$(median "$wl" direct "$key")
    [[ -z "$p" ]] && missing=1
    rh=$(ratio "$p" "$h") rn=$(ratio "$p" "$n") rd=$(ratio "$p" "$d")
    echo "| $label | $(fmt "$d" "$dec") | $(fmt "$p" "$dec") | $(fmt "$h" "$dec") | $(fmt "$n" "$dec") | $rh | $rn | $rd |" >>"$table"
    arrow="↑"
    [[ $better == lower ]] && arrow="↓"
    echo "\"$short $arrow\" $(q "$rh") $(q "$rn") $(q "$rd")" >>"$dat"
    if [[ -n "$bar" ]]; then
        verdict="n/a"
        if [[ "$rh" != "—" ]]; then
            op=${bar%% *} want=${bar##* }
            if awk -v r="$rh" -v n="$want" -v op="$op" 'BEGIN { exit !(op == ">=" ? r >= n : r <= n) }'; then
                verdict="meets"
            else
                verdict="MISSES"
            fi
        fi
        bar_lines+=("- $label: plrelay÷haproxy $rh, bar $bar → **$verdict** ($better is better)")
    fi
done

t_end=$(date +%s)
{
    echo
    echo "Issue 6 bar (plrelay ÷ HAProxy):"
    printf '%s\n' "${bar_lines[@]}"
    echo
    echo "Medians of $repeats interleaved runs per cell; windows of $duration after $warmup warm-up;"
    echo "rr p99 at a fixed offered $rr_rate req/s (half the slowest proxy's closed-loop rate);"
    echo "memory measured on a freshly started proxy with $idle_conns connections that each did one"
    echo "64 B exchange. One worker/thread per proxy; proxy, load generator (client + server thread)"
    echo "all share this machine's $(nproc) cores. Raw runs: raw/*.json."
    unsustained=0
    for f in "$out"/raw/rr-rate-*-r[0-9]*.json; do
        [[ -f "$f" && "$f" != *.noisy.json ]] || continue
        [[ "$(json "$f" rate_sustained)" == false ]] && unsustained=$((unsustained + 1))
    done
    if ((unsustained)); then
        echo
        echo "$unsustained rr-rate run(s) did not sustain $rr_rate req/s: their p99 includes queueing."
    fi
    if ((retried + noisy_kept)); then
        echo
        echo "Noise: $retried run(s) were repeated because other processes or the hypervisor took"
        echo "over a quarter of a core during the window; $noisy_kept kept run(s) were still noisy"
        echo "(marked * in runs.md). Rates are the figures most hurt; CPU s/unit the least."
    fi
} >>"$table"

{
    echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)  elapsed: $((t_end - t_begin)) s"
    echo "command: $cmdline"
    echo "host: $(uname -srm), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
    echo "plrelay: $("$plrelay" --version 2>&1) ($(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$repo" diff --quiet 2>/dev/null || echo ', dirty tree'))"
    echo "haproxy: $("$haproxy" -v 2>&1 | head -n1)"
    echo "nginx: $("$nginx" -v 2>&1)"
    echo "ports: server $sport, plrelay ${port[plrelay]}, haproxy ${port[haproxy]}, nginx ${port[nginx]}"
    echo "quick: $quick  repeats: $repeats  duration: $duration  warmup: $warmup  rr_rate: $rr_rate  idle_conns: $idle_conns  haproxy_splice: $splice"
} >"$out/meta.txt"

# Every run, for judging the spread behind each median.
{
    echo
    echo "## Every run"
    echo
    echo "| workload | target | figure | runs |"
    echo "|---|---|---|---|"
    for row in "${rows[@]}"; do
        IFS='|' read -r label wl key _ has_direct _ <<<"$row"
        for name in "${targets[@]}"; do
            line=""
            for f in "$out/raw/$wl-$name"-r[0-9].json "$out/raw/$wl-$name"-r[0-9][0-9].json; do
                [[ -f "$f" ]] || continue
                v=$(json "$f" "$key")
                mark=""
                noisy "$f" && mark="*"
                line+="${v:-—}$mark "
            done
            [[ -n "${line// /}" ]] || continue
            [[ "$has_direct" == 1 || "$name" != direct ]] || continue
            echo "| $wl | $name | $key | $line|"
        done
    done
} >"$out/runs.md"

# ---- chart ------------------------------------------------------------------------------------
cat >"$out/chart.gp" <<EOF
set terminal pngcairo size 1200,650 font ",10"
set output "$out/chart.png"
set title "plrelay ÷ other: medians of $repeats interleaved runs on $(nproc) shared cores, $(date +%Y-%m-%d)\n↑ higher is better for plrelay, ↓ lower is better; dashed line = parity"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set datafile missing "?"
set yrange [0:*]
set offsets 0, 0, graph 0.08, 0
set ylabel "ratio"
set grid ytics
set xtics noenhanced
set key top left
set arrow 1 from graph 0, first 1 to graph 1, first 1 nohead dt 2 lw 2 lc rgb "black"
plot "$dat" using 2:xtic(1) title "plrelay ÷ haproxy", '' using 3 title "plrelay ÷ nginx", \
     '' using 4 title "plrelay ÷ direct", \
     '' using (\$0 - 0.25):2:(sprintf("%.2f", \$2)) with labels offset 0,0.7 font ",8" notitle, \
     '' using (\$0):3:(sprintf("%.2f", \$3)) with labels offset 0,0.7 font ",8" notitle, \
     '' using (\$0 + 0.25):4:(sprintf("%.2f", \$4)) with labels offset 0,0.7 font ",8" notitle
EOF
if ! gnuplot "$out/chart.gp" 2>"$out/logs/gnuplot.log"; then
    sed -i 's/^set terminal pngcairo.*/set terminal png size 1200,650/' "$out/chart.gp"
    gnuplot "$out/chart.gp" 2>>"$out/logs/gnuplot.log" || echo "compare.sh: gnuplot failed (see logs/gnuplot.log)" >&2
fi

cat "$table"
echo
echo "Results: $out (table.md, runs.md, chart.png, raw/, configs/, meta.txt); $((t_end - t_begin)) s." >&2
((missing == 0)) || exit 1
