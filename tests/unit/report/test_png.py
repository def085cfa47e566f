"""The test's PNG decoder against images encoded here with every PNG filter."""

import struct
import zlib

import pytest

from .png import count, crop, decode


def _predict(kind, left, up, up_left):
    if kind == 1:
        return left
    if kind == 2:
        return up
    if kind == 3:
        return (left + up) // 2
    if kind == 4:
        estimate = left + up - up_left
        distances = (abs(estimate - left), abs(estimate - up), abs(estimate - up_left))
        return (left, up, up_left)[distances.index(min(distances))]
    return 0


def encode(rows, channels):
    """A PNG of ``rows`` (lists of pixel tuples), row ``y`` filtered with type ``y % 5``."""
    raw, previous = b"", bytes(len(rows[0]) * channels)
    for y, row in enumerate(rows):
        line = bytes(value for pixel in row for value in pixel)
        kind = y % 5
        filtered = bytes(
            (
                line[i]
                - _predict(
                    kind,
                    line[i - channels] if i >= channels else 0,
                    previous[i],
                    previous[i - channels] if i >= channels else 0,
                )
            )
            & 0xFF
            for i in range(len(line))
        )
        raw += bytes([kind]) + filtered
        previous = line

    def chunk(kind, body):
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    colour = {3: 2, 4: 6}[channels]
    header = struct.pack(">IIBBBBB", len(rows[0]), len(rows), 8, colour, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


@pytest.mark.parametrize("channels", [3, 4])
def test_every_filter_decodes(channels):
    rows = [
        [tuple((x * 37 + y * 11 + c * 97) % 256 for c in range(channels)) for x in range(13)]
        for y in range(10)
    ]
    image = decode(encode(rows, channels))
    assert (image.width, image.height, image.channels) == (13, 10, channels)
    assert [list(row) for row in image.rows] == [
        [value for pixel in row for value in pixel] for row in rows
    ]


def test_count_and_crop():
    red, white = (207, 34, 46), (255, 255, 255)
    rows = [[red if 2 <= x < 5 and y < 2 else white for x in range(8)] for y in range(4)]
    image = decode(encode(rows, 3))
    assert count(image, "#cf222e") == 6
    assert count(image, "#d0242f") == 6  # within the tolerance
    assert count(image, "#0969da") == 0
    assert count(crop(image, 3, 1, 4, 3), "#cf222e") == 2
    assert count(crop(image, 3, 1, 4, 3), "#ffffff") == 10


def test_not_a_png():
    with pytest.raises(ValueError, match="not a PNG"):
        decode(b"GIF89a")
