//! The baseline: the blog workload written directly against a KV store with
//! serde_json, the way a careful developer would without kvgen — same key
//! layout and index entries, unique checks verified against the record,
//! bulk reads, but no generic machinery, no percent-encoding of key parts
//! and no limit checks.

use blog::{Post, User};
use kvgen::{KvStore, ListOptions, PutOptions, Result};
use serde::de::DeserializeOwned;

fn parse<T: DeserializeOwned>(v: &[u8]) -> T {
    serde_json::from_slice(v).expect("stored JSON")
}

pub(crate) fn text(v: &[u8]) -> &str {
    std::str::from_utf8(v).unwrap_or_default()
}

pub(crate) fn meta_name(u: &User) -> Option<serde_json::Value> {
    Some(serde_json::json!({ "name": u.name }))
}

fn pad(id: u64) -> String {
    format!("{id:020}")
}

pub async fn get_post<S: KvStore>(s: &S, id: u64) -> Result<Option<Post>> {
    Ok(s.get(&format!("post:{}", pad(id))).await?.map(|e| parse(&e.value)))
}

pub async fn find_user_by_email<S: KvStore>(s: &S, email: &str) -> Result<Option<User>> {
    let key = format!("user.email:{email}");
    let Some(id) = s.get(&key).await? else { return Ok(None) };
    let Some(rec) = s.get(&format!("user:{}", text(&id.value))).await? else { return Ok(None) };
    let u: User = parse(&rec.value);
    Ok((u.email == email).then_some(u))
}

pub async fn find_user_by_handle<S: KvStore>(s: &S, org: &str, handle: &str) -> Result<Option<User>> {
    let Some(id) = s.get(&format!("user.org_id_handle:{org}:{handle}")).await? else { return Ok(None) };
    let Some(rec) = s.get(&format!("user:{}", text(&id.value))).await? else { return Ok(None) };
    let u: User = parse(&rec.value);
    Ok((u.org_id == org && u.handle == handle).then_some(u))
}

/// Creates a user: one bulk read of the record and both unique entries,
/// verify any holder, then the entries and the record.
pub async fn create_user<S: KvStore>(s: &S, u: &User) -> Result<bool> {
    let rec_key = format!("user:{}", u.id);
    let email_key = format!("user.email:{}", u.email);
    let handle_key = format!("user.org_id_handle:{}:{}", u.org_id, u.handle);
    let got = s.get_many(&[rec_key.clone(), email_key.clone(), handle_key.clone()]).await?;
    if got[0].is_some() {
        return Ok(false);
    }
    for holder in got[1..].iter().flatten().map(|e| text(&e.value)) {
        if holder != u.id {
            if let Some(h) = s.get(&format!("user:{holder}")).await? {
                let h: User = parse(&h.value);
                if h.email == u.email || (h.org_id == u.org_id && h.handle == u.handle) {
                    return Ok(false);
                }
            }
        }
    }
    let none = PutOptions::default();
    s.put(&email_key, u.id.as_bytes(), &none).await?;
    s.put(
        &format!("user.org_id:{}:{}", u.org_id, u.id),
        b"",
        &PutOptions { metadata: meta_name(u), ..Default::default() },
    )
    .await?;
    s.put(&handle_key, u.id.as_bytes(), &none).await?;
    s.put(
        &rec_key,
        serde_json::to_string(u).unwrap().as_bytes(),
        &PutOptions { metadata: meta_name(u), ..Default::default() },
    )
    .await?;
    Ok(true)
}

pub async fn create_post<S: KvStore>(s: &S, p: &Post) -> Result<bool> {
    let rec_key = format!("post:{}", pad(p.id));
    if s.get_many(std::slice::from_ref(&rec_key)).await?[0].is_some() {
        return Ok(false);
    }
    let meta = Some(serde_json::json!({ "title": p.title }));
    let status = serde_json::to_value(p.status).unwrap();
    let opts = PutOptions { metadata: meta, ..Default::default() };
    s.put(&format!("post.author_id:{}:{}", p.author_id, pad(p.id)), b"", &opts).await?;
    s.put(&format!("post.author_id_status:{}:{}:{}", p.author_id, status.as_str().unwrap(), pad(p.id)), b"", &opts)
        .await?;
    s.put(&rec_key, serde_json::to_string(p).unwrap().as_bytes(), &opts).await?;
    Ok(true)
}

/// One page of posts: a list, then bulk reads of 100.
pub async fn list_posts<S: KvStore>(s: &S, limit: u32) -> Result<Vec<Post>> {
    let page = s.list(&ListOptions { prefix: "post:".into(), cursor: None, limit }).await?;
    let keys: Vec<String> = page.keys.into_iter().map(|k| k.name).collect();
    let mut out = Vec::with_capacity(keys.len());
    for chunk in keys.chunks(100) {
        out.extend(s.get_many(chunk).await?.into_iter().flatten().map(|v| parse::<Post>(&v.value)));
    }
    Ok(out)
}

/// The posts of an author: list the index group, bulk-read, keep those still by the author.
pub async fn posts_by_author<S: KvStore>(s: &S, author: &str, limit: u32) -> Result<Vec<Post>> {
    let prefix = format!("post.author_id:{author}:");
    let page = s.list(&ListOptions { prefix: prefix.clone(), cursor: None, limit }).await?;
    let keys: Vec<String> = page.keys.iter().map(|k| format!("post:{}", &k.name[prefix.len()..])).collect();
    let mut out = Vec::with_capacity(keys.len());
    for chunk in keys.chunks(100) {
        out.extend(
            s.get_many(chunk)
                .await?
                .into_iter()
                .flatten()
                .map(|v| parse::<Post>(&v.value))
                .filter(|p| p.author_id == author),
        );
    }
    Ok(out)
}

/// The author of each post, reading each distinct author once.
pub async fn load_authors<S: KvStore>(s: &S, posts: &[Post]) -> Result<Vec<Option<User>>> {
    let mut ids: Vec<&str> = posts.iter().map(|p| p.author_id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    let keys: Vec<String> = ids.iter().map(|id| format!("user:{id}")).collect();
    let mut found = std::collections::HashMap::with_capacity(ids.len());
    for (chunk, idc) in keys.chunks(100).zip(ids.chunks(100)) {
        for (id, v) in idc.iter().zip(s.get_many(chunk).await?) {
            if let Some(v) = v {
                found.insert(*id, v.value);
            }
        }
    }
    Ok(posts.iter().map(|p| found.get(p.author_id.as_str()).map(|v| parse(v))).collect())
}

/// Replaces a user (any field may change): one bulk read of the record and
/// both unique entries, verify any other holder, write the entries whose key
/// changed (the org index also when the name in its metadata changed), the
/// record, then delete old unique entries that still point here and the old
/// org entry.
pub async fn update_user<S: KvStore>(s: &S, u: &User) -> Result<bool> {
    let rec_key = format!("user:{}", u.id);
    let email_key = format!("user.email:{}", u.email);
    let handle_key = format!("user.org_id_handle:{}:{}", u.org_id, u.handle);
    let got = s.get_many(&[rec_key.clone(), email_key.clone(), handle_key.clone()]).await?;
    let Some(old) = &got[0] else { return Ok(false) };
    let old: User = parse(&old.value);
    for holder in got[1..].iter().flatten().map(|e| text(&e.value)) {
        if holder != u.id {
            if let Some(h) = s.get(&format!("user:{holder}")).await? {
                let h: User = parse(&h.value);
                if h.email == u.email || (h.org_id == u.org_id && h.handle == u.handle) {
                    return Ok(false);
                }
            }
        }
    }
    let none = PutOptions::default();
    let old_email = format!("user.email:{}", old.email);
    let old_handle = format!("user.org_id_handle:{}:{}", old.org_id, old.handle);
    let old_org = format!("user.org_id:{}:{}", old.org_id, old.id);
    let new_org = format!("user.org_id:{}:{}", u.org_id, u.id);
    if old_email != email_key || got[1].as_ref().map(|e| e.value.as_slice()) != Some(u.id.as_bytes()) {
        s.put(&email_key, u.id.as_bytes(), &none).await?;
    }
    if old_handle != handle_key || got[2].as_ref().map(|e| e.value.as_slice()) != Some(u.id.as_bytes()) {
        s.put(&handle_key, u.id.as_bytes(), &none).await?;
    }
    if old_org != new_org || old.name != u.name {
        s.put(&new_org, b"", &PutOptions { metadata: meta_name(u), ..Default::default() }).await?;
    }
    s.put(
        &rec_key,
        serde_json::to_string(u).unwrap().as_bytes(),
        &PutOptions { metadata: meta_name(u), ..Default::default() },
    )
    .await?;
    let mut stale = Vec::new();
    if old_email != email_key {
        stale.push(old_email);
    }
    if old_handle != handle_key {
        stale.push(old_handle);
    }
    if !stale.is_empty() {
        let held = s.get_many(&stale).await?;
        for (k, h) in stale.iter().zip(held) {
            if h.map(|e| e.value).as_deref() == Some(u.id.as_bytes()) {
                s.delete(k).await?;
            }
        }
    }
    if old_org != new_org {
        s.delete(&old_org).await?;
    }
    Ok(true)
}

/// Deletes a post and its index entries.
pub async fn delete_post<S: KvStore>(s: &S, id: u64) -> Result<bool> {
    let rec_key = format!("post:{}", pad(id));
    let Some(rec) = s.get(&rec_key).await? else { return Ok(false) };
    let p: Post = parse(&rec.value);
    s.delete(&rec_key).await?;
    let status = serde_json::to_value(p.status).unwrap();
    s.delete(&format!("post.author_id:{}:{}", p.author_id, pad(id))).await?;
    s.delete(&format!("post.author_id_status:{}:{}:{}", p.author_id, status.as_str().unwrap(), pad(id))).await?;
    Ok(true)
}
