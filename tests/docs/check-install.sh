#!/usr/bin/env bash
# What `meson install` puts where (from the build's own install plan,
# meson-info/intro-installed.json): every man page in its section's
# directory, every Markdown document of docs/ and README.md in
# <datadir>/doc/boxd, the example configuration and policy file in its
# examples/, and the completion scripts where bash-completion and zsh look
# for them.
# Environment: SOURCE_ROOT, BUILD_ROOT.
set -uo pipefail

if ! command -v python3 >/dev/null; then
	echo "SKIP: python3 is not installed"
	exit 77
fi

python3 - "$BUILD_ROOT" "$SOURCE_ROOT" <<'PY'
import glob, json, os, sys

build, src = sys.argv[1], sys.argv[2]
with open(os.path.join(build, "meson-info", "intro-installed.json")) as f:
    dests = list(json.load(f).values())
with open(os.path.join(build, "meson-info", "intro-buildoptions.json")) as f:
    options = {o["name"]: o["value"] for o in json.load(f)}
failed = 0

def want(test, what):
    global failed
    hits = [d for d in dests if test(d)]
    if hits:
        print("ok: %s -> %s" % (what, hits[0]))
    else:
        print("FAIL: %s is not installed" % what)
        failed += 1

def ends(suffix):
    return lambda d: d.endswith(suffix)

docs = sorted(glob.glob(os.path.join(src, "docs", "*.md")))
for doc in docs + [os.path.join(src, "README.md")]:
    want(ends("/doc/boxd/" + os.path.basename(doc)),
         os.path.relpath(doc, src) + " in <datadir>/doc/boxd")
want(ends("/doc/boxd/box.proto"), "proto/box.proto in <datadir>/doc/boxd")
want(ends("/doc/boxd/examples/boxd.conf.example"),
     "docs/boxd.conf.example in <datadir>/doc/boxd/examples")
want(ends("/doc/boxd/examples/policy.example.ini"),
     "docs/policy.example.ini in <datadir>/doc/boxd/examples")

if options.get("bashcompletiondir") == "no":
    print("note: bash completion not installed (-Dbashcompletiondir=no)")
else:
    want(lambda d: d.endswith("/boxctl") and "completion" in d,
         "the bash completion as .../completions/boxctl")
if options.get("zshcompletiondir") == "no":
    print("note: zsh completion not installed (-Dzshcompletiondir=no)")
else:
    want(ends("/_boxctl"), "the zsh completion as _boxctl")

pages = [os.path.basename(s)[: -len(".scd")]
         for s in sorted(glob.glob(os.path.join(src, "docs", "man", "*.scd")))]
if not pages:
    print("FAIL: no man page sources in docs/man")
    failed += 1
built = [p for p in pages
         if any(d.endswith("/man/man%s/%s" % (p.rsplit(".", 1)[1], p)) for d in dests)]
if not built and options.get("man") != "enabled":
    print("note: man pages not built (scdoc not found, or -Dman=disabled)")
else:
    for p in pages:
        want(ends("/man/man%s/%s" % (p.rsplit(".", 1)[1], p)),
             "docs/man/%s.scd as man%s/%s" % (p, p.rsplit(".", 1)[1], p))

print("%d missing" % failed)
sys.exit(1 if failed else 0)
PY
