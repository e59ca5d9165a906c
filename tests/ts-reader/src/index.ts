// Reads the records the Rust Worker of examples/worker wrote, with the key
// builders, types and read helpers kvgen generated for its models
// (examples/worker/ts/kv.ts), and answers what it found as JSON. scripts/e2e
// posts the ids it wrote through the Rust Worker and compares the answer
// with what it wrote.
import {
  findProfileByUserId,
  findUserByEmail,
  findUserByOrgIdAndHandle,
  getPost,
  getSessionWithMeta,
  getUser,
  getUserWithMeta,
  listCommentByPostId,
  listPostByAuthorIdAndStatus,
  listUserByOrgId,
  postKey,
  type PostStatus,
  userByEmailKey,
  userKey,
  userPrefix,
} from "../../../examples/worker/ts/kv";

/** What to read: the inputs the Rust Worker was given. Post ids are decimal strings (they may exceed 2^53). */
interface Query {
  users: { id: string; email: string; org_id: string; handle: string }[];
  orgs: string[];
  profiles: string[];
  posts: { id: string; author_id: string; status: PostStatus }[];
  sessions: string[];
  /** A unique entry to write naming a record that does not carry its value: `findUserByEmail` must ignore it. */
  stale: { email: string; id: string };
}

export default {
  async fetch(req: Request, env: Env): Promise<Response> {
    const url = new URL(req.url);
    if (url.pathname === "/") return new Response("kvgen ts-reader");
    if (req.method !== "POST" || url.pathname !== "/read") return new Response("not found", { status: 404 });
    const q = await req.json<Query>();
    const users = [];
    for (const u of q.users) {
      const withMeta = await getUserWithMeta(env.APP, u.id);
      users.push({
        get: await getUser(env.APP, u.id),
        metadata: withMeta.metadata,
        byEmail: await findUserByEmail(env.APP, u.email),
        byOrgAndHandle: await findUserByOrgIdAndHandle(env.APP, u.org_id, u.handle),
      });
    }
    const orgs = [];
    for (const org of q.orgs) orgs.push((await listUserByOrgId(env.APP, org)).items.map((u) => u.id).sort());
    const profiles = [];
    for (const userId of q.profiles) profiles.push(await findProfileByUserId(env.APP, userId));
    const posts = [];
    for (const p of q.posts) {
      const id = BigInt(p.id);
      posts.push({
        // The record's text as stored: JSON.parse would round an id beyond 2^53, the e2e parses it exactly.
        raw: await env.APP.get(postKey(id), "text"),
        found: (await getPost(env.APP, id)) !== null,
        titles: (await listPostByAuthorIdAndStatus(env.APP, p.author_id, p.status)).items.map((x) => x.title).sort(),
        comments: (await listCommentByPostId(env.APP, p.id)).items.map((c) => c.id).sort(),
      });
    }
    const sessions = [];
    for (const token of q.sessions) sessions.push(await getSessionWithMeta(env.SESSIONS, token));
    // The entry's value is the holder's encoded id, as kvgen writes it.
    await env.APP.put(userByEmailKey(q.stale.email), userKey(q.stale.id).slice(userPrefix().length));
    const stale = { entry: await env.APP.get(userByEmailKey(q.stale.email)), found: await findUserByEmail(env.APP, q.stale.email) };
    return Response.json({ users, orgs, profiles, posts, sessions, stale });
  },
} satisfies ExportedHandler<Env>;
