"""dspex.native.Prediction / Completions against dspy.Prediction / Completions, side by side."""

from __future__ import annotations

import copy
import pickle
from typing import Any, Callable

import dspy
import pytest

from dspex.native import Completions, Prediction


def outcome(fn: Callable[[], Any]) -> tuple[str, Any]:
    """What a call did, comparable across implementations: ("ok", value) or ("raise", class name, message)."""
    try:
        value = fn()
    except BaseException as exc:  # StopIteration included: DSPy raises it from len() of empty completions
        return ("raise", (type(exc).__name__, str(exc)))
    if isinstance(value, (dspy.Prediction, Prediction)):
        return ("prediction", (repr(value), dict(value.items(include_dspy=True))))
    return ("ok", value)


def both(builder: Callable[[Any], Any], probe: Callable[[Any], Any]) -> None:
    ours = outcome(lambda: probe(builder(Prediction)))
    theirs = outcome(lambda: probe(builder(dspy.Prediction)))
    assert ours == theirs


COMPLETION_INPUTS = [
    [{"answer": "Paris"}],
    [{"answer": "Paris", "reasoning": "r"}, {"answer": "Lyon", "reasoning": "s"}],
    [{"a": 1}, {"a": 2}, {"a": 3}],
    {"a": [1, 2], "b": ["x", "y"]},
    {"a": [1]},
    [],
    {},
    [{"a": 1}, {"b": 2}],
    [{"a": 1}, {"a": 2, "b": 3}],
    {"a": 1},
    {"a": [1, 2], "b": [1]},
    [{"text": "hi", "logprobs": None}],
]

PROBES: dict[str, Callable[[Any], Any]] = {
    "repr": repr,
    "str": str,
    "keys": lambda p: p.keys(),
    "values": lambda p: p.values(),
    "items": lambda p: p.items(),
    "len": len,
    "iter": list,
    "toDict": lambda p: p.toDict(),
    "completions_len": lambda p: len(p.completions),
    "completions_bool": lambda p: bool(p.completions),
    "completions_repr": lambda p: repr(p.completions),
    "completions_0": lambda p: p.completions[0],
    "completions_1": lambda p: p.completions[1],
    "completions_neg": lambda p: p.completions[-1],
    "completions_true": lambda p: p.completions[True],
    "completions_attr": lambda p: p.completions.a,
    "completions_answer": lambda p: p.completions.answer,
    "completions_missing_attr": lambda p: p.completions.nope,
    "completions_key": lambda p: p.completions["a"],
    "completions_missing_key": lambda p: p.completions["nope"],
    "completions_contains": lambda p: ("a" in p.completions, "nope" in p.completions),
    "completions_items": lambda p: list(p.completions.items()),
    "attr": lambda p: p.answer,
    "item": lambda p: p["a"],
    "get": lambda p: (p.get("a"), p.get("nope", 7)),
    "contains": lambda p: ("a" in p, "nope" in p),
    "copy": lambda p: p.copy(extra=1),
    "without": lambda p: p.without("a") if "a" in p else p.without(),
    "copy_completions": lambda p: p.copy().completions,
    "inputs": lambda p: p.inputs(),
    "with_inputs_inputs": lambda p: p.with_inputs("a").inputs(),
    "labels": lambda p: p.with_inputs("a").labels(),
    # DSPy's Prediction drops the input keys a copy (or a same-class base) would carry: inputs() raises on it
    "copy_then_inputs": lambda p: p.with_inputs("a").copy(z=1).inputs(),
    "base_then_inputs": lambda p: type(p)(p.with_inputs("a"), z=2).inputs(),
    "without_then_labels": lambda p: p.with_inputs("a").without(*list(p.keys())[:1]).labels(),
    "lm_usage": lambda p: p.get_lm_usage(),
    "dunder": lambda p: p.__foo__,
    # the completions are what the LM answered, whatever happens to the prediction's fields first (dspex builds
    # one completion's Completions on first use: it must not see the later writes)
    "set_then_completions": lambda p: (setattr(p, "a", "changed"), p.__setitem__("answer", "x"),
                                       repr(p.completions), list(p.completions.items()))[2:],
    "deleted_then_completions": lambda p: (p.__delitem__(next(iter(p))) if len(p) else None,
                                           list(p.completions.items()))[1],
    "deepcopy_then_completions": lambda p: list(copy.deepcopy(p).completions.items()),
    "pickled_then_completions": lambda p: list(pickle.loads(pickle.dumps(p)).completions.items()),
    "completions_signature": lambda p: p.completions.signature,
}


@pytest.mark.parametrize("data", COMPLETION_INPUTS, ids=repr)
@pytest.mark.parametrize("probe", list(PROBES), ids=str)
def test_from_completions_matches_dspy(data: Any, probe: str) -> None:
    both(lambda cls: cls.from_completions(data, signature=None), PROBES[probe])


@pytest.mark.parametrize(
    "args,kwargs",
    [((), {}), ((), {"a": 1}), (({"a": 1},), {"b": 2}), ((None,), {"dspy_x": 1, "a": 2}), (("str",), {"a": 1})],
    ids=repr,
)
@pytest.mark.parametrize("probe", ["repr", "keys", "len", "iter", "toDict", "items", "copy", "lm_usage"])
def test_constructor_matches_dspy(args: tuple, kwargs: dict, probe: str) -> None:
    both(lambda cls: cls(*args, **kwargs), PROBES[probe])


def test_copy_of_same_class_base() -> None:
    ours = Prediction(Prediction(a=1), b=2)
    theirs = dspy.Prediction(dspy.Prediction(a=1), b=2)
    assert repr(ours) == repr(theirs)
    # A base of a different class is ignored, as DSPy ignores an Example given to Prediction.
    assert Prediction(dspy.Prediction(a=1)).keys() == dspy.Prediction(dspy.Example(a=1)).keys() == []


def test_mutation_matches_dspy() -> None:
    for cls in (Prediction, dspy.Prediction):
        p = cls(a=1)
        p.b = 2
        p["c"] = 3
        del p["a"]
        p._private = "x"
        assert p.toDict() == {"b": 2, "c": 3}
        assert p._private == "x"
        with pytest.raises(AttributeError):
            p.completions = 5  # a read-only property on both


@pytest.mark.parametrize(
    "op",
    [
        lambda p, q: p + 1, lambda p, q: 1 + p, lambda p, q: p + q, lambda p, q: p / 2, lambda p, q: 2 / p,
        lambda p, q: p / q, lambda p, q: p < 4, lambda p, q: p <= 3, lambda p, q: p > q, lambda p, q: p >= q,
        lambda p, q: float(p), lambda p, q: p + "x", lambda p, q: p < "x", lambda p, q: p - 1,
        lambda p, q: sum([p, q]),
    ],
)
@pytest.mark.parametrize("score", [3, 0.5, None])
def test_score_arithmetic_matches_dspy(op: Callable[[Any, Any], Any], score: Any) -> None:
    def make(cls: Any) -> Any:
        p = cls(score=score) if score is not None else cls(answer="x")
        return op(p, cls(score=2))

    assert outcome(lambda: make(Prediction)) == outcome(lambda: make(dspy.Prediction))


def test_equality_and_hash() -> None:
    a = Prediction.from_completions([{"answer": "x"}, {"answer": "y"}])
    assert a == Prediction(answer="x")
    assert a != Prediction(answer="y")
    assert a == dspy.Prediction(answer="x")  # duck-typed on _store
    assert a == dspy.Example(answer="x")
    assert a != {"answer": "x"}  # a dict is not a Prediction, as in DSPy
    assert hash(a) == hash(dspy.Prediction(answer="x"))
    # DSPy's own __eq__ insists on its Example class: the reverse comparison is False (documented asymmetry).
    assert (dspy.Prediction(answer="x") == a) is False


def test_completions_class_directly() -> None:
    for cls in (Completions, dspy.primitives.prediction.Completions):
        c = cls([{"a": 1, "b": 2}, {"a": 3, "b": 4}], signature="sig")
        assert c.signature == "sig"
        assert c.a == [1, 3] and c["b"] == [2, 4] and len(c) == 2
        assert repr(c) == "Completions(\n    a=[1, 3],\n    b=[2, 4]\n)"
    assert repr(Completions([{"a": 1}])[0]) == repr(dspy.primitives.prediction.Completions([{"a": 1}])[0])
    assert type(Completions([{"a": 1}])[0]) is Prediction


def test_lm_usage_roundtrip() -> None:
    p = Prediction(a=1)
    p.set_lm_usage({"m": {"total_tokens": 3}})
    assert p.get_lm_usage() == {"m": {"total_tokens": 3}}
    assert "_lm_usage" not in p.keys()


def test_public_surface_covers_dspy() -> None:
    ours = {n for n in dir(Prediction) if not n.startswith("_")}
    theirs = {n for n in dir(dspy.Prediction) if not n.startswith("_")}
    assert theirs <= ours, f"missing: {theirs - ours}"


def test_field_named_like_a_method_is_item_only() -> None:
    for cls in (Prediction, dspy.Prediction):
        p = cls.from_completions([{"keys": "k", "answer": "a"}])
        assert p["keys"] == "k" and callable(p.keys)


def test_one_completion_s_completions_are_one_object_across_threads() -> None:
    """Built on first use (dspex): threads that read ``completions`` at once all get the same object, no error."""
    import sys
    import threading

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)   # threads switch between bytecodes: the build races as it could in a server
    try:
        _race_for_completions()
    finally:
        sys.setswitchinterval(interval)


def _race_for_completions() -> None:
    import threading

    for _ in range(300):
        pred = Prediction.from_completions([{"answer": "Paris"}])
        seen: list[Any] = []
        barrier = threading.Barrier(4)

        def read() -> None:
            barrier.wait()
            seen.append(pred.completions)

        threads = [threading.Thread(target=read) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(seen) == 4 and all(c is pred.completions for c in seen)
        assert pred.completions.answer == ["Paris"]


def _delattr(p: Any) -> None:
    try:
        del p.answer   # neither class deletes a field as an attribute: AttributeError, and nothing changes
    except AttributeError:
        pass


@pytest.mark.parametrize("change", [
    lambda p: setattr(p, "answer", "changed"), lambda p: p.__setitem__("answer", "changed"),
    lambda p: p.__delitem__("answer"), lambda p: setattr(p, "other", 1), _delattr,
    lambda p: copy.copy(p).__setitem__("answer", "changed"),   # a shallow copy shares the store
    lambda p: setattr(copy.deepcopy(p), "answer", "changed"), lambda p: pickle.loads(pickle.dumps(p)),
])
def test_completions_keep_what_the_lm_answered_like_dspy(change: Callable[[Any], Any]) -> None:
    """One completion's ``Completions`` is built on first use from the store (no copy of it up front): every change
    made through the prediction or a shallow copy of it builds them first, so they hold the LM's values as DSPy's do."""
    seen = []
    for cls in (Prediction, dspy.Prediction):
        p = cls.from_completions([{"answer": "Paris", "n": [1]}])
        change(p)
        seen.append((p.toDict(), dict(p.completions.items()), repr(p)))
    assert seen[0] == seen[1]
