//! The blog models: users, their profiles and sessions, posts and comments.
//!
//! Shared by the example program (`src/main.rs`), kvgen's own tests and the
//! Worker example.

use kvgen::{KeyPart, KvModel};
use serde::{Deserialize, Serialize};

/// A user: unique email, unique handle within an organisation.
#[derive(KvModel, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kv(
    binding = "APP",
    prefix = "user",
    unique(org_id, handle),
    has_many(Post, by = author_id),
    has_one(Profile, by = user_id)
)]
pub struct User {
    /// The user id.
    #[kv(id)]
    pub id: String,
    /// Unique across users.
    #[kv(unique)]
    pub email: String,
    /// The organisation the user belongs to.
    #[kv(index)]
    pub org_id: String,
    /// Unique within the organisation.
    pub handle: String,
    /// Shown in listings without reading the record.
    #[kv(meta)]
    pub name: String,
}

/// A user's profile: at most one per user.
#[derive(KvModel, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kv(binding = "APP")]
pub struct Profile {
    /// The profile id.
    #[kv(id)]
    pub id: String,
    /// The owner; unique, so a user has one profile.
    #[kv(unique, belongs_to = User)]
    pub user_id: String,
    /// Free text.
    pub bio: String,
}

/// Where a post is in its life.
#[derive(KeyPart, Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum PostStatus {
    /// Not yet visible.
    Draft,
    /// Visible.
    Published,
}

/// A post, written by a user.
#[derive(KvModel, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kv(binding = "APP", index(author_id, status), has_many(Comment, by = post_id))]
pub struct Post {
    /// The post id.
    #[kv(id)]
    pub id: u64,
    /// The author.
    #[kv(belongs_to = User)]
    pub author_id: String,
    /// Draft or published.
    pub status: PostStatus,
    /// Carried by listings.
    #[kv(meta)]
    pub title: String,
    /// The text.
    pub body: String,
}

/// A comment on a post.
#[derive(KvModel, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kv(binding = "APP")]
pub struct Comment {
    /// The comment id.
    #[kv(id)]
    pub id: String,
    /// The post commented on.
    #[kv(belongs_to = Post)]
    pub post_id: u64,
    /// Who wrote it.
    #[kv(belongs_to = User)]
    pub author_id: String,
    /// The text.
    pub body: String,
}

/// A login session: expires an hour after its last write.
#[derive(KvModel, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kv(binding = "SESSIONS", ttl = 3600)]
pub struct Session {
    /// The session token.
    #[kv(id)]
    pub token: String,
    /// Whose session it is.
    #[kv(index)]
    pub user_id: String,
}
