import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import { isIP } from 'node:net';
import { Agent, buildConnector } from 'undici';
import { refusal, type UrlPolicy } from '../url-policy.js';

/**
 * Every connection the hub opens on a store's behalf — deliveries, `update_url` polls, the GET of
 * an integration's `endpoint.json` and its redirects — goes through a connector that applies the
 * endpoint URL policy to the address it actually connects to (docs/security.md, "Endpoint URL
 * policy"). The check at create and update sees only the URL; a host name can resolve to a
 * refused address later (DNS rebinding, an internal name), and a mapping written before the
 * policy was tightened keeps its URL. Here:
 *
 * - an IP literal is checked before connecting;
 * - a name is resolved by our own lookup, which drops the refused addresses from the answer and
 *   fails when none is left, so the socket can only ever connect to an address that passed.
 *
 * A refusal is a connection error with the code `URL_REFUSED` and the policy's reason, which
 * becomes the failed attempt's `last_error` like any other connection error.
 */

type Resolver = (
  hostname: string,
  options: LookupOptions & { all: true },
  callback: (err: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void,
) => void;

type LookupCallback = (
  err: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void;

export class UrlRefusedError extends Error {
  readonly code = 'URL_REFUSED';
  constructor(reason: string) {
    super(refusal(reason));
    this.name = 'UrlRefusedError';
  }
}

/**
 * A `lookup` for net/tls.connect that answers only with the addresses the policy allows. `resolve`
 * is Node's resolver (dns.lookup); a test passes its own, the machine having no DNS to speak of.
 */
export function guardedLookup(policy: UrlPolicy, resolve: Resolver = dnsLookup as unknown as Resolver) {
  return (hostname: string, options: LookupOptions, callback: LookupCallback): void => {
    resolve(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) {
        callback(err, []);
        return;
      }
      const viaName = policy.allowsName(hostname);
      const reasons: string[] = [];
      const allowed = addresses.filter((a) => {
        const reason = policy.checkAddress(a.address, viaName);
        if (reason) reasons.push(reason);
        return reason === undefined;
      });
      if (allowed.length === 0) {
        const why =
          reasons.length > 0
            ? `${hostname} resolves only to refused addresses: ${reasons.join('; ')}`
            : `${hostname} resolves to no address`;
        callback(new UrlRefusedError(why), []);
        return;
      }
      if (options.all) callback(null, allowed);
      else callback(null, allowed[0]!.address, allowed[0]!.family);
    });
  };
}

/** undici connect options for `Agent`: the policy on literal addresses and on every lookup. */
export function guardedConnect(policy: UrlPolicy): buildConnector.connector {
  const connect = buildConnector({ lookup: guardedLookup(policy) } as buildConnector.BuildOptions);
  return (options, callback) => {
    const host = options.hostname.replace(/^\[(.*)\]$/, '$1');
    if (isIP(host) !== 0) {
      const reason = policy.checkAddress(host);
      if (reason) {
        callback(new UrlRefusedError(reason), null);
        return;
      }
    }
    connect(options, callback);
  };
}

/** An undici Agent whose connections obey the policy (none given: connections are not checked). */
export function outboundAgent(policy: UrlPolicy | undefined, options: Agent.Options = {}): Agent {
  return new Agent(policy ? { ...options, connect: guardedConnect(policy) } : options);
}
