// t/mcp/tap.mjs - what the SDK client tests share: TAP-like output, a
// bound on their run time, and pacer's REST API (a new active user, its
// first-party access token and an API key).
//
// Output: "ok N - what" or "not ok N - what" with "  # detail" lines, the
// plan "1..N" at the end; the process exits 0 when every check passed.

let count = 0;
let failed = 0;

export function note(text) {
  for (const line of String(text).split('\n')) console.log(`# ${line}`);
}

export function ok(cond, what, detail) {
  count++;
  if (cond) {
    console.log(`ok ${count} - ${what}`);
  } else {
    failed++;
    console.log(`not ok ${count} - ${what}`);
    if (detail !== undefined) {
      const text = typeof detail === 'string' ? detail : JSON.stringify(detail, null, 2);
      for (const line of String(text).split('\n')) console.log(`  # ${line}`);
    }
  }
  return !!cond;
}

export function done() {
  console.log(`1..${count}`);
  if (failed > 0) console.log(`# ${failed} of ${count} checks failed`);
  process.exit(failed > 0 ? 1 : 0);
}

export function bail(why) {
  console.log(`Bail out! ${why instanceof Error ? why.stack || why.message : why}`);
  console.log(`1..${count}`);
  process.exit(1);
}

// Give up after ms milliseconds (a hang must not stall make check).
export function deadline(ms) {
  setTimeout(() => bail(`still running after ${ms / 1000} s`), ms).unref();
}

// The server's base URL (http://127.0.0.1:PORT) from the command line.
export function baseUrl() {
  const u = process.argv[2] || process.env.PACER_URL;
  if (!u) bail('usage: node SCRIPT http://127.0.0.1:PORT (or PACER_URL)');
  return u.replace(/\/+$/, '');
}

// One REST call: { status, body (parsed JSON or text), headers }.
export async function api(base, method, path, { token, apiKey, json } = {}) {
  const headers = { Accept: 'application/json' };
  if (token) headers.Authorization = `Bearer ${token}`;
  if (apiKey) headers['X-API-Key'] = apiKey;
  if (json !== undefined) headers['Content-Type'] = 'application/json';
  const r = await fetch(base + path, {
    method,
    headers,
    body: json !== undefined ? JSON.stringify(json) : undefined,
    redirect: 'manual',
  });
  const text = await r.text();
  let body = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  return { status: r.status, body, headers: r.headers };
}

function random(n) {
  const abc = 'abcdefghijklmnopqrstuvwxyz0123456789';
  let s = '';
  for (let i = 0; i < n; i++) s += abc[Math.floor(Math.random() * abc.length)];
  return s;
}

// Register a user (the server runs with auto_approve_users = on, so it is
// active at once) and log in: { email, password, id, access }.
export async function newUser(base, tag) {
  const email = `${tag}-${random(10)}@example.org`;
  const password = `pw-${random(20)}`;
  const reg = await api(base, 'POST', '/api/auth/register', {
    json: { email, password, display_name: `SDK test ${tag}` },
  });
  if (!ok(reg.status === 201, `POST /api/auth/register makes ${email}`, reg)) bail('no user');
  ok(reg.body.status === 'active', 'the account is active at once (auto_approve_users)', reg.body);
  const login = await api(base, 'POST', '/api/auth/login', { json: { email, password } });
  if (!ok(login.status === 200 && typeof login.body.access_token === 'string',
    'POST /api/auth/login gives a first-party access token', login)) bail('no login');
  return { email, password, id: reg.body.id, access: login.body.access_token };
}
