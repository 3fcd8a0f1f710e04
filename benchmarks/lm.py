"""End to end over HTTP, in one run: native + dspex.LM vs DSPy + dspy.LM vs a raw kept-alive client, and async.

A loopback OpenAI-compatible server runs in its own process (``lm_server.py``) at a 0 ms and a 20 ms LM. Per LM
latency, batches of each row are interleaved round by round and each row's number is the median of its batches:

* ``raw http.client``: one kept-alive ``http.client`` connection POSTing the exact body and headers native Predict
  sends through dspex.LM, with the same socket timeout, and decoding the JSON answer: the least any production
  client can do for that request (the floor);
* ``raw httpx.Client``: the same with httpx's client (what a plain httpx design costs per request);
* ``native + dspex.LM``: ``dspex.native.Predict`` over ``dspex.LM`` (sync plain HTTP: its stdlib lane);
* ``native + dspex.LM (httpx lane)``: the same LM forced onto its httpx client (what dspex.LM costs behind a proxy,
  over https or HTTP/2, i.e. the price of httpx's features);
* ``native + dspy.LM`` and ``DSPy + dspy.LM``: DSPy's LM (cache off, bundled model metadata: no network lookup);
* ``async x50``: 50 concurrent ``acall`` of native Predict over dspex.LM's async httpx client, per call.

The raw floor and native + dspex.LM are also measured in a second process where DSPy cannot be imported (the pure
native path; with DSPy loaded, each native call also keeps DSPy's books: history, usage, callbacks).

Targets checked in the printout: native + dspex.LM within 1.3x of the raw client; DSPy + dspy.LM at least 4x
slower at a 0 ms LM. ``python benchmarks/lm.py [--rounds 9] [--batch 30] [--json PATH]``.
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "true")   # dspy.LM: the bundled metadata, no network
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

TARGET_RAW, TARGET_DSPY = 1.3, 4.0
SIGNATURE, INPUTS = "question -> answer", {"question": "What is the capital of France?"}


class Server:
    def __init__(self, delay_ms: float) -> None:
        self.proc = subprocess.Popen([sys.executable, str(Path(__file__).with_name("lm_server.py")), str(delay_ms)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.port = int(self.proc.stdout.readline())  # type: ignore[union-attr]
        self.api_base = f"http://127.0.0.1:{self.port}/v1"

    def close(self) -> None:
        self.proc.stdin.close()  # type: ignore[union-attr]
        self.proc.wait(timeout=10)


def _batch(fn: Callable[[], Any], n: int) -> float:
    start = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - start) / n


def rows_for(server: Server, rounds: int, batch: int, pure: bool = False) -> dict[str, float]:
    import httpx

    import dspex
    import dspex.native as native

    lm = dspex.LM("openai/test", api_base=server.api_base, api_key="k", cache=False)
    slow_lm = dspex.LM("openai/test", api_base=server.api_base, api_key="k", cache=False)
    slow_lm._wire.fast = False                         # the httpx lane, same server
    n_mod = native.Predict(SIGNATURE)
    assert n_mod(lm=lm, **INPUTS).answer == "Paris"
    if not pure:
        import dspy

        dspy.configure_cache(enable_disk_cache=False, enable_memory_cache=False)
        dspy_lm = dspy.LM("openai/test", api_base=server.api_base, api_key="k", cache=False)
        d_mod = dspy.Predict(SIGNATURE)
        assert d_mod(lm=dspy_lm, **INPUTS).answer == "Paris"
    body = json.dumps({"model": "test", "messages": lm.history[-1]["messages"]}).encode()
    headers = {"Content-Type": "application/json", "Accept": "application/json", "User-Agent": "dspex",
               "Authorization": "Bearer k"}   # what dspex.LM sends
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=lm.timeout)   # a timeout, as in production
    conn.connect()
    conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)   # as dspex.LM's stdlib lane does
    client = httpx.Client()
    url = f"{server.api_base}/chat/completions"

    def raw() -> Any:
        conn.request("POST", "/v1/chat/completions", body=body, headers=headers)
        return json.loads(conn.getresponse().read())

    def raw_httpx() -> Any:
        return client.post(url, content=body, headers=headers).json()

    cases: dict[str, Callable[[], Any]] = {
        "raw http.client": raw,
        "raw httpx.Client": raw_httpx,
        "native + dspex.LM": lambda: n_mod(lm=lm, **INPUTS),
        "native + dspex.LM (httpx lane)": lambda: n_mod(lm=slow_lm, **INPUTS),
    }
    if not pure:
        cases["native + dspy.LM"] = lambda: n_mod(lm=dspy_lm, **INPUTS)
        cases["DSPy + dspy.LM"] = lambda: d_mod(lm=dspy_lm, **INPUTS)
    for fn in cases.values():          # warm: connections open, caches built
        for _ in range(5):
            fn()
    times: dict[str, list[float]] = {k: [] for k in (*cases, *(() if pure else ("async x50, per call",)))}
    loop = asyncio.new_event_loop()

    async def fifty() -> None:
        await asyncio.gather(*(n_mod.acall(lm=lm, **INPUTS) for _ in range(50)))

    if not pure:
        loop.run_until_complete(fifty())
    for _ in range(rounds):
        for name, fn in cases.items():
            times[name].append(_batch(fn, batch))
        if not pure:
            start = time.perf_counter()
            loop.run_until_complete(fifty())
            times["async x50, per call"].append((time.perf_counter() - start) / 50)
    loop.close()
    conn.close()
    client.close()
    return {k: statistics.median(v) * 1000 for k, v in times.items()}


def render(results: dict[str, dict[str, float]], pure: dict[str, dict[str, float]]) -> None:
    print(f"{'row':<34}" + "".join(f"{f'{k} LM':>22}" for k in results))
    names = list(next(iter(results.values())))
    for name in names:
        cells = []
        for row in results.values():
            base = row["native + dspex.LM"]
            cells.append(f"{row[name]:8.2f} ms ({row[name] / base:5.2f}x)")
        print(f"{name:<34}" + "".join(f"{c:>22}" for c in cells))
    print("(ratios are to native + dspex.LM in the same column)")
    for label, row in pure.items():
        ratio = row["native + dspex.LM"] / row["raw http.client"]
        print(f"{label} LM, DSPy not loaded (another process): raw http.client {row['raw http.client']:.2f} ms, "
              f"native + dspex.LM {row['native + dspex.LM']:.2f} ms = {ratio:.2f}x (target <= {TARGET_RAW}x: "
              f"{'met' if ratio <= TARGET_RAW else 'NOT MET'}); httpx lane {row['native + dspex.LM (httpx lane)']:.2f} ms")
    for label, row in results.items():
        raw = row["native + dspex.LM"] / row["raw http.client"]
        dspy = row["DSPy + dspy.LM"] / row["native + dspex.LM"]
        seq = row["native + dspex.LM"] / row["async x50, per call"]   # > 1: concurrency pays
        print(f"{label} LM, DSPy loaded: native + dspex.LM / raw http.client = {raw:.2f}x (target <= {TARGET_RAW}x: "
              f"{'met' if raw <= TARGET_RAW else 'NOT MET'}); DSPy + dspy.LM / native + dspex.LM = {dspy:.2f}x"
              + (f" (target >= {TARGET_DSPY}x: {'met' if dspy >= TARGET_DSPY else 'NOT MET'})" if label == "0 ms" else "")
              + f"; 50 concurrent async calls: {seq:.1f}x the throughput of one-by-one sync calls")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--batch", type=int, default=30)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--pure", action="store_true", help=argparse.SUPPRESS)   # the no-DSPy child process
    args = parser.parse_args(argv)
    if args.pure:
        sys.modules["dspy"] = None  # type: ignore[assignment]  # any import of dspy now fails
    results = {}
    for delay in (0.0, 20.0):
        server = Server(delay)
        try:
            results[f"{delay:g} ms"] = rows_for(server, args.rounds, args.batch if delay == 0 else max(5, args.batch // 6),
                                                args.pure)
        finally:
            server.close()
    if args.pure:
        print(json.dumps(results))
        return 0
    child = subprocess.run([sys.executable, __file__, "--pure", "--rounds", str(args.rounds), "--batch",
                            str(args.batch)], capture_output=True, text=True, check=True)
    pure = json.loads(child.stdout.strip().splitlines()[-1])
    render(results, pure)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"dspy_loaded": results, "dspy_not_loaded": pure}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
