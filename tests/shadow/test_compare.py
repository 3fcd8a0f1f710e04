"""Comparators derived from the signature, overrides, ignore rules and clean."""

from __future__ import annotations

from typing import Literal, Optional

import dspy
import pydantic
import pytest

import dspex.shadow as shadow
from dspex.errors import ConfigError
from dspex.shadow._compare import Rules, compare_results, comparator_for
from dspex.signature import make_signature
from shadow_support import divergence_lines


class Item(pydantic.BaseModel):
    name: str
    score: float




def rules(**kw):
    return Rules(comparators=kw.pop("comparators", {}), ignore=tuple(kw.pop("ignore", ())))


def native_sig():
    return make_signature("q -> label: Literal['yes', 'no'], n: int, ok: bool, x: float, items: list[str], "
                          "maybe: Optional[float]", custom_types={"Literal": Literal, "Optional": Optional})


def test_comparator_names_follow_the_field_types():
    assert comparator_for(str) == comparator_for(int) == comparator_for(bool) == "exact"
    assert comparator_for(Literal["a", "b"]) == "exact"
    assert comparator_for(float) == comparator_for(Optional[float]) == "tolerance"
    assert comparator_for(list[str]) == comparator_for(dict[str, int]) == comparator_for(Item) == "structural"


def test_signature_fields_compared_with_their_comparators():
    sig = native_sig()
    a = dspy.Prediction(label="yes", n=1, ok=True, x=0.1 + 0.2, items=["a"], maybe=None)
    same = dspy.Prediction(label="yes", n=1, ok=True, x=0.3, items=["a"], maybe=None)
    assert compare_results(a, same, sig, rules()) == {}
    b = dspy.Prediction(label="no", n=True, ok=1, x=0.31, items=("a",), maybe=1.0)
    diffs = compare_results(a, b, sig, rules())
    assert set(diffs) == {"label", "n", "ok", "x", "items", "maybe"}     # True is not 1; a tuple is not a list
    assert diffs["x"]["comparator"] == "tolerance" and diffs["label"]["comparator"] == "exact"


def test_models_compared_structurally_by_model_dump():
    sig = None
    a = dspy.Prediction(item=Item(name="a", score=0.1 + 0.2))
    assert compare_results(a, dspy.Prediction(item=Item(name="a", score=0.3)), sig, rules()) == {}
    assert set(compare_results(a, dspy.Prediction(item=Item(name="b", score=0.3)), sig, rules())) == {"item"}


def test_module_without_signature_compares_every_field_and_plain_values():
    a = dspy.Prediction(answer="x", context=["c1"], extra=1)
    b = dspy.Prediction(answer="x", context=["c2"])
    diffs = compare_results(a, b, None, rules())
    assert set(diffs) == {"context", "extra"} and diffs["extra"]["candidate"] == "<missing>"
    assert compare_results("plain", "plain", None, rules()) == {}
    assert set(compare_results({"a": 1}, {"a": 2}, None, rules())) == {"a"}
    assert set(compare_results(3, 4, None, rules())) == {"value"}


def test_overrides_and_ignore_rules():
    a, b = dspy.Prediction(answer="Paris", score=0.5, ts=1), dspy.Prediction(answer="paris", score=0.52, ts=2)
    r = rules(comparators={"answer": lambda x, y: x.lower() == y.lower(), "score": ("tolerance", 0.1)},
              ignore=["ts"])
    assert compare_results(a, b, None, r) == {}
    field_rule = lambda name, x, y: name == "answer"                       # noqa: E731
    assert set(compare_results(a, b, None, rules(ignore=[field_rule]))) == {"score", "ts"}
    whole_rule = lambda control, candidate: control.ts == 1                # noqa: E731
    assert compare_results(a, b, None, rules(ignore=[whole_rule])) == {}


def test_settings_overrides_resolve_per_module_and_bad_specs_fail(log_path):
    settings = shadow.configure(comparators={"predict": {"answer": "ignore"}, "qa": {"answer": "exact"}},
                                ignore={"*": ["ts"]})
    assert Rules.for_module(settings, "predict", None).comparators == {"answer": "ignore"}
    assert Rules.for_module(settings, "predict", "qa").comparators == {"answer": "exact"}
    assert Rules.for_module(settings, "predict", "qa").ignore == ("ts",)
    with pytest.raises(ConfigError, match="Unknown shadow comparator"):
        Rules.for_module(shadow.configure(comparators={"*": {"a": "fuzzy"}}), "predict", None)
    with pytest.raises(ConfigError, match="Unknown shadow setting"):
        shadow.configure(sample_rat=0.5)
    with pytest.raises(ConfigError, match="shadow.sample_rate"):
        shadow.configure(sample_rate=2)
    with pytest.raises(ConfigError, match="shadow.mode"):
        shadow.configure(mode="both")


def test_clean_applies_to_published_values_only(log_path, lm):
    shadow.configure(clean=lambda v: v.upper() if isinstance(v, str) else v)
    call = shadow.ShadowCall("predict", None, {"q": "x"}, lm, lambda l: dspy.Prediction(answer="secret a"),
                             lambda l: dspy.Prediction(answer="secret b"))
    assert shadow.run_shadow(call).answer == "secret a"
    shadow.shutdown(timeout=5)
    (line,) = divergence_lines(log_path)
    assert line["differences"]["answer"]["control"] == "SECRET A"
    assert line["control"]["output"] == {"answer": "secret a"}      # clean sees the JSON form; dicts pass through


def test_a_list_of_dspy_and_native_predictions_compares_by_their_fields():
    """Parallel's result is a list of predictions: DSPy's on the control side, native ones on the candidate's when
    the branches run natively there. ``dspy.Prediction.__eq__`` refuses another class, so equal lists were logged
    as a divergence."""
    import dspex.native as native

    control = [dspy.Prediction(a="x"), dspy.Prediction(reasoning="r", a="x")]
    assert compare_results(control, [native.Prediction(a="x"), native.Prediction(reasoning="r", a="x")], None,
                           rules()) == {}
    assert set(compare_results(control, [native.Prediction(a="x"), native.Prediction(reasoning="r", a="y")], None,
                               rules())) == {"value"}
