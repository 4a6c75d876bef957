#!/usr/bin/env python3
"""Independent checker for the oracle32 test vectors.

Re-computes every record from an Intel-SDM-pseudocode reference model written
independently of oracle32.c and compares it with what the real CPU recorded,
restricted to the defined-flag mask `m` (and skipping the result when ru=1).
It also re-derives the expected mask `m` for each record from the SDM rules
and checks the recorded mask against it, and reports (for information only)
how the host CPU sets the *undefined* flags.

usage: oracle32_check.py [DIR]   (default ../resources/oracle32 relative to this file)
Reads NAME.txt or NAME.txt.gz for alu shift muldiv bit bcd misc.
Exit status 0 if no defined bit disagrees with the model.
"""
import gzip
import os
import re
import sys
from collections import defaultdict

CF, PF, AF, ZF, SF, OF = 0x001, 0x004, 0x010, 0x040, 0x080, 0x800
ARITH = 0x8D5


class DE(Exception):
    pass


def wm(bits):
    return (1 << bits) - 1


def msb(v, bits):
    return (v >> (bits - 1)) & 1


def sx(v, bits):
    v &= wm(bits)
    return v - (1 << bits) if v >> (bits - 1) else v


def parity(v):
    return PF if bin(v & 0xFF).count("1") % 2 == 0 else 0


def szp(r, bits):
    r &= wm(bits)
    return (SF if msb(r, bits) else 0) | (ZF if r == 0 else 0) | parity(r)


def add_flags(a, b, c, bits):
    m = wm(bits)
    full = a + b + c
    r = full & m
    f = szp(r, bits)
    if full > m:
        f |= CF
    if ((a ^ r) & (b ^ r)) >> (bits - 1) & 1:
        f |= OF
    if (a ^ b ^ r) & 0x10:
        f |= AF
    return r, f


def sub_flags(a, b, c, bits):
    m = wm(bits)
    r = (a - b - c) & m
    f = szp(r, bits)
    if a < b + c:
        f |= CF
    if ((a ^ b) & (a ^ r)) >> (bits - 1) & 1:
        f |= OF
    if (a ^ b ^ r) & 0x10:
        f |= AF
    return r, f


def keep(fin, fnew, which):
    """flags: bits in `which` from fnew, the rest from fin"""
    return (fin & ~which & ARITH) | (fnew & which)


# ---------------------------------------------------------------- models
# each returns (outputs dict, expected mask, result_undefined)

def m_alu(op, bits, g):
    a, f = g["a"], g["f"]
    b = g.get("b", 0)
    cf = f & CF
    if op == "ADD":
        r, fl = add_flags(a, b, 0, bits)
    elif op == "ADC":
        r, fl = add_flags(a, b, cf, bits)
    elif op in ("SUB", "CMP"):
        r, fl = sub_flags(a, b, 0, bits)
    elif op == "SBB":
        r, fl = sub_flags(a, b, cf, bits)
    elif op in ("AND", "OR", "XOR", "TEST"):
        r = {"AND": a & b, "TEST": a & b, "OR": a | b, "XOR": a ^ b}[op]
        fl = szp(r, bits)
        return ({"r": r, "f": fl} if op != "TEST" else {"f": fl}), 0x8C5, False
    elif op == "NEG":
        r, fl = sub_flags(0, a, 0, bits)
        fl = (fl & ~CF) | (CF if a != 0 else 0)
    elif op == "NOT":
        r, fl = ~a & wm(bits), f
    elif op == "INC":
        r, fl = add_flags(a, 1, 0, bits)
        fl = keep(f, fl, ARITH & ~CF)
    elif op == "DEC":
        r, fl = sub_flags(a, 1, 0, bits)
        fl = keep(f, fl, ARITH & ~CF)
    out = {"f": fl}
    if op not in ("CMP",):
        out["r"] = r
    return out, ARITH, False


def m_shift(op, bits, g, by1):
    a, f = g["a"], g["f"]
    cl = 1 if by1 else g["c"]
    c = cl & 31
    m = wm(bits)
    if c == 0:
        return {"r": a, "f": f}, ARITH, False
    fl = f
    if op in ("SHL", "SHR", "SAR"):
        if op == "SHL":
            wide = a << c
            r = wide & m
            cf = (wide >> bits) & 1
            of = msb(r, bits) ^ cf
        elif op == "SHR":
            r = a >> c
            cf = (a >> (c - 1)) & 1
            of = msb(a, bits)
        else:
            s = sx(a, bits)
            r = (s >> c) & m
            cf = (s >> (c - 1)) & 1
            of = 0
        fl = szp(r, bits) | (CF if cf else 0) | (OF if of else 0)
        mask = CF | PF | ZF | SF | (OF if c == 1 else 0)
        if op != "SAR" and c >= bits:
            mask &= ~CF
        return {"r": r, "f": fl}, mask, False
    # rotates: SDM pseudocode
    cf = f & CF and 1
    if op in ("ROL", "ROR"):
        t = c % bits if bits < 32 else c
        r = a
        for _ in range(t):
            if op == "ROL":
                r = ((r << 1) | msb(r, bits)) & m
            else:
                r = (r >> 1) | ((r & 1) << (bits - 1))
        if op == "ROL":
            cf = r & 1
            of = msb(r, bits) ^ cf
        else:
            cf = msb(r, bits)
            of = msb(r, bits) ^ ((r >> (bits - 2)) & 1)
    else:
        t = c % (bits + 1) if bits < 32 else c
        r = a
        of = msb(a, bits) ^ cf  # RCR: computed before the rotate
        for _ in range(t):
            if op == "RCL":
                nc = msb(r, bits)
                r = ((r << 1) | cf) & m
            else:
                nc = r & 1
                r = (r >> 1) | (cf << (bits - 1))
            cf = nc
        if op == "RCL":
            of = msb(r, bits) ^ cf
    fl = (f & ~(CF | OF)) | (CF if cf else 0) | (OF if of else 0)
    mask = ARITH if c == 1 else ARITH & ~OF
    return {"r": r, "f": fl}, mask, False


def m_shd(op, bits, g):
    a, b, f = g["a"], g["b"], g["f"]
    c = g["c"] & 31
    m = wm(bits)
    if c == 0:
        return {"r": a, "f": f}, ARITH, False
    if c > bits:
        return {}, 0, True
    if op == "SHLD":
        r = (((a << bits) | b) << c >> bits) & m
        cf = (a >> (bits - c)) & 1
    else:
        r = (((b << bits) | a) >> c) & m
        cf = (a >> (c - 1)) & 1
    of = msb(r, bits) ^ msb(a, bits)
    fl = szp(r, bits) | (CF if cf else 0) | (OF if of else 0)
    return {"r": r, "f": fl}, CF | PF | ZF | SF | (OF if c == 1 else 0), False


def m_mul(op, bits, g):
    a, b = g["a"], g["b"]
    m = wm(bits)
    if op == "MUL":
        p = a * b
        hi = p >> bits
        ov = hi != 0
    else:
        p = sx(a, bits) * sx(b, bits)
        ov = p != sx(p & m, bits)
        hi = (p >> bits) & m
    return {"r": p & m, "r2": hi & m, "f": (CF | OF) if ov else 0}, CF | OF, False


def m_div(op, bits, g):
    b = g["b"]
    if bits == 8:
        n = g["a"]
        nb = 16
    else:
        n = (g["d"] << bits) | g["a"]
        nb = 2 * bits
    if b == 0:
        raise DE
    if op == "DIV":
        q, r = divmod(n, b)
        if q > wm(bits):
            raise DE
    else:
        sn, sb = sx(n, nb), sx(b, bits)
        q = abs(sn) // abs(sb)
        if (sn < 0) != (sb < 0):
            q = -q
        r = sn - q * sb
        if q < -(1 << (bits - 1)) or q > (1 << (bits - 1)) - 1:
            raise DE
    return {"r": q & wm(bits), "r2": r & wm(bits)}, 0, False


def m_imul2(bits, g, src, imm):
    p = sx(src, bits) * sx(imm, bits)
    ov = p != sx(p & wm(bits), bits)
    return {"r": p & wm(bits), "f": (CF | OF) if ov else 0}, CF | OF, False


def m_bit(op, bits, g):
    a, f = g["a"], g["f"]
    if op == "BSWAP":
        r = int.from_bytes(a.to_bytes(4, "little"), "big")
        return {"r": r, "f": f}, ARITH, False
    b = g["b"]
    if op in ("BSF", "BSR"):
        if b == 0:
            return {"f": f | ZF}, ZF, True
        r = (b & -b).bit_length() - 1 if op == "BSF" else b.bit_length() - 1
        return {"r": r, "f": f & ~ZF}, ZF, False
    off = b % bits
    bit = (a >> off) & 1
    r = {"BT": a, "BTS": a | (1 << off), "BTR": a & ~(1 << off), "BTC": a ^ (1 << off)}[op]
    fl = (f & ~CF) | (CF if bit else 0)
    out = {"f": fl}
    if op != "BT":
        out["r"] = r
    return out, CF | ZF, False


def m_bcd(op, g, variant):
    a, f = g["a"], g["f"]
    al, ah = a & 0xFF, a >> 8
    cf, af = f & CF and 1, f & AF and 1
    if op == "DAA":
        old_al, old_cf = al, cf
        cf = 0
        if (al & 0xF) > 9 or af:
            s = al + 6
            cf = old_cf or (s > 0xFF)
            al = s & 0xFF
            af = 1
        else:
            af = 0
        if old_al > 0x99 or old_cf:
            al = (al + 0x60) & 0xFF
            cf = 1
        else:
            cf = 0
        fl = szp(al, 8) | (CF if cf else 0) | (AF if af else 0)
        return {"r": (ah << 8) | al, "f": fl}, CF | PF | AF | ZF | SF, False
    if op == "DAS":
        old_al, old_cf = al, cf
        cf = 0
        if (al & 0xF) > 9 or af:
            cf = old_cf or (al < 6)
            al = (al - 6) & 0xFF
            af = 1
        else:
            af = 0
        if old_al > 0x99 or old_cf:
            al = (al - 0x60) & 0xFF
            cf = 1
        fl = szp(al, 8) | (CF if cf else 0) | (AF if af else 0)
        return {"r": (ah << 8) | al, "f": fl}, CF | PF | AF | ZF | SF, False
    if op in ("AAA", "AAS"):
        if (al & 0xF) > 9 or af:
            if op == "AAA":
                if variant == "sdm":      # AX <- AX + 106H
                    ax = (a + 0x106) & 0xFFFF
                else:                     # 8086/386 manual: AL+6, AH+1
                    ax = ((ah + 1) & 0xFF) << 8 | ((al + 6) & 0xFF)
            else:
                if variant == "sdm":      # AX <- AX - 6; AH <- AH - 1
                    ax = (a - 6) & 0xFFFF
                    ax = (ax - 0x100) & 0xFFFF
                else:                     # 386 manual: AL-6, AH-1
                    ax = ((ah - 1) & 0xFF) << 8 | ((al - 6) & 0xFF)
            ax &= 0xFF0F
            return {"r": ax, "f": CF | AF}, CF | AF, False
        return {"r": a & 0xFF0F, "f": 0}, CF | AF, False
    if op == "AAM":
        i = g["i"]
        if i == 0:
            raise DE
        ah2, al2 = al // i, al % i
        return {"r": (ah2 << 8) | al2, "f": szp(al2, 8)}, PF | ZF | SF, False
    if op == "AAD":
        i = g["i"]
        al2 = (al + ah * i) & 0xFF
        return {"r": al2, "f": szp(al2, 8)}, PF | ZF | SF, False
    raise KeyError(op)


def cond(cc, f):
    c = {
        0: f & OF, 2: f & CF, 4: f & ZF, 6: (f & CF) or (f & ZF), 8: f & SF, 10: f & PF,
        12: bool(f & SF) != bool(f & OF), 14: (f & ZF) or (bool(f & SF) != bool(f & OF)),
    }[cc & 14]
    return bool(c) != bool(cc & 1)


def m_misc(name, g):
    f = g["f"]
    if name == "CBW":
        return {"r": sx(g["a"], 8) & 0xFFFF, "f": f}, ARITH, False
    if name == "CWDE":
        return {"r": sx(g["a"], 16) & 0xFFFFFFFF, "f": f}, ARITH, False
    if name == "CWD":
        return {"r": 0xFFFF if g["a"] >> 15 else 0, "f": f}, ARITH, False
    if name == "CDQ":
        return {"r": 0xFFFFFFFF if g["a"] >> 31 else 0, "f": f}, ARITH, False
    mm = re.fullmatch(r"(XADD|CMPXCHG)(8|16|32)", name)
    if mm:
        bits = int(mm.group(2))
        a, b = g["a"], g["b"]
        if mm.group(1) == "XADD":
            r, fl = add_flags(a, b, 0, bits)
            return {"r": r, "r2": a, "f": fl}, ARITH, False
        acc = g["acc"]
        _, fl = sub_flags(acc, a, 0, bits)
        if acc == a:
            return {"r": b, "r2": acc, "f": fl}, ARITH, False
        return {"r": a, "r2": a, "f": fl}, ARITH, False
    if name == "SETCC":
        return {"r": 1 if cond(g["cc"], f) else 0, "f": f}, ARITH, False
    if name == "CMOV32":
        return {"r": g["b"] if cond(g["cc"], f) else g["a"], "f": f}, ARITH, False
    if name == "LAHF":
        ah = (f & (SF | ZF | AF | PF | CF)) | 2
        return {"r": (ah << 8) | (g["a"] & 0xFF), "f": f}, ARITH, False
    if name == "SAHF":
        ah = g["a"] >> 8
        return {"f": (f & OF) | (ah & (SF | ZF | AF | PF | CF))}, ARITH, False
    raise KeyError(name)


def model(name, g, variant):
    mm = re.fullmatch(r"(ADD|ADC|SUB|SBB|AND|OR|XOR|CMP|TEST|NEG|NOT|INC|DEC)(8|16|32)", name)
    if mm:
        return m_alu(mm.group(1), int(mm.group(2)), g)
    mm = re.fullmatch(r"(SHL|SHR|SAR|ROL|ROR|RCL|RCR)(8|16|32)(_1)?", name)
    if mm:
        return m_shift(mm.group(1), int(mm.group(2)), g, mm.group(3) is not None)
    mm = re.fullmatch(r"(SHLD|SHRD)(16|32)", name)
    if mm:
        return m_shd(mm.group(1), int(mm.group(2)), g)
    mm = re.fullmatch(r"(MUL|IMUL)(8|16|32)", name)
    if mm:
        return m_mul(mm.group(1), int(mm.group(2)), g)
    mm = re.fullmatch(r"(I?DIV)(8|16|32)", name)
    if mm:
        return m_div(mm.group(1), int(mm.group(2)), g)
    mm = re.fullmatch(r"IMUL2_(16|32)", name)
    if mm:
        return m_imul2(int(mm.group(1)), g, g["a"], g["b"])
    mm = re.fullmatch(r"IMUL3_(16|32)", name)
    if mm:
        return m_imul2(int(mm.group(1)), g, g["a"], g["i"])
    mm = re.fullmatch(r"(BT|BTS|BTR|BTC|BSF|BSR|BSWAP)(16|32)", name)
    if mm:
        return m_bit(mm.group(1), int(mm.group(2)), g)
    if name in ("DAA", "DAS", "AAA", "AAS", "AAM", "AAD"):
        return m_bcd(name, g, variant)
    return m_misc(name, g)


def parse(line):
    toks = line.split()
    name = toks[0]
    i = toks.index("->")
    ins = dict(t.split("=", 1) for t in toks[1:i])
    outs = dict(t.split("=", 1) for t in toks[i + 1:])
    ins = {k: int(v, 16) for k, v in ins.items()}
    return name, ins, outs


def main():
    d = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "resources", "oracle32")
    variant = os.environ.get("BCD_VARIANT", "sdm")
    bad = defaultdict(int)
    examples = defaultdict(list)
    count = defaultdict(int)
    undef_diff = defaultdict(lambda: defaultdict(int))  # form -> flag -> #cases where host != model
    undef_seen = defaultdict(lambda: defaultdict(int))
    names = {CF: "CF", PF: "PF", AF: "AF", ZF: "ZF", SF: "SF", OF: "OF"}
    total = 0
    for fam in ("alu", "shift", "muldiv", "bit", "bcd", "misc"):
        p = os.path.join(d, fam + ".txt")
        op = open
        if not os.path.exists(p):
            p += ".gz"
            op = gzip.open
        with op(p, "rt") as fh:
            for line in fh:
                if line.startswith("#") or not line.strip():
                    continue
                name, g, o = parse(line)
                total += 1
                count[name] += 1
                errs = []
                if g["f"] & ~ARITH:
                    errs.append("input flags outside 0x8d5")
                try:
                    exp, emask, eru = model(name, g, variant)
                    if o.get("ex") == "DE":
                        errs.append("unexpected #DE")
                except DE:
                    if o.get("ex") != "DE":
                        errs.append("expected #DE")
                    if errs:
                        bad[name] += 1
                        examples[name].append(line.strip() + "   <- " + "; ".join(errs))
                    continue
                fo = int(o["f"], 16)
                m = int(o["m"], 16)
                ru = o.get("ru") == "1"
                if fo & ~ARITH:
                    errs.append("output flags outside 0x8d5")
                if m != emask:
                    errs.append("mask m=%03x, SDM rules give %03x" % (m, emask))
                if ru != eru:
                    errs.append("ru flag %s, expected %s" % (ru, eru))
                if "f" in exp and (fo ^ exp["f"]) & m:
                    errs.append("defined flags differ: model f=%03x" % exp["f"])
                if "f" in exp:
                    for bit, nm in names.items():
                        if not m & bit:
                            undef_seen[name][nm] += 1
                            if (fo ^ exp["f"]) & bit:
                                undef_diff[name][nm] += 1
                if not ru:
                    for k in ("r", "r2"):
                        if (k in exp) != (k in o):
                            errs.append("field %s presence mismatch" % k)
                        elif k in exp and int(o[k], 16) != exp[k]:
                            errs.append("%s: model %x" % (k, exp[k]))
                if errs:
                    bad[name] += 1
                    if len(examples[name]) < 4:
                        examples[name].append(line.strip() + "   <- " + "; ".join(errs))
    print("checked %d records in %d forms (BCD AAA/AAS variant: %s)" % (total, len(count), variant))
    for name in count:
        if bad[name]:
            print("MISMATCH %-10s %d of %d" % (name, bad[name], count[name]))
            for e in examples[name]:
                print("    " + e)
    print("\nhost behaviour of undefined flags (cases where host != SDM-model value / cases undefined):")
    for name in count:
        if undef_seen[name]:
            s = " ".join("%s %d/%d" % (nm, undef_diff[name][nm], undef_seen[name][nm])
                         for nm in ("CF", "PF", "AF", "ZF", "SF", "OF") if undef_seen[name][nm])
            print("  %-10s %s" % (name, s))
    return 1 if any(bad.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
