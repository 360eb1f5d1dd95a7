"""bundle_craft.py - rewrites a bundle's tar for emgap's adversarial tests.

    python3 bundle_craft.py IN OUT OP...

Members are copied in order; OPs change them:
    drop:NAME             leave NAME out
    replace:NAME=FILE     NAME's content from FILE
    after:NAME=NEW=FILE   insert member NEW (content FILE) right after NAME
    add:NAME=FILE         append a regular member
    zeros:NAME=N          append a member of N zero bytes
    symlink:NAME=TARGET   append a symlink      hardlink:NAME=TARGET  a hardlink
    fifo:NAME             append a fifo         chardev:NAME / blockdev:NAME / dir:NAME
OUT ending in .gz is gzip-compressed.
"""
import io
import sys
import tarfile


def regular(name, data):
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o644
    return info, io.BytesIO(data)


def special(kind, name, target=""):
    info = tarfile.TarInfo(name)
    info.type = {
        "symlink": tarfile.SYMTYPE,
        "hardlink": tarfile.LNKTYPE,
        "fifo": tarfile.FIFOTYPE,
        "chardev": tarfile.CHRTYPE,
        "blockdev": tarfile.BLKTYPE,
        "dir": tarfile.DIRTYPE,
    }[kind]
    info.linkname = target
    return info, None


def main():
    src, dst, ops = sys.argv[1], sys.argv[2], sys.argv[3:]
    drop, replace, after, tail = set(), {}, {}, []
    for op in ops:
        kind, _, arg = op.partition(":")
        if kind == "drop":
            drop.add(arg)
        elif kind == "replace":
            name, _, path = arg.partition("=")
            replace[name] = open(path, "rb").read()
        elif kind == "after":
            name, new, path = arg.split("=", 2)
            after.setdefault(name, []).append(regular(new, open(path, "rb").read()))
        elif kind == "add":
            name, _, path = arg.partition("=")
            tail.append(regular(name, open(path, "rb").read()))
        elif kind == "zeros":
            name, _, n = arg.partition("=")
            tail.append(regular(name, bytes(int(n))))
        elif kind in ("symlink", "hardlink"):
            name, _, target = arg.partition("=")
            tail.append(special(kind, name, target))
        elif kind in ("fifo", "chardev", "blockdev", "dir"):
            tail.append(special(kind, arg))
        else:
            sys.exit("bundle_craft: unknown op " + op)
    mode = "w:gz" if dst.endswith(".gz") else "w"
    with tarfile.open(src, "r:*") as tin, tarfile.open(dst, mode, format=tarfile.PAX_FORMAT) as tout:
        for m in tin.getmembers():
            if m.name in drop:
                continue
            data = replace.get(m.name, tin.extractfile(m).read())
            info, f = regular(m.name, data)
            info.mtime = m.mtime
            tout.addfile(info, f)
            for info, f in after.get(m.name, []):
                tout.addfile(info, f)
        for info, f in tail:
            tout.addfile(info, f)


if __name__ == "__main__":
    main()
