"""An independent RFC 9162 verifier (Python, standard library only) used by the tests to
check tongban's ledger proofs: reads JSON {checkpoint, leaves, inclusion[], consistency[]}
on stdin, prints OK or the first failure."""
import hashlib, json, sys

def h(b): return hashlib.sha256(b).digest()
def leaf(b): return h(b"\x00" + b)
def node(l, r): return h(b"\x01" + l + r)

def verify_inclusion(lh, index, size, path, root):
    if index >= size: return False
    fn, sn, r = index, size - 1, lh
    for p in path:
        if sn == 0: return False
        if fn & 1 or fn == sn:
            r = node(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1; sn >>= 1
        else:
            r = node(r, p)
        fn >>= 1; sn >>= 1
    return sn == 0 and r == root

def verify_consistency(first, second, r1, r2, proof):
    if first == second: return not proof and r1 == r2
    if not proof: return False
    if first & (first - 1) == 0: proof = [r1] + proof
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1; sn >>= 1
    fr = sr = proof[0]
    for c in proof[1:]:
        if sn == 0: return False
        if fn & 1 or fn == sn:
            fr = node(c, fr); sr = node(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1; sn >>= 1
        else:
            sr = node(sr, c)
        fn >>= 1; sn >>= 1
    return fr == r1 and sr == r2 and sn == 0

def mth(hs):
    if len(hs) == 1: return hs[0]
    k = 1
    while k << 1 < len(hs): k <<= 1
    return node(mth(hs[:k]), mth(hs[k:]))

d = json.load(sys.stdin)
x = bytes.fromhex
hashes = [leaf(e["leaf"].encode()) for e in d["leaves"]]
if mth(hashes).hex() != d["checkpoint"]["root"]: print("root mismatch"); sys.exit(1)
for p in d["inclusion"]:
    if not verify_inclusion(hashes[p["index"]], p["index"], p["size"], [x(s) for s in p["path"]], x(p["root"])):
        print("inclusion failed", p["index"], p["size"]); sys.exit(1)
for c in d["consistency"]:
    if not verify_consistency(c["from"], c["to"], x(c["first_root"]), x(c["second_root"]), [x(s) for s in c["proof"]]):
        print("consistency failed", c["from"], c["to"]); sys.exit(1)
    if c["first_root"] != mth(hashes[:c["from"]]).hex(): print("first root wrong"); sys.exit(1)
print("OK", len(d["inclusion"]), len(d["consistency"]))
