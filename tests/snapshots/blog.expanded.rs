use kvgen::KeyPart;
use serde::{Deserialize, Serialize};
/// A user: unique email, unique handle within an organisation.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct User {
    /// The user id.
    pub id: String,
    /// Unique across users.
    pub email: String,
    /// The organisation the user belongs to.
    pub org_id: String,
    /// Unique within the organisation.
    pub handle: String,
    /// Shown in listings without reading the record.
    pub name: String,
}
///The metadata of a [`User`]: its `#[kv(meta)]` fields, carried by listings without reading records.
#[derive(
    ::core::fmt::Debug,
    ::core::clone::Clone,
    ::kvgen::__private::serde::Serialize,
    ::kvgen::__private::serde::Deserialize
)]
#[serde(crate = "::kvgen::__private::serde")]
pub struct UserMeta {
    ///Copy of [`User::name`].
    pub name: String,
}
#[automatically_derived]
impl ::kvgen::Model for User {
    type Id = String;
    type Meta = UserMeta;
    const MODEL: &'static str = "user";
    const BINDING: &'static str = "APP";
    const DEFAULT_TTL: ::core::option::Option<u64> = ::core::option::Option::None;
    const INDEXES: &'static [::kvgen::IndexDef] = &[
        ::kvgen::IndexDef {
            name: "email",
            kind: ::kvgen::IndexKind::Unique,
            fields: &["email"],
            strict: false,
        },
        ::kvgen::IndexDef {
            name: "org_id",
            kind: ::kvgen::IndexKind::Secondary,
            fields: &["org_id"],
            strict: false,
        },
        ::kvgen::IndexDef {
            name: "org_id_handle",
            kind: ::kvgen::IndexKind::Unique,
            fields: &["org_id", "handle"],
            strict: false,
        },
    ];
    fn id(&self) -> &String {
        &self.id
    }
    fn set_id(&mut self, id: String) {
        self.id = id;
    }
    #[allow(unused_variables, clippy::single_match)]
    fn index_parts(&self, index: usize, key: &mut ::kvgen::__private::KeyWriter) {
        match index {
            0usize => {
                key.part(&self.email);
            }
            1usize => {
                key.part(&self.org_id);
            }
            2usize => {
                key.part(&self.org_id);
                key.part(&self.handle);
            }
            _ => {}
        }
    }
    fn meta(&self) -> ::core::option::Option<UserMeta> {
        ::core::option::Option::Some(UserMeta {
            name: ::core::clone::Clone::clone(&self.name),
        })
    }
}
///The typed KV repository of [`User`]; dereferences to [`kvgen::Repo`] for get, create, put, update, delete, list and count.
pub struct UserRepo<'a, S>(pub ::kvgen::Repo<'a, User, S>);
#[automatically_derived]
impl<'a, S> ::core::ops::Deref for UserRepo<'a, S> {
    type Target = ::kvgen::Repo<'a, User, S>;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}
impl<'a, S: ::kvgen::KvStore> UserRepo<'a, S> {
    /// This repository with its stale-accepting reads (get, finders, listings, loaders) cached up to `secs` seconds: see [`kvgen::Repo::cached`].
    pub fn cached(&self, secs: u64) -> Self {
        UserRepo(self.0.cached(secs))
    }
    /// This repository with every read uncached: see [`kvgen::Repo::uncached`].
    pub fn uncached(&self) -> Self {
        UserRepo(self.0.uncached())
    }
}
impl<'a, S: ::kvgen::KvStore> UserRepo<'a, S> {
    ///The [`User`] with this `email`, verified against the record. Costs 2 reads.
    pub async fn find_by_email(
        &self,
        email: &str,
    ) -> ::kvgen::Result<::core::option::Option<User>> {
        self.0.find_unique(0usize, &[&email]).await
    }
    ///Creates `record`, or replaces the [`User`] that has its `email`, keeping that record's id. Returns what was stored.
    pub async fn upsert_by_email(&self, record: User) -> ::kvgen::Result<User> {
        self.0.upsert_unique(0usize, record).await
    }
    ///One page of the [`User`] records with this `org_id`. Costs 1 list + 1 bulk read per 100 records.
    pub async fn list_by_org_id(
        &self,
        org_id: &str,
        page: ::kvgen::Page,
    ) -> ::kvgen::Result<::kvgen::ListPage<User>> {
        self.0.list_index(1usize, &[&org_id], page).await
    }
    ///One page of the ids and metadata of [`User`] records with this `org_id`, without reading them. Costs 1 list.
    pub async fn list_by_org_id_meta(
        &self,
        org_id: &str,
        page: ::kvgen::Page,
    ) -> ::kvgen::Result<::kvgen::ListPage<::kvgen::Listed<User>>> {
        self.0.list_index_meta(1usize, &[&org_id], page).await
    }
    ///The [`User`] with this `org_id` and `handle`, verified against the record. Costs 2 reads.
    pub async fn find_by_org_id_and_handle(
        &self,
        org_id: &str,
        handle: &str,
    ) -> ::kvgen::Result<::core::option::Option<User>> {
        self.0.find_unique(2usize, &[&org_id, &handle]).await
    }
    ///Creates `record`, or replaces the [`User`] that has its `org_id` and `handle`, keeping that record's id. Returns what was stored.
    pub async fn upsert_by_org_id_and_handle(
        &self,
        record: User,
    ) -> ::kvgen::Result<User> {
        self.0.upsert_unique(2usize, record).await
    }
    ///One page of the [`User`] records with this `org_id`, in the order of the index `org_id_handle`. Costs 1 list + 1 bulk read per 100 records + 1 bulk read per 100 entries.
    pub async fn list_by_org_id_in_org_id_and_handle(
        &self,
        org_id: &str,
        page: ::kvgen::Page,
    ) -> ::kvgen::Result<::kvgen::ListPage<User>> {
        self.0.list_group(2usize, &[&org_id], ::core::option::Option::None, page).await
    }
    ///How many entries index `org_id` holds for this `org_id`, without reading records: a stale entry a failed write left counts until `repair()`. Costs 1 list per 1,000.
    pub async fn count_by_org_id(&self, org_id: &str) -> ::kvgen::Result<u64> {
        self.0.count_group(1usize, &[&org_id]).await
    }
    ///How many entries index `org_id_handle` holds for this `org_id`, without reading records: a stale entry a failed write left counts until `repair()`. Costs 1 list per 1,000.
    pub async fn count_by_org_id_in_org_id_and_handle(
        &self,
        org_id: &str,
    ) -> ::kvgen::Result<u64> {
        self.0.count_group(2usize, &[&org_id]).await
    }
    ///One page of the `posts` of this [`User`]. Costs 1 list + 1 bulk read per 100 children.
    pub async fn list_posts(
        &self,
        user: &User,
        page: ::kvgen::Page,
    ) -> ::kvgen::Result<::kvgen::ListPage<Post>> {
        self.0
            .related::<Post>()
            .list_index(
                <Post as ::kvgen::__private::IndexedBy<3160957353358223494u64>>::INDEX,
                &[&user.id],
                page,
            )
            .await
    }
    ///Every one of the `posts` of each [`User`], in the same order. Costs 1 list per parent and 1 bulk read per 100 children in all.
    pub async fn load_posts(
        &self,
        users: &[User],
    ) -> ::kvgen::Result<::std::vec::Vec<::std::vec::Vec<Post>>> {
        self.0
            .related::<Post>()
            .load_groups(
                <Post as ::kvgen::__private::IndexedBy<3160957353358223494u64>>::INDEX,
                users.iter().map(|r| &r.id),
            )
            .await
    }
    ///The `profile` of this [`User`], if any.
    pub async fn load_profile(
        &self,
        user: &User,
    ) -> ::kvgen::Result<::core::option::Option<Profile>> {
        self.0
            .related::<Profile>()
            .load_one(
                <Profile as ::kvgen::__private::IndexedBy<
                    9278023968149642234u64,
                >>::INDEX,
                &user.id,
            )
            .await
    }
    ///For each [`User`], its `profile`, in the same order.
    pub async fn load_profiles(
        &self,
        users: &[User],
    ) -> ::kvgen::Result<::std::vec::Vec<::core::option::Option<Profile>>> {
        self.0
            .related::<Profile>()
            .load_ones(
                <Profile as ::kvgen::__private::IndexedBy<
                    9278023968149642234u64,
                >>::INDEX,
                users.iter().map(|r| &r.id),
            )
            .await
    }
}
impl User {
    /// The typed repository of this model in `store`.
    pub fn repo<S: ::kvgen::KvStore>(store: &S) -> UserRepo<'_, S> {
        UserRepo(::kvgen::Repo::new(store))
    }
    /// The typed repository of this model in `store`, every key under `{scope}/` (`{scope}` when it ends in `:`).
    pub fn repo_scoped<'a, S: ::kvgen::KvStore>(
        store: &'a S,
        scope: &'a str,
    ) -> ::kvgen::Result<UserRepo<'a, S>> {
        ::kvgen::Repo::scoped(store, scope).map(UserRepo)
    }
}
#[automatically_derived]
#[doc(hidden)]
impl ::kvgen::__private::IndexedBy<1311787414694181895u64> for User {
    const INDEX: usize = 0usize;
}
#[automatically_derived]
#[doc(hidden)]
impl ::kvgen::__private::IndexedBy<18169019162895567807u64> for User {
    const INDEX: usize = 1usize;
}
const _: () = {
    ::core::assert!(
        ::kvgen::__private::same_binding(< User as ::kvgen::Model > ::BINDING, < Post as
        ::kvgen::Model > ::BINDING),
        "`User` and `Post` are related but live in different KV bindings; relation loaders read one binding"
    );
    ::core::assert!(
        ::kvgen::__private::same_binding(< User as ::kvgen::Model > ::BINDING, < Profile
        as ::kvgen::Model > ::BINDING),
        "`User` and `Profile` are related but live in different KV bindings; relation loaders read one binding"
    );
};
/// A user's profile: at most one per user.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Profile {
    /// The profile id.
    pub id: String,
    /// The owner; unique, so a user has one profile.
    pub user_id: String,
    /// Free text.
    pub bio: String,
}
#[automatically_derived]
impl ::kvgen::Model for Profile {
    type Id = String;
    type Meta = ();
    const MODEL: &'static str = "profile";
    const BINDING: &'static str = "APP";
    const DEFAULT_TTL: ::core::option::Option<u64> = ::core::option::Option::None;
    const INDEXES: &'static [::kvgen::IndexDef] = &[
        ::kvgen::IndexDef {
            name: "user_id",
            kind: ::kvgen::IndexKind::Unique,
            fields: &["user_id"],
            strict: false,
        },
    ];
    fn id(&self) -> &String {
        &self.id
    }
    fn set_id(&mut self, id: String) {
        self.id = id;
    }
    #[allow(unused_variables, clippy::single_match)]
    fn index_parts(&self, index: usize, key: &mut ::kvgen::__private::KeyWriter) {
        match index {
            0usize => {
                key.part(&self.user_id);
            }
            _ => {}
        }
    }
    fn meta(&self) -> ::core::option::Option<()> {
        ::core::option::Option::None
    }
}
///The typed KV repository of [`Profile`]; dereferences to [`kvgen::Repo`] for get, create, put, update, delete, list and count.
pub struct ProfileRepo<'a, S>(pub ::kvgen::Repo<'a, Profile, S>);
#[automatically_derived]
impl<'a, S> ::core::ops::Deref for ProfileRepo<'a, S> {
    type Target = ::kvgen::Repo<'a, Profile, S>;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}
impl<'a, S: ::kvgen::KvStore> ProfileRepo<'a, S> {
    /// This repository with its stale-accepting reads (get, finders, listings, loaders) cached up to `secs` seconds: see [`kvgen::Repo::cached`].
    pub fn cached(&self, secs: u64) -> Self {
        ProfileRepo(self.0.cached(secs))
    }
    /// This repository with every read uncached: see [`kvgen::Repo::uncached`].
    pub fn uncached(&self) -> Self {
        ProfileRepo(self.0.uncached())
    }
}
impl<'a, S: ::kvgen::KvStore> ProfileRepo<'a, S> {
    ///The [`Profile`] with this `user_id`, verified against the record. Costs 2 reads.
    pub async fn find_by_user_id(
        &self,
        user_id: &str,
    ) -> ::kvgen::Result<::core::option::Option<Profile>> {
        self.0.find_unique(0usize, &[&user_id]).await
    }
    ///Creates `record`, or replaces the [`Profile`] that has its `user_id`, keeping that record's id. Returns what was stored.
    pub async fn upsert_by_user_id(&self, record: Profile) -> ::kvgen::Result<Profile> {
        self.0.upsert_unique(0usize, record).await
    }
    ///The `user` this [`Profile`] belongs to (through `user_id`). Costs 1 read.
    pub async fn load_user(
        &self,
        profile: &Profile,
    ) -> ::kvgen::Result<::core::option::Option<User>> {
        self.0.related::<User>().load_by_id(&profile.user_id).await
    }
    ///For each [`Profile`], the `user` it belongs to, in the same order. Costs 1 bulk read per 100 distinct parents.
    pub async fn load_users(
        &self,
        profiles: &[Profile],
    ) -> ::kvgen::Result<::std::vec::Vec<::core::option::Option<User>>> {
        self.0.related::<User>().load_by_ids(profiles.iter().map(|r| &r.user_id)).await
    }
}
impl Profile {
    /// The typed repository of this model in `store`.
    pub fn repo<S: ::kvgen::KvStore>(store: &S) -> ProfileRepo<'_, S> {
        ProfileRepo(::kvgen::Repo::new(store))
    }
    /// The typed repository of this model in `store`, every key under `{scope}/` (`{scope}` when it ends in `:`).
    pub fn repo_scoped<'a, S: ::kvgen::KvStore>(
        store: &'a S,
        scope: &'a str,
    ) -> ::kvgen::Result<ProfileRepo<'a, S>> {
        ::kvgen::Repo::scoped(store, scope).map(ProfileRepo)
    }
}
#[automatically_derived]
#[doc(hidden)]
impl ::kvgen::__private::IndexedBy<9278023968149642234u64> for Profile {
    const INDEX: usize = 0usize;
}
const _: () = {
    ::kvgen::__private::assert_foreign_key::<String, <User as ::kvgen::Model>::Id>();
    ::core::assert!(
        ::kvgen::__private::same_binding(< Profile as ::kvgen::Model > ::BINDING, < User
        as ::kvgen::Model > ::BINDING),
        "`Profile` and `User` are related but live in different KV bindings; relation loaders read one binding"
    );
};
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
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Post {
    /// The post id.
    pub id: u64,
    /// The author.
    pub author_id: String,
    /// Draft or published.
    pub status: PostStatus,
    /// Carried by listings.
    pub title: String,
    /// The text.
    pub body: String,
}
///The metadata of a [`Post`]: its `#[kv(meta)]` fields, carried by listings without reading records.
#[derive(
    ::core::fmt::Debug,
    ::core::clone::Clone,
    ::kvgen::__private::serde::Serialize,
    ::kvgen::__private::serde::Deserialize
)]
#[serde(crate = "::kvgen::__private::serde")]
pub struct PostMeta {
    ///Copy of [`Post::title`].
    pub title: String,
}
#[automatically_derived]
impl ::kvgen::Model for Post {
    type Id = u64;
    type Meta = PostMeta;
    const MODEL: &'static str = "post";
    const BINDING: &'static str = "APP";
    const DEFAULT_TTL: ::core::option::Option<u64> = ::core::option::Option::None;
    const INDEXES: &'static [::kvgen::IndexDef] = &[
        ::kvgen::IndexDef {
            name: "author_id",
            kind: ::kvgen::IndexKind::Secondary,
            fields: &["author_id"],
            strict: false,
        },
        ::kvgen::IndexDef {
            name: "author_id_status",
            kind: ::kvgen::IndexKind::Secondary,
            fields: &["author_id", "status"],
            strict: false,
        },
    ];
    fn id(&self) -> &u64 {
        &self.id
    }
    fn set_id(&mut self, id: u64) {
        self.id = id;
    }
    #[allow(unused_variables, clippy::single_match)]
    fn index_parts(&self, index: usize, key: &mut ::kvgen::__private::KeyWriter) {
        match index {
            0usize => {
                key.part(&self.author_id);
            }
            1usize => {
                key.part(&self.author_id);
                key.part(&self.status);
            }
            _ => {}
        }
    }
    fn meta(&self) -> ::core::option::Option<PostMeta> {
        ::core::option::Option::Some(PostMeta {
            title: ::core::clone::Clone::clone(&self.title),
        })
    }
}
///The typed KV repository of [`Post`]; dereferences to [`kvgen::Repo`] for get, create, put, update, delete, list and count.
pub struct PostRepo<'a, S>(pub ::kvgen::Repo<'a, Post, S>);
#[automatically_derived]
impl<'a, S> ::core::ops::Deref for PostRepo<'a, S> {
    type Target = ::kvgen::Repo<'a, Post, S>;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}
impl<'a, S: ::kvgen::KvStore> PostRepo<'a, S> {
    /// This repository with its stale-accepting reads (get, finders, listings, loaders) cached up to `secs` seconds: see [`kvgen::Repo::cached`].
    pub fn cached(&self, secs: u64) -> Self {
        PostRepo(self.0.cached(secs))
    }
    /// This repository with every read uncached: see [`kvgen::Repo::uncached`].
    pub fn uncached(&self) -> Self {
        PostRepo(self.0.uncached())
    }
}
impl<'a, S: ::kvgen::KvStore> PostRepo<'a, S> {
    ///One page of the [`Post`] records with this `author_id`. Costs 1 list + 1 bulk read per 100 records.
    pub async fn list_by_author_id(
        &self,
        author_id: &str,
        page: ::kvgen::Page,
    ) -> ::kvgen::Result<::kvgen::ListPage<Post>> {
        self.0.list_index(0usize, &[&author_id], page).await
    }
    ///One page of the ids and metadata of [`Post`] records with this `author_id`, without reading them. Costs 1 list.
    pub async fn list_by_author_id_meta(
        &self,
        author_id: &str,
        page: ::kvgen::Page,
    ) -> ::kvgen::Result<::kvgen::ListPage<::kvgen::Listed<Post>>> {
        self.0.list_index_meta(0usize, &[&author_id], page).await
    }
    ///One page of the [`Post`] records with this `author_id` and `status`. Costs 1 list + 1 bulk read per 100 records.
    pub async fn list_by_author_id_and_status(
        &self,
        author_id: &str,
        status: &PostStatus,
        page: ::kvgen::Page,
    ) -> ::kvgen::Result<::kvgen::ListPage<Post>> {
        self.0.list_index(1usize, &[&author_id, &status], page).await
    }
    ///One page of the ids and metadata of [`Post`] records with this `author_id` and `status`, without reading them. Costs 1 list.
    pub async fn list_by_author_id_and_status_meta(
        &self,
        author_id: &str,
        status: &PostStatus,
        page: ::kvgen::Page,
    ) -> ::kvgen::Result<::kvgen::ListPage<::kvgen::Listed<Post>>> {
        self.0.list_index_meta(1usize, &[&author_id, &status], page).await
    }
    ///One page of the [`Post`] records with this `author_id`, in the order of the index `author_id_status`. Costs 1 list + 1 bulk read per 100 records.
    pub async fn list_by_author_id_in_author_id_and_status(
        &self,
        author_id: &str,
        page: ::kvgen::Page,
    ) -> ::kvgen::Result<::kvgen::ListPage<Post>> {
        self.0
            .list_group(1usize, &[&author_id], ::core::option::Option::None, page)
            .await
    }
    ///One page of the ids and metadata of the [`Post`] records with this `author_id`, in the order of the index `author_id_status`, without reading the records. Costs 1 list.
    pub async fn list_by_author_id_in_author_id_and_status_meta(
        &self,
        author_id: &str,
        page: ::kvgen::Page,
    ) -> ::kvgen::Result<::kvgen::ListPage<::kvgen::Listed<Post>>> {
        self.0.list_group_meta(1usize, &[&author_id], page).await
    }
    ///How many entries index `author_id` holds for this `author_id`, without reading records: a stale entry a failed write left counts until `repair()`. Costs 1 list per 1,000.
    pub async fn count_by_author_id(&self, author_id: &str) -> ::kvgen::Result<u64> {
        self.0.count_group(0usize, &[&author_id]).await
    }
    ///How many entries index `author_id_status` holds for this `author_id`, without reading records: a stale entry a failed write left counts until `repair()`. Costs 1 list per 1,000.
    pub async fn count_by_author_id_in_author_id_and_status(
        &self,
        author_id: &str,
    ) -> ::kvgen::Result<u64> {
        self.0.count_group(1usize, &[&author_id]).await
    }
    ///How many entries index `author_id_status` holds for this `author_id` and `status`, without reading records: a stale entry a failed write left counts until `repair()`. Costs 1 list per 1,000.
    pub async fn count_by_author_id_and_status(
        &self,
        author_id: &str,
        status: &PostStatus,
    ) -> ::kvgen::Result<u64> {
        self.0.count_group(1usize, &[&author_id, &status]).await
    }
    ///The `author` this [`Post`] belongs to (through `author_id`). Costs 1 read.
    pub async fn load_author(
        &self,
        post: &Post,
    ) -> ::kvgen::Result<::core::option::Option<User>> {
        self.0.related::<User>().load_by_id(&post.author_id).await
    }
    ///For each [`Post`], the `author` it belongs to, in the same order. Costs 1 bulk read per 100 distinct parents.
    pub async fn load_authors(
        &self,
        posts: &[Post],
    ) -> ::kvgen::Result<::std::vec::Vec<::core::option::Option<User>>> {
        self.0.related::<User>().load_by_ids(posts.iter().map(|r| &r.author_id)).await
    }
    ///One page of the `comments` of this [`Post`]. Costs 1 list + 1 bulk read per 100 children.
    pub async fn list_comments(
        &self,
        post: &Post,
        page: ::kvgen::Page,
    ) -> ::kvgen::Result<::kvgen::ListPage<Comment>> {
        self.0
            .related::<Comment>()
            .list_index(
                <Comment as ::kvgen::__private::IndexedBy<
                    7948871530121469365u64,
                >>::INDEX,
                &[&post.id],
                page,
            )
            .await
    }
    ///Every one of the `comments` of each [`Post`], in the same order. Costs 1 list per parent and 1 bulk read per 100 children in all.
    pub async fn load_comments(
        &self,
        posts: &[Post],
    ) -> ::kvgen::Result<::std::vec::Vec<::std::vec::Vec<Comment>>> {
        self.0
            .related::<Comment>()
            .load_groups(
                <Comment as ::kvgen::__private::IndexedBy<
                    7948871530121469365u64,
                >>::INDEX,
                posts.iter().map(|r| &r.id),
            )
            .await
    }
}
impl Post {
    /// The typed repository of this model in `store`.
    pub fn repo<S: ::kvgen::KvStore>(store: &S) -> PostRepo<'_, S> {
        PostRepo(::kvgen::Repo::new(store))
    }
    /// The typed repository of this model in `store`, every key under `{scope}/` (`{scope}` when it ends in `:`).
    pub fn repo_scoped<'a, S: ::kvgen::KvStore>(
        store: &'a S,
        scope: &'a str,
    ) -> ::kvgen::Result<PostRepo<'a, S>> {
        ::kvgen::Repo::scoped(store, scope).map(PostRepo)
    }
}
#[automatically_derived]
#[doc(hidden)]
impl ::kvgen::__private::IndexedBy<3160957353358223494u64> for Post {
    const INDEX: usize = 0usize;
}
const _: () = {
    ::kvgen::__private::assert_foreign_key::<String, <User as ::kvgen::Model>::Id>();
    ::core::assert!(
        ::kvgen::__private::same_binding(< Post as ::kvgen::Model > ::BINDING, < User as
        ::kvgen::Model > ::BINDING),
        "`Post` and `User` are related but live in different KV bindings; relation loaders read one binding"
    );
    ::core::assert!(
        ::kvgen::__private::same_binding(< Post as ::kvgen::Model > ::BINDING, < Comment
        as ::kvgen::Model > ::BINDING),
        "`Post` and `Comment` are related but live in different KV bindings; relation loaders read one binding"
    );
};
/// A comment on a post.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Comment {
    /// The comment id.
    pub id: String,
    /// The post commented on.
    pub post_id: u64,
    /// Who wrote it.
    pub author_id: String,
    /// The text.
    pub body: String,
}
#[automatically_derived]
impl ::kvgen::Model for Comment {
    type Id = String;
    type Meta = ();
    const MODEL: &'static str = "comment";
    const BINDING: &'static str = "APP";
    const DEFAULT_TTL: ::core::option::Option<u64> = ::core::option::Option::None;
    const INDEXES: &'static [::kvgen::IndexDef] = &[
        ::kvgen::IndexDef {
            name: "post_id",
            kind: ::kvgen::IndexKind::Secondary,
            fields: &["post_id"],
            strict: false,
        },
        ::kvgen::IndexDef {
            name: "author_id",
            kind: ::kvgen::IndexKind::Secondary,
            fields: &["author_id"],
            strict: false,
        },
    ];
    fn id(&self) -> &String {
        &self.id
    }
    fn set_id(&mut self, id: String) {
        self.id = id;
    }
    #[allow(unused_variables, clippy::single_match)]
    fn index_parts(&self, index: usize, key: &mut ::kvgen::__private::KeyWriter) {
        match index {
            0usize => {
                key.part(&self.post_id);
            }
            1usize => {
                key.part(&self.author_id);
            }
            _ => {}
        }
    }
    fn meta(&self) -> ::core::option::Option<()> {
        ::core::option::Option::None
    }
}
///The typed KV repository of [`Comment`]; dereferences to [`kvgen::Repo`] for get, create, put, update, delete, list and count.
pub struct CommentRepo<'a, S>(pub ::kvgen::Repo<'a, Comment, S>);
#[automatically_derived]
impl<'a, S> ::core::ops::Deref for CommentRepo<'a, S> {
    type Target = ::kvgen::Repo<'a, Comment, S>;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}
impl<'a, S: ::kvgen::KvStore> CommentRepo<'a, S> {
    /// This repository with its stale-accepting reads (get, finders, listings, loaders) cached up to `secs` seconds: see [`kvgen::Repo::cached`].
    pub fn cached(&self, secs: u64) -> Self {
        CommentRepo(self.0.cached(secs))
    }
    /// This repository with every read uncached: see [`kvgen::Repo::uncached`].
    pub fn uncached(&self) -> Self {
        CommentRepo(self.0.uncached())
    }
}
impl<'a, S: ::kvgen::KvStore> CommentRepo<'a, S> {
    ///One page of the [`Comment`] records with this `post_id`. Costs 1 list + 1 bulk read per 100 records.
    pub async fn list_by_post_id(
        &self,
        post_id: u64,
        page: ::kvgen::Page,
    ) -> ::kvgen::Result<::kvgen::ListPage<Comment>> {
        self.0.list_index(0usize, &[&post_id], page).await
    }
    ///One page of the ids and metadata of [`Comment`] records with this `post_id`, without reading them. Costs 1 list.
    pub async fn list_by_post_id_meta(
        &self,
        post_id: u64,
        page: ::kvgen::Page,
    ) -> ::kvgen::Result<::kvgen::ListPage<::kvgen::Listed<Comment>>> {
        self.0.list_index_meta(0usize, &[&post_id], page).await
    }
    ///One page of the [`Comment`] records with this `author_id`. Costs 1 list + 1 bulk read per 100 records.
    pub async fn list_by_author_id(
        &self,
        author_id: &str,
        page: ::kvgen::Page,
    ) -> ::kvgen::Result<::kvgen::ListPage<Comment>> {
        self.0.list_index(1usize, &[&author_id], page).await
    }
    ///One page of the ids and metadata of [`Comment`] records with this `author_id`, without reading them. Costs 1 list.
    pub async fn list_by_author_id_meta(
        &self,
        author_id: &str,
        page: ::kvgen::Page,
    ) -> ::kvgen::Result<::kvgen::ListPage<::kvgen::Listed<Comment>>> {
        self.0.list_index_meta(1usize, &[&author_id], page).await
    }
    ///One page of the [`Comment`] records whose `post_id` is `>=` the one given, lowest first. Costs 1 list of up to 1,000 keys + 1 bulk read per 100 records; the keys before the start are passed over 1,000 a call (pages before the start come back empty, with a cursor).
    pub async fn list_by_post_id_from(
        &self,
        post_id: u64,
        page: ::kvgen::Page,
    ) -> ::kvgen::Result<::kvgen::ListPage<Comment>> {
        self.0
            .list_group(
                0usize,
                &[],
                ::core::option::Option::Some((&post_id, false)),
                page,
            )
            .await
    }
    ///One page of the [`Comment`] records whose `post_id` is `>` the one given, lowest first. Costs 1 list of up to 1,000 keys + 1 bulk read per 100 records; the keys before the start are passed over 1,000 a call (pages before the start come back empty, with a cursor).
    pub async fn list_by_post_id_after(
        &self,
        post_id: u64,
        page: ::kvgen::Page,
    ) -> ::kvgen::Result<::kvgen::ListPage<Comment>> {
        self.0
            .list_group(
                0usize,
                &[],
                ::core::option::Option::Some((&post_id, true)),
                page,
            )
            .await
    }
    ///How many entries index `post_id` holds for this `post_id`, without reading records: a stale entry a failed write left counts until `repair()`. Costs 1 list per 1,000.
    pub async fn count_by_post_id(&self, post_id: u64) -> ::kvgen::Result<u64> {
        self.0.count_group(0usize, &[&post_id]).await
    }
    ///How many entries index `author_id` holds for this `author_id`, without reading records: a stale entry a failed write left counts until `repair()`. Costs 1 list per 1,000.
    pub async fn count_by_author_id(&self, author_id: &str) -> ::kvgen::Result<u64> {
        self.0.count_group(1usize, &[&author_id]).await
    }
    ///The `post` this [`Comment`] belongs to (through `post_id`). Costs 1 read.
    pub async fn load_post(
        &self,
        comment: &Comment,
    ) -> ::kvgen::Result<::core::option::Option<Post>> {
        self.0.related::<Post>().load_by_id(&comment.post_id).await
    }
    ///For each [`Comment`], the `post` it belongs to, in the same order. Costs 1 bulk read per 100 distinct parents.
    pub async fn load_posts(
        &self,
        comments: &[Comment],
    ) -> ::kvgen::Result<::std::vec::Vec<::core::option::Option<Post>>> {
        self.0.related::<Post>().load_by_ids(comments.iter().map(|r| &r.post_id)).await
    }
    ///The `author` this [`Comment`] belongs to (through `author_id`). Costs 1 read.
    pub async fn load_author(
        &self,
        comment: &Comment,
    ) -> ::kvgen::Result<::core::option::Option<User>> {
        self.0.related::<User>().load_by_id(&comment.author_id).await
    }
    ///For each [`Comment`], the `author` it belongs to, in the same order. Costs 1 bulk read per 100 distinct parents.
    pub async fn load_authors(
        &self,
        comments: &[Comment],
    ) -> ::kvgen::Result<::std::vec::Vec<::core::option::Option<User>>> {
        self.0.related::<User>().load_by_ids(comments.iter().map(|r| &r.author_id)).await
    }
}
impl Comment {
    /// The typed repository of this model in `store`.
    pub fn repo<S: ::kvgen::KvStore>(store: &S) -> CommentRepo<'_, S> {
        CommentRepo(::kvgen::Repo::new(store))
    }
    /// The typed repository of this model in `store`, every key under `{scope}/` (`{scope}` when it ends in `:`).
    pub fn repo_scoped<'a, S: ::kvgen::KvStore>(
        store: &'a S,
        scope: &'a str,
    ) -> ::kvgen::Result<CommentRepo<'a, S>> {
        ::kvgen::Repo::scoped(store, scope).map(CommentRepo)
    }
}
#[automatically_derived]
#[doc(hidden)]
impl ::kvgen::__private::IndexedBy<7948871530121469365u64> for Comment {
    const INDEX: usize = 0usize;
}
#[automatically_derived]
#[doc(hidden)]
impl ::kvgen::__private::IndexedBy<3160957353358223494u64> for Comment {
    const INDEX: usize = 1usize;
}
const _: () = {
    ::kvgen::__private::assert_foreign_key::<u64, <Post as ::kvgen::Model>::Id>();
    ::core::assert!(
        ::kvgen::__private::same_binding(< Comment as ::kvgen::Model > ::BINDING, < Post
        as ::kvgen::Model > ::BINDING),
        "`Comment` and `Post` are related but live in different KV bindings; relation loaders read one binding"
    );
    ::kvgen::__private::assert_foreign_key::<String, <User as ::kvgen::Model>::Id>();
    ::core::assert!(
        ::kvgen::__private::same_binding(< Comment as ::kvgen::Model > ::BINDING, < User
        as ::kvgen::Model > ::BINDING),
        "`Comment` and `User` are related but live in different KV bindings; relation loaders read one binding"
    );
};
/// A login session: expires an hour after its last write.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Session {
    /// The session token.
    pub token: String,
    /// Whose session it is.
    pub user_id: String,
}
#[automatically_derived]
impl ::kvgen::Model for Session {
    type Id = String;
    type Meta = ();
    const MODEL: &'static str = "session";
    const BINDING: &'static str = "SESSIONS";
    const DEFAULT_TTL: ::core::option::Option<u64> = ::core::option::Option::Some(
        3600u64,
    );
    const INDEXES: &'static [::kvgen::IndexDef] = &[
        ::kvgen::IndexDef {
            name: "user_id",
            kind: ::kvgen::IndexKind::Secondary,
            fields: &["user_id"],
            strict: false,
        },
    ];
    fn id(&self) -> &String {
        &self.token
    }
    fn set_id(&mut self, id: String) {
        self.token = id;
    }
    #[allow(unused_variables, clippy::single_match)]
    fn index_parts(&self, index: usize, key: &mut ::kvgen::__private::KeyWriter) {
        match index {
            0usize => {
                key.part(&self.user_id);
            }
            _ => {}
        }
    }
    fn meta(&self) -> ::core::option::Option<()> {
        ::core::option::Option::None
    }
}
///The typed KV repository of [`Session`]; dereferences to [`kvgen::Repo`] for get, create, put, update, delete, list and count.
pub struct SessionRepo<'a, S>(pub ::kvgen::Repo<'a, Session, S>);
#[automatically_derived]
impl<'a, S> ::core::ops::Deref for SessionRepo<'a, S> {
    type Target = ::kvgen::Repo<'a, Session, S>;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}
impl<'a, S: ::kvgen::KvStore> SessionRepo<'a, S> {
    /// This repository with its stale-accepting reads (get, finders, listings, loaders) cached up to `secs` seconds: see [`kvgen::Repo::cached`].
    pub fn cached(&self, secs: u64) -> Self {
        SessionRepo(self.0.cached(secs))
    }
    /// This repository with every read uncached: see [`kvgen::Repo::uncached`].
    pub fn uncached(&self) -> Self {
        SessionRepo(self.0.uncached())
    }
}
impl<'a, S: ::kvgen::KvStore> SessionRepo<'a, S> {
    ///One page of the [`Session`] records with this `user_id`. Costs 1 list + 1 bulk read per 100 records.
    pub async fn list_by_user_id(
        &self,
        user_id: &str,
        page: ::kvgen::Page,
    ) -> ::kvgen::Result<::kvgen::ListPage<Session>> {
        self.0.list_index(0usize, &[&user_id], page).await
    }
    ///One page of the ids and metadata of [`Session`] records with this `user_id`, without reading them. Costs 1 list.
    pub async fn list_by_user_id_meta(
        &self,
        user_id: &str,
        page: ::kvgen::Page,
    ) -> ::kvgen::Result<::kvgen::ListPage<::kvgen::Listed<Session>>> {
        self.0.list_index_meta(0usize, &[&user_id], page).await
    }
    ///How many entries index `user_id` holds for this `user_id`, without reading records: a stale entry a failed write left counts until `repair()`. Costs 1 list per 1,000.
    pub async fn count_by_user_id(&self, user_id: &str) -> ::kvgen::Result<u64> {
        self.0.count_group(0usize, &[&user_id]).await
    }
}
impl Session {
    /// The typed repository of this model in `store`.
    pub fn repo<S: ::kvgen::KvStore>(store: &S) -> SessionRepo<'_, S> {
        SessionRepo(::kvgen::Repo::new(store))
    }
    /// The typed repository of this model in `store`, every key under `{scope}/` (`{scope}` when it ends in `:`).
    pub fn repo_scoped<'a, S: ::kvgen::KvStore>(
        store: &'a S,
        scope: &'a str,
    ) -> ::kvgen::Result<SessionRepo<'a, S>> {
        ::kvgen::Repo::scoped(store, scope).map(SessionRepo)
    }
}
#[automatically_derived]
#[doc(hidden)]
impl ::kvgen::__private::IndexedBy<9278023968149642234u64> for Session {
    const INDEX: usize = 0usize;
}
/// One thing a user did, kept as a log: listed per actor newest first
/// (`at` is descending in the index), from a point in time on.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Activity {
    /// The activity id.
    pub id: u64,
    /// Who did it.
    pub actor: String,
    /// When, milliseconds since the epoch (signed: before 1970 too).
    pub at: i64,
    /// Its order in the actor's log, ascending in its own index.
    pub seq: u32,
    /// What happened.
    pub what: String,
}
#[automatically_derived]
impl ::kvgen::Model for Activity {
    type Id = u64;
    type Meta = ();
    const MODEL: &'static str = "activity";
    const BINDING: &'static str = "APP";
    const DEFAULT_TTL: ::core::option::Option<u64> = ::core::option::Option::None;
    const INDEXES: &'static [::kvgen::IndexDef] = &[
        ::kvgen::IndexDef {
            name: "seq",
            kind: ::kvgen::IndexKind::Secondary,
            fields: &["seq"],
            strict: false,
        },
        ::kvgen::IndexDef {
            name: "actor_at",
            kind: ::kvgen::IndexKind::Secondary,
            fields: &["actor", "at"],
            strict: false,
        },
    ];
    fn id(&self) -> &u64 {
        &self.id
    }
    fn set_id(&mut self, id: u64) {
        self.id = id;
    }
    #[allow(unused_variables, clippy::single_match)]
    fn index_parts(&self, index: usize, key: &mut ::kvgen::__private::KeyWriter) {
        match index {
            0usize => {
                key.part(&self.seq);
            }
            1usize => {
                key.part(&self.actor);
                key.part(&::kvgen::key::Desc(&self.at));
            }
            _ => {}
        }
    }
    fn meta(&self) -> ::core::option::Option<()> {
        ::core::option::Option::None
    }
}
///The typed KV repository of [`Activity`]; dereferences to [`kvgen::Repo`] for get, create, put, update, delete, list and count.
pub struct ActivityRepo<'a, S>(pub ::kvgen::Repo<'a, Activity, S>);
#[automatically_derived]
impl<'a, S> ::core::ops::Deref for ActivityRepo<'a, S> {
    type Target = ::kvgen::Repo<'a, Activity, S>;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}
impl<'a, S: ::kvgen::KvStore> ActivityRepo<'a, S> {
    /// This repository with its stale-accepting reads (get, finders, listings, loaders) cached up to `secs` seconds: see [`kvgen::Repo::cached`].
    pub fn cached(&self, secs: u64) -> Self {
        ActivityRepo(self.0.cached(secs))
    }
    /// This repository with every read uncached: see [`kvgen::Repo::uncached`].
    pub fn uncached(&self) -> Self {
        ActivityRepo(self.0.uncached())
    }
}
impl<'a, S: ::kvgen::KvStore> ActivityRepo<'a, S> {
    ///One page of the [`Activity`] records with this `seq`. Costs 1 list + 1 bulk read per 100 records.
    pub async fn list_by_seq(
        &self,
        seq: u32,
        page: ::kvgen::Page,
    ) -> ::kvgen::Result<::kvgen::ListPage<Activity>> {
        self.0.list_index(0usize, &[&seq], page).await
    }
    ///One page of the ids and metadata of [`Activity`] records with this `seq`, without reading them. Costs 1 list.
    pub async fn list_by_seq_meta(
        &self,
        seq: u32,
        page: ::kvgen::Page,
    ) -> ::kvgen::Result<::kvgen::ListPage<::kvgen::Listed<Activity>>> {
        self.0.list_index_meta(0usize, &[&seq], page).await
    }
    ///One page of the [`Activity`] records with this `actor` and `at`. Costs 1 list + 1 bulk read per 100 records.
    pub async fn list_by_actor_and_at(
        &self,
        actor: &str,
        at: i64,
        page: ::kvgen::Page,
    ) -> ::kvgen::Result<::kvgen::ListPage<Activity>> {
        self.0.list_index(1usize, &[&actor, &::kvgen::key::Desc(&at)], page).await
    }
    ///One page of the ids and metadata of [`Activity`] records with this `actor` and `at`, without reading them. Costs 1 list.
    pub async fn list_by_actor_and_at_meta(
        &self,
        actor: &str,
        at: i64,
        page: ::kvgen::Page,
    ) -> ::kvgen::Result<::kvgen::ListPage<::kvgen::Listed<Activity>>> {
        self.0.list_index_meta(1usize, &[&actor, &::kvgen::key::Desc(&at)], page).await
    }
    ///One page of the [`Activity`] records whose `seq` is `>=` the one given, lowest first. Costs 1 list of up to 1,000 keys + 1 bulk read per 100 records; the keys before the start are passed over 1,000 a call (pages before the start come back empty, with a cursor).
    pub async fn list_by_seq_from(
        &self,
        seq: u32,
        page: ::kvgen::Page,
    ) -> ::kvgen::Result<::kvgen::ListPage<Activity>> {
        self.0
            .list_group(0usize, &[], ::core::option::Option::Some((&seq, false)), page)
            .await
    }
    ///One page of the [`Activity`] records whose `seq` is `>` the one given, lowest first. Costs 1 list of up to 1,000 keys + 1 bulk read per 100 records; the keys before the start are passed over 1,000 a call (pages before the start come back empty, with a cursor).
    pub async fn list_by_seq_after(
        &self,
        seq: u32,
        page: ::kvgen::Page,
    ) -> ::kvgen::Result<::kvgen::ListPage<Activity>> {
        self.0
            .list_group(0usize, &[], ::core::option::Option::Some((&seq, true)), page)
            .await
    }
    ///One page of the [`Activity`] records with this `actor`, in the order of the index `actor_at`. Costs 1 list + 1 bulk read per 100 records.
    pub async fn list_by_actor(
        &self,
        actor: &str,
        page: ::kvgen::Page,
    ) -> ::kvgen::Result<::kvgen::ListPage<Activity>> {
        self.0.list_group(1usize, &[&actor], ::core::option::Option::None, page).await
    }
    ///One page of the ids and metadata of the [`Activity`] records with this `actor`, in the order of the index `actor_at`, without reading the records. Costs 1 list.
    pub async fn list_by_actor_meta(
        &self,
        actor: &str,
        page: ::kvgen::Page,
    ) -> ::kvgen::Result<::kvgen::ListPage<::kvgen::Listed<Activity>>> {
        self.0.list_group_meta(1usize, &[&actor], page).await
    }
    ///One page of the [`Activity`] records with this `actor` whose `at` is `<=` the one given, highest first: the index keys it descending. Costs 1 list of up to 1,000 keys + 1 bulk read per 100 records; the keys before the start are passed over 1,000 a call (pages before the start come back empty, with a cursor).
    pub async fn list_by_actor_from_at(
        &self,
        actor: &str,
        at: i64,
        page: ::kvgen::Page,
    ) -> ::kvgen::Result<::kvgen::ListPage<Activity>> {
        self.0
            .list_group(
                1usize,
                &[&actor],
                ::core::option::Option::Some((&::kvgen::key::Desc(&at), false)),
                page,
            )
            .await
    }
    ///One page of the [`Activity`] records with this `actor` whose `at` is `<` the one given, highest first: the index keys it descending. Costs 1 list of up to 1,000 keys + 1 bulk read per 100 records; the keys before the start are passed over 1,000 a call (pages before the start come back empty, with a cursor).
    pub async fn list_by_actor_after_at(
        &self,
        actor: &str,
        at: i64,
        page: ::kvgen::Page,
    ) -> ::kvgen::Result<::kvgen::ListPage<Activity>> {
        self.0
            .list_group(
                1usize,
                &[&actor],
                ::core::option::Option::Some((&::kvgen::key::Desc(&at), true)),
                page,
            )
            .await
    }
    ///How many entries index `seq` holds for this `seq`, without reading records: a stale entry a failed write left counts until `repair()`. Costs 1 list per 1,000.
    pub async fn count_by_seq(&self, seq: u32) -> ::kvgen::Result<u64> {
        self.0.count_group(0usize, &[&seq]).await
    }
    ///How many entries index `actor_at` holds for this `actor`, without reading records: a stale entry a failed write left counts until `repair()`. Costs 1 list per 1,000.
    pub async fn count_by_actor(&self, actor: &str) -> ::kvgen::Result<u64> {
        self.0.count_group(1usize, &[&actor]).await
    }
    ///How many entries index `actor_at` holds for this `actor` and `at`, without reading records: a stale entry a failed write left counts until `repair()`. Costs 1 list per 1,000.
    pub async fn count_by_actor_and_at(
        &self,
        actor: &str,
        at: i64,
    ) -> ::kvgen::Result<u64> {
        self.0.count_group(1usize, &[&actor, &::kvgen::key::Desc(&at)]).await
    }
}
impl Activity {
    /// The typed repository of this model in `store`.
    pub fn repo<S: ::kvgen::KvStore>(store: &S) -> ActivityRepo<'_, S> {
        ActivityRepo(::kvgen::Repo::new(store))
    }
    /// The typed repository of this model in `store`, every key under `{scope}/` (`{scope}` when it ends in `:`).
    pub fn repo_scoped<'a, S: ::kvgen::KvStore>(
        store: &'a S,
        scope: &'a str,
    ) -> ::kvgen::Result<ActivityRepo<'a, S>> {
        ::kvgen::Repo::scoped(store, scope).map(ActivityRepo)
    }
}
#[automatically_derived]
#[doc(hidden)]
impl ::kvgen::__private::IndexedBy<9384246090093695804u64> for Activity {
    const INDEX: usize = 0usize;
}
