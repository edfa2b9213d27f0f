import { type ECSClient, TagResourceCommand } from '@aws-sdk/client-ecs';
import { createAwsClients } from '../aws/clients.js';
import type { MuxTagRequest, MuxTagResult } from '../ssh/mux/protocol.js';

// The AWS SDK side of a warm task's TagResource (prepare-warm-tag.ts), loaded by import() only: by the job's
// multiplexer, which holds the SDK anyway, or by prepare when the multiplexer does not answer.

/** The AWS SDK's error as the multiplexer answers it: its name and message. */
type AwsErrorAnswer = Extract<MuxTagResult, { error: unknown }>['error'];

/** One TagResource with `ecs`; rejects with the SDK's error. */
export async function sendTagResource(ecs: ECSClient, request: Pick<MuxTagRequest, 'resourceArn' | 'tags'>): Promise<void> {
  await ecs.send(new TagResourceCommand({ resourceArn: request.resourceArn, tags: [...request.tags] }));
}

/**
 * The multiplexer's side of a tag request (`ssh/mux/main.ts`): prepare's TagResource with a client created as
 * prepare's (`createAwsClients` with its Region), under prepare's AWS environment for this call only (the process's
 * own, `PATH` alone, is put back after). @returns done, or the SDK's error by name and message
 */
export async function runMuxTagRequest(request: MuxTagRequest): Promise<MuxTagResult> {
  const own = { ...process.env };
  Object.assign(process.env, request.env);
  const { ecs } = createAwsClients(request.region);
  try {
    await sendTagResource(ecs, request);
    return { tagged: true };
  } catch (error) {
    return { error: awsErrorAnswer(error) };
  } finally {
    ecs.destroy();
    for (const name of Object.keys(process.env)) if (!(name in own)) delete process.env[name];
    Object.assign(process.env, own);
  }
}

function awsErrorAnswer(error: unknown): AwsErrorAnswer {
  return error instanceof Error ? { name: error.name, message: error.message } : { name: 'Error', message: String(error) };
}
