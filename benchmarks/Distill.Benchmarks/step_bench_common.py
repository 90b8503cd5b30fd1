"""What the segmentation and detection step benchmarks (seg_step_bench.py, det_step_bench.py) share: timing one round
of every row, and the protocol with StepComparison.cs (a JSON line when ready, then "round" or "end" on stdin)."""
import json
import resource
import sys
import time


def time_round(steps_by_row, rows, batch, steps):
    """Per row: one untimed step, then images/s of wall time and images per second of the process's CPU time."""
    rates = {}
    for row in rows:
        step = steps_by_row[row]
        step()
        start, cpu = time.perf_counter(), time.process_time()
        for _ in range(steps):
            step()
        rates[row] = steps * batch / (time.perf_counter() - start)
        rates[row + "/cpu"] = steps * batch / (time.process_time() - cpu)
    return rates


def peak_rss_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run(bench_round, info, rounds, serve):
    """Without serve: ROUNDS rounds, one JSON line. With serve: answer "round" and "end" commands one JSON line each."""
    if not serve:
        print(json.dumps(info | {"rounds": [bench_round() for _ in range(rounds)], "peak_rss_mib": peak_rss_mib()}))
        return
    print(json.dumps(info | {"ready": True}), flush=True)
    while True:
        command = sys.stdin.readline().strip()
        if command == "round":
            print(json.dumps(bench_round()), flush=True)
        elif command in ("end", ""):
            print(json.dumps({"peak_rss_mib": peak_rss_mib()}), flush=True)
            return
        else:
            raise SystemExit(f"unknown command {command!r}")
