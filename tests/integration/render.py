#!/usr/bin/env python3
"""Make a runnable sipp scenario from a template in tests/integration/sipp.

    render.py TEMPLATE OUT KEY=VALUE...

Each @KEY@ in the template is replaced by VALUE. A VALUE starting with "@" names step files under
sipp/ (several joined with "+", e.g. @steps/pcap+steps/wait-bye) whose text is inserted, and whose
own placeholders are then filled in by the other pairs. Placeholders left unfilled are removed.
"""
import os
import re
import sys


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    sipp_dir = os.path.join(os.path.dirname(os.path.abspath(__file__)), "sipp")
    name, out, *kvs = sys.argv[1:]
    with open(os.path.join(sipp_dir, name + ".xml")) as f:
        text = f.read()
    pairs = []
    for kv in kvs:
        if "=" not in kv:
            sys.exit(f"render.py: {kv}: expected KEY=VALUE")
        pairs.append(kv.split("=", 1))
    for key, value in pairs:
        if value.startswith("@"):
            parts = []
            for part in value[1:].split("+"):
                with open(os.path.join(sipp_dir, part + ".xml")) as f:
                    parts.append(f.read())
            text = text.replace(f"@{key}@", "".join(parts))
    for key, value in pairs:
        if not value.startswith("@"):
            text = text.replace(f"@{key}@", value)
    # Placeholders nobody filled in are optional parts: left out.
    text = re.sub(r"@[A-Z][A-Z0-9_]*@", "", text)
    with open(out, "w") as f:
        f.write(text)


if __name__ == "__main__":
    main()
