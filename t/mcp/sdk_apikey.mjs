// t/mcp/sdk_apikey.mjs - the official TypeScript SDK client against
// pacer's /mcp with an API key.
//
//   node sdk_apikey.mjs http://127.0.0.1:PORT
//
// Makes a user and a key through the REST API, then with the SDK's
// Streamable HTTP transport: a client without credentials is refused
// (HTTP 401); with the key in X-API-Key, and again in
// "Authorization: Bearer", it connects (initialize), lists the tools
// (whoami and server_status among them), calls whoami (the user's email
// in structuredContent) and ends its session (DELETE /mcp).
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import {
  StreamableHTTPClientTransport,
  StreamableHTTPError,
} from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { api, bail, baseUrl, deadline, done, newUser, note, ok } from './tap.mjs';

deadline(60000);
const base = baseUrl();
const mcpUrl = new URL(`${base}/mcp`);

async function session(label, headers, user) {
  const transport = new StreamableHTTPClientTransport(mcpUrl, { requestInit: { headers } });
  const client = new Client({ name: 'pacer-sdk-apikey-test', version: '1.0.0' });
  try {
    await client.connect(transport);
  } catch (e) {
    ok(false, `${label}: connect (initialize)`, e.stack || String(e));
    return;
  }
  const server = client.getServerVersion();
  ok(server && server.name, `${label}: connect (initialize) to ${server?.name} ${server?.version}`, server);
  ok(transport.sessionId === undefined || typeof transport.sessionId === 'string',
    `${label}: session id ${transport.sessionId ?? '(none)'}`);

  try {
    const { tools } = await client.listTools();
    const names = tools.map((t) => t.name);
    ok(names.includes('whoami') && names.includes('server_status'),
      `${label}: tools/list has whoami and server_status`, names);
    ok(!names.some((n) => n.startsWith('test_')), `${label}: no conformance fixtures (mcp_fixtures off)`, names);
  } catch (e) {
    ok(false, `${label}: tools/list`, e.stack || String(e));
  }

  try {
    const r = await client.callTool({ name: 'whoami', arguments: {} });
    ok(!r.isError, `${label}: tools/call whoami succeeds`, r);
    ok(r.structuredContent && r.structuredContent.email === user.email,
      `${label}: whoami's structuredContent.email is ${user.email}`, r.structuredContent ?? r);
  } catch (e) {
    ok(false, `${label}: tools/call whoami`, e.stack || String(e));
  }

  try {
    await transport.terminateSession();
    ok(transport.sessionId === undefined, `${label}: DELETE /mcp ends the session`);
  } catch (e) {
    ok(false, `${label}: DELETE /mcp ends the session`, e.stack || String(e));
  }
  await client.close();
}

try {
  const user = await newUser(base, 'sdk-apikey');
  const made = await api(base, 'POST', '/api/keys', { token: user.access, json: { name: 'sdk test' } });
  if (!ok(made.status === 201 && typeof made.body.key === 'string', 'POST /api/keys makes a key', made)) {
    bail('no API key');
  }
  const key = made.body.key;
  note(`key ${made.body.prefix} (${made.body.tier})`);

  // No credential (and no auth provider): the SDK reports the server's 401.
  {
    const transport = new StreamableHTTPClientTransport(mcpUrl);
    const client = new Client({ name: 'pacer-sdk-apikey-test', version: '1.0.0' });
    let err;
    try {
      await client.connect(transport);
    } catch (e) {
      err = e;
    }
    ok(err instanceof StreamableHTTPError && err.code === 401, 'no credential: connect fails with HTTP 401',
      err ? err.stack || String(err) : 'connected');
    await client.close().catch(() => {});
  }

  await session('X-API-Key', { 'X-API-Key': key }, user);
  await session('Authorization: Bearer <key>', { Authorization: `Bearer ${key}` }, user);
} catch (e) {
  bail(e);
}
done();
