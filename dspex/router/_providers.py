"""Which OpenFeature provider a ``flags`` setting names, and the checks a flag file passes before it is bound.

The file resolver is flagd's own (see ``_filewatch``); at fleet scale the same flag files are served by a flagd
daemon (``flagd://`` RPC, ``flagd+in-process://`` sync) or any OpenFeature provider a factory builds
(``provider:package.module:factory``). After ``dspex.shutdown()`` a provider that answers every evaluation with
an error saying so is bound instead, so no call routes by preference without a word.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from openfeature.exception import ErrorCode
from openfeature.flag_evaluation import FlagResolutionDetails, Reason
from openfeature.provider import AbstractProvider
from openfeature.provider.metadata import Metadata

from dspex.errors import FlagFileError

__all__ = ["validate_flag_file", "flagd_provider_for", "is_flag_file", "PROVIDER_SCHEME", "ShutDownProvider"]


def validate_flag_file(path: str) -> None:
    """Fail at configure time, naming the path, rather than routing on defaults for ever."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise FlagFileError(f"Flag file {path} is not UTF-8 text ({exc.reason}). Check the `flags` setting.") from None
    except OSError as exc:
        raise FlagFileError(f"Flag file {path} cannot be read ({exc.strerror or exc}). Check the `flags` setting.") from exc
    import json

    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise FlagFileError(f"Flag file {path} is not valid JSON: {exc}.") from exc
    except RecursionError:
        raise FlagFileError(f"Flag file {path} is not valid JSON: it is nested too deeply.") from None
    from openfeature.contrib.tools.flagd.core import FlagdCore

    try:
        FlagdCore().set_flags(data)
    except Exception as exc:  # flagd's ParseError and friends: one bad flag rejects the whole file
        msg = getattr(exc, "error_message", None) or str(exc)
        raise FlagFileError(f"Flag file {path} is not a valid flagd file: {msg}. (Notes go in `metadata`.)") from exc


PROVIDER_SCHEME = "provider:"


def _provider_from_factory(target: str) -> Any:
    """``provider:package.module:factory``: any OpenFeature provider (OFREP, Unleash, LaunchDarkly...), built by
    the factory the settings name (configuration, not data: this import is the operator's choice)."""
    import importlib

    module_name, _, attr = target.partition(":")
    if not module_name or not attr:
        raise FlagFileError(f"flags={PROVIDER_SCHEME}{target!r}: write {PROVIDER_SCHEME}package.module:factory.")
    try:
        obj = getattr(importlib.import_module(module_name), attr)
        provider = obj() if callable(obj) and not hasattr(obj, "resolve_string_details") else obj
    except Exception as exc:  # noqa: BLE001 - the factory's module may fail any way as it loads
        raise FlagFileError(f"flags={PROVIDER_SCHEME}{target}: cannot build the provider "
                            f"({type(exc).__name__}: {exc}).") from exc
    if not hasattr(provider, "resolve_string_details"):
        raise FlagFileError(f"flags={PROVIDER_SCHEME}{target} returned {type(provider).__name__}, not an "
                            "OpenFeature provider.")
    return provider


def is_flag_file(flags: str) -> bool:
    """A flags setting that names a file (not ``flagd://``, ``flagd+in-process://`` or ``provider:``)."""
    return not flags.startswith(("flagd://", "flagd+in-process://", PROVIDER_SCHEME))


def flagd_provider_for(flags: str) -> Any:
    """The provider a ``flags`` setting names:

    - a path -> flagd's in-process evaluator on the file (watched by content identity, see ``_filewatch``);
    - ``flagd://host:port`` -> the flagd daemon over RPC (empty host/port: ``FLAGD_HOST``/``FLAGD_PORT``);
    - ``flagd+in-process://host:port`` -> flagd's evaluator in process, flags streamed from the daemon;
    - ``provider:package.module:factory`` -> whatever OpenFeature provider the factory returns.
    """
    from openfeature.contrib.provider.flagd import FlagdProvider
    from openfeature.contrib.provider.flagd.config import ResolverType

    if flags.startswith(PROVIDER_SCHEME):
        return _provider_from_factory(flags[len(PROVIDER_SCHEME):])
    for scheme, resolver in (("flagd://", ResolverType.RPC), ("flagd+in-process://", ResolverType.IN_PROCESS)):
        if flags.startswith(scheme):
            host, _, port = flags[len(scheme):].partition(":")
            return FlagdProvider(resolver_type=resolver, host=host or None, port=int(port) if port else None)
    validate_flag_file(flags)
    from ._filewatch import FlagFileProvider

    # The path as given (absolute, symlinks *not* resolved): a ConfigMap's ``..data`` link is followed afresh on
    # every poll, so a new generation is seen; the resolved path would be deleted with the old one.
    return FlagFileProvider(os.path.abspath(flags))


class ShutDownProvider(AbstractProvider):
    """Bound after ``dspex.shutdown()``: every evaluation is an error saying so (reported once per flag), so the
    preference fallback is never silent. ``dspex.configure(...)`` binds a real source again."""

    def __init__(self, was: str) -> None:
        self.message = f"dspex.shutdown() closed {was}; call dspex.configure(...) to read flags again"

    def get_metadata(self) -> Metadata:
        return Metadata(name="dspex-shut-down")

    def _error(self, default: Any) -> FlagResolutionDetails[Any]:
        return FlagResolutionDetails(default, error_code=ErrorCode.PROVIDER_NOT_READY, error_message=self.message,
                                     reason=Reason.ERROR)

    def resolve_boolean_details(self, flag_key: str, default_value: bool, evaluation_context: Any = None) -> Any:
        return self._error(default_value)

    def resolve_string_details(self, flag_key: str, default_value: str, evaluation_context: Any = None) -> Any:
        return self._error(default_value)

    def resolve_integer_details(self, flag_key: str, default_value: int, evaluation_context: Any = None) -> Any:
        return self._error(default_value)

    def resolve_float_details(self, flag_key: str, default_value: float, evaluation_context: Any = None) -> Any:
        return self._error(default_value)

    def resolve_object_details(self, flag_key: str, default_value: Any, evaluation_context: Any = None) -> Any:
        return self._error(default_value)
