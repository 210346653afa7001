"""The `research scan --where` predicate language (docs/research.md).

    predicate  := field op value
    op         := ">" | ">=" | "<" | "<=" | "==" | "!=" | "⊇" | "⊆" | "contains" | "in"
    value      := number | word | "quoted string" | "{" word ("," word)* "}"
    number     := digits with optional "_" separators, "." fraction, "e" exponent, "%"... no units

``⊇`` (or ``contains``) and ``⊆`` (or ``in``) compare sets: ``venues ⊇ {binance,coinbase}``
is true when the pair trades on both. Repeated ``--where`` clauses are ANDed. Errors say
where (column) and what was expected.
"""

from __future__ import annotations

import re

import msgspec

from ..errors import UsageError

OPS = (">=", "<=", "==", "!=", ">", "<", "⊇", "⊆", "contains", "in")
_NUMBER = re.compile(r"[+-]?(\d[\d_]*)(\.\d[\d_]*)?([eE][+-]?\d+)?")
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_.:-]*")


class Predicate(msgspec.Struct, frozen=True):
    field: str
    op: str
    value: float | str | tuple[str, ...]
    text: str

    def test(self, row: dict) -> bool:
        have = row.get(self.field)
        if have is None:
            return False
        v = self.value
        if self.op in ("⊇", "contains"):
            return set(v if isinstance(v, tuple) else (v,)) <= set(have)
        if self.op in ("⊆", "in"):
            return (set(have) if isinstance(have, (list, tuple, set)) else {have}) <= set(v if isinstance(v, tuple) else (v,))
        if self.op == "==":
            return have == v
        if self.op == "!=":
            return have != v
        return {">": have > v, ">=": have >= v, "<": have < v, "<=": have <= v}[self.op]


def _fail(text: str, pos: int, what: str) -> UsageError:
    found = text[pos:].split()[0] if text[pos:].strip() else "the end"
    return UsageError(f"--where \"{text}\": at column {pos + 1}: expected {what}, found {found!r}"
                      if found != "the end" else f"--where \"{text}\": at column {pos + 1}: expected {what}, found the end")


def parse(text: str, fields: dict[str, str]) -> Predicate:
    pos = 0

    def skip():
        nonlocal pos
        while pos < len(text) and text[pos].isspace():
            pos += 1

    skip()
    m = _WORD.match(text, pos)
    if not m:
        raise _fail(text, pos, "a field name")
    field = m.group(0)
    if field not in fields:
        raise UsageError(f"--where \"{text}\": at column {pos + 1}: unknown field '{field}'; fields: "
                         f"{', '.join(sorted(fields))}")
    pos = m.end()
    skip()
    op = next((o for o in OPS if text.startswith(o, pos) and (o.isalpha() is False or
                                                              not text[pos + len(o):pos + len(o) + 1].isalnum())), None)
    if op is None:
        raise _fail(text, pos, "an operator (>, >=, <, <=, ==, !=, ⊇ or contains, ⊆ or in)")
    pos += len(op)
    skip()
    if pos >= len(text):
        raise _fail(text, pos, "a value (a number, a word, \"text\" or {a,b})")
    if text[pos] == "{":
        start = pos
        pos += 1
        items = []
        while True:
            skip()
            m = _WORD.match(text, pos)
            if not m:
                raise _fail(text, pos, "a set member (a word)")
            items.append(m.group(0))
            pos = m.end()
            skip()
            if pos < len(text) and text[pos] == ",":
                pos += 1
                continue
            if pos < len(text) and text[pos] == "}":
                pos += 1
                break
            raise _fail(text, pos, "',' or '}' to close the set opened at column " + str(start + 1))
        value: float | str | tuple[str, ...] = tuple(items)
    elif text[pos] == '"':
        end = text.find('"', pos + 1)
        if end < 0:
            raise UsageError(f"--where \"{text}\": at column {pos + 1}: the quoted text is never closed")
        value = text[pos + 1:end]
        pos = end + 1
    else:
        m = _NUMBER.match(text, pos)
        if m and m.group(0) and not (m.end() < len(text) and (text[m.end()].isalpha() or text[m.end()] == "_")):
            raw = m.group(0)
            if "__" in raw or raw.endswith("_") or "_." in raw or "._" in raw:
                raise _fail(text, pos, "a number with single '_' between digits")
            value = float(raw.replace("_", ""))
            pos = m.end()
        else:
            m = _WORD.match(text, pos)
            if not m:
                raise _fail(text, pos, "a value (a number, a word, \"text\" or {a,b})")
            value = m.group(0)
            pos = m.end()
    skip()
    if pos != len(text):
        raise _fail(text, pos, "the end of the clause (repeat --where for AND)")
    kind = fields[field]
    if (op in ("⊇", "contains") and kind != "set") or (op in ("⊆", "in") and kind not in ("set", "text")):
        raise UsageError(f"--where \"{text}\": '{op}' compares sets; '{field}' is a {kind}")
    if op in (">", ">=", "<", "<=") and kind != "number":
        raise UsageError(f"--where \"{text}\": '{op}' compares numbers; '{field}' is a {kind}")
    if kind == "number" and op in (">", ">=", "<", "<=", "==", "!=") and not isinstance(value, float):
        raise UsageError(f"--where \"{text}\": '{field}' is a number; {value!r} is not")
    return Predicate(field, op, value, text)
