#!/usr/bin/env python3
"""Layering check: every folder under src/ includes only its own headers and those of the layers below it.

    layering_check.py SRC_DIR                          exit 0 when every include points down (or is allowed)
    layering_check.py --expect-violation FROM:TO DIR   exit 0 only when DIR has a FROM/ file including TO/

The order is the one in docs/architecture.md and CMakeLists.txt (each folder is a library linking only the
ones below it). Folders on one line are siblings: neither may include the other, unless SAME_LIBRARY says
they build into one library. A folder under src/ that is not listed here fails the check, so a new folder
has to be given its place first.
"""
import os
import re
import sys

# Lowest first.
LAYERS = [
    ["base"],
    ["tensor"],
    ["kernels", "formats"],
    ["tokenizer"],
    ["chat"],
    ["model"],
    ["engine"],
    ["convert", "server"],
    ["cli"],
]
# Folders built into the same library, which may include each other.
SAME_LIBRARY = set()

# Known upward includes, to be removed (delete each line when its include is gone).
ALLOWED = set()

RANK = {folder: i for i, line in enumerate(LAYERS) for folder in line}
INCLUDE = re.compile(r'^\s*#\s*include\s*"([^"/]+)/([^"]+)"')
SOURCE_EXT = (".h", ".hpp", ".cc", ".cpp", ".inc")


def violations(src):
    """Yields (path, line number, message) for every include that points sideways or up."""
    for folder in sorted(os.listdir(src)):
        if not os.path.isdir(os.path.join(src, folder)):
            continue
        if folder not in RANK:
            yield (folder + "/", 0, "folder '%s' has no place in the layer order (add it to LAYERS)" % folder)
            continue
        for root, dirs, files in os.walk(os.path.join(src, folder)):
            dirs.sort()
            for name in sorted(files):
                if not name.endswith(SOURCE_EXT):
                    continue
                path = os.path.join(root, name)
                rel = os.path.relpath(path, src).replace(os.sep, "/")
                with open(path, encoding="utf-8", errors="replace") as f:
                    for n, line in enumerate(f, 1):
                        m = INCLUDE.match(line)
                        if not m or m.group(1) not in RANK:
                            continue  # a system or third-party header, or one beside the file
                        to = m.group(1)
                        target = to + "/" + m.group(2)
                        if to == folder or (folder, to) in SAME_LIBRARY or RANK[to] < RANK[folder]:
                            continue
                        if (rel, target) in ALLOWED:
                            continue
                        where = "beside" if RANK[to] == RANK[folder] else "above"
                        yield (rel, n, '%s/ includes "%s": %s/ is %s %s/ in the layer order' %
                               (folder, target, to, where, folder))


def report(src, found):
    for path, n, msg in found:
        print("%s/%s%s: %s" % (src, path, ":%d" % n if n else "", msg))


def main(argv):
    if len(argv) == 4 and argv[1] == "--expect-violation":
        frm, to = argv[2].split(":")
        found = list(violations(argv[3]))
        report(argv[3], found)
        hit = [v for v in found if v[0].startswith(frm + "/") and ('includes "%s/' % to) in v[2]]
        if not hit:
            print("FAIL: the check missed a %s/ file including a %s/ header in %s" % (frm, to, argv[3]))
            return 1
        print("ok: the check reports the %s/ -> %s/ include above" % (frm, to))
        return 0
    if len(argv) != 2:
        print(__doc__)
        return 2
    found = list(violations(argv[1]))
    report(argv[1], found)
    if found:
        print("%d include(s) break the layer order (lowest first): %s" %
              (len(found), " < ".join(", ".join(line) for line in LAYERS)))
        return 1
    print("ok: every include under %s points down the layer order" % argv[1])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
