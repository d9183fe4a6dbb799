import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { backends } from '../helpers/databases.js';
import { type TestHub, testHub } from '../helpers/hub.js';
import { call, createMapping, mappingBody } from '../helpers/mappings.js';

// The endpoint URL policy at mapping and integration create and update (docs/security.md): a
// refused URL is a 422 naming `url` and the rule, and nothing is stored or fetched.

const REFUSED: Array<[string, RegExp]> = [
  ['http://169.254.169.254/latest/meta-data', /metadata/],
  ['http://10.0.0.1/ship', /private range \(10\.0\.0\.0\/8\)/],
  ['http://[::ffff:169.254.169.254]/', /metadata/],
  ['http://0.0.0.0:8080/', /unspecified/],
  ['http://2130706433.0x0/', /./],
  ['http://0x0a.1/', /private range/],
  ['http://metadata.google.internal/computeMetadata/v1/', /metadata/],
  ['https://user:pass@endpoint.example.com/', /credentials/],
  ['http://192.168.1.1/', /private range/],
];

async function countingEndpoint() {
  let requests = 0;
  const server = createServer((_req, res) => {
    requests++;
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests: () => requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

for (const backend of backends()) {
  describe(`endpoint URL policy at create and update (${backend})`, () => {
    let t: TestHub;
    before(async () => {
      t = await testHub(backend);
    });
    after(async () => t.close());

    test('each refused spelling is a 422 naming url and the rule, and no mapping is stored', async () => {
      const before = (await call(t, 'GET', 'mappings')).body.length;
      for (const [url, rule] of REFUSED) {
        const res = await call(t, 'POST', 'mappings', mappingBody({ url }));
        if (url === 'http://2130706433.0x0/') {
          // not an address WHATWG URL can parse as IPv4: a name, refused or rejected either way
          assert.ok(res.status >= 400 && res.status < 500, `${url}: ${res.status}`);
          continue;
        }
        assert.equal(res.status, 422, `${url}: ${JSON.stringify(res.body)}`);
        assert.match(res.body.error, /endpoint URL policy/, url);
        assert.match(res.body.errors['/url'][0], /^refused by endpoint URL policy: /, url);
        assert.match(res.body.errors['/url'][0], rule, url);
      }
      assert.equal((await call(t, 'GET', 'mappings')).body.length, before);
    });

    test('loopback and public URLs are accepted by default', async () => {
      const local = await call(t, 'POST', 'mappings', mappingBody({ url: 'http://127.0.0.1:9/ship' }));
      assert.equal(local.status, 201, JSON.stringify(local.body));
      const pub = await call(t, 'POST', 'mappings', mappingBody({ url: 'https://endpoint.example.com/x' }));
      assert.equal(pub.status, 201, JSON.stringify(pub.body));
    });

    test('an update to a refused URL is refused and leaves the mapping as it was', async () => {
      const m = await createMapping(t);
      const res = await call(t, 'PUT', `mappings/${m.id}`, { url: 'http://172.16.0.5/' });
      assert.equal(res.status, 422, JSON.stringify(res.body));
      assert.match(res.body.error, /endpoint URL policy/);
      assert.equal((await call(t, 'GET', `mappings/${m.id}`)).body.url, m.url);
    });
  });

  describe(`endpoint URL policy with loopback refused (${backend})`, () => {
    let t: TestHub;
    let endpoint: Awaited<ReturnType<typeof countingEndpoint>>;
    before(async () => {
      endpoint = await countingEndpoint();
      t = await testHub(backend, { config: { endpointLoopback: false } });
    });
    after(async () => {
      await t.close();
      await endpoint.close();
    });

    test('an integration on loopback is refused before its endpoint.json is fetched', async () => {
      const res = await call(t, 'POST', 'integrations', { name: 'local', url: endpoint.url, token: 'k' });
      assert.equal(res.status, 422, JSON.stringify(res.body));
      assert.match(res.body.error, /endpoint URL policy/);
      assert.match(res.body.errors['/url'][0], /loopback/);
      assert.equal(endpoint.requests(), 0);
      assert.equal((await call(t, 'GET', 'integrations')).body.length, 0);
    });

    test('a mapping on localhost is refused by name', async () => {
      const res = await call(t, 'POST', 'mappings', mappingBody({ url: 'http://localhost:9/' }));
      assert.equal(res.status, 422, JSON.stringify(res.body));
      assert.match(res.body.errors['/url'][0], /loopback|localhost/);
    });
  });
}
