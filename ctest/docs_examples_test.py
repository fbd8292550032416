"""The examples in the docs are the files that the tests run."""
import sys

root = sys.argv[1]


def read(path):
    with open(root + "/" + path) as f:
        return f.read()


checks = [("README.md", "scenarios/single_then_multi.json"),
          ("docs/reproducing-garak-659.md", "docs/examples/adapter.py"),
          ("docs/writing-a-sut.md", "docs/examples/minimal.js")]
failed = 0
for doc, example in checks:
    if not any("```%s\n%s```" % (fence, read(example)) in read(doc) for fence in ("json", "python", "js")):
        print("FAIL: %s does not show %s verbatim" % (doc, example))
        failed += 1
print("%d passed, %d failed" % (len(checks) - failed, failed))
sys.exit(1 if failed else 0)
