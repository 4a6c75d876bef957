#!/usr/bin/env python3
"""Writes the programs' input corpus: text-like lines of words and numbers, the same bytes on every
machine (its own generator, not Python's, so no library version can change it).

Usage: corpus.py BYTES > corpus"""
import sys


def main():
    size = int(sys.argv[1])
    state = 20261203
    def rnd(n):
        nonlocal state
        state = (state * 6364136223846793005 + 1442695040888963407) & 0xFFFFFFFFFFFFFFFF
        return (state >> 33) % n
    syll = ["ka", "lo", "mi", "ne", "ru", "sta", "ve", "qui", "dor", "pen", "al", "tri", "ox", "zu",
            "ber", "cha", "fin", "gro", "hel", "is", "jum", "ment", "ion", "ter"]
    vocab = []
    for i in range(3000):
        vocab.append("".join(syll[rnd(len(syll))] for _ in range(1 + rnd(4))))
    out = bytearray()
    while len(out) < size:
        words = []
        for _ in range(4 + rnd(12)):
            # roughly Zipf: small indices far more often
            r = rnd(3000)
            w = vocab[(r * r) // 3000]
            if rnd(13) == 0:
                w = str(rnd(100000))
            words.append(w)
        line = " ".join(words)
        if rnd(7) == 0:
            line = line.capitalize() + "."
        out += line.encode() + b"\n"
    sys.stdout.buffer.write(bytes(out[:size]))


main()
