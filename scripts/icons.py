#!/usr/bin/env python3
"""Packs the app's PNG icons into icons/icon.ico (the Windows executable's and installer's icon).

PNG-compressed entries (Windows Vista and later read them), largest last; no dependencies, so the
.ico is made the same way on every machine. `--check` fails when the committed file is stale.
"""
import pathlib, struct, sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
SOURCES = ["icons/32x32.png", "icons/128x128.png", "icons/icon.png"]
OUT = ROOT / "icons/icon.ico"


def ico(pngs):
    header = struct.pack("<HHH", 0, 1, len(pngs))
    offset = 6 + 16 * len(pngs)
    entries = b""
    for data in pngs:
        if data[:8] != b"\x89PNG\r\n\x1a\n":
            raise SystemExit("not a PNG file")
        width, height = struct.unpack(">II", data[16:24])
        # 256 is written as 0: the entry's byte holds 0..255.
        entries += struct.pack("<BBBBHHII", width % 256, height % 256, 0, 0, 1, 32, len(data), offset)
        offset += len(data)
    return header + entries + b"".join(pngs)


def main():
    data = ico([(ROOT / p).read_bytes() for p in SOURCES])
    if "--check" in sys.argv[1:]:
        if not OUT.exists() or OUT.read_bytes() != data:
            raise SystemExit("icons/icon.ico is stale: run scripts/icons.py")
        return
    OUT.write_bytes(data)


main()
