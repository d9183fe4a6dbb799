import assert from 'node:assert/strict';
import { test } from 'node:test';
import { entryProblem, parseAddress, UrlPolicy } from '../../src/url-policy.js';

const policy = new UrlPolicy();
const strict = new UrlPolicy({ loopback: false, allow: [], deny: [] });

/** Every spelling the hub was found to accept, with the reason it is now refused. */
const REFUSED: [string, RegExp][] = [
  [
    'http://169.254.169.254/latest/meta-data/',
    /^169\.254\.169\.254 is a cloud metadata address \(169\.254\.169\.254\/32\)$/,
  ],
  ['http://[fd00:ec2::254]/', /fd00:ec2::254 is a cloud metadata address/],
  ['http://100.100.100.200/', /cloud metadata address/],
  [
    'http://metadata.google.internal/computeMetadata/v1/',
    /^metadata\.google\.internal is a cloud metadata host name$/,
  ],
  ['http://metadata.google.internal./', /^metadata\.google\.internal is a cloud metadata host name$/],
  ['http://METADATA.Google.Internal/', /cloud metadata host name/],
  ['http://metadata/', /cloud metadata host name/],
  ['http://10.0.0.1/', /^10\.0\.0\.1 is in a private range \(10\.0\.0\.0\/8\)$/],
  ['http://10.1/', /^10\.0\.0\.1 is in a private range/],
  ['http://172.16.5.4/', /private range \(172\.16\.0\.0\/12\)/],
  ['http://192.168.1.1:8080/', /private range \(192\.168\.0\.0\/16\)/],
  ['http://100.64.0.1/', /shared address space\) \(100\.64\.0\.0\/10\)/],
  ['http://[fc00::1]/', /unique local\) \(fc00::\/7\)/],
  ['http://[fd12:3456::1]/', /fc00::\/7/],
  ['http://169.254.1.1/', /link-local \(169\.254\.0\.0\/16\)/],
  ['http://[fe80::1]/', /link-local \(fe80::\/10\)/],
  ['http://0.0.0.0/', /unspecified/],
  ['http://0/', /^0\.0\.0\.0 is unspecified/],
  ['http://[::]/', /^:: is unspecified \(::\/128\)$/],
  ['http://224.0.0.1/', /multicast \(224\.0\.0\.0\/4\)/],
  ['http://[ff02::1]/', /multicast \(ff00::\/8\)/],
  ['http://255.255.255.255/', /broadcast/],
  ['http://240.0.0.1/', /reserved \(240\.0\.0\.0\/4\)/],
  [
    'http://[::ffff:169.254.169.254]/',
    /^::ffff:a9fe:a9fe \(169\.254\.169\.254\) is a cloud metadata address/,
  ],
  ['http://[::ffff:a9fe:a9fe]/', /\(169\.254\.169\.254\) is a cloud metadata address/],
  ['http://[::a9fe:a9fe]/', /\(169\.254\.169\.254\) is a cloud metadata address/],
  ['http://[::ffff:10.0.0.1]/', /\(10\.0\.0\.1\) is in a private range/],
  ['http://[64:ff9b::a9fe:a9fe]/', /\(169\.254\.169\.254\)/],
  ['http://[0:0:0:0:0:ffff:a00:1]/', /\(10\.0\.0\.1\)/],
  ['http://2852039166/', /^169\.254\.169\.254 is a cloud metadata/],
  ['http://0xa9fea9fe/', /^169\.254\.169\.254 is a cloud metadata/],
  ['http://0xa9.0xfe.0xa9.0xfe/', /^169\.254\.169\.254/],
  ['http://0251.0376.0251.0376/', /^169\.254\.169\.254/],
  ['http://012.1/', /^10\.0\.0\.1 is in a private range/],
  ['http://10.0.0.1./', /^10\.0\.0\.1 is in a private range/],
  ['http://user:pass@example.com/', /credentials/],
  ['http://user@example.com/', /credentials/],
  ['ftp://example.com/', /only http and https/],
  ['file:///etc/passwd', /only http and https/],
];

test('every refused spelling is refused, with its reason', () => {
  for (const [url, reason] of REFUSED) {
    const why = policy.checkUrl(url);
    assert.ok(why, `${url} was accepted`);
    assert.match(why, reason, url);
  }
});

test('public addresses and names, and loopback by default, are allowed', () => {
  for (const url of [
    'https://example.com/orders',
    'http://93.184.216.34:8080/x',
    'http://[2606:4700::1111]/',
    'http://127.0.0.1:4000/',
    'http://127.1/',
    'http://2130706433/',
    'http://0x7f000001/',
    'http://0x7f.1/',
    'http://0177.0.0.1/',
    'http://[::1]/',
    'http://localhost:3000/',
    'http://172.32.0.1/',
    'http://100.128.0.1/',
    'http://[2002::1]/',
  ]) {
    assert.equal(policy.checkUrl(url), undefined, url);
  }
});

test('with loopback refused, every loopback spelling and localhost are refused', () => {
  for (const url of [
    'http://127.0.0.1/',
    'http://127.1/',
    'http://2130706433/',
    'http://0x7f000001/',
    'http://0x7f.1/',
    'http://0177.0.0.1/',
    'http://127.0.0.1./',
    'http://[::1]/',
    'http://[0:0:0:0:0:0:0:1]/',
    'http://[::ffff:127.0.0.1]/',
    'http://[::ffff:7f00:1]/',
  ]) {
    assert.match(
      strict.checkUrl(url) ?? '',
      /is loopback; endpointLoopback is false \((127\.0\.0\.0\/8|::1\/128)\)$/,
      url,
    );
  }
  assert.match(strict.checkUrl('http://localhost/') ?? '', /localhost is a loopback name/);
  assert.match(strict.checkUrl('http://LOCALHOST./') ?? '', /localhost is a loopback name/);
  assert.match(strict.checkUrl('http://app.localhost/') ?? '', /loopback name/);
  assert.match(strict.checkAddress('127.0.0.1') ?? '', /127\.0\.0\.1 is loopback/);
  assert.match(strict.checkAddress('::1') ?? '', /::1 is loopback/);
});

test('the allow list overrides built-in refusals; the deny list adds to them and wins', () => {
  const p = new UrlPolicy({
    loopback: false,
    allow: ['10.1.0.0/16', 'erp.corp.internal', '127.0.0.1', 'fd00::/8', '*.svc.local'],
    deny: ['203.0.113.0/24', 'evil.example', '*.blocked.example', '10.1.2.3'],
  });
  assert.equal(p.checkUrl('http://10.1.9.9/'), undefined);
  assert.match(p.checkUrl('http://10.2.0.1/') ?? '', /private range/);
  assert.equal(p.checkUrl('http://127.0.0.1/'), undefined);
  assert.equal(p.checkUrl('http://[fd00::5]/'), undefined);
  assert.equal(p.checkUrl('http://[fd00:ec2::254]/'), undefined, 'allow overrides the metadata rule too');
  assert.equal(p.allowsName('erp.corp.internal.'), true);
  assert.equal(p.allowsName('a.b.svc.local'), true);
  assert.equal(p.allowsName('svc.local'), false);
  assert.equal(p.checkAddress('10.9.9.9', true), undefined, 'an allowed name skips the built-in rules');
  assert.match(
    p.checkUrl('http://203.0.113.7/') ?? '',
    /^203\.0\.113\.7 is in the deny list \(203\.0\.113\.0\/24\)$/,
  );
  assert.match(p.checkUrl('http://evil.example./') ?? '', /^evil\.example is in the deny list$/);
  assert.match(p.checkUrl('http://x.blocked.example/') ?? '', /deny list/);
  assert.match(p.checkUrl('http://10.1.2.3/') ?? '', /deny list \(10\.1\.2\.3\/32\)/, 'deny wins over allow');
  assert.match(p.checkAddress('203.0.113.1', true) ?? '', /deny list/, 'deny applies to an allowed name too');
  assert.match(p.checkAddress('::ffff:203.0.113.9') ?? '', /\(203\.0\.113\.9\) is in the deny list/);
});

test('list entries: CIDRs, addresses and names; anything else is reported', () => {
  for (const ok of [
    '10.0.0.0/8',
    '10.0.0.1',
    'fd00::/8',
    '[::1]',
    'example.com',
    '*.example.com',
    'example.com.',
  ])
    assert.equal(entryProblem(ok), undefined, ok);
  for (const bad of ['10/8', '10.0.0.0/33', 'fd00::/129', 'http://x', 'a b', '', '1.2.3.4/x'])
    assert.ok(entryProblem(bad), bad);
  assert.throws(() => new UrlPolicy({ loopback: true, allow: ['10/8'], deny: [] }), /not a CIDR/);
});

test('IPv6 parsing normalises every spelling to the compressed form', () => {
  assert.equal(parseAddress('0:0:0:0:0:0:0:1')?.text, '::1');
  assert.equal(parseAddress('FE80::0:1')?.text, 'fe80::1');
  assert.equal(parseAddress('fe80::1%eth0')?.text, 'fe80::1');
  assert.equal(parseAddress('::ffff:169.254.169.254')?.text, '::ffff:a9fe:a9fe');
  assert.equal(parseAddress('2001:db8:0:0:1:0:0:1')?.text, '2001:db8::1:0:0:1');
  assert.equal(parseAddress('1:2:3:4:5:6:7:8')?.text, '1:2:3:4:5:6:7:8');
  for (const bad of ['1::2::3', '1:2:3:4:5:6:7:8:9', '12345::', '::ffff:1.2.3', 'g::1', '1:2:3:4:5:6:7'])
    assert.equal(parseAddress(bad), undefined, bad);
  assert.equal(parseAddress('example.com'), undefined);
  assert.equal(parseAddress('deadbeef'), undefined);
});
