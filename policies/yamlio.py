"""Strict YAML reading for every file a user hands us (configs, regimes, overrides, profiles, specs).

Why not plain ``yaml.safe_load``: YAML 1.1 reads ``NO`` and ``off`` as false and ``1e-3`` as a string, and it keeps
the last of two duplicate keys silently. Here booleans are only ``true``/``false``, any float literal is a float, a
duplicate key is an error, and every mapping remembers the line of each key so errors can name file, line and the
dotted path of the field.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from policies.errors import InputError

__all__ = ["LineDict", "load_yaml", "load_yaml_text", "key_lines", "line_of", "validation_error"]


class LineDict(dict):
    """A dict that remembers the source line of each key (``lines[key]``) and of itself (``line``)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lines: dict[Any, int] = {}
        self.line: int | None = None
        self.file: str | None = None


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2 booleans and floats, duplicate-key errors and line-tracking mappings."""


# Drop YAML 1.1's yes/no/on/off booleans: only true/false (any case) are booleans.
_StrictLoader.yaml_implicit_resolvers = {
    key: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_StrictLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
# YAML 1.2 floats: 1e-3 and 1E5 are numbers, not strings.
_StrictLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:\d[\d_]*\.\d*(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?|\d[\d_]*[eE][-+]?\d+"
               r"|\.(?:inf|Inf|INF)|[-+]\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"),
    list("-+0123456789."),
)


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode) -> LineDict:
    loader.flatten_mapping(node)
    result = LineDict()
    result.line = node.start_mark.line + 1
    result.file = loader.name if isinstance(loader.name, str) and not loader.name.startswith("<") else None
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, (str, int, float, bool)) and key is not None:
            key = str(key)
        if key in result:
            raise InputError(f"duplicate key {key!r}", file=result.file, line=key_node.start_mark.line + 1,
                             field=str(key))
        result[key] = loader.construct_object(value_node, deep=True)
        result.lines[key] = key_node.start_mark.line + 1
    return result


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def load_yaml_text(text: str, source: str = "<string>") -> Any:
    """Parse YAML text strictly; errors become ``InputError`` naming ``source`` and the line."""
    loader = _StrictLoader(text)
    loader.name = source
    try:
        return loader.get_single_data()
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
