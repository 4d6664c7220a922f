"""Typed, validated YAML configs: `_base_` inheritance, and one error listing every problem.

The schema is a tree of dataclasses defined elsewhere (`semiology.experiment`); this module
reads YAML into it, checks every value against the annotated field types, and turns a config
back into plain data and a stable hash, which tags caches and reports with what produced them.

Supported field types: `int`, `float` (an int is accepted and converted), `bool` (only true or
false), `str`, `pathlib.Path` (from a string), `Literal[...]`, `X | None`, `list[X]`,
`tuple[X, ...]`, fixed tuples such as `tuple[int, int]` (from YAML lists), `dict[str, X]`,
`Any` and nested dataclasses.
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import hashlib
import json
import re
import types
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal, TypeVar, Union, get_args, get_origin, get_type_hints

import numpy as np
import yaml

from semiology.errors import ConfigError

T = TypeVar("T")

BASE_KEY = "_base_"

_KeyPath = tuple[str | int, ...]
_INVALID = object()


class _ConfigLoader(yaml.SafeLoader):
    """Safe YAML that reads `1e-3` as a number (YAML 1.1 wants `1.0e-3`) and rejects duplicate keys."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            try:
                duplicate = key in seen
                seen.add(key)
            except TypeError:
                continue
            if duplicate:
                raise yaml.constructor.ConstructorError(
                    "while reading a mapping", node.start_mark, f"duplicate key {key!r}", key_node.start_mark
                )
        return super().construct_mapping(node, deep=deep)


_ConfigLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
    list("-+0123456789"),
)


def load_config(path: str | Path, schema: type[T]) -> T:
    """Read a YAML config into `schema`, merging its `_base_` files first.

    `_base_` is a file name or a list of them, relative to the file that names it. Bases are
    merged in order, then the file itself; nested mappings are merged key by key, any other
    value (lists included) is replaced. Problems are reported against the file that set the key.
    """
    path = Path(path)
    layers = _read_layers(path, chain=())
    merged: dict[str, Any] = {}
    for _, data in layers:
        merged = _deep_merge(merged, data)

    def locate(key_path: _KeyPath) -> str:
        for name, data in reversed(layers):
            if _contains(data, key_path):
                return name
        return str(path)

    return _build(merged, schema, locate)


def config_from_dict(data: Mapping[str, Any] | None, schema: type[T], source: str = "<dict>") -> T:
    """Build and validate `schema` from plain data; `source` names where the data came from in messages."""
    return _build(data, schema, lambda _: source)


def config_to_dict(cfg: Any) -> dict[str, Any]:
    """Plain JSON-able data of a config: dataclasses become dicts, tuples lists, paths strings."""
    plain = _plain(cfg)
    if not isinstance(plain, dict):
        raise TypeError(f"config_to_dict expects a dataclass or a mapping, got {type(cfg).__name__}")
    return plain


def config_hash(obj: Any) -> str:
    """sha256 (hex) of the canonical JSON of a config or plain mapping; key order does not matter."""
    canonical = json.dumps(_plain(obj), sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def override(cfg: T, dotted: Mapping[str, Any], source: str = "overrides") -> T:
    """A copy of `cfg` with dotted keys replaced (`{"train.epochs": 3}`), validated like a file."""
    if not dataclasses.is_dataclass(cfg) or isinstance(cfg, type):
        raise TypeError(f"override expects a config dataclass instance, got {type(cfg).__name__}")
    data = config_to_dict(cfg)
    problems: list[str] = []
    for key, value in dotted.items():
        parts = key.split(".")
        if not all(parts):
            problems.append(f"{source}: malformed key {key!r}")
            continue
        node = data
        for depth, part in enumerate(parts[:-1]):
            child = node.get(part)
            if child is None:
                child = node[part] = {}
            elif not isinstance(child, dict):
                section = ".".join(parts[: depth + 1])
                problems.append(f"{source}: key '{section}' is a value, not a section, so '{key}' cannot be set")
                break
            node = child
        else:
            node[parts[-1]] = value
    if problems:
        raise ConfigError.from_problems(problems)
    return config_from_dict(data, type(cfg), source=source)


def parse_overrides(items: Sequence[str]) -> dict[str, Any]:
    """Command-line `key=value` items as a dict for `override`; values are read as YAML (`3`, `0.5`, `[1, 2]`)."""
    parsed: dict[str, Any] = {}
    for item in items:
        key, sep, text = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ConfigError(f"override {item!r}: expected key=value, e.g. train.epochs=3")
        try:
            parsed[key] = yaml.load(text, Loader=_ConfigLoader) if text.strip() else None
        except yaml.YAMLError as exc:
            raise ConfigError(f"override {item!r}: value is not valid YAML ({_yaml_reason(exc)})") from None
    return parsed


def _read_layers(path: Path, chain: tuple[Path, ...]) -> list[tuple[str, dict[str, Any]]]:
    """The file and its bases as (name, data) pairs in merge order, bases first."""
    resolved = path.resolve()
    if resolved in chain:
        cycle = " -> ".join(p.name for p in (*chain, resolved))
        raise ConfigError(f"{path}: key '{BASE_KEY}': inheritance cycle {cycle}")
    data = _read_yaml(path)
    bases = data.pop(BASE_KEY, [])
    if isinstance(bases, str):
        bases = [bases]
    if not isinstance(bases, list) or not all(isinstance(base, str) for base in bases):
        raise ConfigError(f"{path}: key '{BASE_KEY}': expected a file name or a list of file names, got {_show(bases)}")
    layers: list[tuple[str, dict[str, Any]]] = []
    for base in bases:
        base_path = path.parent / base
        if not base_path.is_file():
            raise ConfigError(f"{path}: key '{BASE_KEY}': base config not found: {base_path}")
        layers.extend(_read_layers(base_path, (*chain, resolved)))
    layers.append((str(path), data))
    return layers


def _read_yaml(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise ConfigError(f"{path}: config file not found")
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_ConfigLoader)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: invalid YAML: {_yaml_reason(exc)}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read config ({exc})") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of keys at the top level, got {_show(data)}")
    return data


def _yaml_reason(exc: yaml.YAMLError) -> str:
    if isinstance(exc, yaml.MarkedYAMLError) and exc.problem_mark is not None:
        mark = exc.problem_mark
        return f"{exc.problem} at line {mark.line + 1}, column {mark.column + 1}"
    return str(exc)


def _deep_merge(base: dict[str, Any], update: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in update.items():
        if isinstance(merged.get(key), dict) and isinstance(value, dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _contains(data: Any, key_path: _KeyPath) -> bool:
    """Whether `data` sets `key_path` (list indices end the walk: the list was set as a whole)."""
    if not key_path:
        return False
    for part in key_path:
        if isinstance(part, int):
            return True
        if not isinstance(data, dict) or part not in data:
            return False
        data = data[part]
    return True


def _build(data: Mapping[str, Any] | None, schema: type[T], locate: Callable[[_KeyPath], str]) -> T:
    if not (dataclasses.is_dataclass(schema) and isinstance(schema, type)):
        raise TypeError(f"config schema must be a dataclass type, got {schema!r}")
    problems: list[tuple[_KeyPath, str]] = []
    result = _convert({} if data is None else data, schema, (), problems)
    if problems:
        raise ConfigError.from_problems([f"{locate(key_path)}: {message}" for key_path, message in problems])
    return result


def _convert(value: Any, tp: Any, key_path: _KeyPath, problems: list[tuple[_KeyPath, str]]) -> Any:
    """`value` checked and converted to `tp`, or `_INVALID` after recording why in `problems`."""
    if tp is Any or tp is object:
        return value
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        return _convert_dataclass(value, tp, key_path, problems)
    origin, args = get_origin(tp), get_args(tp)

    def wrong(expected: str | None = None, hint: str = "") -> object:
        expected = expected or _type_name(tp)
        problems.append((key_path, f"key '{_dotted(key_path)}': expected {expected}, got {_show(value)}{hint}"))
        return _INVALID

    if origin is Literal:
        for allowed in args:
            if value == allowed and type(value) is type(allowed):
                return allowed
        choices = [str(a) for a in args if isinstance(a, str)]
        close = difflib.get_close_matches(value, choices, n=1) if isinstance(value, str) else []
        return wrong(hint=f"; did you mean {close[0]!r}?" if close else "")
    if origin is Union or origin is types.UnionType:
        options = [a for a in args if a is not type(None)]
        if value is None and len(options) < len(args):
            return None
        if len(options) == 1:
            return _convert(value, options[0], key_path, problems)
        for option in options:
            trial: list[tuple[_KeyPath, str]] = []
            converted = _convert(value, option, key_path, trial)
            if not trial:
                return converted
        return wrong()
    if tp is bool:
        return value if isinstance(value, bool) else wrong()
    if tp is int:
        return value if isinstance(value, int) and not isinstance(value, bool) else wrong()
    if tp is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        return wrong()
    if tp is str:
        return value if isinstance(value, str) else wrong()
    if isinstance(tp, type) and issubclass(tp, Path):
        return tp(value) if isinstance(value, (str, Path)) else wrong()
    if tp in (list, tuple) or origin in (list, tuple):
        if not isinstance(value, (list, tuple)):
            return wrong()
        if (origin or tp) is list or not args or (len(args) == 2 and args[1] is Ellipsis):
            item_types = [args[0] if args else Any] * len(value)
        else:
            item_types = list(args)
        if len(item_types) != len(value):
            return wrong(f"{_type_name(tp)} with {len(item_types)} items")
        items = [
            _convert(item, item_tp, (*key_path, index), problems)
            for index, (item, item_tp) in enumerate(zip(value, item_types))
        ]
        if any(item is _INVALID for item in items):
            return _INVALID
        return items if (origin or tp) is list else tuple(items)
    if tp is dict or origin is dict:
        if not isinstance(value, dict):
            return wrong()
        value_tp = args[1] if args else Any
        converted_dict: dict[str, Any] = {}
        valid = True
        for key, item in value.items():
            if not isinstance(key, str):
                message = f"key '{_dotted(key_path)}': keys must be strings, got {_show(key)}"
                problems.append(((*key_path, str(key)), message))
                valid = False
                continue
            converted_dict[key] = _convert(item, value_tp, (*key_path, key), problems)
            valid = valid and converted_dict[key] is not _INVALID
        return converted_dict if valid else _INVALID
    raise TypeError(f"config schema: unsupported field type {tp!r} at '{_dotted(key_path)}'")


def _convert_dataclass(value: Any, cls: type, key_path: _KeyPath, problems: list[tuple[_KeyPath, str]]) -> Any:
    if isinstance(value, cls):
        value = config_to_dict(value)
    if not isinstance(value, dict):
        where = f"key '{_dotted(key_path)}'" if key_path else "the top level"
        problems.append((key_path, f"{where}: expected a section (mapping of keys), got {_show(value)}"))
        return _INVALID
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    hints = _type_hints(cls)
    kwargs: dict[str, Any] = {}
    valid = True
    for key in value:
        if key not in fields:
            close = difflib.get_close_matches(str(key), list(fields), n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            problems.append(((*key_path, str(key)), f"unknown key '{_dotted((*key_path, str(key)))}'{hint}"))
            valid = False
    for name, spec in fields.items():
        field_path = (*key_path, name)
        if name in value:
            kwargs[name] = _convert(value[name], hints[name], field_path, problems)
            valid = valid and kwargs[name] is not _INVALID
        elif spec.default is dataclasses.MISSING and spec.default_factory is dataclasses.MISSING:
            problems.append((field_path, f"missing required key '{_dotted(field_path)}' ({_type_name(hints[name])})"))
            valid = False
    if not valid:
        return _INVALID
    try:
        return cls(**kwargs)
    except (TypeError, ValueError) as exc:
        where = f"section '{_dotted(key_path)}'" if key_path else "config"
        problems.append((key_path, f"{where}: {exc}"))
        return _INVALID


@functools.cache
def _type_hints(cls: type) -> dict[str, Any]:
    return get_type_hints(cls)


def _dotted(key_path: _KeyPath) -> str:
    text = ""
    for part in key_path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


def _type_name(tp: Any) -> str:
    origin, args = get_origin(tp), get_args(tp)
    if origin is Literal:
        return "one of " + ", ".join(repr(a) for a in args)
    if origin is Union or origin is types.UnionType:
        return " | ".join("None" if a is type(None) else _type_name(a) for a in args)
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        return f"a section ({tp.__name__})"
    if origin is not None:
        inner = ", ".join("..." if a is Ellipsis else _type_name(a) for a in args)
        return f"{origin.__name__}[{inner}]"
    return getattr(tp, "__name__", repr(tp))


def _show(value: Any) -> str:
    """A value as a YAML user wrote it, with its kind, for error messages."""
    if value is None:
        return "null (no value)"
    if isinstance(value, bool):
        return f"{str(value).lower()} (bool)"
    if isinstance(value, (list, tuple)):
        return f"a list of {len(value)} items"
    if isinstance(value, dict):
        return "a section (mapping of keys)"
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{text} ({type(value).__name__})"


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value) if f.init}
    if isinstance(value, Mapping):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise TypeError(f"config value of type {type(value).__name__} is not plain data: {value!r}")
