// The TypeScript side of tests/ts_keys.rs: reads cases (JSON) from the file
// named by its argument and prints, for each, the keys the generated key
// builders give (or the error they throw). Compiled with tsc beside the
// generated `kv.ts` of tests/ts_fixture.rs, and run by Node.
import * as kv from "./kv";

declare const require: (module: string) => { readFileSync(path: string, encoding: string): string };
declare const process: { argv: string[]; stdout: { write(text: string): void } };

/** An integer as the Rust side sent it: a decimal string, or a number; `big` turns it into a bigint. */
type Int = string | number;

type Case =
  | { kind: "uint" | "int" | "uintDesc" | "intDesc"; bits: number; width: number; value: Int; big: boolean }
  | { kind: "str"; value: string }
  | { kind: "char"; value: string }
  | { kind: "model"; model: string; scope: string | null; record: Record<string, unknown>; big: boolean };

const int = (v: Int, big: boolean): kv.KvInt => (big ? BigInt(v) : v);

/** Every key the record needs, as the generated functions build them. */
function modelKeys(c: Extract<Case, { kind: "model" }>): (string | null)[] {
  const s = c.scope ?? undefined;
  const r = c.record;
  const n = (field: string) => int(r[field] as Int, c.big);
  /** A record with its integers as the key builders take them (a bigint, a string or a number). */
  const ints = (fields: string[]) => {
    const copy: Record<string, unknown> = { ...r };
    for (const f of fields) copy[f] = n(f);
    return copy;
  };
  switch (c.model) {
    case "Tricky": {
      const rec = ints(["bigCount", "signedCount", "small", "tiny", "wide", "mid", "umid", "short", "byte", "huge"]) as unknown as kv.Tricky;
      const id = kv.trickyKey(rec.id, s).slice(kv.trickyPrefix(s).length);
      const under = (prefix: string | null) => (prefix === null ? null : prefix + id);
      return [
        kv.trickyKey(rec.id, s),
        kv.trickyByBigCountKeyOf(rec, s),
        kv.trickyByNicknameKeyOf(rec, s),
        kv.trickyByTraitKeyOf(rec, s),
        under(kv.trickyBySignedCountPrefixOf(rec, s)),
        under(kv.trickyByHugePrefixOf(rec, s)),
        under(kv.trickyBySmallAndTinyAndWidePrefixOf(rec, s)),
        under(kv.trickyByMidAndUmidAndShortAndBytePrefixOf(rec, s)),
        // The same keys through the builders that take values.
        kv.trickyBySignedCountKey(n("signedCount"), rec.id, s),
        kv.trickyBySmallAndTinyAndWideKey(n("small"), n("tiny"), n("wide"), rec.id, s),
      ];
    }
    case "Signed": {
      const rec = ints(["id"]) as unknown as kv.Signed;
      return [kv.signedKey(n("id"), s), kv.signedByOwnerKey(rec.owner, n("id"), s)];
    }
    case "Logged": {
      const rec = ints(["id", "at", "tick", "rank"]) as unknown as kv.Logged;
      const id = kv.loggedKey(rec.id, s).slice(kv.loggedPrefix(s).length);
      const under = (prefix: string | null) => (prefix === null ? null : prefix + id);
      return [
        kv.loggedKey(rec.id, s),
        kv.loggedByRankKeyOf(rec, s),
        under(kv.loggedByOwnerAndAtAndTickPrefixOf(rec, s)),
        // The same keys through the builders that take values.
        kv.loggedByRankKey(n("rank"), s),
        kv.loggedByOwnerAndAtAndTickKey(rec.owner, n("at"), n("tick"), n("id"), s),
      ];
    }
    case "Lettered": {
      const rec = r as unknown as kv.Lettered;
      return [kv.letteredKey(rec.id, s), kv.letteredByOnKey(rec.on, rec.id, s)];
    }
    case "Shaded": {
      const rec = ints(["count"]) as unknown as kv.Shaded;
      return [kv.shadedKey(rec.id, s), kv.shadedByCountKey(n("count"), rec.id, s)];
    }
    default:
      throw new Error(`unknown model ${c.model}`);
  }
}

function run(c: Case): string[] | { error: string } {
  try {
    switch (c.kind) {
      case "uint":
        return [kv.kvEncodeUint(int(c.value, c.big), c.bits, c.width)];
      case "int":
        return [kv.kvEncodeInt(int(c.value, c.big), c.bits, c.width)];
      case "uintDesc":
        return [kv.kvEncodeUintDesc(int(c.value, c.big), c.bits, c.width)];
      case "intDesc":
        return [kv.kvEncodeIntDesc(int(c.value, c.big), c.bits, c.width)];
      case "str":
        return [kv.kvEncodeStr(c.value)];
      case "char":
        return [kv.kvEncodeChar(c.value)];
      case "model":
        // Absent entries left out; the Rust side sorts and removes duplicates.
        return modelKeys(c).filter((k): k is string => k !== null);
    }
  } catch (e) {
    return { error: String(e) };
  }
}

/** A stored value and its metadata, as the Rust repositories wrote them. */
type Stored = { value: string; metadata: unknown };

/** A `KVNamespace` whose every `getWithMetadata` answers `stored` (text, or its bytes). */
function served(stored: Stored): KVNamespace {
  const getWithMetadata = async (_key: string, type: string) => ({
    value: type === "arrayBuffer" ? new Uint8Array([0, 0xff]).buffer : stored.value,
    metadata: stored.metadata,
  });
  return { getWithMetadata } as unknown as KVNamespace;
}

/** The JSON of the records the raw readers give, the blob's id passed as a bigint, a string and a number. */
async function rawReads(file: string): Promise<unknown[]> {
  const stored: { note: Stored; blob: Stored } = JSON.parse(require("fs").readFileSync(file, "utf8"));
  const records = [
    await kv.getRawNote(served(stored.note), "a:b"),
    await kv.getRawBlob(served(stored.blob), BigInt(7)),
    await kv.getRawBlob(served(stored.blob), "7"),
    (await kv.getRawBlobWithMeta(served(stored.blob), 7)).value,
  ];
  return records.map((r) => JSON.parse(JSON.stringify(r)));
}

/** A `KVNamespace` over a dump of a store: `list` (one page, every key under the prefix) and `get` as text. */
function dumped(store: Record<string, string>): KVNamespace {
  const names = Object.keys(store).sort();
  const list = async (o: { prefix: string }) => ({
    keys: names.filter((n) => n.startsWith(o.prefix)).map((name) => ({ name })),
    list_complete: true,
  });
  const get = async (key: string) => store[key] ?? null;
  return { list, get } as unknown as KVNamespace;
}

/** The ids the group listings of `Logged` (by `owner`, newest first) give over the store of `file`. */
async function groupReads(file: string): Promise<unknown[]> {
  const store = dumped(JSON.parse(require("fs").readFileSync(file, "utf8")));
  const ids = (l: kv.KvList<kv.Logged>) => l.items.map((r) => r.id);
  return [ids(await kv.listLoggedByOwner(store, "o1")), ids(await kv.listLoggedByOwnerAndAt(store, "o1", 5))];
}

if (process.argv[2] === "--group") {
  groupReads(process.argv[3]).then((out) => process.stdout.write(JSON.stringify(out)));
} else if (process.argv[2] === "--raw") {
  rawReads(process.argv[3]).then((out) => process.stdout.write(JSON.stringify(out)));
} else {
  const cases: Case[] = JSON.parse(require("fs").readFileSync(process.argv[2], "utf8"));
  process.stdout.write(JSON.stringify(cases.map(run)));
}
