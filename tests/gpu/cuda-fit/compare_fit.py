#!/usr/bin/env python3
"""Runs llama-buffers for every case of expected.json and compares llama.cpp's buffers with Gryphgen's estimate.

usage: compare_fit.py --mode cuda|cpu --harness BIN --backend-dir DIR --models DIR --expected FILE --out DIR

--mode cuda loads each model fully offloaded (n_gpu_layers = blocks + 1) and compares the CUDA0 buffers with the
estimate's device figures; --mode cpu loads it with n_gpu_layers = 0 and compares the CPU buffers with the host
figures (the same check as tests/Gryphgen.Fit.Tests, through the same harness). Prints one [PASS]/[FAIL] line per
case with each buffer's deviation, writes <out>/cuda-fit-<mode>.log (everything llama.cpp printed) and
<out>/cuda-fit-<mode>-summary.txt / .json. Tolerances (expected.json): weights, KV and output 1 %, compute 15 %,
total 5 %, each at least llama.cpp's two-decimal MiB rounding. Exit status 0 when every case passed. Python 3.8+,
standard library only.
"""
import argparse
import json
import os
import re
import subprocess
import sys
import time

LINE = re.compile(r"^\S*:\s+(?P<buffer>\S+)\s+(?P<kind>model|KV|output|compute) buffer size\s*=\s*(?P<mib>[0-9.]+) MiB")
MIB = 1024.0 * 1024.0


def parse(text):
    """Bytes per (buffer, kind). Model and KV lines add up (an SWA model prints two KV caches); compute and output
    keep the last line of each buffer (a context reserves its graph once, but a re-reserve would print again)."""
    sizes = {}
    for line in text.splitlines():
        m = LINE.match(line.strip())
        if not m:
            continue
        key = (m.group("buffer"), m.group("kind"))
        value = round(float(m.group("mib")) * MIB)
        if m.group("kind") in ("model", "KV"):
            sizes[key] = sizes.get(key, 0) + value
        else:
            sizes[key] = value
    return sizes


def measured(sizes):
    def total(kind, on_device):
        return sum(v for (buf, k), v in sizes.items() if k == kind and is_device(buf) == on_device)

    return {
        "deviceWeights": total("model", True), "hostWeights": total("model", False),
        "deviceKv": total("KV", True), "hostKv": total("KV", False),
        "deviceCompute": total("compute", True), "hostCompute": total("compute", False),
        "output": sum(v for (_, k), v in sizes.items() if k == "output"),
    }


def is_device(buffer):
    # CUDA0, CUDA1 ... are device memory; CUDA_Host is pinned host memory; CPU, CPU_Mapped, CPU_REPACK are host.
    return buffer.startswith("CUDA") and not buffer.startswith("CUDA_Host")


def deviation(est, got):
    return 0.0 if got == 0 and est == 0 else (float("inf") if got == 0 else 100.0 * (est - got) / got)


def fmt(est, got):
    # llama.cpp prints 0.00 MiB for a buffer under 5 KiB: no percentage then.
    share = f"{deviation(est, got):+.1f}%" if got else "rounded to 0"
    return f"{est / MIB:.2f}/{got / MIB:.2f} MiB ({share})"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mode", choices=["cuda", "cpu"], required=True)
    ap.add_argument("--harness", required=True)
    ap.add_argument("--backend-dir", required=True)
    ap.add_argument("--models", required=True)
    ap.add_argument("--expected", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--only", help="run only cases whose id contains this text")
    ap.add_argument("--timeout", type=int, default=180, help="seconds per case")
    a = ap.parse_args()

    expected = json.load(open(a.expected))
    tol = expected["tolerances"]
    rounding = tol["roundingBytes"]
    files = {m["name"]: os.path.join(a.models, m["file"][:-5] if m["file"].endswith(".head") else m["file"]) for m in expected["models"]}
    os.makedirs(a.out, exist_ok=True)
    log = open(os.path.join(a.out, f"cuda-fit-{a.mode}.log"), "w")
    results, lines = [], []

    def say(text):
        print(text, flush=True)
        lines.append(text)

    say(f"mode={a.mode} harness={a.harness} backends={a.backend_dir} expected={a.expected} ({expected.get('created', '?')})")
    for case in expected["cases"]:
        if a.only and a.only not in case["id"]:
            continue
        est = case[a.mode]
        args = [a.harness, a.backend_dir, files[case["model"]], str(case["context"]), case["cache"],
                "1" if case["flashAttention"] else "0", str(est["gpuLayers"])]
        started = time.time()
        try:
            run = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=a.timeout)
            text, rc = run.stdout.decode(errors="replace"), run.returncode
        except subprocess.TimeoutExpired as e:
            text, rc = (e.stdout or b"").decode(errors="replace"), "timeout"
        seconds = time.time() - started
        log.write(f"===== {case['id']} mode={a.mode} rc={rc} {seconds:.1f}s: {' '.join(args)}\n{text}\n")
        log.flush()
        sizes = parse(text)
        got = measured(sizes)
        result = {"id": case["id"], "mode": a.mode, "rc": rc, "seconds": round(seconds, 1), "expected": est, "measured": got,
                  "buffers": {f"{b} {k}": v for (b, k), v in sorted(sizes.items())}, "failures": []}
        if rc != 0 or not sizes:
            tail = " | ".join(text.strip().splitlines()[-3:])
            result["failures"].append(f"llama-buffers exited {rc}: {tail}")
            say(f"[FAIL] {case['id']} {a.mode}: llama-buffers exited {rc} after {seconds:.1f}s: {tail}")
            results.append(result)
            continue

        if a.mode == "cuda":
            checks = [("weights", est["deviceWeights"], got["deviceWeights"], tol["weights"]),
                      ("host weights", est["hostWeights"], got["hostWeights"], tol["weights"]),
                      ("KV", est["deviceKv"], got["deviceKv"], tol["kv"]),
                      ("output", est["output"], got["output"], tol["output"]),
                      ("compute", est["deviceCompute"], got["deviceCompute"], tol["compute"]),
                      ("host compute", est["hostCompute"], got["hostCompute"], None)]
        else:
            checks = [("weights", est["hostWeights"], got["hostWeights"], tol["weights"]),
                      ("KV", est["hostKv"], got["hostKv"], tol["kv"]),
                      ("output", est["output"], got["output"], tol["output"]),
                      ("compute", est["hostCompute"], got["hostCompute"], tol["compute"])]
        checks.append(("total", est["total"], sum(got.values()), tol["total"]))
        parts = []
        for name, e, g, t in checks:
            mark = ""
            if t is not None and abs(e - g) > max(g * t, rounding):
                result["failures"].append(f"{name}: estimated {e} bytes, llama.cpp {g} bytes (allowed {t:.0%})")
                mark = " !"
            parts.append(f"{name} {fmt(e, g)}{mark}" + ("" if t is not None else " [info]"))
        say(f"[{'FAIL' if result['failures'] else 'PASS'}] {case['id']} {a.mode} ngl={est['gpuLayers']} ({seconds:.1f}s): " + ", ".join(parts))
        results.append(result)

    passed = sum(1 for r in results if not r["failures"])
    failed = len(results) - passed
    say(f"cuda-fit {a.mode}: {passed} passed, {failed} failed")
    with open(os.path.join(a.out, f"cuda-fit-{a.mode}-summary.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")
    with open(os.path.join(a.out, f"cuda-fit-{a.mode}-summary.json"), "w") as f:
        json.dump({"mode": a.mode, "passed": passed, "failed": failed, "results": results}, f, indent=1)
    return 0 if failed == 0 and passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
