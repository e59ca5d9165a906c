//! The codec in TypeScript, printed at the top of every generated file:
//! the same key bytes as the Rust codec (`kvgen::key`), and the types and
//! small reads the generated helpers share (`KvPage`, `KvListPage`, `KvExpiry`,
//! `kvGetChecked`, `kvHead`).
//!
//! Builds on nothing. The key builders ([`super::keys`]) and read helpers
//! ([`super::reads`]) call the functions it defines by name; keep those
//! names in step with them.

/// The codec, in TypeScript: the same bytes as `kvgen::key`.
pub(super) const RUNTIME: &str = r#"/** An integer key component: a `bigint`, a safe-integer `number`, or a decimal string. */
export type KvInt = bigint | number | string;

/** A page of a listing (`kvgen::Page`): at most `limit` keys (KV's default 1000), after `cursor`. */
export interface KvPage {
  limit?: number;
  cursor?: string;
}

/** One page of records (`kvgen::ListPage`); `cursor` is `null` on the last page. Pages may be short: loop until `cursor` is `null`. */
export interface KvListPage<T> {
  items: T[];
  cursor: string | null;
}

/** @deprecated The older name of `KvListPage`. */
export type KvList<T> = KvListPage<T>;

/** The expiration kvgen stores in every record's metadata (seconds since the epoch, `null` for none), and its free metadata. */
export interface KvExpiry {
  $exp: number | null;
  /** The free metadata the record's last write gave (`put_with_metadata`), if it gave some. */
  $meta?: unknown;
}

/** `kvgen::Rollout`, a feature flag's rollout, as serde writes it. */
export interface KvRollout {
  /** The kill switch: `false` turns the flag off for everyone. */
  enabled: boolean;
  /** The share of subjects it is on for, 0 to 100. */
  percent: number;
  /** Subjects it is always on for (while enabled); left out when empty. */
  allow?: Array<string>;
  /** Subjects it is always off for; wins over `allow`; left out when empty. */
  deny?: Array<string>;
}

const HEX = "0123456789ABCDEF";

/** Percent-encodes `%`, `:` and control characters (below 0x20, and 0x7F), as `kvgen::key::encode_str`. */
export function kvEncodeStr(s: string): string {
  let out = "";
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (c >= 0xd800 && c <= 0xdfff) {
      throw new TypeError("kvgen: a key component holds a lone surrogate, which is not Unicode text");
    }
    out += c === 0x25 || c === 0x3a || c < 0x20 || c === 0x7f ? "%" + HEX[c >> 4] + HEX[c & 15] : ch;
  }
  return out;
}

function kvBig(v: KvInt): bigint {
  if (typeof v === "bigint") return v;
  if (typeof v === "number") {
    if (!Number.isSafeInteger(v)) {
      throw new RangeError(`kvgen: ${v} is not a safe integer: pass a bigint or a decimal string`);
    }
    return BigInt(v);
  }
  if (!/^-?[0-9]+$/.test(v)) throw new RangeError(`kvgen: ${JSON.stringify(v)} is not a decimal integer`);
  return BigInt(v);
}

/** An unsigned integer of `bits` bits, zero-padded to `width` digits. */
export function kvEncodeUint(v: KvInt, bits: number, width: number): string {
  const n = kvBig(v);
  if (n < BigInt(0) || n >= BigInt(2) ** BigInt(bits)) throw new RangeError(`kvgen: ${n} is not a u${bits}`);
  return n.toString().padStart(width, "0");
}

/** A signed integer of `bits` bits, offset by 2^(bits-1), zero-padded to `width` digits. */
export function kvEncodeInt(v: KvInt, bits: number, width: number): string {
  const n = kvBig(v);
  const half = BigInt(2) ** BigInt(bits - 1);
  if (n < -half || n >= half) throw new RangeError(`kvgen: ${n} is not an i${bits}`);
  return (n + half).toString().padStart(width, "0");
}

/** An unsigned integer at a `desc` index position: 2^bits - 1 - v, zero-padded to `width` digits. */
export function kvEncodeUintDesc(v: KvInt, bits: number, width: number): string {
  const n = BigInt(kvEncodeUint(v, bits, width));
  return (BigInt(2) ** BigInt(bits) - BigInt(1) - n).toString().padStart(width, "0");
}

/** A signed integer at a `desc` index position: 2^bits - 1 minus its ascending form, zero-padded to `width` digits. */
export function kvEncodeIntDesc(v: KvInt, bits: number, width: number): string {
  const n = BigInt(kvEncodeInt(v, bits, width));
  return (BigInt(2) ** BigInt(bits) - BigInt(1) - n).toString().padStart(width, "0");
}

/** `1` / `0`. */
export function kvEncodeBool(v: boolean): string {
  return v ? "1" : "0";
}

/** One character (one Unicode code point), percent-encoded as a string. */
export function kvEncodeChar(v: string): string {
  if ([...v].length !== 1) throw new RangeError(`kvgen: ${JSON.stringify(v)} is not one character`);
  return kvEncodeStr(v);
}

/** A component some `KeyPart` implementation already encoded: checked for separators only. */
export function kvEncoded(v: string): string {
  if (/[:\x00-\x1f\x7f]/.test(v)) throw new RangeError(`kvgen: ${JSON.stringify(v)} is not an encoded key component`);
  return v;
}

/**
 * `text` parsed for key checks: an integer beyond 2^53 is kept exact, as its decimal text (where the
 * runtime gives revivers the source text, as V8 does), so that a record's index keys can be rebuilt.
 */
export function kvParseExact(text: string): any {
  const revive = (_key: string, value: unknown, context?: { source?: string }) =>
    typeof value === "number" && !Number.isSafeInteger(value) && context?.source !== undefined && /^-?[0-9]+$/.test(context.source)
      ? context.source
      : value;
  return JSON.parse(text, revive as (key: string, value: unknown) => unknown);
}

/** The record at `key` (1 read), and whether `check` holds for it, read with exact integers. */
export async function kvGetChecked<T>(kv: KVNamespace, key: string, check: (exact: T) => boolean): Promise<T | null> {
  const text = await kv.get(key, "text");
  if (text === null) return null;
  return check(kvParseExact(text) as T) ? (JSON.parse(text) as T) : null;
}

/** `{scope}/{model}`, or `{scope}{model}` for a scope ending in `:`: a scope is 1 to 64 characters of `[A-Za-z0-9_-]` and an optional `:`, as `kvgen::check_scope`. */
export function kvHead(model: string, scope?: string): string {
  if (scope === undefined || scope === "") return model;
  if (!/^[A-Za-z0-9_-]{1,64}:?$/.test(scope)) throw new RangeError(`kvgen: invalid scope ${JSON.stringify(scope)}`);
  return scope.endsWith(":") ? scope + model : scope + "/" + model;
}
"#;
