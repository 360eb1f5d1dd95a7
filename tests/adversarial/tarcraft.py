"""tarcraft.py - rewrites an emgap bundle (a tar) into a hostile one, for
the adversarial corpus (tests/adversarial/make-bundles.sh).

    python3 tarcraft.py IN OUT OP...

Members of IN are copied in order, then the OPs apply:
    drop:NAME              leave NAME out
    put:NAME=FILE          NAME's content from FILE (replaced in place, or appended)
    dup:NAME               append a second member called NAME (same content)
    raw:NAME               append a regular member with NAME taken verbatim
                           (used for "../x", "/x", "a//b")
    symlink:NAME=TARGET    append a symbolic link
    hardlink:NAME=TARGET   append a hard link
    fifo:NAME  chardev:NAME  blockdev:NAME  dir:NAME
    zeros:NAME=N           append a member of N zero bytes (streamed)
OUT ending in .gz is gzip-compressed. The format is pax, as emgap writes.
"""
import gzip
import io
import sys
import tarfile

KINDS = {
    "symlink": tarfile.SYMTYPE,
    "hardlink": tarfile.LNKTYPE,
    "fifo": tarfile.FIFOTYPE,
    "chardev": tarfile.CHRTYPE,
    "blockdev": tarfile.BLKTYPE,
    "dir": tarfile.DIRTYPE,
}


class Zeros(io.RawIOBase):
    """N zero bytes without holding them."""

    def __init__(self, n):
        self.left = n

    def readable(self):
        return True

    def readinto(self, b):
        k = min(len(b), self.left)
        b[:k] = bytes(k)
        self.left -= k
        return k


def regular(name, size):
    info = tarfile.TarInfo(name)
    info.size = size
    info.mode = 0o644
    info.mtime = 0
    return info


def main():
    src, dst, ops = sys.argv[1], sys.argv[2], sys.argv[3:]
    members = []
    with tarfile.open(src, "r:*") as t:
        for m in t.getmembers():
            data = t.extractfile(m).read() if m.isfile() else None
            members.append((m, data))
    tail = []
    for op in ops:
        kind, _, arg = op.partition(":")
        if kind == "drop":
            members = [(m, d) for m, d in members if m.name != arg]
        elif kind == "put":
            name, _, path = arg.partition("=")
            with open(path, "rb") as f:
                data = f.read()
            hit = False
            for i, (m, d) in enumerate(members):
                if m.name == name:
                    m.size = len(data)
                    members[i] = (m, data)
                    hit = True
            if not hit:
                tail.append((regular(name, len(data)), data))
        elif kind == "dup":
            for m, d in members:
                if m.name == arg:
                    tail.append((regular(arg, len(d)), d))
                    break
        elif kind == "raw":
            tail.append((regular(arg, 4), b"evil"))
        elif kind == "zeros":
            name, _, n = arg.partition("=")
            tail.append((regular(name, int(n)), Zeros(int(n))))
        elif kind in KINDS:
            name, _, target = arg.partition("=")
            info = tarfile.TarInfo(name)
            info.type = KINDS[kind]
            info.linkname = target
            info.mtime = 0
            tail.append((info, None))
        else:
            sys.exit("tarcraft: unknown op " + op)
    raw = open(dst, "wb")
    out = gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) if dst.endswith(".gz") else raw
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as t:
        for m, d in members + tail:
            if d is None:
                t.addfile(m)
            elif isinstance(d, bytes):
                t.addfile(m, io.BytesIO(d))
            else:
                t.addfile(m, io.BufferedReader(d, 1 << 20))
    if out is not raw:
        out.close()
    raw.close()


if __name__ == "__main__":
    main()
