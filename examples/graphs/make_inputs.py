#!/usr/bin/env python3
"""Writes x.npy (8x1000) and y.npy (8x10), the example inputs of two_layer.kg, without NumPy.

x[i, j] = ((7 i + 13 j) mod 17 - 8) / 8 and y is one-hot at (3 i) mod 10; with NumPy installed
np.load('x.npy') reads them back.
"""
import struct

def save(path, rows, cols, value):
    header = "{'descr': '<f4', 'fortran_order': False, 'shape': (%d, %d), }" % (rows, cols)
    header += " " * (63 - (10 + len(header)) % 64) + "\n"
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode("latin1"))
        f.write(struct.pack("<%df" % (rows * cols), *(value(i, j) for i in range(rows) for j in range(cols))))

save("x.npy", 8, 1000, lambda i, j: ((7 * i + 13 * j) % 17 - 8) / 8.0)
save("y.npy", 8, 10, lambda i, k: 1.0 if k == (3 * i) % 10 else 0.0)
