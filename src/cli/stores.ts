import type { Command } from 'commander';
import { newStore, newToken } from '../http/routes/stores.js';
import { callHub } from './http-client.js';
import { type DatabaseFlags, databaseOptions, withStorage } from './options.js';

interface RemoteFlags {
  url?: string;
  adminToken?: string;
}
type Flags = DatabaseFlags & RemoteFlags & { json?: boolean };

/**
 * Store and token management. Without `--url` the command opens the database itself (it works
 * whether or not a hub is running: SQLite's WAL lets it write beside the server); with `--url` it
 * calls a running hub's admin API, which needs the admin token.
 */
export function registerStores(program: Command): void {
  const store = program.command('store').description('Manage stores and their API tokens');
  storeCreate(remote(store.command('create').description('Create a store and print its id and token')));
  storeList(remote(store.command('list').description('List stores')));
  const token = store.command('token').description("Manage a store's API tokens");
  tokenCreate(remote(token.command('create').description('Create another token for a store')));
  tokenList(remote(token.command('list').description("List a store's tokens (hints only)")));
  tokenRevoke(remote(token.command('revoke').description('Revoke a token')));
}

/** The options every store command takes: the database, or a running hub and its admin token. */
function remote(cmd: Command): Command {
  return databaseOptions(cmd)
    .option('--url <url>', 'call a running hub instead of opening the database')
    .option('--admin-token <token>', 'admin token for --url (env SWITCHYARD_ADMIN_TOKEN)')
    .option('--json', 'print JSON');
}

/** `store create`: a store and its first token. */
function storeCreate(cmd: Command): void {
  cmd.requiredOption('--name <name>', 'store name').action(async (flags: Flags & { name: string }) => {
    const created = await (flags.url
      ? callHub<{ id: string; name: string; token: string }>(
          'POST',
          api(flags, '/api/stores'),
          admin(flags),
          {
            name: flags.name,
          },
        ).then((r) => r.body)
      : withStorage(flags, async (storage) => {
          // the API's rules (routes/stores.ts), which the database alone does not enforce
          const name = flags.name.trim();
          if (name === '' || name.length > 200)
            throw new Error('--name must not be blank and at most 200 characters');
          const { store, token, secret } = newStore(name);
          await storage.createStore(store, token);
          return { id: store.id, name: store.name, token: secret };
        }));
    if (flags.json) print(created);
    else {
      process.stdout.write(
        `Created store "${created.name}"\n  store id: ${created.id}\n  token:    ${created.token}\n` +
          '(the token is shown only once)\n',
      );
    }
  });
}

/** `store list`. */
function storeList(cmd: Command): void {
  cmd.action(async (flags: Flags) => {
    const stores = flags.url
      ? (
          await callHub<{ id: string; name: string; created_at: string }[]>(
            'GET',
            api(flags, '/api/stores'),
            admin(flags),
          )
        ).body
      : await withStorage(flags, async (storage) =>
          (await storage.listStores()).map((s) => ({
            ...s,
            created_at: new Date(s.created_at).toISOString(),
          })),
        );
    if (flags.json) print(stores);
    else for (const s of stores) process.stdout.write(`${s.id}  ${s.name}  (created ${s.created_at})\n`);
  });
}

/** `store token create <store_id>`: another token, shown once. */
function tokenCreate(cmd: Command): void {
  cmd.argument('<store_id>').action(async (storeId: string, flags: Flags) => {
    const created = flags.url
      ? (
          await callHub<{ id: string; token: string }>(
            'POST',
            api(flags, `/api/stores/${encodeURIComponent(storeId)}/tokens`),
            admin(flags),
          )
        ).body
      : await withStorage(flags, async (storage) => {
          if (!(await storage.getStore(storeId))) throw new Error(`store ${storeId} not found`);
          const { token: row, secret } = newToken(storeId);
          await storage.addToken(row);
          return { id: row.id, token: secret };
        });
    if (flags.json) print(created);
    else
      process.stdout.write(
        `token id: ${created.id}\ntoken:    ${created.token}\n(the token is shown only once)\n`,
      );
  });
}

/** `store token list <store_id>`: the tokens' hints, never the tokens. */
function tokenList(cmd: Command): void {
  cmd.argument('<store_id>').action(async (storeId: string, flags: Flags) => {
    const tokens = flags.url
      ? (
          await callHub<{ id: string; hint: string; revoked_at: string | null }[]>(
            'GET',
            api(flags, `/api/stores/${encodeURIComponent(storeId)}/tokens`),
            admin(flags),
          )
        ).body
      : await withStorage(flags, async (storage) => {
          if (!(await storage.getStore(storeId))) throw new Error(`store ${storeId} not found`);
          return (await storage.listTokens(storeId)).map((t) => ({
            id: t.id,
            hint: t.hint,
            revoked_at: t.revoked_at ? new Date(t.revoked_at).toISOString() : null,
          }));
        });
    if (flags.json) print(tokens);
    else
      for (const t of tokens)
        process.stdout.write(`${t.id}  ${t.hint}${t.revoked_at ? `  revoked ${t.revoked_at}` : ''}\n`);
  });
}

/** `store token revoke <store_id> <token_id>`. */
function tokenRevoke(cmd: Command): void {
  cmd
    .argument('<store_id>')
    .argument('<token_id>')
    .action(async (storeId: string, tokenId: string, flags: Flags) => {
      if (flags.url)
        await callHub(
          'DELETE',
          api(flags, `/api/stores/${encodeURIComponent(storeId)}/tokens/${encodeURIComponent(tokenId)}`),
          admin(flags),
        );
      else {
        const revoked = await withStorage(flags, (storage) =>
          storage.revokeToken(storeId, tokenId, Date.now()),
        );
        if (!revoked) throw new Error(`no active token ${tokenId} in store ${storeId}`);
      }
      if (flags.json) print({ revoked: tokenId });
      else process.stdout.write(`revoked ${tokenId}\n`);
    });
}

function api(flags: RemoteFlags, path: string): string {
  return `${flags.url!.replace(/\/+$/, '')}${path}`;
}

function admin(flags: RemoteFlags): Record<string, string> {
  const token = flags.adminToken ?? process.env.SWITCHYARD_ADMIN_TOKEN;
  if (!token) throw new Error('--url needs --admin-token (or SWITCHYARD_ADMIN_TOKEN)');
  return { 'x-admin-token': token };
}

function print(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}
