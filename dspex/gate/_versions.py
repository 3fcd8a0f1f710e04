"""Installed versions, read from package metadata so that asking never imports dspy (a second of startup).

Parity is proven per DSPy version, and fractional buckets depend on the flagd core's hashing scheme: both are
facts about the installed environment that the gate compares with what a report or a flag recorded.
"""

from __future__ import annotations

from ..environment import dspex_version, dspy_version, installed_version

__all__ = ["installed_version", "dspy_version", "dspex_version", "hashing_scheme", "HASHING_METADATA_KEY"]

HASHING_METADATA_KEY = "fractionalHashing"


def hashing_scheme() -> str:
    """How the installed in-process flagd evaluator assigns a targeting key to a ``fractional`` bucket.

    flagd-core 2.x hashes CBOR([flagKey, targetingKey]) with murmur3; 1.x (and the Go daemon) hash the string
    flagKey+targetingKey. The same rollout percentage puts different users on native under the two schemes.
    """
    core = installed_version("openfeature-flagd-core")
    if core is not None and int(core.split(".")[0]) >= 2:
        return f"murmur3(cbor([flagKey, targetingKey])) (openfeature-flagd-core {core})"
    provider = installed_version("openfeature-provider-flagd") or "unknown"
    return f"murmur3(flagKey + targetingKey) (openfeature-provider-flagd {provider})"
