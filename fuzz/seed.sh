#!/usr/bin/env bash
# Builds the seed corpus of one fuzz target from the recordings, into a
# directory (created; existing files are kept, so a corpus grows across runs).
#
#   fuzz/seed.sh parse|page|url|date|link DIR [RECORDINGS_DIR]
#
# RECORDINGS_DIR defaults to ../shared/recordings beside the repository (the
# CI clone has shared/ there); when it is absent the built-in seeds below are
# used alone.  The input formats are described at the top of each harness.
set -euo pipefail

target=${1:?target: parse, url or date}
out=${2:?output directory}
root=$(cd "$(dirname "$0")/.." && pwd)
rec=${3:-$root/../shared/recordings}
mkdir -p "$out"

recs=()
if [ -d "$rec" ]; then
  shopt -s nullglob
  recs=("$rec"/*.json)
  shopt -u nullglob
fi
[ ${#recs[@]} -gt 0 ] || echo "fuzz/seed.sh: no recordings in $rec; built-in seeds only" >&2

n=0
put() { # put NAME: stdin -> $out/seed-NAME
  cat >"$out/seed-$1"
  n=$((n + 1))
}

SEP=$'\n@@\n'
EP=https://fuzz.cognitiveservices.azure.com
JOB=8a2e4e60-0000-4a5e-9e3f-000000000001

case $target in
parse)
  # built-in: two pages joined by a relative next link, then the end
  p1='{"value":[{"id":"a1","status":"Succeeded","createdDateTimeUtc":"2024-10-11T01:26:30.1343348Z"}],"@nextLink":"/translator/document/batches/'$JOB'/documents?skip=1&api-version=2024-05-01"}'
  p2='{"value":[{"id":"a2","status":"Failed","error":{"code":"InvalidRequest","message":"x","innerError":{"code":"y"}}}]}'
  printf '%s%s%s' "$p1" "$SEP" "$p2" | put builtin-2pages
  printf '429\nretry-after: 1\n\n%s!net%s%s' "$SEP" "$SEP" "$p2" | put builtin-retry
  printf '503\nretry-after: Sun, 06 Nov 1994 08:49:37 GMT\nx-ms-request-id: r1\n\n<html>busy</html>%s!timeout%s%s' "$SEP" "$SEP" "$p1" | put builtin-retry-date
  printf '404\napim-request-id: abc\n\n{"error":{"code":"NotFound","message":"Job not found","target":"Job","innerError":{"code":"Gone","message":"m"}}}' | put builtin-404
  printf '!\002\377\000\000{"id":"%s","status":"Running","summary":{"total":2,"failed":0}}' "$JOB" | put builtin-job
  printf '!\000\003\001\202%s%s%s%s!proto' "$p1" "$SEP" "$p1" "$SEP" | put builtin-top
  for f in "${recs[@]}"; do
    b=$(basename "$f" .json)
    case $b in
      *error-*) code=${b##*error-}; { printf '%s\napim-request-id: 0001\n\n' "$code"; cat "$f"; } | put "$b" ;;
      *list-translations*) { printf '!\001\377\000\000'; cat "$f"; } | put "$b" ;;
      *job-status*|*cancel*) { printf '!\002\377\000\000'; cat "$f"; } | put "$b"
                              { printf '!\003\377\000\000'; cat "$f"; } | put "$b-as-doc" ;;
      *) cat "$f" | put "$b"
         # the page twice (a next link already followed), then behind a 500
         { cat "$f"; printf '%s' "$SEP"; cat "$f"; } | put "$b-twice"
         { printf '!\020\005\002\003500\n\n%s' "$SEP"; cat "$f"; } | put "$b-parsed-after-500" ;;
    esac
  done
  ;;
page)
  # built-in: the corners of the two readers (escapes, surrogates, numbers,
  # repeated names, nesting, next links of every type)
  printf '%s' '{"value":[{"id":"a\u00e9\ud83d\ude00","n":-0,"x":1.5e3,"b":true,"z":null,"id":"b\ud800x"},[],"s",{"error":{"code":"c","innerError":{"code":"d"}}}],"@nextLink":"/next?skip=1","nextLink":null}' | put builtin-corners
  printf '%s' '{"value":[{"id":"1","k\u0000x":2,"k":3}],"value":[{"id":"2"}],"@nextLink":7}' | put builtin-repeat
  printf '%s' '{"value":[[[[[[[[[[1]]]]]]]]]],"nextLink":"x"}' | put builtin-deep
  printf '%s' '{"value":[{"id":"9223372036854775808","c":99999999999999999999,"d":-1e400}]} ' | put builtin-numbers
  for f in "${recs[@]}"; do
    cat "$f" | put "$(basename "$f" .json)"
  done
  ;;
url)
  links=(
    "/translator/document/batches/$JOB/documents?skip=50&maxpagesize=50"
    "?\$skip=2&\$top=8&\$maxpagesize=2"
    "https://evil.example.com/translator/document/batches?skip=2"
    "//fuzz.cognitiveservices.azure.com:443/x?sig=abc&se=2024"
    "batches/$JOB/documents?skip=1"
  )
  toks=("dt1:job=$JOB&skip=3&top=7&ps=2&st=Failed%2CSucceeded&ob=createdDateTimeUtc%20asc"
        "dt1:jobs=1&skip=0&ca=2024-01-01T00%3A00%3A00Z&cb=2025-01-01T00%3A00%3A00Z&end=1"
        "$JOB")
  i=0
  for l in "${links[@]}"; do
    { printf "\\$(printf '%03o' $((i * 9 % 128)))"
      printf '%s/translator/\n%s/translator/document/batches/%s/documents?skip=0\n%s\n%s' \
        "$EP" "$EP" "$JOB" "$l" "${toks[$((i % 3))]}"; } | put "builtin-$i"
    i=$((i + 1))
  done
  # every URL of the recordings, as a next link and as a raw string (SAS paths)
  if [ ${#recs[@]} -gt 0 ]; then
    grep -ho '"https\?://[^"]*"' "${recs[@]}" | tr -d '"' | sort -u | head -200 | while read -r u; do
      i=$((i + 1))
      printf '\010https://redacted.cognitiveservices.azure.com\n%s\n%s\n%s' "$u" "$u" "${toks[$((i % 3))]}" \
        >"$out/seed-rec-$i"
      printf '\001%s\n\n%s&sig=Zm9vYmFy%%3D&se=2030\n' "$EP" "$u" >"$out/seed-rec-sig-$i"
    done
  fi
  ;;
date)
  printf '2024-10-11T01:26:30.1343348Z' | put builtin-iso
  printf '2024-02-29T23:59:60+05:30' | put builtin-leap
  printf '1970-01-01 00:00:00-0000' | put builtin-zone
  printf 'Sun, 06 Nov 1994 08:49:37 GMT' | put builtin-http
  printf '\000\000\000\000\000\000\360\177' | put builtin-inf
  if [ ${#recs[@]} -gt 0 ]; then
    grep -ho '"[0-9]\{4\}-[0-9][0-9]-[0-9][0-9]T[^"]*"' "${recs[@]}" | tr -d '"' | sort -u | head -200 |
      while read -r d; do printf '%s' "$d" >"$out/seed-rec-$(printf '%s' "$d" | cksum | cut -d' ' -f1)"; done
  fi
  ;;
link)
  # endpoint \n current \n next link \n response head (lines joined by '|')
  cur="$EP/translator/document/batches/$JOB/documents?skip=0&api-version=2024-05-01"
  heads=("HTTP/1.1 503 x|Retry-After: 3||Retry-After: 9" "HTTP/1.1 429 x|retry-after-ms: 2500garbage|"
         "HTTP/1.1 503 x|Retry-After: 0x3|" "HTTP/1.1 503 x|Retry-After: Sun, 06 Nov 1994 08:49:37 GMT|"
         "HTTP/1.1 100 x||HTTP/1.1 200 OK|apim-request-id: 1||apim-request-id: trailer")
  links=("/translator/document/batches/$JOB/documents?skip=50#frag" "?\$skip=2&\$top=8"
         "http://127.1:443/x" "https://FUZZ.cognitiveservices.azure.com./x?sig=abc"
         "batches/$JOB/documents?skip=1" "//evil.example.com/x" "/a/../../b" "/x$(printf '\013')y"
         "https://u@fuzz.cognitiveservices.azure.com/x" "https://[::ffff:127.0.0.1]/x")
  i=0
  for l in "${links[@]}"; do
    { printf "\\$(printf '%03o' $((i % 8)))"
      printf '%s/translator/\n%s\n%s\n%s' "$EP" "$cur" "$l" "${heads[$((i % 5))]}"; } | put "builtin-$i"
    i=$((i + 1))
  done
  ;;
*) echo "fuzz/seed.sh: unknown target $target" >&2; exit 2 ;;
esac
echo "fuzz/seed.sh: $target: $(find "$out" -type f | wc -l) files in $out"
