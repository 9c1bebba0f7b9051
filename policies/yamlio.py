"""Strict YAML reading for every file a user hands us (configs, regimes, overrides, profiles, specs).

Why not plain ``yaml.safe_load``: it reads YAML 1.1, where ``NO`` and ``off`` are false, ``1:30`` is ninety, ``010``
is eight and ``1e-3`` is a string, and it keeps the last of two duplicate keys silently. Here files are read in the
YAML 1.2 core schema (booleans only ``true``/``false``, ``010`` is ten, ``1:30`` and dates are text, any float
literal is a float), tags are refused, integers longer than 18 digits and keys that are not text or whole numbers are
errors, a duplicate key names both lines, and every mapping remembers the line of each key so errors can name file,
line and the dotted path of the field. ``dump_yaml`` writes with the same schema, so what we write reads back exactly.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from policies.errors import InputError

__all__ = ["LineDict", "dump_yaml", "load_yaml", "load_yaml_text", "key_lines", "line_of", "validation_error"]


class LineDict(dict):
    """A dict that remembers the source line of each key (``lines[key]``) and of itself (``line``)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lines: dict[Any, int] = {}
        self.line: int | None = None
        self.file: str | None = None


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader reading the YAML 1.2 core schema, refusing tags, with duplicate-key errors and line tracking."""

    def compose_node(self, parent: yaml.Node | None, index: object) -> yaml.Node | None:  # type: ignore[override]
        """Refuse explicit tags (``!!int x``, ``!!python/...``): a user's file holds plain data only."""
        event = self.peek_event()
        tag = getattr(event, "tag", None)
        if tag not in (None, "!"):
            file = self.name if isinstance(self.name, str) and not self.name.startswith("<") else None
            raise InputError(f"YAML tags are not accepted here ({tag})", file=file,
                             line=event.start_mark.line + 1)
        return super().compose_node(parent, index)  # type: ignore[no-untyped-call]


# The YAML 1.2 core schema (https://yaml.org/spec/1.2.2/#1032-tag-resolution), not PyYAML's 1.1: booleans are only
# true/false, ``010`` is ten (not eight), ``1:30`` is a string (not ninety), ``1e-3`` is a float, and dates stay
# strings (the fields that hold dates parse them and can say "not a date" instead of a traceback).
_CORE_SCHEMA: tuple[tuple[str, str, str], ...] = (
    ("tag:yaml.org,2002:null", r"^(?:~|null|Null|NULL|)$", "~nN"),
    ("tag:yaml.org,2002:bool", r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF"),
    ("tag:yaml.org,2002:int", r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$", "-+0123456789"),
    ("tag:yaml.org,2002:float",
     r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$",
     "-+0123456789."),
    ("tag:yaml.org,2002:merge", r"^<<$", "<"),
)
_StrictLoader.yaml_implicit_resolvers = {}
for _tag, _pattern, _first in _CORE_SCHEMA:
    _StrictLoader.add_implicit_resolver(_tag, re.compile(_pattern), list(_first) + ([""] if _first == "~nN" else []))

# Integers longer than this are refused: no count or quota needs them, and Python will not even read an integer of
# more than 4,300 digits. A sweep's run seeds are 63-bit (experiments/seeds.py), up to 19 digits, and a run's
# config.yaml must load again for `hukou run --config` to reproduce it.
_MAX_INT_DIGITS = 19


def _construct_int(loader: _StrictLoader, node: yaml.ScalarNode) -> int:
    text = str(loader.construct_scalar(node))
    digits = text.lstrip("+-")
    if len(digits) > _MAX_INT_DIGITS:
        file = loader.name if isinstance(loader.name, str) and not loader.name.startswith("<") else None
        raise InputError(f"integer too long ({len(digits)} digits)", file=file, line=node.start_mark.line + 1)
    sign = -1 if text.startswith("-") else 1
    if digits.startswith("0o"):
        return sign * int(digits[2:], 8)
    if digits.startswith("0x"):
        return sign * int(digits[2:], 16)
    return sign * int(digits, 10)


def _construct_float(loader: _StrictLoader, node: yaml.ScalarNode) -> float:
    text = str(loader.construct_scalar(node)).lower()
    if text.endswith(("inf", "nan")):
        return float(text.replace(".", ""))
    return float(text)


_StrictLoader.add_constructor("tag:yaml.org,2002:int", _construct_int)
_StrictLoader.add_constructor("tag:yaml.org,2002:float", _construct_float)


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode) -> LineDict:
    loader.flatten_mapping(node)
    result = LineDict()
    result.line = node.start_mark.line + 1
    result.file = loader.name if isinstance(loader.name, str) and not loader.name.startswith("<") else None
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, (str, int)) or isinstance(key, bool):
            raise InputError(f"a key must be text or a whole number (an adcode, a year), not {key!r}",
                             file=result.file, line=key_node.start_mark.line + 1)
        if key in result:
            raise InputError(f"duplicate key {key!r} (first on line {result.lines[key]})", file=result.file,
                             line=key_node.start_mark.line + 1, field=str(key))
        result[key] = loader.construct_object(value_node, deep=True)
        result.lines[key] = key_node.start_mark.line + 1
    return result


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


# Values in one file once aliases are expanded: the largest shipped file holds a few thousand. Code that walks the
# loaded data (validation, hashing, dumping) sees the expanded tree, so a 500-byte file of nested aliases would
# otherwise cost minutes and gigabytes before being refused.
MAX_VALUES = 1_000_000


def _expanded_size(root: yaml.Node) -> int:
    """Nodes in the tree a document expands to (aliases counted as copies), in time linear in its nodes."""
    sizes: dict[int, int] = {}
    visiting: set[int] = set()  # a recursive alias (&a [*a]) is counted once, not followed forever
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        if id(node) in sizes or (not children_done and id(node) in visiting):
            continue
        if isinstance(node, yaml.ScalarNode):
            sizes[id(node)] = 1
            continue
        children = ([c for pair in node.value for c in pair] if isinstance(node, yaml.MappingNode)
                    else list(node.value))
        if children_done:
            sizes[id(node)] = 1 + sum(sizes.get(id(c), 1) for c in children)  # a cycle counts once
        else:
            visiting.add(id(node))
            stack.append((node, True))
            stack.extend((c, False) for c in children if id(c) not in sizes)
    return sizes[id(root)]


def load_yaml_text(text: str, source: str = "<string>") -> Any:
    """Parse YAML text strictly; errors become ``InputError`` naming ``source`` and the line."""
    loader = _StrictLoader(text)
    loader.name = source
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        if _expanded_size(node) > MAX_VALUES:
            raise InputError(f"more than {MAX_VALUES:,} values once its aliases (*name) are expanded; a "
                             "specification or policy file needs far fewer (an alias bomb?)", file=source)
        return loader.construct_document(node)
    except InputError:
        raise
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        raise InputError(f"not valid YAML: {exc.problem or exc}", file=source, line=line) from None
    except yaml.YAMLError as exc:
        raise InputError(f"not valid YAML: {exc}", file=source) from None
    finally:
        loader.dispose()


def load_yaml(path: str | Path) -> Any:
    """Read and parse a YAML file strictly; a missing or unreadable file is an ``InputError`` too."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError("file not found", file=path) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read file: {exc}", file=path) from None
    return load_yaml_text(text, str(path))


def key_lines(doc: Mapping[Any, Any]) -> dict[Any, int]:
    """The source line of each key of a mapping ``load_yaml`` read (a ``LineDict``); empty for any other mapping."""
    return doc.lines if isinstance(doc, LineDict) else {}


def line_of(doc: Any, dotted: str) -> int | None:
    """The source line of a dotted path inside nested ``LineDict`` values (the nearest known line).

    Keys may themselves hold dots (override keys are ``mechanism.variant.parameter``), so at each level the
    longest key that matches is taken; list items are addressed by index.
    """
    parts = dotted.split(".")
    node, line, i = doc, getattr(doc, "line", None), 0
    while i < len(parts):
        if isinstance(node, Mapping):
            for j in range(len(parts), i, -1):
                key: Any = ".".join(parts[i:j])
                if key not in node and key.lstrip("-").isdigit() and int(key) in node:
                    key = int(key)
                if key in node:
                    line = getattr(node, "lines", {}).get(key, line)
                    node, i = node[key], j
                    break
            else:
                return line
        elif isinstance(node, list) and parts[i].isdigit() and int(parts[i]) < len(node):
            node = node[int(parts[i])]
            line = getattr(node, "line", line)
            i += 1
        else:
            return line
    return line


# Parts of a pydantic error location that name a validator or union branch, not a key of the document.
_NOT_KEYS = ("function-", "tagged-union", "list[", "dict[")


def validation_error(exc: ValidationError, *, file: str | None = None, doc: Any = None,
                     branches: tuple[str, ...] = ()) -> InputError:
    """The first pydantic error of a document as an ``InputError`` naming its dotted field and source line.

    ``branches`` names model tags of unions that pydantic puts in the location (``range``, ``categorical``):
    they are dropped like validator names, so the field is the document's own path.
    """
    err = exc.errors()[0]
    parts = [str(p) for p in err["loc"] if str(p) not in branches and not str(p).startswith(_NOT_KEYS)]
    field = ".".join(parts) or None
    message = "unknown key" if err["type"] == "extra_forbidden" else err["msg"].removeprefix("Value error, ")
    line = line_of(doc, field) if (doc is not None and field) else getattr(doc, "line", None)
    return InputError(message, file=file, line=line, field=field)


class _StrictDumper(yaml.SafeDumper):
    """SafeDumper that quotes every string the strict loader would read as something else (``"1e-3"``, ``"010"``),
    so that what we write reads back exactly: a sweep's spec.yaml must load to the spec that made it."""


_StrictDumper.yaml_implicit_resolvers = {}
for _tag, _pattern, _first in _CORE_SCHEMA:
    _StrictDumper.add_implicit_resolver(_tag, re.compile(_pattern), list(_first) + ([""] if _first == "~nN" else []))


def _represent_date(dumper: _StrictDumper, value: dt.date) -> yaml.ScalarNode:
    """Dates are written as ISO text: the 1.2 core schema has no date type, and every date field parses the text."""
    return dumper.represent_str(value.isoformat())


_StrictDumper.add_representer(dt.date, _represent_date)
_StrictDumper.add_representer(dt.datetime, _represent_date)


def dump_yaml(data: Any, width: int = 80) -> str:
    """YAML text that ``load_yaml_text`` reads back to ``data`` (keys in their order, Chinese kept as is)."""
    return yaml.dump(data, Dumper=_StrictDumper, allow_unicode=True, sort_keys=False, width=width)
