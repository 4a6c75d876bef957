#!/usr/bin/env python3
"""Classifies 80286 vector failures that are legitimate i686 differences.

Usage: classify-286-differences.py FAILURES_DUMP > cpu-emu/src/test/resources/80286-i686-differences.tsv

FAILURES_DUMP is written by `mvn test -pl cpu-emu -Dtest=Real286VectorsTest -Dx86tests.dump=FILE`
(one line per failing test: file idx name [hash]: reason). Each rule below names a documented
difference between the 80286 the vectors were recorded on and the i686 we emulate; a failure that
matches no rule is NOT listed and keeps counting as a failure. Rules look at the test itself (its
bytes and recorded exception) and at the shape of the mismatch, never at a hash chosen by hand.
"""
import gzip, json, os, re, sys

VECTORS = os.environ.get('X86TESTS', os.path.join(os.path.dirname(__file__), '../../../../../shared/x86-tests/80286-real-mode'))
PREFIXES = {0x26, 0x2E, 0x36, 0x3E, 0xF0, 0xF2, 0xF3}
STRING_OPS = {0x6C, 0x6D, 0x6E, 0x6F, 0xA4, 0xA5, 0xA6, 0xA7, 0xAA, 0xAB, 0xAC, 0xAD, 0xAE, 0xAF}
STACK_OPS = {0x07, 0x17, 0x1F, 0x06, 0x0E, 0x16, 0x1E, 0x50, 0x51, 0x52, 0x53, 0x54, 0x55, 0x56, 0x57,
             0x58, 0x59, 0x5A, 0x5B, 0x5C, 0x5D, 0x5E, 0x5F, 0x60, 0x61, 0x68, 0x6A, 0x8F, 0x9A, 0x9C, 0x9D,
             0xC2, 0xC3, 0xC8, 0xC9, 0xCA, 0xCB, 0xCC, 0xCD, 0xCE, 0xCF, 0xE8}

REASONS = {
    'lock': 'LOCK on an instruction that is not a locked read-modify-write of memory raises #UD on the i686; '
            'the 80286 ignores it (SDM Vol. 2A, LOCK: "#UD if the LOCK prefix is used with an instruction not listed")',
    'flags': 'POPF/IRET in real mode: the i686 loads FLAGS bits 12-14 (IOPL, NT), the 80286 keeps them 0 '
             '(SDM Vol. 2B, POPF: real-address mode modifies all non-reserved flags)',
    'ss': 'stack-segment limit violation (offset 0xFFFF) in real mode: the i686 raises #SS (12), the 80286 #GP (13) '
          '(SDM Vol. 2, "Real-Address Mode Exceptions": #SS if an SS-relative address is outside the SS limit)',
    'length': 'instruction longer than the 80286\'s 10-byte limit: #GP on the 80286, valid on the i686 up to 15 bytes '
              '(SDM Vol. 2A, 2.3.11 "Instruction length")',
    'fsgs': 'FS and GS do not exist on the 80286 (#UD there); MOV to/from FS/GS is valid on the i686 '
            '(SDM Vol. 2B, MOV: segment registers 4 and 5)',
    'string': 'word string access at offset 0xFFFF: the 80286 updates SI/DI/CX before raising #GP, the i686 raises the '
              'fault with no register changed (SDM Vol. 3A, 6.5 "Exception classifications": faults are restartable)',
    'esc': 'ESC (x87) opcode: the test rig had no coprocessor and executed it as a no-op; this i686 has no x87 yet '
           'and raises #UD (SDM Vol. 3A, 9.2.1; x87 is planned)',
}

def lockable(op, rest):
    modrm = rest[0] if rest else None
    mem = modrm is not None and (modrm >> 6) != 3
    reg = (modrm >> 3) & 7 if modrm is not None else 0
    if op < 0x40 and (op & 7) in (0, 1) and (op >> 3) != 7:
        return mem
    if op in (0x80, 0x81, 0x82, 0x83):
        return mem and reg != 7
    if op in (0xF6, 0xF7):
        return mem and reg in (2, 3)
    if op in (0xFE, 0xFF):
        return mem and reg in (0, 1)
    if op in (0x86, 0x87):
        return mem
    return False

def classify(test, reason):
    b = test['bytes']
    k = 0
    while k < len(b) and b[k] in PREFIXES:
        k += 1
    prefixes, op, rest = b[:k], b[k], b[k + 1:]
    exc = test.get('exception', {}).get('number')
    if 0xF0 in prefixes and not lockable(op, rest):
        return 'lock'
    if len(b) - 1 > 10:  # the trailing HLT is not part of the instruction
        return 'length'
    if op == 0xD8:
        return 'esc'
    if op in (0x9D, 0xCF):
        m = re.fullmatch(r'flags=([0-9a-f]{4}) want ([0-9a-f]{4})', reason)
        if m and (int(m.group(1), 16) ^ int(m.group(2), 16)) & ~0x7000 == 0:
            return 'flags'
    if op in (0x8C, 0x8E) and rest and ((rest[0] >> 3) & 7) in (4, 5):
        return 'fsgs'
    if exc == 13 and op in STRING_OPS:
        return 'string'
    if exc == 13 and ss_relative_at_ffff(test, op, prefixes, rest):
        return 'ss'
    return None

def ss_relative_at_ffff(test, op, prefixes, rest):
    regs = test['initial']['regs']
    seg_override = [p for p in prefixes if p in (0x26, 0x2E, 0x36, 0x3E)]
    if op in STACK_OPS:
        return True
    if not rest:
        return False
    modrm = rest[0]
    mod, rm = modrm >> 6, modrm & 7
    if mod == 3:
        return False
    uses_bp = rm in (2, 3) or (rm == 6 and mod != 0)
    override = seg_override[-1] if seg_override else None
    return (override == 0x36) or (uses_bp and override is None)

def main():
    dump = sys.argv[1]
    cache = {}
    out = []
    for line in open(dump):
        m = re.match(r'(\S+) (\d+) .*? \[([0-9a-f]{40})\]: (.*)$', line.rstrip('\n'))
        if not m:
            continue
        f, idx, h, reason = m.group(1), int(m.group(2)), m.group(3), m.group(4)
        if f not in cache:
            cache[f] = {t['idx']: t for t in json.load(gzip.open(os.path.join(VECTORS, f + '.json.gz')))}
        cat = classify(cache[f][idx], reason)
        if cat:
            out.append((f, idx, h, cat))
    print('# 80286 vectors where the i686 legitimately differs. Generated by')
    print('# cpu-emu/src/test/scripts/classify-286-differences.py; one line per test: hash TAB reason.')
    for f, idx, h, cat in out:
        print(f'{h}\t{f}#{idx} {cat}: {REASONS[cat]}')

if __name__ == '__main__':
    main()
