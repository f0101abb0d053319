#!/usr/bin/env python3
"""Reads a safetensors file with the Python standard library alone and prints what it holds.

It shares no code with starnn, so it shows that other tools can open starnn's model files.
Output: one "metadata KEY" line per metadata entry, then one "tensor NAME DTYPE SHAPE SUM"
line per tensor in data order, SUM being the sum of its values as a Python float.
"""
import json
import math
import struct
import sys

FORMATS = {"F32": "f", "F64": "d", "I64": "q"}


def read(path):
    with open(path, "rb") as f:
        content = f.read()
    if len(content) < 8:
        raise ValueError(f"{path}: shorter than the header length")
    (header_length,) = struct.unpack_from("<Q", content, 0)
    if 8 + header_length > len(content):
        raise ValueError(f"{path}: header length {header_length} runs past the end")
    header = json.loads(content[8:8 + header_length].decode("utf-8"))
    data = content[8 + header_length:]
    metadata = header.pop("__metadata__", {})
    tensors = []
    for name, info in header.items():
        code = FORMATS[info["dtype"]]
        begin, end = info["data_offsets"]
        count = math.prod(info["shape"])
        if not 0 <= begin <= end <= len(data) or end - begin != count * struct.calcsize(code):
            raise ValueError(f"{path}: tensor {name}: offsets {begin}, {end} do not fit its shape")
        values = struct.unpack_from(f"<{count}{code}", data, begin)
        tensors.append((begin, name, info["dtype"], info["shape"], math.fsum(float(v) for v in values)))
    return metadata, sorted(tensors, key=lambda t: t[0])


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: read_safetensors.py FILE")
    metadata, tensors = read(sys.argv[1])
    for key in metadata:
        print(f"metadata {key}")
    for _, name, dtype, shape, total in tensors:
        print(f"tensor {name} {dtype} {shape} {total!r}")


if __name__ == "__main__":
    main()
