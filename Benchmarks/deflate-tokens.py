#!/usr/bin/env python3
"""How close a zip's deflate streams are to zlib's: for each deflated member of 1,000 bytes or
more, the member's raw deflate stream is parsed into tokens (literals and length/distance
matches, RFC 1951) and compared, position by position, with zlib's stream of the same content
at levels 9 and 6 (the better of the two is shown). A token counts as the same when zlib emits
the identical literal or match at the same position of the content.

    python3 Benchmarks/deflate-tokens.py ZIP...

Coffer stores a member as its content when it can rebuild the exact stream (zlib's settings, or
a recipe: Info-ZIP's level and block rule); this measures how far another encoder is from that:
Info-ZIP's tokens are zlib's (only its block ends differ), 7-Zip's optimal parsing is not.
Standard library only; slow (pure Python), a few seconds a megabyte.
"""
import sys, zlib, zipfile, struct
# A raw-deflate parser that records tokens: ("L", byte) or ("M", length, distance), and where blocks end.
class Bits:
    def __init__(s, d): s.d=d; s.p=0; s.b=0; s.n=0
    def get(s, k):
        while s.n < k:
            s.b |= s.d[s.p] << s.n; s.p += 1; s.n += 8
        v = s.b & ((1<<k)-1); s.b >>= k; s.n -= k; return v
    def align(s): s.b=0; s.n=0
LB=[3,4,5,6,7,8,9,10,11,13,15,17,19,23,27,31,35,43,51,59,67,83,99,115,131,163,195,227,258]
LE=[0,0,0,0,0,0,0,0,1,1,1,1,2,2,2,2,3,3,3,3,4,4,4,4,5,5,5,5,0]
DB=[1,2,3,4,5,7,9,13,17,25,33,49,65,97,129,193,257,385,513,769,1025,1537,2049,3073,4097,6145,8193,12289,16385,24577]
DE=[0,0,0,0,1,1,2,2,3,3,4,4,5,5,6,6,7,7,8,8,9,9,10,10,11,11,12,12,13,13]
def huff(lengths):
    """Canonical Huffman codes (RFC 1951, 3.2.2): (length, code) -> symbol."""
    mx = max(lengths) if lengths else 0
    cnt = [0] * (mx + 1)
    for l in lengths:
        if l: cnt[l] += 1
    code = 0; nxt = [0] * (mx + 1)
    for b in range(1, mx + 1):
        code = (code + cnt[b - 1]) << 1; nxt[b] = code
    t = {}
    for sym, l in enumerate(lengths):
        if l:
            t[(l, nxt[l])] = sym; nxt[l] += 1
    return t
def dec(bs,t):
    code=0; l=0
    while True:
        code=(code<<1)|bs.get(1); l+=1
        if (l,code) in t: return t[(l,code)]
        if l>15: raise ValueError("bad code")
FIXL=huff([8]*144+[9]*112+[7]*24+[8]*8); FIXD=huff([5]*30)
def tokens(data):
    bs=Bits(data); out=[]; blocks=[]
    while True:
        final=bs.get(1); typ=bs.get(2)
        if typ==0:
            bs.align(); ln=struct.unpack('<H',data[bs.p:bs.p+2])[0]; bs.p+=4
            for c in data[bs.p:bs.p+ln]: out.append(('L',c))
            bs.p+=ln
        else:
            if typ==1: lt,dt=FIXL,FIXD
            else:
                hl=bs.get(5)+257; hd=bs.get(5)+1; hc=bs.get(4)+4
                order=[16,17,18,0,8,7,9,6,10,5,11,4,12,3,13,2,14,1,15]
                cl=[0]*19
                for i in range(hc): cl[order[i]]=bs.get(3)
                ct=huff(cl); ls=[]
                while len(ls)<hl+hd:
                    sy=dec(bs,ct)
                    if sy<16: ls.append(sy)
                    elif sy==16: ls+= [ls[-1]]*(3+bs.get(2))
                    elif sy==17: ls+=[0]*(3+bs.get(3))
                    else: ls+=[0]*(11+bs.get(7))
                lt=huff(ls[:hl]); dt=huff(ls[hl:])
            while True:
                sy=dec(bs,lt)
                if sy<256: out.append(('L',sy))
                elif sy==256: break
                else:
                    i=sy-257; ln=LB[i]+bs.get(LE[i]); ds=dec(bs,dt); d=DB[ds]+bs.get(DE[ds]); out.append(('M',ln,d))
        blocks.append(len(out))
        if final: break
    return out, blocks
def positions(toks):
    # map position -> token
    m={}; p=0
    for t in toks:
        m[p]=t; p+= 1 if t[0]=='L' else t[1]
    return m
def compare(a,b):
    pa=positions(a); pb=positions(b)
    same=sum(1 for p,t in pa.items() if pb.get(p)==t)
    return same, len(pa)
def report(path):
    z = zipfile.ZipFile(path); f = open(path, 'rb').read()
    same_all = all_ = 0
    print(path)
    for zi in z.infolist():
        if zi.compress_type != 8 or zi.file_size < 1000: continue
        off = zi.header_offset; n, e = struct.unpack('<HH', f[off + 26:off + 30]); start = off + 30 + n + e
        theirs, blocks = tokens(f[start:start + zi.compress_size])
        content = z.read(zi)
        best = None
        for level in (9, 6):
            c = zlib.compressobj(level, zlib.DEFLATED, -15, 8); ours = c.compress(content) + c.flush()
            same, count = compare(theirs, tokens(ours)[0])
            if best is None or same > best[0]: best = (same, count, level, len(ours))
        same_all += best[0]; all_ += best[1]
        print("  %-34s %9d B content, %8d B deflated (zlib -%d: %8d B); %7d tokens, %5.1f%% as zlib's; %d blocks"
              % (zi.filename, zi.file_size, zi.compress_size, best[2], best[3], best[1], 100 * best[0] / max(1, best[1]), len(blocks)))
    print("  all: %d of %d tokens (%.1f%%) identical at the same position" % (same_all, all_, 100 * same_all / max(1, all_)))

if __name__ == '__main__':
    if len(sys.argv) < 2: sys.exit(__doc__)
    for p in sys.argv[1:]: report(p)
