#!/usr/bin/env python3
"""gen.py - deterministic inputs and small measurements for make bench.

    gen.py feed SIZE OUT [tmpl]   unsigned EOCS feed of about SIZE bytes; with
                                  "tmpl", with the empty XMLDSig template of
                                  tests/lib/pki.sh (pki_feed_template) inside,
                                  ready for xmlsec1 --sign
    gen.py apphost IN OUT SIZE    IN (an applicationHost.config) grown to about
                                  SIZE bytes with tenant sites, CRLF kept
    gen.py splice ORIG NEW        how NEW differs from ORIG: bytes of ORIG
                                  changed or lost, bytes added (one line)
    gen.py fleetmake MODEL N DIR  DIR/s0001..sNNNN as copies of the server
                                  directory MODEL, each apply.conf naming its
                                  own server (EXCH0001...)
    gen.py fleetrun DIR N OUT     runs emgap-apply run for DIR/s0001..sNNNN one
                                  after the other; seconds of each to OUT
    gen.py fleet FILE             per-server seconds (one a line) -> summary:
                                  count total median first-10 last-10 max,
                                  and a fitted line's value at server 10 and N

The inputs (feed, apphost) are a pure function of the arguments: the same
call gives the same bytes, so runs on different days measure the same
inputs.
"""
import os
import shutil
import statistics
import subprocess
import sys
import time

RULE = ('<rule name="EEMS {id} bench rule {n} - inbound" patternSyntax="ECMAScript" '
        'stopProcessing="true">\n'
        '            <match url=".*"/>\n'
        '            <conditions logicalGrouping="MatchAll" trackAllCaptures="false">\n'
        '              <add input="{{UrlDecode:{{REQUEST_URI}}}}" '
        'pattern="(?=.*autodiscover)(?=.*powershell)(?=.*bench{n:05d})"/>\n'
        '              <add input="{{HTTP_COOKIE}}" pattern="(.*)X-BEResource=(.+)/(.+)~(.+){n}"/>\n'
        '            </conditions>\n'
        '            <action type="AbortRequest"/>\n'
        '          </rule>')


def action(cid, n):
    return ('      <Action type="IISUrlRewrite" scope="Server" desc="Bench rule %d of %s.">\n'
            '        <Value>\n          %s\n        </Value>\n      </Action>\n'
            % (n, cid, RULE.format(id=cid, n=n)))


# The template pki_feed_template inserts (enveloped, URI="", RSA-SHA256,
# C14N 1.0): written here because its awk takes minutes on 4 MiB.
SIGTMPL = (
    '  <Signature xmlns="http://www.w3.org/2000/09/xmldsig#">\n'
    '    <SignedInfo>\n'
    '      <CanonicalizationMethod Algorithm="http://www.w3.org/TR/2001/REC-xml-c14n-20010315"/>\n'
    '      <SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/>\n'
    '      <Reference URI="">\n'
    '        <Transforms>\n'
    '          <Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/>\n'
    '        </Transforms>\n'
    '        <DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/>\n'
    '        <DigestValue/>\n'
    '      </Reference>\n'
    '    </SignedInfo>\n'
    '    <SignatureValue/>\n'
    '    <KeyInfo>\n'
    '      <X509Data/>\n'
    '    </KeyInfo>\n'
    '  </Signature>\n')


def feed(size, out, tmpl=False):
    # Real feeds are a few KiB; big ones are made of many mitigations like
    # M1. The parser allows 1024 Configs and 64 Actions each, so a 4 MiB
    # feed needs several actions per Config.
    per = 1 if size <= 1 << 20 else 8
    head = ('<?xml version="1.0" encoding="utf-8"?>\n<EOCS version="1.0.4">\n'
            '  <Config id="PING1" desc="EEMS Heartbeat probe. Does not modify any exchange settings.">\n'
            '    <ActionList>\n'
            '      <Action type="DoNothing" scope="Server" desc="Ping mitigation action.">\n'
            '        <Value>DoNothing</Value>\n      </Action>\n    </ActionList>\n  </Config>\n')
    parts = [head]
    total = len(head)
    i = 0
    while total < size - 400:
        i += 1
        cid = "B%d" % i
        c = ['  <Config id="%s" desc="Bench mitigation %d.">\n' % (cid, i),
             '    <Applies product="Exchange2019" min="15.2.0.0" max="15.2.1118.15"/>\n',
             '    <ActionList>\n']
        c += [action(cid, n) for n in range(1, per + 1)]
        c.append('    </ActionList>\n  </Config>\n')
        s = "".join(c)
        parts.append(s)
        total += len(s)
    if tmpl:
        parts.append(SIGTMPL)
    parts.append("</EOCS>\n")
    with open(out, "w", newline="\n") as f:
        f.write("".join(parts))


SITE = ('            <site name="Tenant Site {n:05d}" id="{id}" serverAutoStart="true">\r\n'
        '                <application path="/" applicationPool="TenantPool{n:05d}">\r\n'
        '                    <virtualDirectory path="/" physicalPath="C:\\inetpub\\tenants\\t{n:05d}\\wwwroot" />\r\n'
        '                </application>\r\n'
        '                <application path="/api" applicationPool="TenantPool{n:05d}">\r\n'
        '                    <virtualDirectory path="/" physicalPath="C:\\inetpub\\tenants\\t{n:05d}\\api" />\r\n'
        '                </application>\r\n'
        '                <bindings>\r\n'
        '                    <binding protocol="https" bindingInformation="*:443:t{n:05d}.tenants.example.com" />\r\n'
        '                </bindings>\r\n'
        '            </site>\r\n')


def apphost(src, out, size):
    # A hosting server with thousands of sites is what makes an
    # applicationHost.config this big; grow <sites> the way IIS writes it.
    with open(src, "rb") as f:
        doc = f.read()
    mark = b"        </sites>\r\n"
    at = doc.find(mark)
    if at < 0:
        sys.exit("gen.py: %s: no CRLF '</sites>' line" % src)
    sites = []
    total = len(doc)
    n = 0
    while total < size:
        n += 1
        s = SITE.format(n=n, id=1000 + n).encode()
        sites.append(s)
        total += len(s)
    with open(out, "wb") as f:
        f.write(doc[:at] + b"".join(sites) + doc[at:])


def splice(orig, new):
    with open(orig, "rb") as f:
        a = f.read()
    with open(new, "rb") as f:
        b = f.read()
    p = 0
    m = min(len(a), len(b))
    while p < m and a[p] == b[p]:
        p += 1
    s = 0
    while s < m - p and a[len(a) - 1 - s] == b[len(b) - 1 - s]:
        s += 1
    # Bytes of the original that are not kept as they were, and bytes new.
    print("%d %d" % (len(a) - p - s, len(b) - p - s))


def fleet(path):
    with open(path) as f:
        t = [float(x) for x in f if x.strip()]
    if len(t) < 20:
        sys.exit("gen.py: fleet: need at least 20 servers")
    first = statistics.median(t[:10])
    last = statistics.median(t[-10:])
    # A least-squares line through all the runs says how the cost moves
    # with the server's place in the fleet; ten-run medians alone swing
    # with the load of a shared machine.
    n = len(t)
    mx = (n - 1) / 2
    my = sum(t) / n
    sxx = sum((i - mx) ** 2 for i in range(n))
    slope = sum((i - mx) * (y - my) for i, y in enumerate(t)) / sxx
    at10 = my + slope * (9 - mx)
    atn = my + slope * (n - 1 - mx)
    print("%d %.6f %.6f %.6f %.6f %.6f %.6f %.6f" % (n, sum(t), statistics.median(t),
                                                     first, last, max(t), at10, atn))


def fleetmake(model, n, d):
    with open(os.path.join(model, "apply.conf")) as f:
        conf = f.read()
    if "name = EXCH0000\n" not in conf:
        sys.exit("gen.py: fleetmake: %s/apply.conf: no 'name = EXCH0000' line" % model)
    for i in range(1, n + 1):
        s = os.path.join(d, "s%04d" % i)
        shutil.copytree(os.path.join(model, "root"), os.path.join(s, "root"), symlinks=True)
        with open(os.path.join(s, "apply.conf"), "w") as f:
            f.write(conf.replace("name = EXCH0000\n", "name = EXCH%04d\n" % i))


def fleetrun(d, n, out):
    times = []
    for i in range(1, n + 1):
        conf = "%s/s%04d/apply.conf" % (d, i)
        t0 = time.perf_counter()
        r = subprocess.run(["emgap-apply", "run", "--config", conf],
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)
        t1 = time.perf_counter()
        if r.returncode != 0:
            sys.exit("gen.py: fleetrun: %s: exit %d: %s"
                     % (conf, r.returncode, r.stderr.decode(errors="replace")[-400:]))
        times.append(t1 - t0)
    with open(out, "w") as f:
        f.write("".join("%.6f\n" % t for t in times))


def main(argv):
    if len(argv) in (3, 4) and argv[0] == "feed":
        feed(int(argv[1]), argv[2], len(argv) == 4 and argv[3] == "tmpl")
    elif len(argv) == 4 and argv[0] == "apphost":
        apphost(argv[1], argv[2], int(argv[3]))
    elif len(argv) == 3 and argv[0] == "splice":
        splice(argv[1], argv[2])
    elif len(argv) == 4 and argv[0] == "fleetmake":
        fleetmake(argv[1], int(argv[2]), argv[3])
    elif len(argv) == 4 and argv[0] == "fleetrun":
        fleetrun(argv[1], int(argv[2]), argv[3])
    elif len(argv) == 2 and argv[0] == "fleet":
        fleet(argv[1])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
