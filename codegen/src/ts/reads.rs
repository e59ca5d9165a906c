//! The read helpers of the TypeScript: per model a record's get, get with
//! metadata and listing (for a raw model, the value as text or bytes and
//! the other fields from its metadata), a unique index's find, a secondary
//! index's listing, and the listings of an index's groups. Every read
//! through an index checks the record still carries the values.
//!
//! Builds on [`super::keys`] (the builders it calls), [`super::spelling`]
//! and the codec's reads in [`super::runtime`]. Nothing in `ts` but
//! [`super`] depends on it.

use crate::ir::{IndexKind, Model, RawKind};
use crate::ts::keys::{IdKey, Ix, KeyKind};
use crate::ts::spelling::{pascal, plain, prop, ModelNames};
use std::fmt::Write;

/// The read helper of one index, when [`Ix::computable`]: a unique index's
/// `find{Name}{Stem}`, a secondary index's `list{Name}{Stem}`.
pub(super) fn index_reads(s: &mut String, n: &ModelNames, ix: &Ix) {
    if !ix.computable() {
        return;
    }
    let (name, lower, stem) = (&n.name, &n.lower, &ix.stem);
    let params = ix.params(ix.parts.len()).join(", ");
    let args = ix.args().join(", ");
    match ix.kind {
        IndexKind::Unique => {
            let _ = writeln!(
                s,
                "\n/** The `{name}` with this `{}`, through its unique entry (2 reads); `null` for none, or for a stale entry. */",
                ix.name
            );
            let _ = writeln!(
                s,
                "export async function find{name}{stem}(kv: KVNamespace, {params}, scope?: string): Promise<{name} | null> {{\n  const entry = {lower}{stem}Key({args}, scope);\n  const id = await kv.get(entry, \"text\");\n  if (id === null) return null;\n  return kvGetChecked<{name}>(kv, {lower}Prefix(scope) + id, (exact) => {lower}{stem}KeyOf(exact, scope) === entry);\n}}"
            );
        }
        IndexKind::Secondary => {
            let _ = writeln!(
                s,
                "\n/** One page of the `{name}` records with these values, through index `{}` (1 list, 1 read per entry); entries whose record no longer carries the values are skipped. */",
                ix.name
            );
            checked_listing(
                s,
                n,
                (stem, &params),
                &format!("{lower}{stem}Prefix({args}, scope)"),
                ("", "k.name.slice(prefix.length)"),
                &format!("{lower}{stem}PrefixOf(exact, scope) === prefix"),
            );
        }
    }
}

/// Listings of one group of an index by its leading fields, named as the Rust repository's
/// (`list_by_owner_id_in_recent` -> `listPostByOwnerIdInRecent`), in the index's key order.
pub(super) fn group_listings(s: &mut String, m: &Model, n: &ModelNames, indexes: &[Ix]) {
    let (name, lower) = (&n.name, &n.lower);
    for g in crate::names::group_listings(m).into_iter().filter(|g| g.start.is_none() && !g.meta) {
        let ix = &indexes[g.index];
        if !ix.computable() {
            continue;
        }
        let fn_name = pascal(g.name.strip_prefix("list_").unwrap_or(&g.name));
        let lead = &ix.parts[..g.fields];
        let fields = lead.iter().map(|(_, f, ..)| format!("`{}`", plain(&f.ident))).collect::<Vec<_>>().join(", ");
        let stem = &ix.stem;
        let (read, check) = match ix.kind {
            // A unique entry's value is the record's encoded id.
            IndexKind::Unique => (
                "    const id = await kv.get(k.name, \"text\");\n    if (id === null) continue;\n",
                format!("{lower}{stem}KeyOf(exact, scope) === k.name"),
            ),
            IndexKind::Secondary => (
                "    const id = k.name.slice(k.name.lastIndexOf(\":\") + 1);\n",
                format!("{lower}{stem}PrefixOf(exact, scope) + id === k.name"),
            ),
        };
        let _ = writeln!(
            s,
            "\n/** One page of the `{name}` records with these values of {fields}, in the order of index `{}` (1 list, {} per entry); entries whose record no longer carries the values are skipped. */",
            ix.name,
            if ix.kind == IndexKind::Unique { "2 reads" } else { "1 read" }
        );
        checked_listing(
            s,
            n,
            (&fn_name, &ix.params(g.fields).join(", ")),
            &format!("{} + {} + \":\"", ix.head(n), ix.encoded(g.fields)),
            (read, "id"),
            &check,
        );
    }
}

/// `list{Name}{suffix}(kv, {params}, page, scope)`: one page of the index
/// entries under `prefix`, each entry's record read (its id from `read`
/// and `id`) and kept when `check` holds for it.
fn checked_listing(
    s: &mut String,
    n: &ModelNames,
    (suffix, params): (&str, &str),
    prefix: &str,
    (read, id): (&str, &str),
    check: &str,
) {
    let (name, lower, meta_ty) = (&n.name, &n.lower, &n.entry_meta);
    let _ = writeln!(
        s,
        "export async function list{name}{suffix}(kv: KVNamespace, {params}, page: KvPage = {{}}, scope?: string): Promise<KvListPage<{name}>> {{\n  const prefix = {prefix};\n  const listed = await kv.list<{meta_ty}>({{ prefix, limit: page.limit, cursor: page.cursor }});\n  const items: {name}[] = [];\n  for (const k of listed.keys) {{\n{read}    const rec = await kvGetChecked<{name}>(kv, {lower}Prefix(scope) + {id}, (exact) => {check});\n    if (rec !== null) items.push(rec);\n  }}\n  return {{ items, cursor: listed.list_complete ? null : listed.cursor }};\n}}"
    );
}

/// A record's reads: `get{Name}`, `get{Name}WithMeta`, and `list{Name}` (for a raw model `list{Name}Meta`).
pub(super) fn record_reads(s: &mut String, m: &Model, n: &ModelNames, id: &IdKey) {
    let (name, lower, record_meta) = (&n.name, &n.lower, &n.record_meta);
    let (id_param, id_ty) = (&id.param, &id.ty);
    if let Some(r) = m.raw {
        return raw_reads(s, n, id, &plain(&m.fields[r.field].ident), r.kind == RawKind::Text);
    }

    let _ = writeln!(s, "\n/** The `{name}` with this id (1 read), or `null`. */");
    let _ = writeln!(
        s,
        "export async function get{name}(kv: KVNamespace, {id_param}: {id_ty}, scope?: string): Promise<{name} | null> {{\n  return kv.get<{name}>({lower}Key({id_param}, scope), \"json\");\n}}"
    );
    let _ = writeln!(s, "\n/** The `{name}` with this id and its metadata (1 read). */");
    let _ = writeln!(
        s,
        "export async function get{name}WithMeta(kv: KVNamespace, {id_param}: {id_ty}, scope?: string): Promise<{{ value: {name} | null; metadata: {record_meta} | null }}> {{\n  const got = await kv.getWithMetadata<{name}, {record_meta}>({lower}Key({id_param}, scope), \"json\");\n  return {{ value: got.value, metadata: got.metadata }};\n}}"
    );
    let _ = writeln!(s, "\n/** One page of `{name}` records, in key order (1 list, 1 read per record). */");
    let _ = writeln!(
        s,
        "export async function list{name}(kv: KVNamespace, page: KvPage = {{}}, scope?: string): Promise<KvListPage<{name}>> {{\n  const listed = await kv.list<{record_meta}>({{ prefix: {lower}Prefix(scope), limit: page.limit, cursor: page.cursor }});\n  const items: {name}[] = [];\n  for (const k of listed.keys) {{\n    const rec = await kv.get<{name}>(k.name, \"json\");\n    if (rec !== null) items.push(rec);\n  }}\n  return {{ items, cursor: listed.list_complete ? null : listed.cursor }};\n}}"
    );
}

/// The reads of a raw model: the value read as text or bytes, the other
/// fields from its metadata, the id from the key.
fn raw_reads(s: &mut String, n: &ModelNames, id: &IdKey, field: &str, text: bool) {
    let (name, lower, meta) = (&n.name, &n.lower, &n.record_meta);
    let (id_param, id_ty) = (&id.param, &id.ty);
    // The id as the record's JSON holds it: an integer is a `number` there, whatever the caller passed.
    let id_value = match id.kind {
        KeyKind::Uint { .. } | KeyKind::Int { .. } => format!("Number(kvBig({id_param}))"),
        _ => id_param.clone(),
    };
    let (kind, value_ty) = if text { ("text", "string") } else { ("arrayBuffer", "ArrayBuffer") };
    let id_prop = prop(&id.field);
    let field_prop = prop(field);
    let _ = writeln!(s, "\n/** The `{name}` with this id (1 read, the value as `{kind}`), or `null`. */");
    let _ = writeln!(
        s,
        "export async function get{name}(kv: KVNamespace, {id_param}: {id_ty}, scope?: string): Promise<{name} | null> {{\n  return (await get{name}WithMeta(kv, {id_param}, scope)).value;\n}}"
    );
    let _ = writeln!(s, "\n/** The `{name}` with this id and its metadata (1 read). */");
    let _ = writeln!(
        s,
        "export async function get{name}WithMeta(kv: KVNamespace, {id_param}: {id_ty}, scope?: string): Promise<{{ value: {name} | null; metadata: {meta} | null }}> {{\n  const got = await kv.getWithMetadata<{meta}>({lower}Key({id_param}, scope), \"{kind}\");\n  if (got.value === null || got.metadata === null) return {{ value: null, metadata: got.metadata }};\n  const {{ $exp: _exp, $meta: _meta, ...fields }} = got.metadata;\n  const value: {value_ty} = got.value;\n  return {{ value: {{ ...fields, {id_prop}: {id_value}, {field_prop}: value }} as {name}, metadata: got.metadata }};\n}}"
    );
    let _ = writeln!(
        s,
        "\n/** One page of `{name}` ids and metadata, in key order (1 list; read a record with `get{name}`). */"
    );
    let _ = writeln!(
        s,
        "export async function list{name}Meta(kv: KVNamespace, page: KvPage = {{}}, scope?: string): Promise<KvListPage<{{ key: string; metadata: {meta} | null }}>> {{\n  const listed = await kv.list<{meta}>({{ prefix: {lower}Prefix(scope), limit: page.limit, cursor: page.cursor }});\n  return {{ items: listed.keys.map((k) => ({{ key: k.name, metadata: k.metadata ?? null }})), cursor: listed.list_complete ? null : listed.cursor }};\n}}"
    );
}
