"""Tutorial-style DSPy programs built twice, with ``dspy`` and with ``dspex`` modules, and a scripted LM that answers
any prompt deterministically from its content (so two programs that send the same prompts get the same answers).

The programs are the ones a new user writes from DSPy's tutorials: a classifier with a class-based signature and a
Literal output, a RAG module with ChainOfThought over ``context: list[str]``, a two-hop module, and an extractor with
a pydantic output. ``build(kind, ns)`` makes one with ``ns`` = ``dspy`` (P) or ``dspex`` (P').
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any, Literal

import dspy
import dspex
import pydantic


class Person(pydantic.BaseModel):
    name: str
    age: int


class Classify(dspy.Signature):
    """Classify the sentiment of a sentence."""

    sentence: str = dspy.InputField()
    sentiment: Literal["positive", "negative", "neutral"] = dspy.OutputField()


DOCS = {
    "paris": ["Paris is the capital of France.", "France is in Europe."],
    "tokyo": ["Tokyo is the capital of Japan.", "Japan is an island country."],
}


def retrieve(query: str) -> list[str]:
    """A stand-in retriever: deterministic passages for a query."""
    key = "paris" if "fr" in query.lower() else "tokyo"
    return list(DOCS[key])


def build(kind: str, ns: Any) -> Any:
    """Program ``kind`` written against ``ns`` (``dspy`` or ``dspex``): the same source, two module libraries."""
    if kind == "classifier":
        class Classifier(dspy.Module):
            def __init__(self) -> None:
                super().__init__()
                self.classify = ns.Predict(Classify)

            def forward(self, sentence: str) -> Any:
                return self.classify(sentence=sentence)

        return Classifier()
    if kind == "rag":
        class RAG(dspy.Module):
            def __init__(self) -> None:
                super().__init__()
                self.generate = ns.ChainOfThought("context: list[str], question -> answer")

            def forward(self, question: str) -> Any:
                return self.generate(context=retrieve(question), question=question)

        return RAG()
    if kind == "two_hop":
        class TwoHop(dspy.Module):
            def __init__(self) -> None:
                super().__init__()
                self.hop = ns.ChainOfThought("question -> query")
                self.answer = ns.Predict("context: list[str], question -> answer")

            def forward(self, question: str) -> Any:
                query = self.hop(question=question).query
                return self.answer(context=retrieve(query), question=question)

        return TwoHop()
    if kind == "registered":
        return _registered(ns)
    if kind == "extractor":
        class Extractor(dspy.Module):
            def __init__(self) -> None:
                super().__init__()
                self.extract = ns.Predict("text -> person: Person")

            def forward(self, text: str) -> Any:
                return self.extract(text=text)

        return Extractor()
    raise ValueError(kind)


class RAGBody(dspy.Module):
    """A user's own module type, written once with DSPy..."""

    def __init__(self) -> None:
        super().__init__()
        self.generate = dspy.ChainOfThought("context: list[str], question -> answer")

    def forward(self, question: str) -> Any:
        return self.generate(context=retrieve(question), question=question)


def _native_body() -> Any:
    import dspex.native as dn

    class RAGBodyNative(dn.Module):
        """...and once natively, its predictors named alike."""

        def __init__(self) -> None:
            super().__init__()
            self.generate = dn.ChainOfThought("context: list[str], question -> answer")

        def forward(self, question: str) -> Any:
            return self.generate(context=retrieve(question), question=question)

    return RAGBodyNative


RoutedRAGBody = dspex.register("rag_body", native=_native_body(), dspy=RAGBody)


def _registered(ns: Any) -> Any:
    class Registered(dspy.Module):
        def __init__(self) -> None:
            super().__init__()
            self.body = RAGBody() if ns is dspy else RoutedRAGBody()

        def forward(self, question: str) -> Any:
            return self.body(question=question)

    return Registered()


BUILTIN_KINDS = ("classifier", "rag", "two_hop", "extractor")
KINDS = (*BUILTIN_KINDS, "registered")

TRAIN: dict[str, list[dict[str, Any]]] = {
    "classifier": [{"sentence": s, "sentiment": l} for s, l in [
        ("I love it", "positive"), ("Awful service", "negative"), ("It is a chair", "neutral"),
        ("Best day ever", "positive"), ("Never again", "negative"), ("The sky is blue", "neutral"),
    ]],
    "rag": [{"question": q, "answer": a} for q, a in [
        ("Capital of France?", "Paris"), ("Capital of Japan?", "Tokyo"), ("Where is France?", "Europe"),
        ("Is Japan an island?", "yes"), ("French capital?", "Paris"), ("Japanese capital?", "Tokyo"),
    ]],
    "extractor": [{"text": t, "person": Person(name=n, age=a)} for t, n, a in [
        ("Ann is 31.", "Ann", 31), ("Bob, 40 years old.", "Bob", 40), ("Cy (age 7)", "Cy", 7),
        ("Di turned 55", "Di", 55), ("Ed: 19", "Ed", 19), ("Flo is twenty", "Flo", 20),
    ]],
}
TRAIN["two_hop"] = TRAIN["registered"] = TRAIN["rag"]
INPUTS = {"classifier": ("sentence",), "rag": ("question",), "two_hop": ("question",), "extractor": ("text",),
          "registered": ("question",)}


def trainset(kind: str) -> list[dspy.Example]:
    return [dspy.Example(**row).with_inputs(*INPUTS[kind]) for row in TRAIN[kind]]


def label_of(kind: str) -> str:
    return {"classifier": "sentiment", "extractor": "person"}.get(kind, "answer")


def metric(example: Any, pred: Any, trace: Any = None) -> bool:
    """Deterministic and selective: passes for some predictions and not others, the same way for both programs."""
    value = next((pred[k] for k in ("sentiment", "answer", "person") if k in pred), "")
    return int(hashlib.sha256(repr(value).encode()).hexdigest(), 16) % 3 != 0


_REMINDER = re.compile(r"`\[\[ ## (\w+) ## \]\]`(?: \(must be formatted as a valid Python ([^)]*\)?[^)]*)\))?")
_JSON_REMINDER = re.compile(r"`(\w+)`(?: \(must be formatted as a valid Python ([^)]*\)?[^)]*)\))?")


def _value(name: str, type_name: str | None, seed: str) -> Any:
    h = int(hashlib.sha256(f"{name}|{seed}".encode()).hexdigest(), 16)
    if type_name is None or type_name == "str":
        return f"{name} {h % 997}"
    if type_name.startswith("Literal["):
        options = re.findall(r"'([^']*)'", type_name)
        return options[h % len(options)]
    if type_name == "int":
        return h % 100
    if type_name == "float":
        return (h % 1000) / 10
    if type_name == "bool":
        return bool(h % 2)
    if type_name.startswith("list"):
        return [f"{name} {h % 97}", f"{name} {h % 89}"]
    if type_name == "Person":
        return {"name": f"N{h % 50}", "age": h % 90}
    return f"{name} {h % 997}"


class FieldLM(dspy.BaseLM):
    """Answers any ChatAdapter or JSONAdapter prompt with one value per requested output field, derived from the
    last user message (deterministic); records every call's messages and kwargs."""

    def __init__(self, n_default: int = 1) -> None:
        super().__init__(model="scripted/field-lm", cache=False)
        self.calls: list[dict[str, Any]] = []

    def __call__(self, prompt: Any = None, messages: Any = None, **kwargs: Any) -> list[str]:
        messages = messages or [{"role": "user", "content": prompt}]
        self.calls.append({"messages": [dict(m) for m in messages], "kwargs": dict(kwargs)})
        last = messages[-1]["content"]
        seed = last if isinstance(last, str) else json.dumps(last, default=str)
        n = kwargs.get("n") or 1
        return [self._answer(seed, i) for i in range(n)]

    def _answer(self, seed: str, i: int) -> str:
        seed = f"{seed}#{i}" if i else seed
        if "Respond with a JSON object" in seed:
            tail = seed.rsplit("Respond with a JSON object", 1)[1]
            fields = _JSON_REMINDER.findall(tail)
            return json.dumps({n: _value(n, t or None, seed) for n, t in fields})
        tail = seed.rsplit("Respond with the corresponding output fields", 1)[-1]
        parts = []
        for name, type_name in _REMINDER.findall(tail):
            if name == "completed":
                continue
            value = _value(name, type_name or None, seed)
            text = value if isinstance(value, str) else json.dumps(value)
            parts.append(f"[[ ## {name} ## ]]\n{text}")
        return "\n\n".join(parts + ["[[ ## completed ## ]]"])

    async def acall(self, prompt: Any = None, messages: Any = None, **kwargs: Any) -> list[str]:
        return self(prompt, messages, **kwargs)


def demos_of(program: Any) -> dict[str, list[dict[str, Any]]]:
    return {name: [_plain(d) for d in p.demos] for name, p in program.named_predictors()}


def _plain(demo: Any) -> dict[str, Any]:
    items = demo.toDict() if hasattr(demo, "toDict") else dict(demo)
    return {k: v.model_dump() if isinstance(v, pydantic.BaseModel) else v for k, v in items.items()}


def instructions_of(program: Any) -> dict[str, str]:
    return {name: p.signature.instructions for name, p in program.named_predictors()}


def saved_state(program: Any, path: Any) -> dict[str, Any]:
    program.save(str(path))
    state = json.loads(open(path).read())
    state.pop("metadata")
    return state


def route_to(route: str, tmp_path: Path, types: tuple[str, ...] = ("predict", "chain_of_thought", "rag_body"),
             **extra: Any) -> None:
    """Configure dspex so the module ``types`` take ``route`` (``fractional``: a 50/50 flag per call)."""
    shadow = {"log_path": str(tmp_path / "shadow")}
    if route == "fractional":
        flags = {f"dspex.{t}": {"state": "ENABLED", "variants": {"native": "native", "dspy": "dspy", "shadow": "shadow"},
                                "defaultVariant": "dspy", "targeting": {"fractional": [["native", 50], ["dspy", 50]]}}
                 for t in types}
        path = tmp_path / "flags.flagd.json"
        path.write_text(json.dumps({"flags": flags}))
        dspex.configure(flags=str(path), shadow=shadow, **extra)
    else:
        dspex.configure(module_overrides={t: route for t in types}, shadow=shadow, **extra)
