#!/usr/bin/env bash
# Checks that the committed golden fixtures (tests/Fixtures) do not encode one machine's float32 rounding
# beyond what the tests tolerate.
#
#   eng/golden/check_fixtures.sh [--keep DIR] [--no-tests] [GENERATOR.py ...]
#       Regenerates every fixture on this machine into a temporary folder (each eng/golden/*.py generator runs
#       from a copy of eng/golden placed in that folder, so its own "../../tests/Fixtures" path lands there;
#       golden_common.write_fixture also honours DISTILL_FIXTURES_OUT), then
#         1. compares each regenerated fixture with the committed one at the tests' tolerance
#            (eng/golden/compare_fixtures.py mirrors tests/Distill.Testing/GoldenTolerance.cs), and
#         2. runs the C# golden tests against the regenerated fixtures (DISTILL_FIXTURES=<folder>), so Distill
#            is also checked against this CPU's PyTorch (skip with --no-tests; needs a build, ./test makes one).
#       Generators that need a Python module this machine lacks are reported as skipped; their committed
#       fixtures are used for step 2. The environment passes through to the generators and the tests, so one
#       machine can also play another CPU: ATEN_CPU_CAPABILITY=default ONEDNN_MAX_CPU_ISA=AVX2 (scalar ATen
#       kernels, AVX2 convolutions), OMP_NUM_THREADS=1 or 2.
#   eng/golden/check_fixtures.sh --against REV
#       No regeneration: compares the fixtures in the working tree with those of git revision REV (e.g. HEAD)
#       at the same tolerance. Run it after regenerating a fixture and before committing it: a value that moved
#       beyond the tolerance is a change of meaning, not of rounding.
#
# Exit status: 0 when everything is within tolerance, 1 with a list otherwise, 2 for a usage error.
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
python=/usr/bin/python3
keep="" tests=1 against="" generators=()
while (($#)); do
  case "$1" in
    --keep) keep="$2"; shift 2 ;;
    --no-tests) tests=0; shift ;;
    --against) against="$2"; shift 2 ;;
    -h|--help) sed -n '2,27p' "$0"; exit 0 ;;
    -*) echo "check_fixtures.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    *) generators+=("$(basename "$1")"); shift ;;
  esac
done

if [[ -n "$against" ]]; then
  work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
  files=()
  while IFS= read -r f; do
    name="$(basename "$f")"
    git show "$against:$f" >"$work/$name" 2>/dev/null && files+=("$name")
  done < <(git ls-tree -r --name-only "$against" -- tests/Fixtures)
  if ((${#files[@]} == 0)); then echo "check_fixtures.sh: no fixtures at $against" >&2; exit 2; fi
  echo "fixtures in the working tree against $against:"
  "$python" eng/golden/compare_fixtures.py "$work" tests/Fixtures "${files[@]}"
  exit $?
fi

if [[ -n "$keep" ]]; then
  work="$(mkdir -p "$keep" && cd "$keep" && pwd)"
else
  work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
fi
out="$work/tests/Fixtures"
rm -rf "$work/eng" "$out"; mkdir -p "$work/eng" "$out" "$work/logs"
cp -r eng/golden "$work/eng/golden"
rm -rf "$work/eng/golden/__pycache__"
if ((${#generators[@]} == 0)); then
  for g in eng/golden/*.py; do
    case "$(basename "$g")" in
      golden_common.py|safetensors_io.py|read_back.py|compare_fixtures.py) ;;
      *) generators+=("$(basename "$g")") ;;
    esac
  done
fi

status=0 skipped=() failed=()
for g in "${generators[@]}"; do
  log="$work/logs/${g%.py}.log"
  start=$SECONDS
  if (cd "$work" && DISTILL_FIXTURES_OUT="$out" "$python" "eng/golden/$g") >"$log" 2>&1; then
    echo "regenerated with $g ($((SECONDS - start)) s)"
  elif missing=$(grep -o "No module named '[^']*'" "$log" | head -n 1) && [[ -n "$missing" ]]; then
    skipped+=("$g ($missing)")
  else
    failed+=("$g (log: $log)"); status=1
    tail -n 5 "$log" | sed 's/^/    /'
  fi
done

regenerated=()
for f in "$out"/*; do [[ -f "$f" ]] && regenerated+=("$(basename "$f")"); done
echo
echo "regenerated fixtures against the committed ones (tests' tolerance):"
if ((${#regenerated[@]})); then
  "$python" eng/golden/compare_fixtures.py tests/Fixtures "$out" "${regenerated[@]}" || status=1
fi
for f in tests/Fixtures/*; do
  name="$(basename "$f")"
  if [[ ! -e "$out/$name" ]]; then
    echo "not regenerated: $name (the committed file is used below)"
    cp "$f" "$out/$name"
  fi
done

if ((tests)); then
  echo
  echo "C# golden tests against the regenerated fixtures (DISTILL_FIXTURES=$out):"
  filter="FullyQualifiedName~Golden|FullyQualifiedName~MatchingStep|FullyQualifiedName~LinearSumAssignment|FullyQualifiedName~Checkpoint|FullyQualifiedName~CheckCommand|FullyQualifiedName~CheckFeatureMethod|FullyQualifiedName~DetectionMethodCheck"
  for project in tests/*.Tests/*.csproj; do
    name="$(basename "$project" .csproj)"
    if DISTILL_FIXTURES="$out" dotnet test "$project" -c Release --no-build -nologo --filter "$filter" >"$work/logs/$name.log" 2>&1; then
      echo "ok       $name: $(grep -Eo 'Passed: +[0-9]+' "$work/logs/$name.log" | tail -n 1)"
    else
      status=1
      echo "FAILED   $name:"
      grep -E '^\s+Failed |Error Message|: element|difference' "$work/logs/$name.log" | head -n 20 | sed 's/^/    /'
      grep -q "Passed\|Failed" "$work/logs/$name.log" || tail -n 5 "$work/logs/$name.log" | sed 's/^/    /'
    fi
  done
fi

echo
for s in "${skipped[@]}"; do echo "SKIPPED  $s: install the module to regenerate it"; done
for f in "${failed[@]}"; do echo "FAILED   generator $f"; done
if ((status)); then echo "check_fixtures: FAILED"; else echo "check_fixtures: all within the tests' tolerance"; fi
[[ -n "$keep" ]] && echo "regenerated fixtures kept in $out"
exit $status
