// Raw Workers KV operations over HTTP, for the differential run
// (tests/bin/differential.rs). POST /op with one operation as JSON; the
// answer is {"ok": ...} or {"error": message}. Arguments are passed to the
// binding as given, numbers included, so limits can be probed; a value that
// is not UTF-8 comes as `bytes` (an array of byte values), and `get` answers
// with the exact bytes.
export default {
  async fetch(request, env) {
    if (request.method !== "POST") return Response.json({ ready: true });
    const op = await request.json();
    try {
      return Response.json({ ok: await run(env.KV, op) });
    } catch (e) {
      return Response.json({ error: String(e && e.message ? e.message : e) });
    }
  },
};

function exact(buffer) {
  try {
    return { value: new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(buffer) };
  } catch {
    return { bytes: [...new Uint8Array(buffer)] };
  }
}

async function run(kv, op) {
  switch (op.op) {
    case "now":
      return Date.now();
    case "put": {
      const o = {};
      if (op.expirationTtl !== undefined) o.expirationTtl = op.expirationTtl;
      if (op.expiration !== undefined) o.expiration = op.expiration;
      if (op.metadata !== undefined) o.metadata = op.metadata;
      // Bytes that are not UTF-8 come as an array of byte values.
      await kv.put(op.key, op.bytes !== undefined ? new Uint8Array(op.bytes) : op.value, o);
      return null;
    }
    case "get": {
      // The exact bytes: as text when they are UTF-8, else as byte values.
      const r = await kv.getWithMetadata(op.key, { type: "arrayBuffer" });
      return r.value === null ? null : { ...exact(r.value), metadata: r.metadata };
    }
    case "get_many": {
      const m = await kv.getWithMetadata(op.keys, { type: "text" });
      // Every key the map holds, in its order, with its answer.
      return [...m.entries()].map(([k, r]) => [k, r === null ? null : { value: r.value, metadata: r.metadata }]);
    }
    case "delete":
      await kv.delete(op.key);
      return null;
    case "list": {
      const o = { prefix: op.prefix };
      if (op.limit !== undefined) o.limit = op.limit;
      if (op.cursor !== undefined) o.cursor = op.cursor;
      const r = await kv.list(o);
      return {
        keys: r.keys.map((k) => ({ name: k.name, expiration: k.expiration ?? null, metadata: k.metadata ?? null })),
        list_complete: r.list_complete,
        cursor: r.cursor ?? null,
      };
    }
    default:
      throw new Error(`no operation ${op.op}`);
  }
}
