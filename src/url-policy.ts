/**
 * The endpoint URL policy (docs/security.md#endpoint-url-policy): which endpoint URLs a store may
 * register, and which addresses the hub may connect to on a store's behalf. Pure: no I/O, no DNS.
 * The hub checks URLs when mappings and integrations are written, and resolved addresses when it
 * connects (pipeline/outbound.ts), so a name that resolves somewhere refused later is still caught.
 *
 * Every spelling of an address ends up as one canonical form before a rule looks at it: the WHATWG
 * URL parser turns `2130706433`, `0x7f.1`, `0177.0.0.1` and `127.1` into `127.0.0.1`; this module
 * reads IPv6 in full and takes the IPv4 address out of IPv4-mapped (`::ffff:a.b.c.d`),
 * IPv4-compatible (`::a.b.c.d`) and NAT64 (`64:ff9b::a.b.c.d`) addresses.
 */

export interface UrlPolicySettings {
  /** Whether loopback addresses (127.0.0.0/8, ::1) and `localhost` names are allowed. */
  loopback: boolean;
  /** CIDRs, addresses or host names allowed even where a built-in rule refuses them. */
  allow: readonly string[];
  /** CIDRs, addresses or host names refused on top of the built-in rules (wins over `allow`). */
  deny: readonly string[];
}

export const URL_POLICY_DEFAULTS: UrlPolicySettings = { loopback: true, allow: [], deny: [] };

/** An address: its family, its value as a number, and how it is written. */
interface Address {
  v6: boolean;
  value: bigint;
  text: string;
}

interface Range {
  v6: boolean;
  base: bigint;
  bits: number;
  text: string;
}

interface Rule {
  range: Range;
  label: string;
  loopback?: true;
}

/** Cloud metadata services' host names (GCP, AWS, Alibaba, …). */
const METADATA_NAMES = new Set([
  'metadata',
  'metadata.google.internal',
  'metadata.goog',
  'instance-data',
  'instance-data.ec2.internal',
]);

/** The built-in refusals; the first match names the reason, so narrower ranges come first. */
const RULES: readonly Rule[] = [
  ['169.254.169.254/32', 'a cloud metadata address'],
  ['100.100.100.200/32', 'a cloud metadata address'],
  ['fd00:ec2::254/128', 'a cloud metadata address'],
  ['0.0.0.0/8', 'unspecified (this network)'],
  ['::/128', 'unspecified'],
  ['127.0.0.0/8', 'loopback'],
  ['::1/128', 'loopback'],
  ['169.254.0.0/16', 'link-local'],
  ['fe80::/10', 'link-local'],
  ['10.0.0.0/8', 'in a private range'],
  ['172.16.0.0/12', 'in a private range'],
  ['192.168.0.0/16', 'in a private range'],
  ['100.64.0.0/10', 'in a private range (shared address space)'],
  ['fc00::/7', 'in a private range (unique local)'],
  ['fec0::/10', 'reserved (site-local)'],
  ['255.255.255.255/32', 'broadcast'],
  ['224.0.0.0/4', 'multicast'],
  ['ff00::/8', 'multicast'],
  ['240.0.0.0/4', 'reserved'],
].map(([cidr, label]) => ({
  range: parseRange(cidr!)!,
  label: label!,
  ...(label === 'loopback' ? { loopback: true as const } : {}),
}));

/** A list entry: a range (CIDR or one address) or a host name (`*.example.com` for its subdomains). */
type Entry = { range: Range } | { name: string };

export class UrlPolicy {
  private readonly allow: Entry[];
  private readonly deny: Entry[];

  constructor(readonly settings: UrlPolicySettings = URL_POLICY_DEFAULTS) {
    this.allow = settings.allow.map(parseEntryOrThrow);
    this.deny = settings.deny.map(parseEntryOrThrow);
  }

  /**
   * Why a URL is refused, or undefined if it may be registered. An address in the host is checked
   * here in full; a name only against the name rules (what it resolves to is checked on connect).
   */
  checkUrl(raw: string): string | undefined {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      return 'is not an absolute URL';
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:')
      return `uses ${url.protocol} (only http and https)`;
    if (url.username !== '' || url.password !== '') {
      return 'has credentials in it (user:password@); send them in a header or the token instead';
    }
    return this.checkHost(url.hostname);
  }

  /** Why a host (a name or an address, IPv6 with or without brackets) is refused, or undefined. */
  checkHost(host: string): string | undefined {
    const bare = host.replace(/^\[(.*)\]$/, '$1');
    if (parseAddress(bare)) return this.checkAddress(bare);
    const name = bare.toLowerCase().replace(/\.+$/, '');
    if (this.deny.some((e) => 'name' in e && nameMatches(e.name, name))) return `${name} is in the deny list`;
    if (this.allowsName(name)) return undefined;
    if (METADATA_NAMES.has(name)) return `${name} is a cloud metadata host name`;
    if (!this.settings.loopback && (name === 'localhost' || name.endsWith('.localhost'))) {
      return `${name} is a loopback name (loopback is refused: endpointLoopback is false)`;
    }
    return undefined;
  }

  /** Whether a host name is in the allow list (its resolved addresses then skip the built-in rules). */
  allowsName(host: string): boolean {
    const name = host.toLowerCase().replace(/\.+$/, '');
    return this.allow.some((e) => 'name' in e && nameMatches(e.name, name));
  }

  /** Why the hub may not connect to an address, or undefined; `viaName` is an allowed name's. */
  checkAddress(ip: string, viaName = false): string | undefined {
    const parsed = parseAddress(ip.replace(/^\[(.*)\]$/, '$1'));
    if (!parsed) return `${ip} is not an IP address`;
    const address = embeddedIpv4(parsed) ?? parsed;
    const shown = address === parsed ? parsed.text : `${parsed.text} (${address.text})`;
    const denied = this.deny.find((e) => 'range' in e && inRange(address, e.range));
    if (denied && 'range' in denied) return `${shown} is in the deny list (${denied.range.text})`;
    if (viaName || this.allow.some((e) => 'range' in e && inRange(address, e.range))) return undefined;
    for (const rule of RULES) {
      if (rule.loopback && this.settings.loopback) continue;
      if (!inRange(address, rule.range)) continue;
      const why = rule.loopback ? `${rule.label}; endpointLoopback is false` : rule.label;
      return `${shown} is ${why} (${rule.range.text})`;
    }
    return undefined;
  }
}

/** `refused by endpoint URL policy: <reason>`, the text of a refused connection and of a 422. */
export function refusal(reason: string): string {
  return `refused by endpoint URL policy: ${reason}`;
}

/** Why a list entry is not usable, or undefined (config.ts reports it as a bad setting). */
export function entryProblem(entry: string): string | undefined {
  return parseEntry(entry)
    ? undefined
    : `${JSON.stringify(entry)} is not a CIDR, an IP address or a host name`;
}

function parseEntryOrThrow(entry: string): Entry {
  const parsed = parseEntry(entry);
  if (!parsed) throw new Error(entryProblem(entry));
  return parsed;
}

function parseEntry(entry: string): Entry | undefined {
  const text = entry.trim().toLowerCase();
  const range = parseRange(text);
  if (range) return { range };
  if (text.includes('/')) return undefined;
  const name = text.replace(/\.+$/, '');
  return /^(\*\.)?[a-z0-9_-]+(\.[a-z0-9_-]+)*$/.test(name) ? { name } : undefined;
}

function nameMatches(pattern: string, name: string): boolean {
  return pattern.startsWith('*.') ? name.endsWith(pattern.slice(1)) : name === pattern;
}

function inRange(a: Address, r: Range): boolean {
  if (a.v6 !== r.v6) return false;
  const shift = BigInt((r.v6 ? 128 : 32) - r.bits);
  return a.value >> shift === r.base >> shift;
}

/** `10.0.0.0/8`, `fd00::/8`, or a single address (a /32 or /128). */
function parseRange(text: string): Range | undefined {
  const [ip, bits, ...rest] = text.replace(/^\[(.*)\]/, '$1').split('/');
  if (rest.length > 0 || ip === undefined) return undefined;
  // an IPv4 range is written in full: `10/8` would read as 0.0.0.10/8
  const a = ip.includes(':') || /^\d+\.\d+\.\d+\.\d+$/.test(ip) ? parseAddress(ip) : undefined;
  if (!a) return undefined;
  const max = a.v6 ? 128 : 32;
  const n = bits === undefined ? max : /^\d{1,3}$/.test(bits) ? Number(bits) : Number.NaN;
  if (!(n >= 0 && n <= max)) return undefined;
  return { v6: a.v6, base: a.value, bits: n, text: `${a.text}/${n}` };
}

/**
 * An address in any spelling the hub may meet: IPv4 as the URL parser writes it (and the short,
 * hex, octal and decimal forms it reads), IPv6 full or compressed, with a dotted IPv4 tail.
 */
export function parseAddress(text: string): Address | undefined {
  if (text.includes(':')) return parseIpv6(text);
  if (!/^[0-9a-fA-FxX.]+$/.test(text)) return undefined;
  let host: string;
  try {
    host = new URL(`http://${text}/`).hostname;
  } catch {
    return undefined;
  }
  const parts = host.split('.');
  if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255)) return undefined;
  const value = parts.reduce((acc, p) => (acc << 8n) | BigInt(p), 0n);
  return { v6: false, value, text: host };
}

function parseIpv6(input: string): Address | undefined {
  const text = input.toLowerCase().replace(/%.*$/, ''); // a zone (fe80::1%eth0) names no other host
  let head = text;
  let tail: bigint[] = [];
  const dotted = /^(.*:)(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const v4 = parseAddress(dotted[2]!);
    if (!v4 || !/^\d+\.\d+\.\d+\.\d+$/.test(dotted[2]!) || v4.text !== dotted[2]) return undefined;
    head = dotted[1]!.endsWith('::') ? dotted[1]! : dotted[1]!.slice(0, -1);
    tail = [v4.value >> 16n, v4.value & 0xffffn];
  }
  const halves = head.split('::');
  if (halves.length > 2) return undefined;
  const groups = (s: string) => (s === '' ? [] : s.split(':'));
  const left = groups(halves[0]!);
  const right = halves.length === 2 ? groups(halves[1]!) : [];
  if (![...left, ...right].every((g) => /^[0-9a-f]{1,4}$/.test(g))) return undefined;
  const given = left.length + right.length + tail.length;
  if (halves.length === 1 ? given !== 8 : given > 7) return undefined;
  const words = [
    ...left.map((g) => BigInt(`0x${g}`)),
    ...Array<bigint>(8 - given).fill(0n),
    ...right.map((g) => BigInt(`0x${g}`)),
    ...tail,
  ];
  const value = words.reduce((acc, w) => (acc << 16n) | w, 0n);
  return { v6: true, value, text: ipv6Text(words) };
}

/** The compressed form (RFC 5952): the longest run of two or more zero groups becomes `::`. */
function ipv6Text(words: bigint[]): string {
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    let j = i;
    while (j < 8 && words[j] === 0n) j++;
    if (j - i > bestLen) [best, bestLen] = [i, j - i];
    i = j === i ? i + 1 : j;
  }
  const hex = words.map((w) => w.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}

/** The IPv4 address inside an IPv4-mapped, IPv4-compatible or NAT64 (64:ff9b::/96) address. */
function embeddedIpv4(a: Address): Address | undefined {
  if (!a.v6) return undefined;
  const high = a.value >> 32n;
  const low = a.value & 0xffffffffn;
  const mapped = high === 0xffffn;
  const compatible = high === 0n && low > 1n; // ::/128 and ::1 are themselves, not IPv4
  const nat64 = high === 0x64ff9b0000000000000000n;
  if (!mapped && !compatible && !nat64) return undefined;
  const text = [24n, 16n, 8n, 0n].map((s) => ((low >> s) & 0xffn).toString()).join('.');
  return { v6: false, value: low, text };
}
