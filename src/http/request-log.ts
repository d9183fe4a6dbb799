import { type FastifyReply, type FastifyRequest, LogController } from 'fastify';

/**
 * One line per request at `info` (docs/configuration.md, "Logs"): Fastify's own controller writes
 * two, "incoming request" when it starts and "request completed" when it ends, so a terminal
 * showed twice as many lines as requests and the completed line lacked the method and path. Here
 * the incoming line is at `debug`, and the completed line carries the request (method, url,
 * remote address), the status and the time, which is all a reader of either format needs.
 */
export class RequestLogController extends LogController {
  override incomingRequest(request: FastifyRequest): void {
    request.log.debug({ req: request }, 'incoming request');
  }

  override requestCompleted(
    error: Error | null | undefined,
    request: FastifyRequest,
    reply: FastifyReply,
  ): void {
    if (error)
      reply.log.error(
        { req: request, res: reply, err: error, responseTime: reply.elapsedTime },
        'request errored',
      );
    else reply.log.info({ req: request, res: reply, responseTime: reply.elapsedTime }, 'request completed');
  }
}
