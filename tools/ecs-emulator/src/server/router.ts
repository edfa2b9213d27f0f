import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { OPERATIONS } from '../ecs/operations.js';
import { AwsError } from '../wire/aws-error.js';
import { Ec2Error, ec2ErrorResponse } from '../wire/ec2-query.js';
import { jsonError, jsonSuccess, operationFromTarget, parseJsonBody, type WireResponse } from '../wire/json-protocol.js';
import { checkInputTypes } from '../wire/shapes.js';
import { handleControl, type ControlTarget } from './control.js';
import { BodyTooLargeError, readBody, send } from './http-io.js';

/** Where a request goes once its protocol is known. */
export interface Routes {
  readonly control: ControlTarget;
  /** An ECS operation with a framed, type-checked input; returns (or resolves to) the output or throws an AwsError. */
  ecs(operation: string, input: Record<string, unknown>): unknown;
  /** An EC2 query-protocol call; returns the XML answer or throws an Ec2Error. */
  ec2(params: URLSearchParams, requestId: string): WireResponse;
}

/**
 * One port, three protocols: `/_emulator/*` is the control plane, form-encoded bodies (`Action=…`) are EC2's
 * query protocol, everything else is ECS awsJson1_1. Whatever goes wrong, the client gets its protocol's
 * error envelope: never an HTML page, and a 500 only for a genuine internal error.
 */
export async function routeRequest(req: IncomingMessage, res: ServerResponse, routes: Routes): Promise<void> {
  const requestId = randomUUID();
  let body: string;
  try {
    body = await readBody(req);
  } catch (error) {
    const message = error instanceof BodyTooLargeError ? error.message : 'Could not read the request body.';
    send(res, jsonError(new AwsError('SerializationException', message), requestId));
    return;
  }
  const path = (req.url ?? '/').split('?')[0]!;
  if (path.startsWith('/_emulator/')) {
    await handleControl(routes.control, req, res, body);
    return;
  }
  const contentType = String(req.headers['content-type'] ?? '');
  if (contentType.startsWith('application/x-www-form-urlencoded') || /(^|&)Action=/.test(body)) {
    try {
      send(res, routes.ec2(new URLSearchParams(body), requestId));
    } catch (error) {
      const ec2Error = error instanceof Ec2Error ? error : new Ec2Error('InternalError', (error as Error).message, 500);
      send(res, ec2ErrorResponse(ec2Error, requestId));
    }
    return;
  }
  try {
    if (req.method !== 'POST') throw new AwsError('UnknownOperationException', `The ECS API takes POST requests; got ${req.method} ${path}.`);
    const operation = operationFromTarget(req.headers['x-amz-target'] as string | undefined);
    if (!(operation in OPERATIONS)) throw new AwsError('UnknownOperationException', `Operation ${operation} is not supported by this emulator.`);
    const input = parseJsonBody(body);
    checkInputTypes(operation, input);
    send(res, jsonSuccess(await routes.ecs(operation, input), requestId));
  } catch (error) {
    if (!(error instanceof AwsError)) console.error('ecs-emulator: internal error', error);
    const awsError = error instanceof AwsError ? error : new AwsError('ServerException', `Internal emulator error: ${(error as Error).message}`, 500);
    send(res, jsonError(awsError, requestId));
  }
}
