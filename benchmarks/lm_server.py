"""The loopback OpenAI-compatible server of ``benchmarks/lm.py``, in a process of its own.

Why a separate process: a server thread in the benchmark's own process competes with the client for the GIL, and
every extra socket write of the client then waits for a GIL switch; that measures the GIL, not the clients.
Prints the port, then serves until stdin closes. ``python benchmarks/lm_server.py DELAY_MS``.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dspex.lm.testing import OpenAICompatServer, Reply, chat_completion, last_user_message  # noqa: E402

ANSWER = "[[ ## reasoning ## ]]\nIt is Paris.\n\n[[ ## answer ## ]]\nParis\n\n[[ ## completed ## ]]"


def main() -> None:
    delay = float(sys.argv[1]) / 1000 if len(sys.argv) > 1 else 0.0

    def reply(request: dict) -> object:
        last_user_message(request)   # read the request as a real server would
        return Reply(200, chat_completion([ANSWER], request.get("model", "test")), delay=delay) if delay else ANSWER

    server = OpenAICompatServer(reply).start()
    print(server.port, flush=True)
    sys.stdin.read()
    server.stop()
    time.sleep(0.05)


if __name__ == "__main__":
    main()
