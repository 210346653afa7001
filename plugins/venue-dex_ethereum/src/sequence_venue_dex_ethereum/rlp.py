"""Recursive Length Prefix, as the Ethereum yellow paper (appendix B) and
https://ethereum.org/en/developers/docs/data-structures-and-encoding/rlp/ define it: a byte
string of one byte < 0x80 is itself; a string of up to 55 bytes is 0x80+len then the bytes;
longer, 0xb7+len(len) then len then the bytes; a list is 0xc0+len (or 0xf7+len(len), len) then
its items' encodings. Integers are big-endian with no leading zeros (0 is the empty string).
The decoder is the inverse (used to read a signed transaction back: the fake node and tests).
"""

from __future__ import annotations

Item = bytes | int | list


def _length(n: int, offset: int) -> bytes:
    if n <= 55:
        return bytes([offset + n])
    size = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([offset + 55 + len(size)]) + size


def encode(item: Item) -> bytes:
    if isinstance(item, list):
        body = b"".join(encode(i) for i in item)
        return _length(len(body), 0xC0) + body
    if isinstance(item, int):
        if item < 0:
            raise ValueError("RLP encodes non-negative integers only")
        item = item.to_bytes((item.bit_length() + 7) // 8, "big")
    if len(item) == 1 and item[0] < 0x80:
        return item
    return _length(len(item), 0x80) + item


def _item(data: bytes, at: int) -> tuple[Item, int]:
    """One item starting at ``at``: (item, index after it)."""
    first = data[at]
    if first < 0x80:
        return data[at:at + 1], at + 1
    is_list = first >= 0xC0
    short = first - (0xC0 if is_list else 0x80)
    if short <= 55:
        start, n = at + 1, short
    else:
        size = short - 55
        start, n = at + 1 + size, int.from_bytes(data[at + 1:at + 1 + size], "big")
    end = start + n
    if end > len(data):
        raise ValueError("RLP item runs past the end of the data")
    if not is_list:
        return data[start:end], end
    out, i = [], start
    while i < end:
        value, i = _item(data, i)
        out.append(value)
    return out, end


def decode(data: bytes) -> Item:
    item, end = _item(data, 0)
    if end != len(data):
        raise ValueError("trailing bytes after the RLP item")
    return item


def to_int(raw: bytes) -> int:
    return int.from_bytes(raw, "big") if raw else 0
