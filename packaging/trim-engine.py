# SPDX-License-Identifier: Apache-2.0
"""Copy the part of an upstream-layout BoringSSL tree that sdtls's build
compiles (src/boringssl.cmake) into DEST: the gen/sources.cmake lists of the
crypto and ssl libraries (sources, headers, assembly for every architecture,
since the upstream layout compiles each .S file and its own #if picks the
architecture) and the licence files, and names the tree in DEST/SDTLS_ENGINE
(the tree's directory name, e.g. boringssl-chromium-150.0.7871.181-1~deb13u1:
src/boringssl.cmake reads it, and sdtls.__engine__ says it). The release
artefacts carry this trimmed tree (15 MB, 667 files for chromium 150's)
instead of the whole one (80 MB, most of it tests, tools and other
libraries), so that they build without fetching anything.

Usage: python3 trim-engine.py TREE DEST
Prints the number of files and bytes copied."""
import os
import re
import shutil
import sys

# The lists src/boringssl.cmake compiles, and the headers they include.
LISTS = (
    "BCM_SOURCES", "BCM_INTERNAL_HEADERS", "BCM_SOURCES_ASM",
    "CRYPTO_SOURCES", "CRYPTO_HEADERS", "CRYPTO_INTERNAL_HEADERS", "CRYPTO_SOURCES_ASM",
    "SSL_SOURCES", "SSL_HEADERS", "SSL_INTERNAL_HEADERS",
)
# What the build reads besides the lists, and the licences an artefact
# holding the engine's code carries (see NOTICE).
EXTRA = ("gen/sources.cmake", "LICENSE", "third_party/fiat/LICENSE")


def listed_files(sources_cmake):
    text = open(sources_cmake, encoding="utf-8").read()
    files = []
    for name, body in re.findall(r"set\(\s*(\w+)\s+([^)]*)\)", text):
        if name in LISTS:
            files.extend(body.split())
    return files


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    tree, dest = sys.argv[1], sys.argv[2]
    sources = os.path.join(tree, "gen", "sources.cmake")
    if not os.path.isfile(sources):
        sys.exit(f"trim-engine: {tree} has no gen/sources.cmake (not an upstream-layout tree)")
    files = sorted(set(listed_files(sources)) | set(EXTRA))
    total = 0
    for rel in files:
        src = os.path.join(tree, rel)
        if not os.path.isfile(src):
            sys.exit(f"trim-engine: {rel} is listed but missing from {tree}")
        out = os.path.join(dest, rel)
        os.makedirs(os.path.dirname(out), exist_ok=True)
        shutil.copyfile(src, out)
        total += os.path.getsize(out)
    name = os.path.basename(os.path.normpath(tree))
    with open(os.path.join(dest, "SDTLS_ENGINE"), "w", encoding="utf-8") as f:
        f.write(name + "\n")
    print(f"{name}: {len(files)} files, {total} bytes")


if __name__ == "__main__":
    main()
