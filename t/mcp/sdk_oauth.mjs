// t/mcp/sdk_oauth.mjs - the official TypeScript SDK client through pacer's
// whole OAuth 2.1 flow for MCP, without a browser.
//
//   node sdk_oauth.mjs http://127.0.0.1:PORT
//
// A user signs in through the REST API (first-party access token). An MCP
// client with only an OAuthClientProvider connects: POST /mcp answers 401,
// the SDK discovers the protected-resource and authorization-server
// metadata, registers the client dynamically and sends the "user" to
// /oauth2/authorize. redirectToAuthorization plays the browser: it GETs
// that URL with the user's first-party token, and pacer answers 302 to the
// redirect URI with the code at once. connect() fails with
// UnauthorizedError, transport.finishAuth(code) exchanges the code (PKCE)
// at /oauth2/token, and a new connection initializes and calls whoami. The
// access token the SDK got is bound to /mcp: /api/me refuses it.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { api, bail, baseUrl, deadline, done, newUser, note, ok } from './tap.mjs';

deadline(60000);
const base = baseUrl();
const mcpUrl = new URL(`${base}/mcp`);
// Never contacted: the "browser" stops at the redirect and reads the code.
const redirectUri = 'http://127.0.0.1:33418/callback';

// Every request the SDK makes, with its answer.
const trace = [];
async function tracingFetch(url, init = {}) {
  const r = await fetch(url, init);
  const u = new URL(String(url));
  trace.push({
    method: (init.method || 'GET').toUpperCase(),
    path: u.pathname,
    status: r.status,
    wwwAuthenticate: r.headers.get('www-authenticate'),
  });
  return r;
}
function seen(method, path) {
  return trace.find((t) => t.method === method && t.path === path);
}
function showTrace() {
  return trace.map((t) => `${t.method} ${t.path} -> ${t.status}`).join('\n');
}

// An in-memory OAuthClientProvider whose redirectToAuthorization is the
// user's browser, signed in to pacer with a first-party access token.
class HeadlessProvider {
  constructor(userToken) {
    this.userToken = userToken;
    this.stateValue = `st-${Math.random().toString(36).slice(2)}`;
    this.authorizationUrl = undefined;
    this.code = undefined;
    this.browserError = undefined;
  }
  get redirectUrl() {
    return redirectUri;
  }
  get clientMetadata() {
    return {
      client_name: 'pacer SDK OAuth test',
      redirect_uris: [redirectUri],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    };
  }
  state() {
    return this.stateValue;
  }
  clientInformation() {
    return this.client;
  }
  saveClientInformation(info) {
    this.client = info;
  }
  tokens() {
    return this.savedTokens;
  }
  saveTokens(tokens) {
    this.savedTokens = tokens;
  }
  saveCodeVerifier(v) {
    this.verifier = v;
  }
  codeVerifier() {
    if (!this.verifier) throw new Error('no code verifier saved');
    return this.verifier;
  }
  async redirectToAuthorization(url) {
    this.authorizationUrl = new URL(String(url));
    try {
      const r = await fetch(url, {
        headers: { Authorization: `Bearer ${this.userToken}` },
        redirect: 'manual',
      });
      this.browserStatus = r.status;
      this.browserLocation = r.headers.get('location');
      if (r.status !== 302 && r.status !== 303) {
        this.browserError = `GET /oauth2/authorize answered ${r.status}: ${await r.text()}`;
        return;
      }
      const to = new URL(this.browserLocation, url);
      this.redirectedTo = to;
      this.code = to.searchParams.get('code') ?? undefined;
      if (!this.code) this.browserError = `no code in the redirect to ${to}`;
    } catch (e) {
      this.browserError = e.stack || String(e);
    }
  }
}

try {
  const user = await newUser(base, 'sdk-oauth');
  const provider = new HeadlessProvider(user.access);

  // 1. No token: 401, discovery, registration, authorization.
  let transport = new StreamableHTTPClientTransport(mcpUrl, { authProvider: provider, fetch: tracingFetch });
  let client = new Client({ name: 'pacer-sdk-oauth-test', version: '1.0.0' });
  let err;
  try {
    await client.connect(transport);
  } catch (e) {
    err = e;
  }
  ok(err instanceof UnauthorizedError, 'connect without a token ends in UnauthorizedError (authorization needed)',
    err ? err.stack || String(err) : `connected without a token\n${showTrace()}`);
  const first = trace[0];
  ok(first && first.method === 'POST' && first.path === '/mcp' && first.status === 401,
    'the first POST /mcp is answered 401', showTrace());
  ok(first && /^Bearer\b/i.test(first.wwwAuthenticate ?? '') && /resource_metadata=/.test(first.wwwAuthenticate ?? ''),
    'its WWW-Authenticate is Bearer with resource_metadata', first?.wwwAuthenticate ?? '(none)');
  const prm = seen('GET', '/.well-known/oauth-protected-resource/mcp');
  ok(prm && prm.status === 200, 'the SDK read /.well-known/oauth-protected-resource/mcp', showTrace());
  const asm = seen('GET', '/.well-known/oauth-authorization-server');
  ok(asm && asm.status === 200, 'the SDK read /.well-known/oauth-authorization-server', showTrace());
  const reg = seen('POST', '/oauth2/register');
  ok(reg && reg.status === 201 && provider.client?.client_id,
    `the SDK registered a client at /oauth2/register (client_id ${provider.client?.client_id})`, showTrace());

  const au = provider.authorizationUrl;
  ok(au && au.pathname === '/oauth2/authorize', 'redirectToAuthorization got the /oauth2/authorize URL', String(au));
  if (au) {
    const q = au.searchParams;
    ok(q.get('response_type') === 'code' && q.get('code_challenge_method') === 'S256' &&
      q.get('code_challenge') && q.get('client_id') === provider.client?.client_id &&
      q.get('redirect_uri') === redirectUri && q.get('resource'),
    'the authorization request has code, PKCE S256, client_id, redirect_uri and resource', String(au));
    note(`resource ${q.get('resource')}, scope ${q.get('scope') ?? '(none)'}`);
  }
  ok(!provider.browserError && provider.code,
    'GET /oauth2/authorize with the user\'s first-party token answers 302 with a code',
    provider.browserError ?? `status ${provider.browserStatus}, Location ${provider.browserLocation}`);
  if (provider.redirectedTo) {
    const to = provider.redirectedTo;
    ok(`${to.origin}${to.pathname}` === redirectUri && to.searchParams.get('state') === provider.stateValue,
      'the redirect goes to the redirect URI with our state', String(to));
  }
  if (!provider.code) bail(`no authorization code; requests so far:\n${showTrace()}`);

  // 2. The code for tokens.
  try {
    await transport.finishAuth(provider.code);
    const tok = seen('POST', '/oauth2/token');
    ok(tok && tok.status === 200, 'transport.finishAuth(code) exchanged the code at /oauth2/token', showTrace());
  } catch (e) {
    ok(false, 'transport.finishAuth(code) exchanged the code at /oauth2/token', `${e.stack || e}\n${showTrace()}`);
  }
  const tokens = provider.tokens();
  ok(tokens && typeof tokens.access_token === 'string' && /^bearer$/i.test(tokens.token_type ?? ''),
    'the SDK holds a Bearer access token', tokens ? { ...tokens, access_token: '...', refresh_token: '...' } : 'none');
  if (!tokens?.access_token) bail('no access token');
  note(`token_type ${tokens.token_type}, expires_in ${tokens.expires_in}, scope ${tokens.scope ?? '(none)'}, ` +
    `refresh token ${tokens.refresh_token ? 'yes' : 'no'}`);
  await client.close().catch(() => {});

  // 3. Connect again with the token: initialize, tools/call.
  transport = new StreamableHTTPClientTransport(mcpUrl, { authProvider: provider, fetch: tracingFetch });
  client = new Client({ name: 'pacer-sdk-oauth-test', version: '1.0.0' });
  const before = trace.length;
  try {
    await client.connect(transport);
    const server = client.getServerVersion();
    ok(true, `connect (initialize) with the OAuth token to ${server?.name} ${server?.version}`);
  } catch (e) {
    ok(false, 'connect (initialize) with the OAuth token', `${e.stack || e}\n${showTrace()}`);
    bail('cannot connect with the token');
  }
  ok(!trace.slice(before).some((t) => t.status === 401), 'no 401 once the client holds the token',
    showTrace());
  try {
    const r = await client.callTool({ name: 'whoami', arguments: {} });
    ok(!r.isError, 'tools/call whoami succeeds', r);
    ok(r.structuredContent && r.structuredContent.email === user.email,
      `whoami's structuredContent.email is ${user.email}`, r.structuredContent ?? r);
  } catch (e) {
    ok(false, 'tools/call whoami', e.stack || String(e));
  }
  await transport.terminateSession().catch(() => {});
  await client.close().catch(() => {});

  // 4. Audience binding: the token is for /mcp, not for the REST API.
  const me = await api(base, 'GET', '/api/me', { token: tokens.access_token });
  ok(me.status === 401, `GET /api/me refuses the MCP client's token (${me.status} ${me.body?.reason ?? ''})`, me.body);
  const mine = await api(base, 'GET', '/api/me', { token: user.access });
  ok(mine.status === 200 && mine.body.email === user.email, 'GET /api/me takes the user\'s first-party token', mine);

  // The authorization endpoint gives no code to a caller who is not signed in.
  const anon = await fetch(provider.authorizationUrl, { redirect: 'manual' });
  const loc = anon.headers.get('location') ?? '';
  ok(!/[?&]code=/.test(loc), `GET /oauth2/authorize without a signed-in user gives no code (${anon.status})`, loc);
} catch (e) {
  bail(e);
}
done();
