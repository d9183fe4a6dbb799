import Fastify from 'fastify';
import { newId } from '../src/ids.js';

/**
 * The ingest baseline: a bare Fastify server that answers the push request the way the hub does
 * (201, the submitted object plus a `message_id`), with no authentication, validation or storage.
 * Run as its own process: `node dist/bench/baseline-fastify.js` prints `listening on <url>`.
 */
const app = Fastify({ logger: false });

app.post('/api/stores/:store_id/messages', async (req, reply) => {
  const body = req.body as Record<string, unknown>;
  return reply.code(201).send({ ...body, message_id: newId() });
});

const url = await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT ?? 0) });
process.stdout.write(`baseline-fastify listening on ${url}\n`);

const close = () => {
  app.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.on('SIGTERM', close);
process.on('SIGINT', close);
