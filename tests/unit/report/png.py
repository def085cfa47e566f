"""Decode the PNG screenshots Chromium takes and count the pixels of a colour.

Pure Python with zlib: 8-bit RGB or RGBA, not interlaced, every PNG filter. Rows are
handled as whole integers (``int.from_bytes``) where the arithmetic allows, so a chart's
screenshot decodes in milliseconds.
"""

import struct
import zlib
from collections import namedtuple

SIGNATURE = b"\x89PNG\r\n\x1a\n"
CHANNELS = {2: 3, 6: 4}  # colour type: RGB, RGBA

Image = namedtuple("Image", "width height channels rows")


def _chunks(data):
    offset = len(SIGNATURE)
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        kind = data[offset + 4 : offset + 8]
        yield kind, data[offset + 8 : offset + 8 + length]
        offset += 12 + length


def _paeth(left, up, up_left):
    estimate = left + up - up_left
    distances = (abs(estimate - left), abs(estimate - up), abs(estimate - up_left))
    return (left, up, up_left)[distances.index(min(distances))]


def _add_bytes(first, second):
    """Byte-wise addition modulo 256 of two equally long byte strings, without a loop:
    the low seven bits of each byte are added (no carry crosses a byte), the top bit is
    their exclusive or."""
    size = len(first)
    low, high = int.from_bytes(b"\x7f" * size, "big"), int.from_bytes(b"\x80" * size, "big")
    a, b = int.from_bytes(first, "big"), int.from_bytes(second, "big")
    return (((a & low) + (b & low)) ^ ((a ^ b) & high)).to_bytes(size, "big")


def _unfilter_slowly(kind, line, previous, channels):
    line = bytearray(line)
    for i in range(len(line)):
        left = line[i - channels] if i >= channels else 0
        up = previous[i]
        up_left = previous[i - channels] if i >= channels else 0
        if kind == 1:
            line[i] = (line[i] + left) & 0xFF
        elif kind == 3:
            line[i] = (line[i] + (left + up) // 2) & 0xFF
        else:
            line[i] = (line[i] + _paeth(left, up, up_left)) & 0xFF
    return bytes(line)


def _unfilter(raw, width, height, channels):
    stride = width * channels
    rows, previous, offset = [], bytes(stride), 0
    for _ in range(height):
        kind, line = raw[offset], raw[offset + 1 : offset + 1 + stride]
        offset += 1 + stride
        if kind == 2:
            line = _add_bytes(line, previous)
        elif kind:
            line = _unfilter_slowly(kind, line, previous, channels)
        rows.append(line)
        previous = line
    return rows


def decode(data):
    """The PNG ``data`` as an ``Image``: its rows are bytes, ``channels`` per pixel."""
    if not data.startswith(SIGNATURE):
        raise ValueError("not a PNG")
    header, compressed = None, b""
    for kind, body in _chunks(data):
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            compressed += body
    width, height, depth, colour, _, _, interlace = header
    if depth != 8 or colour not in CHANNELS or interlace:
        raise ValueError(f"unsupported PNG: depth {depth}, colour type {colour}")
    channels = CHANNELS[colour]
    return Image(
        width, height, channels, _unfilter(zlib.decompress(compressed), width, height, channels)
    )


def count(image, colour, tolerance=24):
    """How many pixels are within ``tolerance`` (per channel) of ``colour`` (``#rrggbb``).

    Each channel is mapped to 1 (close enough) or 0 by a translation table; a pixel
    counts when all three are 1.
    """
    tables = [
        bytes(int(abs(value - int(colour[i : i + 2], 16)) <= tolerance) for value in range(256))
        for i in (1, 3, 5)
    ]
    total = 0
    for row in image.rows:
        matches = -1
        for channel, table in enumerate(tables):
            matches &= int.from_bytes(row[channel :: image.channels].translate(table), "big")
        total += matches.bit_count()
    return total


def crop(image, x, y, width, height):
    """The part of ``image`` at ``(x, y)`` of ``width`` x ``height`` pixels."""
    step = image.channels
    rows = [row[x * step : (x + width) * step] for row in image.rows[y : y + height]]
    return Image(width, len(rows), step, rows)
