"""dspex's error hierarchy.

Every error dspex raises on its own account derives from :class:`DspexError`, and each one says what to do
next. Where a native module reproduces a DSPy error (parse failures, bad signatures), the class *name* and
message match DSPy's so callers that match on either keep working; where DSPy raises a raw ``SyntaxError``
or ``TypeError`` from deep inside, dspex raises a :class:`SignatureError` (a ``ValueError``) instead.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "DspexError",
    "SignatureError",
    "SignatureTypeError",
    "UnsupportedTypeError",
    "AdapterParseError",
    "LMError",
    "ContextWindowExceededError",
    "ToolError",
    "LMConnectionError",
    "LMTimeoutError",
    "LMStatusError",
    "LMRateLimitError",
    "LMAuthenticationError",
    "LMServerError",
    "LMResponseError",
    "ConfigError",
    "FlagFileError",
    "DSPyNotInstalledError",
    "NativeUnavailableError",
    "NotReplayableError",
    "lm_failed",
    "raised_by_lm",
]

_LM_FAILURE = "_dspex_raised_by_lm"


def lm_failed(exc: BaseException) -> None:
    """Mark ``exc`` as the LM's own failure, raised out of the LM call (a rate limit, a timeout, a bad key), so
    the router does not answer it by running the call again on DSPy: DSPy would call the same LM, at the same
    cost, for the same failure. Set where native calls an LM; a parse error or a native bug is never marked."""
    try:
        setattr(exc, _LM_FAILURE, True)
    except Exception:  # noqa: BLE001 - an exception class that refuses attributes stays unmarked
        pass


def raised_by_lm(exc: BaseException) -> bool:
    return getattr(exc, _LM_FAILURE, False) is True


class DspexError(Exception):
    """Base class for every error dspex raises on its own account."""


class SignatureError(DspexError, ValueError):
    """A signature string or class is malformed; the message names the part to fix."""


class SignatureTypeError(SignatureError, TypeError):
    """A signature class is malformed where DSPy raises ``TypeError``: both ``except`` clauses still match."""


class UnsupportedTypeError(DspexError, TypeError):
    """A field uses a type the native side does not implement; route this module to DSPy instead."""

    def __init__(self, field: str, annotation: Any, why: str = "") -> None:
        self.field = field
        self.annotation = annotation
        detail = f" ({why})" if why else ""
        super().__init__(
            f"Field `{field}` has type {annotation!r}, which dspex's native modules do not support{detail}. "
            "Use implementation='dspy' for this module, or change the field's type."
        )


class AdapterParseError(DspexError):
    """The LM's response could not be parsed into the signature's output fields.

    Named and worded exactly like ``dspy.utils.exceptions.AdapterParseError`` (which, like this class, is not a
    ``ValueError``), so logs and ``except`` clauses keyed on the name or message behave the same.
    """

    def __init__(
        self,
        adapter_name: str,
        signature: Any,
        lm_response: str,
        message: str | None = None,
        parsed_result: dict[str, Any] | None = None,
    ) -> None:
        self.adapter_name = adapter_name
        self.signature = signature
        self.lm_response = lm_response
        self.parsed_result = parsed_result
        text = f"{message}\n\n" if message else ""
        text += (
            f"Adapter {adapter_name} failed to parse the LM response. \n\n"
            f"LM Response: {lm_response} \n\n"
            f"Expected to find output fields in the LM response: [{', '.join(signature.output_fields.keys())}] \n\n"
        )
        if parsed_result is not None:
            text += f"Actual output fields parsed from the LM response: [{', '.join(parsed_result.keys())}] \n\n"
        self.message = text
        super().__init__(text)


class LMError(DspexError):
    """dspex's own HTTP LM client failed to get an answer; the message says from where and why.

    The subclasses below say which way it failed, so a caller can ``except`` the kind it can act on (back off on
    :class:`LMRateLimitError`, fix credentials on :class:`LMAuthenticationError`) without parsing messages."""

    def __init__(self, message: str, *, url: str | None = None, attempts: int = 1) -> None:
        super().__init__(message)
        self.url = url
        self.attempts = attempts


class LMConnectionError(LMError):
    """The endpoint (or the proxy in front of it) could not be reached."""


class LMTimeoutError(LMConnectionError):
    """The endpoint did not answer within ``timeout=``."""


class LMStatusError(LMError):
    """The endpoint answered with an HTTP error status (``status``); ``body`` holds what it said (truncated)."""

    def __init__(self, message: str, *, status: int, body: str = "", url: str | None = None,
                 attempts: int = 1) -> None:
        super().__init__(message, url=url, attempts=attempts)
        self.status = status
        self.body = body


class LMRateLimitError(LMStatusError):
    """HTTP 429 after every retry: lower the request rate or raise ``num_retries=``."""


class LMAuthenticationError(LMStatusError):
    """HTTP 401/403: the endpoint refused the credentials."""


class LMServerError(LMStatusError):
    """HTTP 5xx (or a 200 whose body is an error) after every retry: the endpoint itself failed."""


class LMResponseError(LMError):
    """The endpoint answered 200 with something that is not an OpenAI-compatible completion."""


class ContextWindowExceededError(LMError):
    """The prompt no longer fits the model's context window (what agents shorten their trajectory on).

    Named and worded like ``dspy.utils.exceptions.ContextWindowExceededError``: ``[model] message``.
    """

    def __init__(self, *, model: str | None = None, message: str = "Context window exceeded") -> None:
        self.model = model
        self.message = message
        prefix = f"[{model}] " if model else ""
        super().__init__(f"{prefix}{message}" if message else prefix.rstrip())


class ToolError(DspexError, ValueError):
    """A tool cannot be built from what was given (not callable, ...); the message says what a tool needs."""


class ConfigError(DspexError, ValueError):
    """A setting is unknown or has a bad value; the message names the key and where it came from."""


class FlagFileError(ConfigError):
    """A flag file is missing, unreadable or invalid; the message names the path."""


class DSPyNotInstalledError(DspexError, ImportError):
    """A call routed to DSPy but the ``dspy`` package is not installed."""

    def __init__(self, what: str = "This call was routed to DSPy") -> None:
        super().__init__(
            f"{what}, but DSPy is not installed. Install the extra: pip install 'dspex[dspy]' "
            "(or route the module to native with implementation='native')."
        )


class NativeUnavailableError(DspexError):
    """Native was chosen for a module that has no native implementation for this signature, and fallback is off."""


class NotReplayableError(DspexError):
    """A logged call or corpus case cannot be rebuilt from data alone (it names code to import); pass a factory."""


class CallTimeoutError(DspexError, TimeoutError):
    """A routed call ran past ``call_timeout_s``: the caller gets this; the call itself (a hung LM) runs on in the
    background until its LM returns."""
