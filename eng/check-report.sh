#!/usr/bin/env bash
# Renders a report.html in Debian's headless chromium and checks that it loads without errors and shows every figure:
#   eng/check-report.sh REPORT.html [--screenshot OUT.png] [--width PX] [--height PX] [SECTION_ID ...]
# Fails (exit 1, one line naming the problem) when chromium logs a console or page error, when the rendered page has
# fewer <svg> figures than the file holds, or when a named section id is missing. chromium is installed by
# eng/setup.sh chromium when missing (exit 3 when it cannot be). Prints "report ok: ..." on success.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [[ $# -lt 1 ]]; then echo "usage: eng/check-report.sh REPORT.html [--screenshot OUT.png] [SECTION_ID ...]" >&2; exit 2; fi
report="$(realpath "$1")"; shift
shot="" width=1100 height=4000 ids=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --screenshot) shot="$(realpath -m "$2")"; shift 2 ;;
    --width) width="$2"; shift 2 ;;
    --height) height="$2"; shift 2 ;;
    *) ids+=("$1"); shift ;;
  esac
done
[[ -f "$report" ]] || { echo "check-report: $report does not exist" >&2; exit 2; }
if ! command -v chromium >/dev/null; then
  "$root/eng/setup.sh" chromium >&2 || { echo "check-report: chromium is not installed and eng/setup.sh chromium could not install it" >&2; exit 3; }
fi

work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
# A fresh profile per run; no sandbox (it needs user namespaces, often missing in containers); no network needed.
flags=(--headless --no-sandbox --disable-gpu --no-first-run --user-data-dir="$work/profile" --enable-logging=stderr --v=0
       --virtual-time-budget=2000 --window-size="$width,$height")
timeout 60 chromium "${flags[@]}" --dump-dom "file://$report" >"$work/dom.html" 2>"$work/log.txt" || {
  echo "check-report: chromium failed on $report: $(tail -n 3 "$work/log.txt" | tr '\n' ' ')" >&2; exit 1; }
# Console messages of the page (console.error, uncaught exceptions, failed loads) are logged as CONSOLE lines.
if errors=$(grep -E 'CONSOLE|Uncaught|Failed to load' "$work/log.txt"); then
  echo "check-report: $report logged errors in chromium: $(head -n 3 <<<"$errors" | tr '\n' ' ')" >&2; exit 1
fi
in_file=$(grep -o '<svg[ >]' "$report" | wc -l)
in_dom=$(grep -o '<svg[ >]' "$work/dom.html" | wc -l)
if [[ "$in_dom" -lt "$in_file" || "$in_file" -eq 0 ]]; then
  echo "check-report: $report holds $in_file <svg> figures but chromium rendered $in_dom" >&2; exit 1
fi
for id in "${ids[@]}"; do
  grep -q "id=\"$id\"" "$work/dom.html" || { echo "check-report: $report has no section id=\"$id\" in the rendered page" >&2; exit 1; }
done
if [[ -n "$shot" ]]; then
  timeout 60 chromium "${flags[@]}" --hide-scrollbars --screenshot="$shot" "file://$report" >/dev/null 2>>"$work/log.txt" || {
    echo "check-report: chromium could not take the screenshot $shot" >&2; exit 1; }
fi
echo "report ok: $in_dom figures${ids:+, sections ${ids[*]}}${shot:+, screenshot $shot}"
