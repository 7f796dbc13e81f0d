// A second GGUF reader that no one here wrote: dumps what @huggingface/gguf reads from local files, for the
// differential test (tests/Gryphgen.Core.Tests/Gguf/GgufReferenceReaderTests.cs) and the benchmark.
//
//   node gguf-dump.mjs FILE...              -> JSON array, one object per file (metadata + tensors)
//   node gguf-dump.mjs --bench N FILE...    -> JSON {files, rounds, seconds}: N rounds over every file
//
// BigInts and non-finite floats are written as strings so JSON keeps every digit.
import { gguf } from "@huggingface/gguf";

function plain(value) {
    if (typeof value === "bigint") return value.toString();
    if (typeof value === "number" && !Number.isFinite(value)) return String(value);
    if (Array.isArray(value)) return value.map(plain);
    return value;
}

async function dump(path) {
    const parsed = await gguf(path, { allowLocalFile: true, typedMetadata: true, computeParametersCount: true });
    const metadata = {};
    for (const [key, entry] of Object.entries(parsed.typedMetadata)) {
        if (key === "version" || key === "tensor_count" || key === "kv_count") continue;
        metadata[key] = { type: entry.type, subType: entry.subType ?? null, value: plain(entry.value) };
    }
    return {
        path,
        version: parsed.metadata.version,
        tensorCount: parsed.metadata.tensor_count.toString(),
        kvCount: parsed.metadata.kv_count.toString(),
        littleEndian: parsed.littleEndian,
        tensorDataOffset: parsed.tensorDataOffset.toString(),
        parameterCount: String(parsed.parameterCount),
        metadata,
        tensors: parsed.tensorInfos.map((t) => ({
            name: t.name,
            shape: t.shape.map((d) => d.toString()),
            type: t.dtype,
            offset: t.offset.toString(),
        })),
    };
}

const args = process.argv.slice(2);
if (args[0] === "--bench") {
    const rounds = Number(args[1]);
    const files = args.slice(2);
    for (const f of files) await gguf(f, { allowLocalFile: true }); // warm-up
    const start = process.hrtime.bigint();
    for (let r = 0; r < rounds; r++) {
        for (const f of files) await gguf(f, { allowLocalFile: true });
    }
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    process.stdout.write(JSON.stringify({ files: files.length, rounds, seconds }) + "\n");
} else {
    const out = [];
    for (const f of args) out.push(await dump(f));
    process.stdout.write(JSON.stringify(out));
}
