"""Refine's feedback step: the ``OfferFeedback`` signature, the module listing and the JSON it is shown.

Between attempts DSPy's Refine asks the default LM, through ``Predict(OfferFeedback)``, which module is to blame
and what each should do differently. Its inputs are strings: the program's and the reward function's source,
a listing of each predictor's fields and instructions (``inspect_modules``), and the inputs, trajectory,
outputs, threshold, reward and module names dumped with orjson's two-space indent after ``recursive_mask`` has
replaced what orjson cannot serialise by ``<non-serializable: TypeName>``. orjson is imported on first use
(DSPy's own rendering library: its float, key and escape rules are what the LM must see).
"""

from __future__ import annotations

import textwrap
import weakref
from typing import Any

from ..signature import InputField, OutputField, Signature, SignatureMeta

__all__ = ["OfferFeedback", "inspect_modules", "recursive_mask", "dump"]


class OfferFeedback(Signature):
    """
    In the discussion, assign blame to each module that contributed to the final reward being below the threshold, if
    any. Then, prescribe concrete advice of how the module should act on its future input when we retry the process, if
    it were to receive the same or similar inputs. If a module is not to blame, the advice should be N/A.
    The module will not see its own history, so it needs to rely on entirely concrete and actionable advice from you
    to avoid the same mistake on the same or similar inputs.
    """

    program_code: str = InputField(desc="The code of the program that we are analyzing")
    modules_defn: str = InputField(desc="The definition of each module in the program, including its I/O")
    program_inputs: str = InputField(desc="The inputs to the program that we are analyzing")
    program_trajectory: str = InputField(desc="The trajectory of the program's execution, showing each module's I/O")
    program_outputs: str = InputField(desc="The outputs of the program that we are analyzing")
    reward_code: str = InputField(desc="The code of the reward function that we are analyzing")
    target_threshold: float = InputField(desc="The target threshold for the reward function")
    reward_value: float = InputField(desc="The reward value assigned to the program's outputs")
    module_names: list[str] = InputField(desc="The names of the modules in the program, for which we seek advice")
    discussion: str = OutputField(desc="Discussing blame of where each module went wrong, if it did")
    advice: dict[str, str] = OutputField(
        # DSPy's text, its missing space ("kind ofscenario") included: the LM must read the same words.
        desc="For each module, describe very concretely, in this order: the specific scenarios in which it has made "
        "mistakes in the past and what each mistake was, followed by what it should do differently in that kind of"
        "scenario in the future. If the module is not to blame, write N/A."
    )


def _described(fields: Any) -> str:
    from ..adapters import field_descriptions

    return field_descriptions(fields)


_LISTED: "weakref.WeakKeyDictionary[Any, tuple[str, str, str]]" = weakref.WeakKeyDictionary()


def _listing(signature: Any) -> tuple[str, str, str]:
    """A signature's input and output field listings and its dedented instructions, made once per dspex
    signature class (its fields and instructions are fixed when the class is made; a dspy signature can change
    in place, so it is described on every call)."""
    native = isinstance(signature, SignatureMeta)
    if native:
        listed = _LISTED.get(signature)
        if listed is not None:
            return listed
    instructions = ("\n" + "\t" * 2).join([""] + textwrap.dedent(signature.instructions).splitlines())
    listed = (("\n" + "\t" * 2).join([""] + _described(signature.input_fields).splitlines()),
              ("\n" + "\t" * 2).join([""] + _described(signature.output_fields).splitlines()),
              instructions)
    if native:
        _LISTED[signature] = listed
    return listed


def inspect_modules(program: Any) -> str:
    """Each predictor's name, input and output fields, and instructions, between 80-dash rules (DSPy's layout)."""
    separator = "-" * 80
    output = [separator]
    for name, predictor in program.named_predictors():
        inputs, outputs, instructions = _listing(predictor.signature)
        output.append(f"Module {name}")
        output.append("\n\tInput Fields:")
        output.append(inputs)
        output.append("\tOutput Fields:")
        output.append(outputs)
        output.append(f"\tOriginal Instructions: {instructions}")
        output.append(separator)
    return "\n".join([o.strip("\n") for o in output])


def recursive_mask(o: Any) -> Any:
    import orjson

    try:
        orjson.dumps(o)
        return o
    except TypeError:
        pass
    if isinstance(o, dict):
        return {k: recursive_mask(v) for k, v in o.items()}
    if isinstance(o, list):
        return [recursive_mask(v) for v in o]
    if isinstance(o, tuple):
        return tuple(recursive_mask(v) for v in o)
    return f"<non-serializable: {type(o).__name__}>"


def dump(value: Any) -> str:
    """A feedback input: strings as they are, anything else as indented JSON (``orjson.OPT_INDENT_2``)."""
    if isinstance(value, str):
        return value
    import orjson

    return orjson.dumps(recursive_mask(value), option=orjson.OPT_INDENT_2).decode()
