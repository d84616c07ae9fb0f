#!/usr/bin/env bash
# Runs one libFuzzer target for a while and prints one summary line.
#
#   fuzz/run.sh TARGET SECONDS BIN_DIR [RECORDINGS_DIR]
#
# The corpus lives in fuzz/corpus-TARGET/ (ignored by git, kept between runs,
# seeded by fuzz/seed.sh); artifacts go to fuzz/crash-TARGET-*; the full log to
# BIN_DIR/TARGET.log.  Exit 0 only when libFuzzer ended cleanly and left no
# crash, leak, timeout or out-of-memory artifact.
set -uo pipefail

t=${1:?target}; secs=${2:?seconds}; bin_dir=${3:?bin dir}; rec=${4:-}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root" || exit 2
case $t in
  parse) max_len=65536 ;;
  page)  max_len=65536 ;;
  url)   max_len=4096 ;;
  date)  max_len=64 ;;
  link)  max_len=4096 ;;
  *) echo "fuzz/run.sh: unknown target $t" >&2; exit 2 ;;
esac
corpus=fuzz/corpus-$t
log=$bin_dir/$t.log
fuzz/seed.sh "$t" "$corpus" ${rec:+"$rec"} >/dev/null
before=$(find "$corpus" -type f | wc -l)
stamp=$(mktemp)
"$bin_dir/fuzz_$t" -max_total_time="$secs" -max_len="$max_len" -timeout=5 -rss_limit_mb=2048 \
  -dict="fuzz/$t.dict" -artifact_prefix="fuzz/crash-$t-" -print_final_stats=1 \
  -detect_leaks=1 "$corpus" >"$log" 2>&1
rc=$?
artifacts=$(find fuzz -maxdepth 1 -name "crash-$t-*" -newer "$stamp" | wc -l)
rm -f "$stamp"

execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
last=$(grep -E '^#[0-9]+' "$log" | tail -1)
cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
corp=$(sed -n 's/.* corp: \([^ ]*\).*/\1/p' <<<"$last")
after=$(find "$corpus" -type f | wc -l)
if [ "$rc" -eq 0 ] && [ "$artifacts" -eq 0 ]; then verdict=PASS; else verdict=FAIL; fi
printf 'fuzz %-5s %s: %ss, %s executions, %s exec/s, cov %s, ft %s, corpus %s in memory (%s files on disk, %s before), findings %s (libFuzzer exit %s)\n' \
  "$t" "$verdict" "$secs" "${execs:-?}" "${rate:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}" "$after" "$before" "$artifacts" "$rc"
if [ "$verdict" = FAIL ]; then
  grep -E 'ERROR|SUMMARY|runtime error|fuzz property failed|Test unit written' "$log" | head -20
  echo "full log: $log"
  exit 1
fi
