"""``Module.save`` / ``load`` for native programs, in DSPy's file format.

A ``.json`` state is what ``dspy.Module.save`` writes (one ``dump_state`` per named parameter, plus
``metadata.dependency_versions``), so a state saved by a DSPy program loads into its native twin and back.
Versions are read from installed package metadata, never by importing dspy. ``.pkl`` files and whole programs
(``save_program=True``) use the standard library's pickle, which DSPy's cloudpickle reads too.
"""

from __future__ import annotations

import json
import logging
import pickle
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

__all__ = ["save", "load", "dependency_versions"]

_log = logging.getLogger("dspy.primitives.base_module")   # where DSPy's save/load warn
_PICKLE_WARNING = ("Loading untrusted .pkl files can run arbitrary code, which may be dangerous. To avoid this, prefer "
                   'saving using json format using module.save("module.json").')


def dependency_versions() -> dict[str, str]:
    """DSPy's keys only (a key DSPy does not know would make ``dspy.Module.load`` fail on this file)."""
    versions = {"python": f"{sys.version_info.major}.{sys.version_info.minor}"}
    for name in ("dspy", "cloudpickle"):
        try:
            version = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
        versions[name] = version if name == "dspy" else ".".join(version.split(".")[:2])
    return versions


def save(module: Any, path: Any, save_program: bool, modules_to_serialize: Any = None) -> None:
    meta = {"dependency_versions": dependency_versions()}
    path = Path(path)
    if save_program:
        _save_program(module, path, meta)
        return
    if path.suffix == ".json":
        state = {**module.dump_state(), "metadata": meta}
        try:
            text = json.dumps(state, indent=2, ensure_ascii=False, allow_nan=False)
            path.write_text(text + "\n", encoding="utf-8")
        except (TypeError, ValueError, OSError) as exc:
            raise RuntimeError(
                f"Failed to save state to {path} with error: {exc}. Your DSPy program may contain non "
                "json-serializable objects, please consider saving the state in .pkl by using `path` ending "
                "with `.pkl`, or saving the whole program by setting `save_program=True`."
            ) from exc
    elif path.suffix == ".pkl":
        _log.warning(_PICKLE_WARNING)
        state = {**module.dump_state(json_mode=False), "metadata": meta}
        with open(path, "wb") as f:
            pickle.dump(state, f)
    else:
        raise ValueError(f"`path` must end with `.json` or `.pkl` when `save_program=False`, but received: {path}")


def _save_program(module: Any, path: Path, meta: dict[str, Any]) -> None:
    if path.suffix:
        raise ValueError(f"`path` must point to a directory without a suffix when `save_program=True`, but received: {path}")
    if path.exists() and not path.is_dir():
        raise NotADirectoryError(f"The path '{path}' exists but is not a directory.")
    path.mkdir(parents=True, exist_ok=True)
    _log.warning(_PICKLE_WARNING)
    try:
        with open(path / "program.pkl", "wb") as f:
            pickle.dump(module, f)
    except Exception as exc:  # noqa: BLE001 - any pickling failure gets DSPy's advice
        raise RuntimeError(
            f"Saving failed with error: {exc}. Please remove the non-picklable attributes from your DSPy program, "
            "or consider using state-only saving by setting `save_program=False`."
        ) from exc
    (path / "metadata.json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")


def load(module: Any, path: Any, allow_pickle: bool, allow_unsafe_lm_state: bool) -> None:
    path = Path(path)
    if path.suffix == ".json":
        state = json.loads(path.read_bytes())
    elif path.suffix == ".pkl":
        if not allow_pickle:
            raise ValueError("Loading .pkl files can run arbitrary code, which may be dangerous. Prefer "
                             "saving with .json files if possible. Set `allow_pickle=True` "
                             "if you are sure about the source of the file and in a trusted environment.")
        with open(path, "rb") as f:
            state = pickle.load(f)  # noqa: S301 - the caller said the file is trusted
    else:
        raise ValueError(f"`path` must end with `.json` or `.pkl`, but received: {path}")
    current = dependency_versions()
    for key, saved in state["metadata"]["dependency_versions"].items():
        if current.get(key, saved) != saved:
            _log.warning(
                f"There is a mismatch of {key} version between saved model and current environment. "
                f"You saved with `{key}=={saved}`, but now you have `{key}=={current[key]}`. This might cause "
                "errors or performance downgrade on the loaded model, please consider loading the model in the same "
                "environment as the saving environment."
            )
    module.load_state(state, allow_unsafe_lm_state=allow_unsafe_lm_state)
