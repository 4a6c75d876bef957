#!/usr/bin/env python3
"""Triage for 80286 vectors that Real286VectorsTest failed: which documented difference each one resembles.

Usage:
  mvn -B -pl cpu-emu verify -Dtest=Real286VectorsTest -Dx86tests.dump=/tmp/fails.txt [-Dx86tests.dir=DIR -Dx86tests.idx=A-B]
  cpu-emu/src/test/scripts/classify-286-differences.py /tmp/fails.txt [VECTOR_DIR]

The test no longer reads any list: it judges every vector by the rules in I686Differences.java, and a
failure is a vector that no rule explains once the processor is held to what the i686 does. This
script only helps a person decide what such a failure is. For each one it prints the kinds of
documented difference whose outline it fits (from the vector's bytes and recorded exception alone),
so that a failure that fits none is either a processor bug or an undocumented 80286 behaviour
(as the IDIV quotient quirk was), and one that fits a kind but was not explained points at a rule
that is too narrow or a processor that is wrong. It never writes anything the test uses.
"""
import collections
import gzip
import json
import os
import re
import sys

PREFIXES = {0x26, 0x2E, 0x36, 0x3E, 0xF0, 0xF2, 0xF3}
WORD_STRING = {0x6D, 0x6F, 0xA5, 0xA7, 0xAB, 0xAD, 0xAF}

KINDS = {
    'lock': 'LOCK before an instruction the i686 refuses it on (rule lock)',
    'iopl-nt': 'POPF/IRET: FLAGS bits 12-14 (rule popf-iret-iopl-nt)',
    'ss-fault': 'a #GP the i686 would raise as #SS (rule ss-12-not-13)',
    'length': 'longer than the 80286\'s 10 bytes (rule length-10)',
    'fs-gs': 'MOV to/from FS or GS (rule fs-gs)',
    'string': 'a word string instruction faulting at 0xFFFF (rule string-restart)',
    'idiv': 'an 8-bit IDIV the 80286 finished without #DE (rule idiv-quotient-80h)',
    'shift-flags': 'a shift or rotate by an immediate count (rule undefined-flags)',
}


def decode(b):
    k = 0
    while k < len(b) - 1 and b[k] in PREFIXES:
        k += 1
    return b[:k], b[k], b[k + 1:]


def lockable(op, rest):
    if not rest or rest[0] >> 6 == 3:
        return False
    reg = (rest[0] >> 3) & 7
    if op < 0x38 and (op & 7) <= 1:
        return True
    if 0x80 <= op <= 0x83:
        return reg != 7
    if op in (0xF6, 0xF7):
        return reg in (2, 3)
    if op in (0xFE, 0xFF):
        return reg in (0, 1)
    return op in (0x86, 0x87)


def kinds(test):
    b = test['bytes']
    prefixes, op, rest = decode(b)
    exc = (test.get('exception') or {}).get('number')
    out = []
    if 0xF0 in prefixes and not lockable(op, rest):
        out.append('lock')
    if op in (0x9D, 0xCF):
        out.append('iopl-nt')
    if exc == 13 and (0x36 in prefixes or op in (0x07, 0x17, 0x1F, 0x61, 0x8F, 0x9D, 0xC2, 0xC3, 0xC9, 0xCA, 0xCB, 0xCF)
                      or 0x58 <= op <= 0x5F or (rest and (rest[0] >> 6) != 3 and (rest[0] & 7) in (2, 3, 6))):
        out.append('ss-fault')
    if len(b) - 1 > 10:
        out.append('length')
    if op in (0x8C, 0x8E) and rest and ((rest[0] >> 3) & 7) in (4, 5):
        out.append('fs-gs')
    if exc == 13 and op in WORD_STRING:
        out.append('string')
    if op == 0xF6 and rest and ((rest[0] >> 3) & 7) == 7 and exc is None:
        out.append('idiv')
    if op in (0xC0, 0xC1):
        out.append('shift-flags')
    return out


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    vectors = sys.argv[2] if len(sys.argv) > 2 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), '../../../../../shared/x86-tests/80286-real-mode')
    cache = {}
    tally = collections.Counter()
    for line in open(sys.argv[1]):
        m = re.match(r'(\S+) (\d+) (.*?) \[([0-9a-f]+)\]: (.*)$', line.rstrip('\n'))
        if not m:
            continue
        f, idx, name, reason = m.group(1), int(m.group(2)), m.group(3), m.group(5)
        if f not in cache:
            cache[f] = {t['idx']: t for t in json.load(gzip.open(os.path.join(vectors, f + '.json.gz')))}
        ks = kinds(cache[f][idx])
        tally[' + '.join(ks) or 'none'] += 1
        print(f'{f} #{idx} {name}: ' + ('; '.join(KINDS[k] for k in ks) if ks else 'fits no documented difference'))
        print(f'    {reason[:300]}')
    print()
    for k, n in tally.most_common():
        print(f'{n:6d}  {k}')


if __name__ == '__main__':
    main()
