#!/usr/bin/env bash
# Upload benchmark of the media library (issue 14): the time to check,
# resize and store a 12-megapixel phone JPEG (every width, in JPEG and
# WebP), one at a time and BENCH_PARALLEL at once, and the service's peak
# RSS (VmHWM) while it does.
#
# Usage: bench/upload.sh   (needs Go and curl)
#
# Knobs (environment):
#   BENCH_UPLOADS    uploads one after another     3
#   BENCH_PARALLEL   uploads at the same time       2
#   BENCH_PORT, BENCH_METRICS_PORT                  18390, 18774
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
uploads=${BENCH_UPLOADS:-3}
parallel=${BENCH_PARALLEL:-2}
port=${BENCH_PORT:-18390}
metrics_port=${BENCH_METRICS_PORT:-18774}
base=http://127.0.0.1:$port
tmp=$(mktemp -d "${TMPDIR:-/tmp}/cms-upload.XXXXXX")
cms_pid=""
cleanup() {
	[ -z "$cms_pid" ] || { kill "$cms_pid" 2>/dev/null || true; wait "$cms_pid" 2>/dev/null || true; }
	rm -rf "$tmp"
}
trap cleanup EXIT

echo "== building into $tmp"
(cd "$root" && go build -o "$tmp/cms" ./cmd/cms && go build -o "$tmp/seed" ./bench/seed)
if curl -s -o /dev/null "$base/readyz"; then
	echo "something already answers on $base: set BENCH_PORT and BENCH_METRICS_PORT" >&2
	exit 1
fi
export CMS_ADMIN_EMAIL=bench@example.com
export CMS_ADMIN_PASSWORD='a long bench password 4 load tests'
CMS_ADDR=127.0.0.1:$port CMS_METRICS_ADDR=127.0.0.1:$metrics_port CMS_DATA_DIR=$tmp/data CMS_PUBLIC_URL=$base \
	CMS_LOG_LEVEL=warn "$tmp/cms" serve 2>>"$tmp/cms.log" &
cms_pid=$!
for _ in $(seq 1 1500); do
	curl -fs -o /dev/null "$base/readyz" && break
	sleep 0.02
done
kib() { awk -v k="$1" '$1 == k":" {print $2}' "/proc/$cms_pid/status"; }
echo "RSS when ready: $(($(kib VmRSS) / 1024)) MiB"

# upload: one photo through the seeder (which makes it); prints seconds.
upload() { "$tmp/seed" -url "$base" -n 0 -photo 2>/dev/null | sed -n 's/^PHOTO_SECONDS=//p'; }

for i in $(seq 1 "$uploads"); do
	echo "upload $i alone: $(upload) s"
done
echo "peak RSS after $uploads uploads one at a time: $(($(kib VmHWM) / 1024)) MiB"
pids=()
for i in $(seq 1 "$parallel"); do
	upload >"$tmp/par-$i" &
	pids+=($!)
done
wait "${pids[@]}"
for i in $(seq 1 "$parallel"); do echo "upload $i of $parallel at once: $(cat "$tmp/par-$i") s"; done
echo "peak RSS (VmHWM) of the service: $(($(kib VmHWM) / 1024)) MiB (target: about 300 MiB or less)"
