"""Hypothesis strategies for parity cases: signatures, inputs, demos, LM configurations and LM scripts.

Wide and nasty by design: every supported field type, ascii and unicode names, odd instructions, inputs of the
wrong type, incomplete demos, every n / temperature source, and corrupted or ill-typed LM answers. The case
strategies compose these into :class:`~dspex.parity._case.Case` objects that ``harness.run_case`` runs.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any, Sequence

from hypothesis import strategies as st

from ._case import CLASS_EXTRAS, NO_DEFAULT, Case, DemoSpec, Factory, FieldSpec, LMSpec, RationaleSpec, SignatureSpec
from ._completions import json_completions, lm_responses
from ._completions import chat_completions as chat_completion_texts
from ._error_strategies import bad_signature_strings, garbage_responses, lm_exceptions
from ._transforms import effective_fields, transforms_for
from ._type_strategies import (
    NASTY_STRINGS,
    annotations,
    custom_types_in,
    enum_types,
    identifiers,
    model_types,
    odd_values,
    texts,
    values_of,
)

__all__ = [
    "texts", "identifiers", "annotations", "enum_types", "model_types", "values_of", "odd_values",
    "instructions", "descriptions", "field_specs", "signature_specs", "inputs_for", "demos_for", "lm_configs",
    "scripts_for", "cases", "transforms_for", "effective_fields", "bad_signature_strings", "lm_exceptions", "garbage_responses", "chat_completion_texts",
    "json_completions", "lm_responses", "NASTY_STRINGS",
]

_INSTRUCTION_SAMPLES = [
    "Answer the question.", "Answer  the question.   ", "\n    Indented first line.\n      deeper\n\n    back\n",
    "Line one\n\nLine three after a blank", "Résumé: répondez en français «vite».", "Tabs\tinside\n\tand leading",
    "Trailing spaces   \n   \n", "   ", "\n\n", "Use [[ ## answer ## ]] wisely.", "Multi\nline\n\n\n\nwith gaps",
    "名前を答えてください。", "${question}", "`code` and **markdown**",
]
instructions = st.one_of(
    st.none(), st.just(""), st.sampled_from(_INSTRUCTION_SAMPLES), texts,
    st.lists(st.sampled_from(_INSTRUCTION_SAMPLES) | texts, min_size=2, max_size=4).map("\n".join),
)
descriptions = st.one_of(
    st.none(), st.none(), st.just(""), st.sampled_from(["The question.", "multi\nline desc", "«quoted» ü", "  padded ",
                                                         "${name}", "a number between 1 and 10"]), texts,
)


def rationale_specs() -> st.SearchStrategy[RationaleSpec]:
    text = st.one_of(st.none(), st.just("${reasoning}"), st.text(max_size=12))
    return st.builds(RationaleSpec, st.sampled_from(["output"] * 5 + ["input"]), text, text, st.booleans())


@functools.lru_cache(maxsize=None)
def _field_annotations(kind: str, depth: int, custom: bool) -> st.SearchStrategy[Any]:
    """Built once (see ``annotations``): plain types twice as often as the rest."""
    plain = st.sampled_from([None, str]) if kind == "input" else st.sampled_from([None, str, str, int, bool])
    return st.one_of(plain, plain, annotations(depth=depth, custom=custom))


_DEPTHS = st.sampled_from([1, 1, 1, 2])


@st.composite
def field_specs(draw: Any, name: str, kind: str, form: str, custom: bool = True) -> FieldSpec:
    annotation = draw(_field_annotations(kind, draw(_DEPTHS), custom))
    if form == "string":
        return FieldSpec(name, kind, annotation)  # type: ignore[arg-type]
    constraints: tuple[tuple[str, Any], ...] = ()
    if annotation in (int, float) and draw(st.booleans()):
        lo = draw(st.integers(-5, 5))
        constraints = tuple(draw(st.sampled_from([[("ge", lo)], [("le", lo + 10)], [("ge", lo), ("le", lo + 10)]])))
    default, factory = NO_DEFAULT, None
    if draw(st.integers(0, 5)) == 0:
        default = draw(values_of(annotation) if annotation is not None else texts)
        if draw(st.booleans()):   # the same value from a default_factory (a missing optional output is filled)
            default, factory = NO_DEFAULT, Factory(default)
    return FieldSpec(name, kind, annotation, draw(descriptions), constraints, default, factory)  # type: ignore[arg-type]


# Class-body extras: the ones DSPy accepts (a nested class above all: pydantic's own rule) come up more often
# than the ones it refuses, so most such cases go on to a call. Only Predict/ChainOfThought cases compare a
# refused class through the documented error mapping; the other modules' cases get accepted extras only.
_REFUSED_EXTRAS = ("class from another module", "class from elsewhere", "class named like it", "plain value")
_EXTRAS_WEIGHTED = [e for e in CLASS_EXTRAS for _ in range(3 if e == "nested class" else 1)]
_ACCEPTED_EXTRAS = [e for e in _EXTRAS_WEIGHTED if e not in _REFUSED_EXTRAS]


@st.composite
def signature_specs(
    draw: Any, forms: Sequence[str] = ("string", "class", "dict", "dspy_class", "subclass"), max_inputs: int = 3,
    max_outputs: int = 3, custom: bool = True, refused_extras: bool = True,
) -> SignatureSpec:
    n_in = draw(st.integers(1, max_inputs))
    n_out = draw(st.integers(1, max_outputs))
    names = draw(st.lists(identifiers, min_size=n_in + n_out, max_size=n_in + n_out, unique=True))
    form = draw(st.sampled_from(list(forms)))
    fields = [draw(field_specs(n, "input", form, custom)) for n in names[:n_in]]
    fields += [draw(field_specs(n, "output", form, custom)) for n in names[n_in:]]
    names_map: dict[str, Any] = {}
    if form == "string":
        for f in fields:
            found = custom_types_in(f.annotation)
            if any(tp is not f.annotation for tp in found) and form == "string":
                # DSPy finds user types in the caller's frames only right after a colon: keep most such cases
                # resolvable, by a class statement or by naming the types (``custom_types=``)
                form = draw(st.sampled_from(["string", "string_types", "class", "class"]))
            for tp in found:
                if names_map.setdefault(tp.__name__, tp) is not tp:
                    form = "class"  # two user types share a name: only a class statement can hold both
    if not form.startswith("string"):
        names_map = {}
    name = draw(st.sampled_from(["ParitySignature", "QA", "StringSignature", "Sig"]))
    extras: tuple[str, ...] = ()
    if form in ("class", "subclass") and draw(st.integers(0, 2)) == 0:   # what else users write in the class
        pool = _EXTRAS_WEIGHTED if refused_extras else _ACCEPTED_EXTRAS
        extras = tuple(draw(st.lists(st.sampled_from(pool), min_size=1, max_size=2, unique=True)))
    # a migrating team's dspex class body or dict that still holds dspy.InputField() / OutputField()
    dspy_fields = form in ("class", "dict", "subclass") and draw(st.integers(0, 5)) == 0
    spec = SignatureSpec(tuple(fields), draw(instructions), form, name, tuple(names_map.items()), extras=extras,  # type: ignore[arg-type]
                         dspy_fields=dspy_fields)
    if draw(st.integers(0, 5)) == 0:
        spec = dataclasses.replace(spec, transforms=draw(transforms_for(spec, custom)))
    return spec


def _input_type(f: FieldSpec) -> Any:
    return str if f.annotation is None else f.annotation


@st.composite
def inputs_for(draw: Any, spec: SignatureSpec, odd: bool = True) -> dict[str, Any]:
    """Inputs for ``spec``: mostly matching values; sometimes odd types, missing fields, or extra keys."""
    inputs: dict[str, Any] = {}
    for f in (f for f in effective_fields(spec) if f.kind == "input"):
        choice = draw(st.sampled_from(["match"] * 6 + (["odd", "missing"] if odd else [])))
        if choice == "match":
            inputs[f.name] = draw(values_of(_input_type(f)))
        elif choice == "odd":
            inputs[f.name] = draw(odd_values())
    if odd and draw(st.integers(0, 6)) == 0:
        extra = draw(identifiers)
        if extra not in {f.name for f in spec.fields}:
            inputs[extra] = draw(texts)
    if odd and draw(st.integers(0, 15)) == 0:  # DSPy moves a predicted-outputs dict from the inputs into the config
        inputs["prediction"] = draw(st.sampled_from([{"type": "content", "content": "draft"}, {"type": "other"}, "x"]))
    return inputs


def module_fields(spec: SignatureSpec, module: str) -> tuple[list[tuple[str, Any]], list[tuple[str, Any]]]:
    """(inputs, outputs) as (name, annotation) pairs as the module sees them; CoT prepends ``reasoning: str``."""
    fields = effective_fields(spec)
    ins = [(f.name, _input_type(f)) for f in fields if f.kind == "input"]
    outs = [(f.name, _input_type(f)) for f in fields if f.kind == "output"]
    if module == "cot":
        outs = [("reasoning", str)] + [o for o in outs if o[0] != "reasoning"]
    return ins, outs


@st.composite
def demos_for(draw: Any, spec: SignatureSpec, module: str) -> tuple[DemoSpec, ...]:
    """Complete, incomplete, inputs-only and outputs-only demos, with None values, as dicts or dspy.Examples."""
    ins, outs = module_fields(spec, module)
    demos = []
    for _ in range(draw(st.integers(0, 3))):
        kind = draw(st.sampled_from(["complete", "complete", "incomplete", "inputs_only", "outputs_only", "none_value"]))
        chosen = {"complete": ins + outs, "inputs_only": ins, "outputs_only": outs, "none_value": ins + outs}.get(kind)
        if chosen is None:
            chosen = [f for f in ins + outs if draw(st.booleans())]
        values = {name: draw(values_of(tp)) for name, tp in chosen}
        if kind == "none_value" and values:
            values[draw(st.sampled_from(sorted(values)))] = None
        if draw(st.integers(0, 5)) == 0:  # a key the signature does not know (optimizers leave these behind)
            values.setdefault(draw(identifiers), draw(texts))
        demos.append(DemoSpec(values, as_example=draw(st.booleans())))
    return tuple(demos)


_temperatures = st.sampled_from([None, 0, 0.0, 0.1, 0.15, 0.5, 1, 1.0])
# An LM's own temperature, sometimes odd: DSPy's sampling rule compares it with 0.15 before it looks at ``n``
# ("0.5" fails even a one-sample call; True compares as 1).
_lm_temperatures = st.sampled_from([None, 0, 0.0, 0.1, 0.15, 0.5, 1, 1.0, "0.5", True])


@st.composite
def lm_configs(draw: Any) -> tuple[dict[str, Any] | None, dict[str, Any], dict[str, Any] | None, tuple[str, ...], bool]:
    """(per-call config, constructor config, lm.kwargs, supported_params, supports_response_schema)."""

    def some_settings() -> dict[str, Any]:
        out: dict[str, Any] = {}
        if draw(st.booleans()):
            out["n"] = draw(st.integers(1, 4))
        if draw(st.booleans()):
            out["temperature"] = draw(_temperatures)
        if draw(st.integers(0, 4)) == 0:
            out["max_tokens"] = draw(st.sampled_from([None, 50, 1000]))
        if draw(st.integers(0, 6)) == 0:  # rarer knobs: passed through, dropped (tools), or edge values
            key = draw(st.sampled_from(["stop", "rollout_id", "logprobs", "tools", "tool_choice", "top_p", "n",
                                        "temperature", "parallel_tool_calls"]))
            # (a temperature DSPy cannot compare with 0.15 fails its sampling rule, even for one sample)
            out[key] = draw(st.sampled_from({"n": [0, None, 2], "temperature": [-1, 0.16, 2, True, "0.5"],
                                             "stop": [["\n\n"]],
                                             "tools": [[]], "tool_choice": ["auto"], "logprobs": [True],
                                             "parallel_tool_calls": [True, None]}.get(key, [1, 0.9])))
        return out

    config = draw(st.one_of(st.none(), st.builds(dict), st.just(None).map(lambda _: some_settings())))
    module_config = some_settings() if draw(st.integers(0, 3)) == 0 else {}
    lm_kwargs = draw(st.sampled_from(["default", "empty", "settings", "num_generations"]))
    kwargs: dict[str, Any] | None = {
        "default": None, "empty": {}, "settings": None, "num_generations": {"num_generations": draw(st.integers(1, 3))},
    }[lm_kwargs]
    if lm_kwargs == "settings":
        kwargs = {"temperature": draw(_lm_temperatures), "max_tokens": None, **some_settings()}
    params = draw(st.sampled_from([(), (), ("response_format",), ("temperature", "response_format", "n")]))
    return config, module_config, kwargs, params, draw(st.booleans())


def effective_n(config: dict[str, Any] | None, module_config: dict[str, Any], kwargs: dict[str, Any] | None) -> int:
    """Roughly how many completions the LM is asked for (only used to shape plausible scripts)."""
    merged = {**module_config, **(config or {})}
    kw = kwargs or {}
    return int(merged.get("n") or kw.get("n") or kw.get("num_generations") or 1)


@st.composite
def scripts_for(draw: Any, outputs: Sequence[tuple[str, Any]], n: int, clean: bool = False) -> tuple[Any, ...]:
    """Answers for up to three calls: a ChatAdapter-style answer, then JSON answers for the fallback."""
    if clean:
        first = [draw(chat_completion_texts(outputs, clean=True)) for _ in range(n)]
    else:
        first = draw(lm_responses(outputs, n, "chat"))
    return (first, draw(lm_responses(outputs, n, "json")), draw(lm_responses(outputs, n, "json")))


@st.composite
def cases(
    draw: Any, modules: Sequence[str] = ("predict", "cot"), forms: Sequence[str] = ("string", "class", "dict", "dspy_class", "subclass"),
    odd: bool = True, custom: bool = True, adapters: Sequence[str] = ("chat",) * 6 + ("json", "chat_no_fallback"),
) -> Case:
    """A complete parity case; about half are "clean" (every completion well-formed) to exercise value parsing."""
    module = draw(st.sampled_from(list(modules)))
    spec = draw(signature_specs(forms=forms, custom=custom))
    config, module_config, kwargs, params, schema = draw(lm_configs())
    _, outs = module_fields(spec, module)
    clean = draw(st.booleans())
    adapter = draw(st.sampled_from(list(adapters)))
    n = effective_n(config, module_config, kwargs)
    script = draw(scripts_for(outs, n, clean=clean))
    if adapter == "json" and draw(st.integers(0, 3)):  # JSON first: mostly answer in JSON
        script = (draw(lm_responses(outs, n, "json", clean=clean)),) + script[1:]
    if module == "cot" and draw(st.integers(0, 5)) == 0:   # ChainOfThought's own constructor argument
        module_config = {**module_config, "rationale_field_type": draw(st.sampled_from([str, int, list[str]]))}
    if module == "cot" and draw(st.integers(0, 7)) == 0:   # rationale_field=: a field object (its type then ignored)
        module_config = {**module_config, "rationale_field": draw(rationale_specs())}
    demos = draw(st.one_of(st.none(), demos_for(spec, module)))
    via = "attribute" if module == "predict" and demos is not None and draw(st.booleans()) else "call"
    repeat = 1 if draw(st.integers(0, 5)) else draw(st.integers(2, 3))
    for _ in range(repeat - 1):  # answers for the later calls: sometimes the same again (an LM at temperature 0)
        script += script[:3] if draw(st.booleans()) else draw(scripts_for(outs, n, clean=clean))
    call_signature = None
    if draw(st.integers(0, 9 if repeat == 1 else 2)) == 0:  # a per-call signature= override (new instructions, maybe another form)
        call_signature = dataclasses.replace(spec, instructions=draw(instructions), form=draw(st.sampled_from(
            [spec.form] + [f for f in forms if f != "string" and spec.form != "string"])))
    case = Case(
        module=module, signature=spec, inputs=draw(inputs_for(spec, odd=odd and not clean)),
        lm=LMSpec(script, kwargs, params, schema), demos=demos, demos_via=via, config=config,  # type: ignore[arg-type]
        module_config=module_config, call_signature=call_signature, adapter=adapter,  # type: ignore[arg-type]
        repeat=repeat, callbacks=draw(st.sampled_from([False] * 6 + [True, "broken"])),
        lm_via=draw(st.sampled_from(["call"] * 4 + ["module"])),
    )
    if draw(st.integers(0, 2)) == 0:
        # The call most programs make (exactly the inputs, no demos, config, adapter or callbacks): native serves
        # it on its own fast path, so it gets a third of the cases rather than the few the mix above would give.
        case = dataclasses.replace(
            case, inputs=draw(inputs_for(spec, odd=False)), demos=None, config=None, module_config={},
            call_signature=None, adapter="chat", callbacks=False,
        )
    return case
