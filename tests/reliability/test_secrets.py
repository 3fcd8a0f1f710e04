"""Issue 10 item 4: credentials given to dspex.LM, in config= or as inputs never reach the divergence log.

A real dspex.LM talks to a loopback OpenAI-compatible server; the control is a native Predict through it and the
candidate differs, so every call writes a divergence line holding lm, config, transcript and inputs.
"""

from __future__ import annotations

import json

import dspy

import dspex
import dspex.native as native
import dspex.shadow as shadow
from dspex.lm.testing import OpenAICompatServer
from dspex.shadow._redact import is_secret_key

ANSWER = "[[ ## answer ## ]]\nParis\n\n[[ ## completed ## ]]"
SECRETS = {
    "openai_api_key": "oa-SECRET-0001", "aws_secret_access_key": "aws-SECRET-0002", "private_key": "pk-SECRET-0003",
    "secret_key": "sk2-SECRET-0004",
}


def test_secret_keys_are_redacted_in_lm_config_transcript_and_inputs(tmp_path):
    path = tmp_path / "div.jsonl"
    shadow.reset(shadow.ShadowSettings(log_path=str(path), timeout_s=5))
    with OpenAICompatServer(lambda request: ANSWER) as server:
        lm = dspex.LM("openai/test", api_base=server.api_base, api_key="sk-live-abcdefgh1234", **SECRETS)
        module = native.Predict("question, secret_key -> answer")
        config = {"api_key": "cfg-SECRET-0005", "client_secret": "cs-SECRET-0006", "temperature": 0.5,
                  "db_url": "postgres://app:pw-SECRET-0007@db/prod"}
        inputs = {"question": "capital?", "secret_key": "in-SECRET-0008"}
        call = shadow.ShadowCall("predict", "qa", inputs, lm, lambda l: module(**inputs, lm=l, config=dict(config)),
                                 lambda l: dspy.Prediction(answer="Lyon"), signature=module.signature,
                                 config=config, flag_key="dspex.predict", targeting_key="user-42")
        assert shadow.run_shadow(call).answer == "Paris"
        assert shadow.shutdown(timeout=10)
        assert "in-SECRET-0008" in json.dumps(server.requests)   # the LM did get the real input
    text = path.read_text(encoding="utf-8")
    assert "SECRET" not in text and "sk-live" not in text
    (line,) = [json.loads(x) for x in text.splitlines() if json.loads(x)["kind"] != "stats"]
    for key in SECRETS:
        assert line["lm"]["kwargs"][key] == "[REDACTED]"
    assert line["config"]["api_key"] == line["config"]["client_secret"] == "[REDACTED]"
    assert line["config"]["db_url"] == "postgres://app:[REDACTED]@db/prod"          # a password in a URL
    kwargs = line["transcript"][0]["kwargs"]
    assert kwargs["api_key"] == "[REDACTED]" and kwargs["temperature"] == 0.5
    assert line["inputs"] == {"question": "capital?", "secret_key": "[REDACTED]"} and line["redacted"] == ["secret_key"]
    assert "[REDACTED]" in line["transcript"][0]["messages"][-1]["content"]
    assert (line["flag_key"], line["targeting_key"]) == ("dspex.predict", "user-42")   # record keys are not secrets
    assert "max_tokens" in line["lm"]["kwargs"] and line["lm"]["kwargs"]["max_tokens"] != "[REDACTED]"


def test_the_secret_key_rule_is_by_word_not_by_substring():
    for key in ("api_key", "openai_api_key", "aws_secret_access_key", "private_key", "secret_key", "x-api-key",
                "accessToken", "Authorization", "client_secret", "db_password", "apikey", "Cookie", "refresh_token"):
        assert is_secret_key(key), key
    for key in ("max_tokens", "keywords", "monkey", "author", "temperature", "question", "cache"):
        assert not is_secret_key(key), key
    assert is_secret_key("ssn", ["SSN"]) and is_secret_key("prod_dsn", ["*_dsn"])


def test_users_extend_the_list_with_glob_patterns(tmp_path):
    path = tmp_path / "div.jsonl"
    shadow.reset(shadow.ShadowSettings(log_path=str(path), timeout_s=5, redact_keys=("*_dsn", "SSN")))
    inputs = {"question": "q", "ssn": "123-45-6789"}
    config = {"analytics_dsn": "opaque-value-0009"}
    call = shadow.ShadowCall("predict", None, inputs, object(), lambda l: dspy.Prediction(answer="a"),
                             lambda l: dspy.Prediction(answer="b"), config=config)
    shadow.run_shadow(call)
    assert shadow.shutdown(timeout=5)
    text = path.read_text(encoding="utf-8")
    assert "123-45-6789" not in text and "opaque-value-0009" not in text
    (line,) = [json.loads(x) for x in text.splitlines() if json.loads(x)["kind"] != "stats"]
    assert line["inputs"]["ssn"] == line["config"]["analytics_dsn"] == "[REDACTED]"
