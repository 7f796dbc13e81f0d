#!/usr/bin/env python3
"""Keeps one architecture's images in the CUDA fat binaries of a shared library, in place.

node-llama-cpp's prebuilt libggml-cuda.so (about 159 MB) embeds, for each of its 143 CUDA translation units,
machine code for sm_86, sm_89, sm_120 and sm_121 and PTX for compute_75, compute_80 and compute_90. That is too
large to carry to a lent GPU machine (64 MiB per call), and the images are compressed already, so packing the
file does not help. This rewrites every fat binary container in the .nv_fatbin section to hold only the images
of the architectures asked for (by default the compute_90 PTX, for an H100), at the container's own offset, and
zeroes what is left; the ELF layout, the registration wrappers and the host code stay as they are, and the
zeroed bytes pack to almost nothing.

The PTX of this build says ".version 9.1" (CUDA 13.1), which a CUDA 13.0 driver (580 series) refuses to JIT;
with --ptx-version 9.0 the kept PTX is relabelled so that such a driver can compile a kernel if one is ever
launched. The memory check launches none: it only loads models and creates contexts.

usage: prune_fatbin.py <in.so> <out.so> [--keep ptx:90] [--keep elf:90] [--ptx-version 9.0]
Needs the zstd command (the images are zstd frames).
"""
import argparse
import concurrent.futures
import os
import struct
import subprocess
import sys

FATBIN_MAGIC = 0xBA55ED50
KIND_NAMES = {1: "ptx", 2: "elf"}


def section(name):
    out = subprocess.check_output(["readelf", "-S", "-W", "--", ARGS.input]).decode()
    for line in out.splitlines():
        if line.strip().startswith("[") and (" " + name + " ") in line:
            fields = line.split("]", 1)[1].split()
            return int(fields[3], 16), int(fields[4], 16)
    raise SystemExit(f"no {name} section in {ARGS.input}")


def zstd(payload, decompress):
    args = ["zstd", "-q", "-c"] + (["-d"] if decompress else ["-19"])
    return subprocess.run(args, input=payload, check=True, capture_output=True).stdout


def relabel_ptx(entry, new_version):
    """Rewrites '.version X.Y' in a compressed PTX image; returns the entry with its header updated."""
    words = list(struct.unpack_from("<%dI" % (len(entry.header) // 4), entry.header))
    text = zstd(entry.payload[: words[4]], decompress=True)
    if len(text) != words[14]:
        raise SystemExit(f"PTX image: {len(text)} bytes uncompressed, header says {words[14]}")
    start = text.index(b".version ")
    end = text.index(b"\n", start)
    old = text[start:end]
    new = b".version " + new_version.encode()
    if len(new) != len(old):
        raise SystemExit(f"cannot relabel '{old.decode()}' as '{new.decode()}' (lengths differ)")
    text = text[:start] + new + text[end:]
    packed = zstd(text, decompress=False)
    padded = (len(packed) + 7) // 8 * 8
    words[2] = padded  # payload size as stored (padded)
    words[4] = len(packed)  # compressed size
    header = struct.pack("<%dI" % len(words), *words)
    return Entry(entry.kind, entry.arch, header, packed + b"\0" * (padded - len(packed))), old.decode()


class Entry:
    def __init__(self, kind, arch, header, payload):
        self.kind, self.arch, self.header, self.payload = kind, arch, header, payload

    @property
    def name(self):
        return f"{KIND_NAMES.get(self.kind, self.kind)}:{self.arch}"


def containers(data, start, size):
    pos, end = start, start + size
    while pos < end:
        if pos + 16 > end:
            break
        magic, _version, header_size, fat_size = struct.unpack_from("<IHHQ", data, pos)
        if magic != FATBIN_MAGIC:
            pos += 8 - pos % 8 if pos % 8 else 8
            continue
        entries = []
        e, eend = pos + header_size, pos + header_size + fat_size
        while e < eend:
            kind, _ever, eh, psize = struct.unpack_from("<HHIQ", data, e)
            arch = struct.unpack_from("<I", data, e + 28)[0]
            entries.append(Entry(kind, arch, bytes(data[e : e + eh]), bytes(data[e + eh : e + eh + psize])))
            e += eh + psize
        yield pos, header_size, fat_size, entries
        pos = eend


def main():
    data = bytearray(open(ARGS.input, "rb").read())
    start, size = section(".nv_fatbin")
    keep = set(ARGS.keep or ["ptx:90"])
    count = kept_bytes = dropped_bytes = 0
    relabelled = set()
    plan = []
    for pos, header_size, fat_size, entries in containers(data, start, size):
        chosen = [e for e in entries if e.name in keep]
        if not chosen:
            raise SystemExit(f"container at {pos:#x} has no image of {sorted(keep)} (has {[e.name for e in entries]})")
        plan.append((pos, header_size, fat_size, chosen))
    if ARGS.ptx_version:
        # One zstd process per PTX image, as many at a time as there are cores.
        with concurrent.futures.ThreadPoolExecutor(os.cpu_count() or 2) as pool:
            jobs = [[pool.submit(relabel_ptx, e, ARGS.ptx_version) if e.kind == 1 else e for e in chosen] for _, _, _, chosen in plan]
            done = []
            for (pos, header_size, fat_size, _), images in zip(plan, jobs):
                kept = []
                for image in images:
                    if isinstance(image, Entry):
                        kept.append(image)
                    else:
                        entry, old = image.result()
                        relabelled.add(old)
                        kept.append(entry)
                done.append((pos, header_size, fat_size, kept))
            plan = done
    for pos, header_size, fat_size, chosen in plan:
        body = b"".join(e.header + e.payload for e in chosen)
        if len(body) > fat_size:
            raise SystemExit(f"container at {pos:#x}: kept images ({len(body)} bytes) outgrow the container ({fat_size})")
        struct.pack_into("<Q", data, pos + 8, len(body))
        begin = pos + header_size
        data[begin : begin + fat_size] = body + b"\0" * (fat_size - len(body))
        count += 1
        kept_bytes += len(body)
        dropped_bytes += fat_size - len(body)
    if count == 0:
        raise SystemExit("no fat binary container found")
    # Read the result back: every container must now hold exactly the images kept.
    check = list(containers(data, start, size))
    if len(check) != count or any(sorted(e.name for e in entries) != sorted(e.name for e in chosen)
                                  for (_, _, _, entries), (_, _, _, chosen) in zip(check, plan)):
        raise SystemExit("the rewritten section does not read back as written")
    open(ARGS.output, "wb").write(data)
    print(f"{ARGS.output}: {count} containers, kept {sorted(keep)} = {kept_bytes / 1e6:.1f} MB, "
          f"zeroed {dropped_bytes / 1e6:.1f} MB" + (f", PTX {sorted(relabelled)} -> .version {ARGS.ptx_version}" if relabelled else ""))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("input")
    parser.add_argument("output")
    parser.add_argument("--keep", action="append", help="kind:arch to keep, e.g. ptx:90 or elf:90 (repeatable)")
    parser.add_argument("--ptx-version", help="relabel kept PTX as this ISA version, e.g. 9.0")
    ARGS = parser.parse_args()
    main()
