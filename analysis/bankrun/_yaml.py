"""A small reader for the YAML that bankrun stores in ``scenario_yaml``.

bankrun writes the resolved scenario with yaml-cpp's emitter: block mappings and sequences
indented by spaces, flow collections (``{a: 1, b: [2, 3]}``) on one line, plain,
single-quoted and double-quoted scalars. This module reads that subset (plus comments,
block scalars ``|``/``>``, anchors and aliases, multi-line flow collections and folded
plain scalars), so that the package needs no YAML library. Plain scalars are resolved
with YAML 1.2's core schema: ``null``/``~``, ``true``/``false``, integers, floats
(``1e5`` and ``88.0e9`` are floats, ``.inf``, ``.nan``); everything else, timestamps
included, stays a string.
"""
from __future__ import annotations

import re
from typing import Any

__all__ = ["loads", "YamlSubsetError"]

_INT = re.compile(r"[-+]?[0-9]+\Z")
_HEX = re.compile(r"0x[0-9a-fA-F]+\Z")
_OCT = re.compile(r"0o[0-7]+\Z")
_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?\Z")
_INF = re.compile(r"[-+]?\.(inf|Inf|INF)\Z")
_NAN = re.compile(r"\.(nan|NaN|NAN)\Z")
_ESCAPES = {"0": "\0", "a": "\a", "b": "\b", "t": "\t", "\t": "\t", "n": "\n", "v": "\v",
            "f": "\f", "r": "\r", "e": "\x1b", " ": " ", '"': '"', "/": "/", "\\": "\\",
            "N": "\x85", "_": "\xa0", "L": "\u2028", "P": "\u2029"}
_HEX_ESCAPES = {"x": 2, "u": 4, "U": 8}


class YamlSubsetError(ValueError):
    """The text uses YAML this reader does not handle (or is not valid YAML)."""


def resolve_plain(text: str) -> Any:
    """The value of a plain (unquoted) scalar under YAML 1.2's core schema."""
    if text in ("", "~", "null", "Null", "NULL"):
        return None
    if text in ("true", "True", "TRUE"):
        return True
    if text in ("false", "False", "FALSE"):
        return False
    if _INT.match(text):
        return int(text)
    if _HEX.match(text):
        return int(text, 16)
    if _OCT.match(text):
        return int(text[2:], 8)
    if _FLOAT.match(text):
        return float(text)
    if _INF.match(text):
        return float("-inf") if text.startswith("-") else float("inf")
    if _NAN.match(text):
        return float("nan")
    return text


def _double_quoted(s: str, pos: int) -> tuple[str, int]:
    """Reads a double-quoted scalar starting at s[pos] == '"'; returns (value, end)."""
    out: list[str] = []
    i = pos + 1
    while i < len(s):
        c = s[i]
        if c == '"':
            return "".join(out), i + 1
        if c == "\\":
            if i + 1 >= len(s):
                break
            e = s[i + 1]
            if e in _ESCAPES:
                out.append(_ESCAPES[e])
                i += 2
                continue
            if e in _HEX_ESCAPES:
                n = _HEX_ESCAPES[e]
                out.append(chr(int(s[i + 2:i + 2 + n], 16)))
                i += 2 + n
                continue
            raise YamlSubsetError(f"unknown escape \\{e} in a double-quoted scalar")
        out.append(c)
        i += 1
    raise YamlSubsetError("unterminated double-quoted scalar")


def _single_quoted(s: str, pos: int) -> tuple[str, int]:
    """Reads a single-quoted scalar starting at s[pos] == "'"; returns (value, end)."""
    out: list[str] = []
    i = pos + 1
    while i < len(s):
        if s[i] == "'":
            if i + 1 < len(s) and s[i + 1] == "'":
                out.append("'")
                i += 2
                continue
            return "".join(out), i + 1
        out.append(s[i])
        i += 1
    raise YamlSubsetError("unterminated single-quoted scalar")


def _strip_comment(s: str) -> str:
    """Removes a trailing ``# comment`` that is outside quotes (a '#' after a space)."""
    quote = ""
    for i, c in enumerate(s):
        if quote:
            if c == quote:
                quote = ""
        elif c in "'\"" and (i == 0 or s[i - 1] in " \t[{,:"):
            quote = c
        elif c == "#" and (i == 0 or s[i - 1] in " \t"):
            return s[:i].rstrip()
    return s.rstrip()


def _bracket_depth(s: str) -> int:
    """Open '[' and '{' minus closed ones, outside quotes."""
    depth, quote, i = 0, "", 0
    while i < len(s):
        c = s[i]
        if quote:
            if quote == '"' and c == "\\":
                i += 1
            elif c == quote:
                quote = ""
        elif c in "'\"" and (i == 0 or s[i - 1] in " \t[{,:"):
            quote = c
        elif c in "[{":
            depth += 1
        elif c in "]}":
            depth -= 1
        i += 1
    return depth


def _key_split(s: str) -> tuple[str, str] | None:
    """Splits ``key: rest`` at the first ': ' (or final ':') outside quotes and brackets."""
    if s.startswith(("[", "{")):
        return None
    if s.startswith(('"', "'")):
        key, end = (_double_quoted if s[0] == '"' else _single_quoted)(s, 0)
        rest = s[end:].lstrip(" ")
        if rest.startswith(":") and (len(rest) == 1 or rest[1] in " \t"):
            return key, rest[1:].strip()
        return None
    for i, c in enumerate(s):
        if c == ":" and (i + 1 == len(s) or s[i + 1] in " \t"):
            return s[:i].rstrip(), s[i + 1:].strip()
        if c == "#" and i > 0 and s[i - 1] in " \t":
            return None
    return None


class _Flow:
    """Parses one flow value (``{...}``, ``[...]``, quoted or plain) from a string."""

    def __init__(self, text: str, anchors: dict[str, Any]):
        self.s = text
        self.i = 0
        self.anchors = anchors

    def skip(self) -> None:
        while self.i < len(self.s) and self.s[self.i] in " \t\n":
            self.i += 1

    def value(self, in_flow: bool) -> Any:
        self.skip()
        s = self.s
        if self.i >= len(s):
            return None
        c = s[self.i]
        if c == "&":
            m = re.compile(r"&(\S+)\s*").match(s, self.i)
            assert m
            self.i = m.end()
            v = self.value(in_flow)
            self.anchors[m.group(1)] = v
            return v
        if c == "*":
            m = re.compile(r"\*([^\s,\]}]+)").match(s, self.i)
            assert m
            self.i = m.end()
            if m.group(1) not in self.anchors:
                raise YamlSubsetError(f"unknown alias *{m.group(1)}")
            return self.anchors[m.group(1)]
        if c == "!":  # a tag: only !!str (and the non-specific "!") change the value
            m = re.compile(r"!\S*\s*").match(s, self.i)
            assert m
            self.i = m.end()
            if m.group(0).strip() in ("!!str", "!") and self.i < len(s) \
                    and s[self.i] not in "[{\"'":
                return self.plain(in_flow)
            return self.value(in_flow)
        if c == "{":
            return self.mapping()
        if c == "[":
            return self.sequence()
        if c == '"':
            v, self.i = _double_quoted(s, self.i)
            return v
        if c == "'":
            v, self.i = _single_quoted(s, self.i)
            return v
        return resolve_plain(self.plain(in_flow))

    def plain(self, in_flow: bool) -> str:
        start, s = self.i, self.s
        while self.i < len(s):
            c = s[self.i]
            if in_flow and c in ",]}":
                break
            if c == ":" and (self.i + 1 == len(s) or s[self.i + 1] in " \t,]}" if in_flow
                             else s[self.i + 1] in " \t"):
                break
            if c == "#" and self.i > start and s[self.i - 1] in " \t":
                break
            self.i += 1
        return s[start:self.i].strip()

    def expect(self, chars: str) -> str:
        self.skip()
        if self.i >= len(self.s) or self.s[self.i] not in chars:
            got = self.s[self.i] if self.i < len(self.s) else "end of text"
            raise YamlSubsetError(f"expected one of {chars!r} in a flow collection, got {got!r}")
        self.i += 1
        return self.s[self.i - 1]

    def mapping(self) -> dict[Any, Any]:
        self.i += 1
        out: dict[Any, Any] = {}
        self.skip()
        if self.s.startswith("}", self.i):
            self.i += 1
            return out
        while True:
            key = self.value(in_flow=True)
            self.skip()
            value = None
            if self.s.startswith(":", self.i):
                self.i += 1
                self.skip()
                if self.i < len(self.s) and self.s[self.i] not in ",}":
                    value = self.value(in_flow=True)
            out[key] = value
            if self.expect(",}") == "}":
                return out
            self.skip()
            if self.s.startswith("}", self.i):
                self.i += 1
                return out

    def sequence(self) -> list[Any]:
        self.i += 1
        out: list[Any] = []
        self.skip()
        if self.s.startswith("]", self.i):
            self.i += 1
            return out
        while True:
            item = self.value(in_flow=True)
            self.skip()
            if self.s.startswith(":", self.i):  # a single-pair mapping inside a sequence
                self.i += 1
                item = {item: self.value(in_flow=True)}
            out.append(item)
            if self.expect(",]") == "]":
                return out
            self.skip()
            if self.s.startswith("]", self.i):
                self.i += 1
                return out


class _Block:
    """Parses block-structured YAML, line by line."""

    def __init__(self, text: str):
        self.lines = text.replace("\r\n", "\n").split("\n")
        self.i = 0
        self.anchors: dict[str, Any] = {}

    @staticmethod
    def indent(line: str) -> int:
        return len(line) - len(line.lstrip(" "))

    def peek(self) -> tuple[int, str] | None:
        """The next meaningful line (indent, content without comment); skips the others."""
        while self.i < len(self.lines):
            raw = self.lines[self.i]
            content = _strip_comment(raw.strip())
            document_marker = content in ("---", "...") and not raw.startswith(" ")
            if content and not document_marker:
                return self.indent(raw), content
            self.i += 1
        return None

    def replace_current(self, indent: int, content: str) -> None:
        self.lines[self.i] = " " * indent + content

    def node(self, min_indent: int) -> Any:
        nxt = self.peek()
        if nxt is None or nxt[0] < min_indent:
            return None
        indent, content = nxt
        if content == "-" or content.startswith("- "):
            return self.sequence(indent)
        if _key_split(content) is not None:
            return self.mapping(indent)
        self.i += 1
        return self.inline(content, indent - 1)

    def mapping(self, indent: int) -> dict[Any, Any]:
        out: dict[Any, Any] = {}
        while (nxt := self.peek()) is not None and nxt[0] == indent:
            split = _key_split(nxt[1])
            if split is None:
                if nxt[1] == "-" or nxt[1].startswith("- "):
                    break
                raise YamlSubsetError(f"line {self.i + 1}: expected 'key: value', got {nxt[1]!r}")
            key_text, rest = split
            key = (_Flow(key_text, self.anchors).value(in_flow=False)
                   if key_text.startswith(('"', "'")) else resolve_plain(key_text))
            self.i += 1
            out[key] = self.value_after_key(rest, indent)
        return out

    def value_after_key(self, rest: str, indent: int) -> Any:
        anchor = None
        if rest.startswith("&") and " " not in rest:  # `key: &a` then a nested block
            anchor, rest = rest[1:], ""
        if rest == "":
            nxt = self.peek()
            if nxt is None:
                value = None
            elif nxt[0] > indent:
                value = self.node(nxt[0])
            elif nxt[0] == indent and (nxt[1] == "-" or nxt[1].startswith("- ")):
                value = self.sequence(indent)
            else:
                value = None
        else:
            value = self.inline(rest, indent)
        if anchor is not None:
            self.anchors[anchor] = value
        return value

    def sequence(self, indent: int) -> list[Any]:
        out: list[Any] = []
        while (nxt := self.peek()) is not None and nxt[0] == indent and (
                nxt[1] == "-" or nxt[1].startswith("- ")):
            content = nxt[1][1:].lstrip(" ")
            column = indent + len(nxt[1]) - len(content)
            if content == "":
                self.i += 1
                nested = self.peek()
                out.append(self.node(nested[0]) if nested and nested[0] > indent else None)
            elif (content == "-" or content.startswith("- ")
                  or _key_split(content) is not None):
                self.replace_current(column, content)  # the item is a nested block
                out.append(self.node(column))
            else:
                self.i += 1
                out.append(self.inline(content, indent))
        return out

    def inline(self, rest: str, indent: int) -> Any:
        """A value written after 'key:' or '- ' (self.i is past its line)."""
        if rest[0] in "|>":
            return self.block_scalar(rest, indent)
        if _bracket_depth(rest) > 0:  # a flow collection that continues on later lines
            parts = [rest]
            while _bracket_depth(" ".join(parts)) > 0 and self.i < len(self.lines):
                parts.append(_strip_comment(self.lines[self.i].strip()))
                self.i += 1
            rest = " ".join(parts)
        if rest[0] not in "[{\"'&*!":  # a plain scalar may be folded over indented lines
            parts = [rest]
            while (nxt := self.peek()) is not None and nxt[0] > indent and \
                    _key_split(nxt[1]) is None and not nxt[1].startswith("- "):
                parts.append(nxt[1])
                self.i += 1
            rest = " ".join(parts)
        flow = _Flow(rest, self.anchors)
        value = flow.value(in_flow=False)
        flow.skip()
        if flow.i < len(rest):
            raise YamlSubsetError(
                f"line {self.i}: unexpected text after a value: {rest[flow.i:]!r}")
        return value

    def block_scalar(self, header: str, indent: int) -> str:
        m = re.match(r"([|>])([-+]?)([1-9]?)([-+]?)\s*\Z", header)
        if not m:
            raise YamlSubsetError(f"line {self.i}: bad block scalar header {header!r}")
        style, chomp = m.group(1), m.group(2) or m.group(4)
        lines: list[str] = []
        block_indent = indent + int(m.group(3)) + 1 if m.group(3) else None
        while self.i < len(self.lines):
            raw = self.lines[self.i]
            if raw.strip() == "":
                lines.append("")
                self.i += 1
                continue
            ind = self.indent(raw)
            if block_indent is None:
                block_indent = ind
            if ind < block_indent or ind <= indent:
                break
            lines.append(raw[block_indent:])
            self.i += 1
        trailing = 0
        while lines and lines[-1] == "":
            lines.pop()
            trailing += 1
        if style == "|":
            body = "\n".join(lines)
        else:  # folded: lines of the same indentation join with a space
            body = ""
            for k, line in enumerate(lines):
                previous = lines[k - 1] if k else None
                if k == 0:
                    body = line
                elif line == "":
                    body += "\n"
                elif previous == "":
                    body += line
                elif line.startswith(" ") or previous.startswith(" "):
                    body += "\n" + line
                else:
                    body += " " + line
        if not lines:
            return "\n" * trailing if chomp == "+" else ""
        if chomp == "-":
            return body
        if chomp == "+":
            return body + "\n" * (trailing + 1)
        return body + "\n"


def loads(text: str) -> Any:
    """Parses one YAML document of the subset described in the module docstring."""
    block = _Block(text)
    nxt = block.peek()
    if nxt is None:
        return None
    value = block.node(nxt[0])
    if block.peek() is not None:
        raise YamlSubsetError(f"line {block.i + 1}: unexpected text {block.lines[block.i]!r}")
    return value
