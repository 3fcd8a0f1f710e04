"""flagd's FILE resolver, watching the flag file the way fleets replace it.

The stock watcher (openfeature-provider-flagd 0.6) polls ``os.path.getmtime`` every 500 ms and reloads only when
the mtime grows. That misses a file replaced by rename with an *older* mtime (``cp -p``, ``rsync -t``, a restored
backup), and dspex used to hand it the path resolved through its symlinks, which pins a Kubernetes ConfigMap
mount (``f.flagd.json -> ..data/f.flagd.json``, ``..data -> ..2024_01_01_xxx``) to a generation that the kubelet
deletes on the next update. And a malformed file is re-parsed on every poll.

:class:`FlagFileProvider` is the real ``FlagdProvider`` (FILE resolver, flagd's own evaluator, events and
hooks) with only the connector swapped for :class:`ContentWatcher`, which

- stats the path *as given* on every poll, so every symlink on the way is followed afresh;
- treats any change of the file's identity (device, inode, size, mtime, ctime) as a possible change, whatever
  the direction of the clock, and re-reads a file whose mtime is within :data:`RACY_WINDOW_S` of now (two
  writes inside one timestamp tick leave the identity unchanged);
- parses a version only when its bytes differ (SHA-256) from the last version it tried, good or bad: a 50 MB
  malformed file is parsed once, not every 500 ms, and the last good flags stay in force until it is fixed.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from typing import Any

from openfeature.contrib.provider.flagd import FlagdProvider
from openfeature.contrib.provider.flagd.config import ResolverType
from openfeature.contrib.provider.flagd.resolvers.process.connector.file_watcher import FileWatcher
from openfeature.event import ProviderEventDetails
from openfeature.exception import ParseError

__all__ = ["ContentWatcher", "FlagFileProvider", "RACY_WINDOW_S", "POLL_MS"]

RACY_WINDOW_S = 2.0   # a file modified this recently is re-read (hashed) even when its identity looks unchanged
POLL_MS = 500         # flagd's own default for the FILE resolver


def _identity(path: str) -> tuple[int, ...]:
    st = os.stat(path)   # follows every symlink from the path as configured, afresh on each poll
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


class ContentWatcher(FileWatcher):
    """flagd's FileWatcher with change detection by content identity instead of a growing mtime."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._identity: tuple[int, ...] | None = None   # the version last looked at (loaded or rejected)
        self._digest: bytes | None = None               # its bytes' hash
        self._missing = False
        self.parses = 0                                  # how many versions were parsed (tests, benchmarks)

    def safe_load_data(self) -> None:
        """One poll: nothing to do unless the file's identity (or, while racy, its bytes) changed."""
        try:
            identity = _identity(self.file_path)
        except FileNotFoundError:
            if not self._missing:   # once per episode; the last good flags stay in force
                self._missing = True
                self._identity = self._digest = None
                self.handle_error("Provided file path not valid")
            return
        except OSError as exc:
            self.handle_error(f"Could not read flags from file ({exc.strerror or exc})")
            return
        racy = time.time() - identity[3] / 1e9 < RACY_WINDOW_S
        if identity == self._identity and not racy:
            return
        self._missing = False
        self._reload(identity)

    def _reload(self, identity: tuple[int, ...]) -> None:
        try:
            self._load_data(identity=identity)
        except FileNotFoundError:
            self.handle_error("Provided file path not valid")
        except json.JSONDecodeError:
            self.handle_error("Could not parse JSON flag data from file")
        except ParseError as e:
            self.handle_error("Could not parse flag data using flagd syntax: " + (e.error_message or "no message"))
        except Exception as exc:  # noqa: BLE001 - yaml errors and anything else: keep the last good flags
            self.handle_error(f"Could not read flags from file ({type(exc).__name__}: {exc})")

    def _load_data(self, modified_time: float | None = None, identity: tuple[int, ...] | None = None) -> None:
        """Read the file once; parse and hand it to flagd's core only when its bytes are new."""
        if identity is None:
            identity = _identity(self.file_path)
        with open(self.file_path, "rb") as fh:
            raw = fh.read()
        digest = hashlib.sha256(raw).digest()
        self._identity = identity
        if digest == self._digest:
            return
        self._digest = digest   # set before parsing: a version that fails is not parsed again
        self.parses += 1
        text = raw.decode("utf-8")
        if self.file_path.endswith(".yaml"):
            import yaml

            data = yaml.safe_load(text)
        else:
            data = json.loads(text)
        self.flag_store.update(data)
        self.last_modified = identity[3] / 1e9
        if self.should_emit_ready_on_success:
            self.emit_provider_ready(ProviderEventDetails(message="Reloading file contents recovered from error state"), {})
            self.should_emit_ready_on_success = False


class FlagFileProvider(FlagdProvider):
    """``FlagdProvider(resolver_type=FILE)`` whose connector is a :class:`ContentWatcher` on the path as given."""

    def __init__(self, path: str, poll_ms: int = POLL_MS) -> None:
        super().__init__(resolver_type=ResolverType.FILE, offline_flag_source_path=path, deadline_ms=poll_ms)
        resolver = self.resolver
        stock = getattr(resolver, "connector", None)
        if not isinstance(stock, FileWatcher):   # pragma: no cover - guarded by the pinned provider range
            raise RuntimeError("openfeature-provider-flagd changed its FILE resolver; dspex needs 0.6.x")
        resolver.connector = ContentWatcher(self.config, stock.flag_store, stock.emit_provider_ready,
                                            stock.emit_provider_error)

    @property
    def watcher(self) -> ContentWatcher:
        return self.resolver.connector  # type: ignore[attr-defined,no-any-return]
