"""What never reaches a divergence log: credentials, by the name of the key that holds them and by their look.

A key is secret when one of its *words* is a credential word (:data:`SECRET_WORDS`), words being split on
``_ - . /``, spaces and camelCase: ``api_key``, ``openai_api_key``, ``aws_secret_access_key``, ``private_key``,
``x-api-key``, ``accessToken``, ``Authorization``, ``client_secret``, ``db_password`` are secret; ``max_tokens``,
``keywords``, ``monkey`` are not. Users add glob patterns (``shadow.redact_keys``, matched case-insensitively
against the whole key: ``"*_dsn"``, ``"ssn"``). A secret key's value is replaced by ``[REDACTED]`` (whatever its
type), and the value's text is then also removed from every string in the record (a key echoed into a prompt or
an error message). Strings are also scrubbed of bearer tokens, ``sk-...`` keys and passwords in URLs.
"""

from __future__ import annotations

import fnmatch
import functools
import json
import re
from typing import Any, Iterable

__all__ = ["REDACTED", "SECRET_WORDS", "Redactor", "is_secret_key", "scrub_secrets"]

REDACTED = "[REDACTED]"
SECRET_WORDS = frozenset({
    "key", "apikey", "secret", "token", "password", "passwd", "pwd", "passphrase", "auth", "authorization",
    "credential", "credentials", "cookie", "bearer",
})
_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")
_SECRET_VALUE = re.compile(
    r"(?i)\b(bearer\s+)[A-Za-z0-9._~+/=-]{8,}"                   # Authorization: Bearer <token>
    r"|\bsk-[A-Za-z0-9_-]{8,}"                                    # OpenAI-style keys
    r"|(?<=://)([^:/@\s]+:)[^@\s/]+(?=@)"                         # scheme://user:password@host
)
_MIN_SECRET_TEXT = 6   # shorter values are not hunted for inside other strings (too many false hits)
_MAX_DEPTH = 64


@functools.lru_cache(maxsize=4096)
def _words(key: str) -> frozenset[str]:
    return frozenset(w.lower() for w in _WORD.findall(key))


def is_secret_key(key: str, patterns: Iterable[str] = ()) -> bool:
    """True when ``key`` names a credential (built-in words) or matches one of the user's glob ``patterns``."""
    if not SECRET_WORDS.isdisjoint(_words(key)):
        return True
    lowered = key.lower()
    return any(fnmatch.fnmatchcase(lowered, p.lower()) for p in patterns)


def _scrub_text(text: str) -> str:
    if "earer" not in text and "sk-" not in text and "://" not in text:
        return text
    return _SECRET_VALUE.sub(lambda m: (m.group(1) or m.group(2) or "") + REDACTED, text)


class Redactor:
    """Redacts one record: ``keys`` replaces secret keys' values (and remembers them), ``text`` removes them."""

    def __init__(self, patterns: Iterable[str] = ()) -> None:
        self.patterns = tuple(patterns)
        self.found: set[str] = set()

    def secret(self, key: Any) -> bool:
        return isinstance(key, str) and is_secret_key(key, self.patterns)

    def keys(self, value: Any, _depth: int = 0) -> Any:
        """A copy with every secret key's value replaced; strings scrubbed of token-looking text."""
        if _depth > _MAX_DEPTH:
            return REDACTED
        if isinstance(value, dict):
            out = {}
            for k, v in value.items():
                if self.secret(k) and v not in (None, "", REDACTED):
                    self._remember(v)
                    out[k] = REDACTED
                else:
                    out[k] = self.keys(v, _depth + 1)
            return out
        if isinstance(value, list):
            return [self.keys(v, _depth + 1) for v in value]
        if isinstance(value, str):
            return _scrub_text(value)
        return value

    def remember(self, values: Iterable[Any], min_len: int = _MIN_SECRET_TEXT) -> None:
        """Values to hunt for in every string (``min_len`` lower for fields the user named explicitly)."""
        for v in values:
            self._remember(v, min_len)

    def _remember(self, value: Any, min_len: int = _MIN_SECRET_TEXT) -> None:
        if isinstance(value, (dict, list)):
            for v in (value.values() if isinstance(value, dict) else value):
                self._remember(v, min_len)
            return
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=repr)
        if len(text) >= min_len:
            self.found.add(text)
            dumped = json.dumps(text, ensure_ascii=False)[1:-1]   # as it appears inside JSON text (prompt diffs)
            if dumped != text:
                self.found.add(dumped)

    def strings(self, value: Any, _depth: int = 0) -> Any:
        """A copy with token-looking text (bearer, ``sk-``, URL passwords) scrubbed from every string."""
        if _depth > _MAX_DEPTH:
            return value
        if isinstance(value, str):
            return _scrub_text(value)
        if isinstance(value, list):
            return [self.strings(v, _depth + 1) for v in value]
        if isinstance(value, dict):
            return {k: self.strings(v, _depth + 1) for k, v in value.items()}
        return value

    def text(self, value: Any, _depth: int = 0) -> Any:
        """A copy with every remembered secret removed from every string (longest first)."""
        if not self.found or _depth > _MAX_DEPTH:
            return value
        if isinstance(value, str):
            for s in sorted(self.found, key=len, reverse=True):
                if s in value:
                    value = value.replace(s, REDACTED)
            return value
        if isinstance(value, list):
            return [self.text(v, _depth + 1) for v in value]
        if isinstance(value, dict):
            return {k: self.text(v, _depth + 1) for k, v in value.items()}
        return value


def scrub_secrets(value: Any, patterns: Iterable[str] = ()) -> Any:
    """Secret keys' values replaced and token-looking text scrubbed (no text hunt: see :class:`Redactor`)."""
    return Redactor(patterns).keys(value)
