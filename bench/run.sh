#!/usr/bin/env bash
# Load benchmark of the content API against the ceiling of this machine.
#
# Builds the service, the ceiling server (bench/ceiling) and the seeder
# (bench/seed) into a temporary directory, starts the service on the
# embedded database with a fresh data directory, seeds published articles
# through the API, then drives each endpoint with wrk on loopback and, right
# after it, the ceiling server answering a copy of that endpoint's response
# (its status, headers and body size: the same bytes on the wire; with
# BENCH_CEILING=body only a body of the same size), alternating the two
# BENCH_ROUNDS times and keeping each side's median round. It prints requests/s, p50 and p99 per endpoint, the
# ratio to the ceiling against each endpoint's target, and the service's RSS
# after seeding and after the run.
#
# Writes: while seeding, at 500, 2,000, 5,000 and 10,000 articles (those up
# to BENCH_ARTICLES), the seeder pauses and creates and publishes
# BENCH_PROBE_N articles one at a time; the script prints their median and
# p99 create+publish time per mark. Target: the median at the largest mark
# within 1.5x of the one at 500, and 10,000 articles seeded in under 5
# minutes (probes not counted).
#
# Clicks: after the load runs every 302 the service sent must be stored
# once. Then it drives /go/ again, kills the service with SIGKILL in the
# middle of that run, starts it again on the same data and checks that
# every 302 wrk received was stored (a click answered but not yet received
# when the process died may be stored too: at most one per connection).
#
# Usage: bench/run.sh   (needs Go and curl; installs wrk with apt-get if missing)
#
# Knobs (environment):
#   BENCH_DURATION     wrk duration per run             5s
#   BENCH_ROUNDS       service/ceiling runs per endpoint 3 (median each)
#   BENCH_CEILING      copy: the ceiling answers a copy of the endpoint's
#                      response (status, headers, body size); body: only a
#                      body of the same size (/body/<n>), or the constant
#                      302 (/redirect)                  copy
#   BENCH_CONNECTIONS  concurrent connections           32
#   BENCH_THREADS      wrk threads                      2
#   BENCH_ARTICLES     published articles to seed       10000
#   BENCH_PROBE_N      articles per write probe         40
#   BENCH_WORKERS      concurrent writers while seeding 4
#   BENCH_SIZE         HTML bytes per article body      8192
#   BENCH_LOG_LEVEL    the service's CMS_LOG_LEVEL      info (one access-log line per request)
#   BENCH_REDIRECT     also measure /go/ and the kill   1
#   BENCH_ONLY         measure only the endpoints whose name contains it
#   BENCH_PORT, BENCH_CEILING_PORT                      18080, 18090
#   BENCH_KEEP         keep the temporary directory (logs, data) when set
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
duration=${BENCH_DURATION:-5s}
rounds=${BENCH_ROUNDS:-3}
ceiling_kind=${BENCH_CEILING:-copy}
conns=${BENCH_CONNECTIONS:-32}
threads=${BENCH_THREADS:-2}
articles=${BENCH_ARTICLES:-10000}
probe_n=${BENCH_PROBE_N:-40}
workers=${BENCH_WORKERS:-4}
size=${BENCH_SIZE:-8192}
log_level=${BENCH_LOG_LEVEL:-info}
redirect=${BENCH_REDIRECT:-1}
port=${BENCH_PORT:-18080}
ceil_port=${BENCH_CEILING_PORT:-18090}
metrics_port=${BENCH_METRICS_PORT:-18464}
base=http://127.0.0.1:$port
metrics=http://127.0.0.1:$metrics_port
ceiling=http://127.0.0.1:$ceil_port

tmp=$(mktemp -d "${TMPDIR:-/tmp}/cms-bench.XXXXXX")
pids=()
cleanup() {
	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	if [ -n "${BENCH_KEEP:-}" ]; then echo "kept $tmp"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT

if ! command -v wrk >/dev/null; then
	echo "wrk not found; installing the Debian package" >&2
	sudo=""
	[ "$(id -u)" -eq 0 ] || sudo=sudo
	$sudo apt-get update -qq && $sudo apt-get install -y -qq wrk
fi

echo "== building into $tmp"
(cd "$root" && go build -o "$tmp/cms" ./cmd/cms && go build -o "$tmp/ceiling" ./bench/ceiling && go build -o "$tmp/seed" ./bench/seed)

export CMS_ADMIN_EMAIL=bench@example.com
export CMS_ADMIN_PASSWORD='a long bench password 4 load tests'
# start_cms: runs the service in the background on $tmp/data; cms_pid.
start_cms() {
	CMS_ADDR=127.0.0.1:$port CMS_METRICS_ADDR=127.0.0.1:$metrics_port CMS_DATA_DIR=$tmp/data CMS_PUBLIC_URL=$base \
		CMS_AMAZON_TAGS=amazon.com=bench-20 CMS_LOG_LEVEL=$log_level \
		"$tmp/cms" serve 2>>"$tmp/cms.log" &
	cms_pid=$!
	pids+=("$cms_pid")
}
# Something left on these ports would be measured instead (or seeded).
for u in "$base/readyz" "$ceiling/body/1"; do
	if curl -s -o /dev/null "$u"; then
		echo "something already answers on ${u%/*/*}: stop it, or set BENCH_PORT / BENCH_CEILING_PORT" >&2
		exit 1
	fi
done
start_cms
"$tmp/ceiling" -addr "127.0.0.1:$ceil_port" 2>"$tmp/ceiling.log" &
pids+=("$!")

wait_up() {
	for _ in $(seq 1 300); do
		curl -fs -o /dev/null "$1" && return 0
		sleep 0.1
	done
	echo "$1 did not come up" >&2
	tail -20 "$tmp/cms.log" >&2
	exit 1
}
wait_up "$base/readyz"
wait_up "$ceiling/body/1"

rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$cms_pid/status"; }

marks=""
for m in 500 2000 5000 10000; do
	[ "$m" -le "$articles" ] && marks="$marks${marks:+,}$m"
done
echo "== seeding $articles published articles of about $size bytes of HTML ($workers writers; write probes at ${marks:-none})"
"$tmp/seed" -url "$base" -n "$articles" -size "$size" -workers "$workers" -probe "$marks" -probe-n "$probe_n" -photo >"$tmp/seed.out"
slug=$(sed -n 's/^SLUG=//p' "$tmp/seed.out")
tag=$(sed -n 's/^TAG=//p' "$tmp/seed.out")
query=$(sed -n 's/^QUERY=//p' "$tmp/seed.out")
product=$(sed -n 's/^PRODUCT=//p' "$tmp/seed.out")
seeded_s=$(sed -n 's/^SEEDED_SECONDS=//p' "$tmp/seed.out")
photo=$(sed -n 's/^PHOTO=//p' "$tmp/seed.out")
echo "uploaded a 12-megapixel JPEG (every size, both formats) in $(sed -n 's/^PHOTO_SECONDS=//p' "$tmp/seed.out") s"
write_misses=0
echo
printf '%-10s %12s %10s %8s\n' articles "median ms" "p99 ms" "x first"
first=""
last=""
while read -r mark med p99; do
	[ -n "$first" ] || first=$med
	last=$med
	printf '%-10s %12s %10s %8s\n' "$mark" "$med" "$p99" "$(awk -v a="$med" -v b="$first" 'BEGIN {printf "%.2f", a / b}')"
done < <(sed -n 's/^PROBE=//p' "$tmp/seed.out")
echo "seeded $articles articles in $seeded_s s ($(awk -v n="$articles" -v s="$seeded_s" 'BEGIN {printf "%.0f", n / s}')/s, $workers writers)"
if [ -n "$first" ] && awk -v a="$last" -v b="$first" 'BEGIN {exit !(a > 1.5 * b)}'; then
	echo "WRITES GROW: create+publish at the largest mark is more than 1.5x the first"
	write_misses=$((write_misses + 1))
fi
if awk -v n="$articles" -v s="$seeded_s" 'BEGIN {exit !(s > 300 * n / 10000)}'; then
	echo "SEEDING SLOW: more than 5 minutes per 10,000 articles"
	write_misses=$((write_misses + 1))
fi
# Let the poller see the last writes and settle before measuring memory.
sleep 3
rss_seeded=$(rss_kb)
# CPU the idle service uses (background loops), in percent of one core.
ticks() { awk '{print $14 + $15}' "/proc/$cms_pid/stat"; }
t0=$(ticks)
sleep 5
idle_cpu=$(awk -v a="$t0" -v b="$(ticks)" -v hz="$(getconf CLK_TCK)" 'BEGIN {printf "%.0f", (b - a) / hz / 5 * 100}')

# median_round: of lines "req/s p50 p99", the one with the median req/s.
median_round() { sort -n | awk '{l[NR] = $0} END {print l[int((NR + 1) / 2)]}'; }

# fetch URL [header...]: prints "<status> <body bytes>"
fetch() {
	local url=$1
	shift
	local args=()
	for h in "$@"; do args+=(-H "$h"); done
	curl -s -o /dev/null -w '%{http_code} %{size_download}\n' "${args[@]}" "$url"
}
# load URL [header...]: prints "req/s p50 p99 requests errors non-2xx/3xx"
load() {
	local url=$1
	shift
	local args=()
	for h in "$@"; do args+=(-H "$h"); done
	wrk -t"$threads" -c"$conns" -d"$duration" -s "$root/bench/report.lua" "${args[@]}" "$url" | awk '/^RESULT/ {print $2, $3, $4, $5, $6, $7}'
}

article_path=/api/v1/content/articles/$slug
etag=$(curl -s -D - -o /dev/null "$base$article_path" | awk -F': ' 'tolower($1)=="etag" {print $2}' | tr -d '\r')

# name | path on the service | ceiling path ("" = /body/<size>) | target ratio | headers...
endpoints=(
	"article|$article_path||0.9"
	"list (20)|/api/v1/content/articles?limit=20||0.9"
	"list tag=$tag|/api/v1/content/articles?tag=$tag&limit=20||0.9"
	"search q=$query|/api/v1/content/articles?q=$query||0.9"
	"article 304|$article_path||0.85|If-None-Match: $etag"
	"article gzip|$article_path||0.85|Accept-Encoding: gzip"
	"image 640 px|$photo||0.8"
)
# The affiliate redirect, against the ceiling's constant 302.
if [ "$redirect" = 1 ]; then
	endpoints+=("redirect /go/|/go/$product?a=$slug|/redirect|0.8")
fi

metric() { curl -s "$metrics/metrics" | awk -v m="$1" 'index($0, m) == 1 {print $NF}' | head -1; }
# settle: waits (at most three minutes) until the click writer has stored
# the click log's backlog, so that neither side's round runs while the
# service catches up on the clicks of an earlier round (the writer
# pauses while clicks arrive and stores at full speed after them).
settle() {
	for _ in $(seq 1 360); do
		[ "$(metric affiliate_click_log_backlog_bytes)" = 0 ] && [ "$(metric affiliate_click_queue_depth)" = 0 ] && return 0
		sleep 0.5
	done
	echo "the click backlog did not drain" >&2
}

echo "== warming up"
wrk -t"$threads" -c"$conns" -d3s "$base$article_path" >/dev/null
wrk -t"$threads" -c"$conns" -d3s "$ceiling/body/1000" >/dev/null

printf '\n%-24s %7s | %9s %8s %8s | %9s %8s %8s | %6s %s\n' endpoint bytes "req/s" "p50 ms" "p99 ms" "ceil r/s" "p50 ms" "p99 ms" ratio target
rows=()
misses=0
copies=0
rss_content=""
for spec in "${endpoints[@]}"; do
	IFS='|' read -r name path ceil_path target hdr <<<"$spec"
	[ -z "${BENCH_ONLY:-}" ] || [[ $name == *"$BENCH_ONLY"* ]] || continue
	hs=()
	[ -n "$hdr" ] && hs=("$hdr")
	if [ "$name" = "redirect /go/" ]; then
		rss_content=$(rss_kb) # before the click recorder gets busy
	fi
	read -r status bytes < <(fetch "$base$path" "${hs[@]}")
	case $status in 200 | 302 | 304) ;; *)
		echo "$name: $base$path answered $status" >&2
		exit 1
		;;
	esac
	if [ "$ceiling_kind" = copy ]; then
		# The ceiling answers a copy of this very response: its status,
		# headers and body size (see bench/ceiling).
		copies=$((copies + 1))
		curl -s -D "$tmp/head" -o /dev/null "${hs[@]/#/-H}" "$base$path"
		curl -fs -X PUT --data-binary @"$tmp/head" "$ceiling/copy/$copies?n=$bytes"
		ceil_path=/copy/$copies
	fi
	[ -n "$ceil_path" ] || ceil_path=/body/$bytes
	# Rounds alternate service and ceiling, so that a drift of the
	# machine (another process, the CPU clock) touches both alike; each
	# side reports its median round. Errors add up over all rounds.
	svc=""
	cei=""
	errs=0
	bad=0
	for _ in $(seq 1 "$rounds"); do
		settle
		read -r rps p50 p99 _ e b < <(load "$base$path" "${hs[@]}")
		svc+="$rps $p50 $p99"$'\n'
		errs=$((errs + e))
		bad=$((bad + b))
		settle
		read -r crps cp50 cp99 _ _ _ < <(load "$ceiling$ceil_path")
		cei+="$crps $cp50 $cp99"$'\n'
	done
	read -r rps p50 p99 < <(printf '%s' "$svc" | median_round)
	read -r crps cp50 cp99 < <(printf '%s' "$cei" | median_round)
	ratio=$(awk -v a="$rps" -v b="$crps" 'BEGIN {printf "%.2f", a / b}')
	verdict=">= $target"
	if awk -v r="$ratio" -v t="$target" 'BEGIN {exit !(r >= t)}'; then verdict="$verdict ok"; else
		verdict="$verdict MISS"
		misses=$((misses + 1))
	fi
	[ "$errs$bad" = 00 ] || verdict="$verdict errors=$errs non2xx=$bad"
	row=$(printf '%-24s %7s | %9s %8s %8s | %9s %8s %8s | %6s %s' "$name" "$bytes" "$rps" "$p50" "$p99" "$crps" "$cp50" "$cp99" "$ratio" "$verdict")
	echo "$row"
	rows+=("$row")
done
rss_after=$(rss_kb)
[ -n "$rss_content" ] || rss_content=$rss_after

growth=$(awk -v a="$rss_content" -v b="$rss_seeded" 'BEGIN {printf "%.2f", a / b}')
echo
echo "idle CPU after seeding:       $idle_cpu% of one core (background loops)"
echo "RSS after seeding:            $((rss_seeded / 1024)) MiB"
echo "RSS after the content run:    $((rss_content / 1024)) MiB (x$growth; target <= 1.5)"
[ "$redirect" = 1 ] && echo "RSS after the redirect run:   $((rss_after / 1024)) MiB"
echo "machine: $(nproc) CPUs, $(go version | awk '{print $3}'), $(wrk -v 2>&1 | head -1 | awk '{print $1, $2}'), log level $log_level, $conns connections, $rounds x $duration per side, ceiling: $ceiling_kind"
if awk -v g="$growth" 'BEGIN {exit !(g > 1.5)}'; then misses=$((misses + 1)); fi

# Issue 6: every redirect the service answered (each 302 it sent) must end
# up as a stored click, once the queue and any spill file have drained.
if [ "$redirect" = 1 ]; then
	sign_in() {
		token=$(curl -s "$base/api/v1/auth/login" -H 'Content-Type: application/json' \
			-d "{\"email\":\"$CMS_ADMIN_EMAIL\",\"password\":\"$CMS_ADMIN_PASSWORD\"}" |
			sed -n 's/.*"accessToken":"\([^"]*\)".*/\1/p')
	}
	sign_in
	day=$(date -u +%F)
	sent=$(metric 'http_requests_total{method="GET",route="/go/:code",status="302"}')
	sent=${sent:-0}
	# stored_clicks: every click stored today, people's and bots'.
	stored_clicks() {
		curl -s -H "Authorization: Bearer $token" "$base/api/v1/stats/clicks?from=$day&to=$day&groupBy=day" |
			sed -n 's/.*"total":{"clicks":\([0-9]*\),"botClicks":\([0-9]*\).*/\1 \2/p' | awk '{print $1 + $2}'
	}
	# wait_stored N: waits up to two minutes for N stored clicks; sets stored.
	wait_stored() {
		stored=0
		for _ in $(seq 1 120); do
			stored=$(stored_clicks)
			[ "${stored:-0}" -ge "$1" ] && return 0
			sleep 1
		done
	}
	wait_stored "${sent%.*}"
	printf '\nclicks: %s redirects sent (302), %s stored; largest queue depth %s; spilled %s, replayed %s\n' \
		"${sent%.*}" "$stored" "$(metric affiliate_click_queue_depth_max)" \
		"$(metric affiliate_clicks_spilled_total)" "$(metric affiliate_clicks_replayed_total)"
	if [ "${stored:-0}" != "${sent%.*}" ]; then
		echo "CLICKS LOST OR DOUBLED: sent ${sent%.*}, stored $stored"
		misses=$((misses + 1))
	fi
fi
# SIGKILL in the middle of a /go/ run: every 302 wrk received must be
# stored once the service is back.
if [ "$redirect" = 1 ]; then
	before=$(stored_clicks)
	wrk -t"$threads" -c"$conns" -d6s -s "$root/bench/report.lua" "$base/go/$product?a=$slug" >"$tmp/kill.wrk" 2>&1 &
	wrk_pid=$!
	sleep 3
	kill -KILL "$cms_pid"
	wait "$cms_pid" 2>/dev/null || true
	wait "$wrk_pid" || true
	read -r _ _ _ received _ bad < <(awk '/^RESULT/ {print $2, $3, $4, $5, $6, $7}' "$tmp/kill.wrk") || {
		echo "wrk reported nothing for the kill run:" >&2
		cat "$tmp/kill.wrk" >&2
		exit 1
	}
	received=$((received - bad))
	start_cms
	wait_up "$base/readyz"
	sign_in
	want=$((before + received))
	wait_stored "$want"
	after=${stored:-0}
	lost=$((want - after))
	[ "$lost" -ge 0 ] || lost=0
	extra=$((after - want))
	[ "$extra" -ge 0 ] || extra=0
	printf 'SIGKILL during /go/: %s redirects received before the kill, %s stored after the restart: %s lost, %s answered but not received (at most %s)\n' \
		"$received" "$((after - before))" "$lost" "$extra" "$conns"
	if [ "$lost" -gt 0 ] || [ "$extra" -gt "$conns" ]; then
		echo "CLICKS LOST OR DOUBLED ON SIGKILL"
		misses=$((misses + 1))
	fi
fi
misses=$((misses + write_misses))
if [ "$misses" -gt 0 ]; then echo "targets missed: $misses"; else echo "all targets met"; fi
