import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ECSClient, ListTasksCommand } from '@aws-sdk/client-ecs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCountingProxy, type CountingProxy } from './counting-proxy.js';

// A stand-in ECS endpoint: throttles the first ListTasks as AWS does, then answers.
let answered = 0;
const upstream = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    answered += 1;
    if (answered === 1) {
      res.writeHead(400, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-ErrorType': 'ThrottlingException' });
      res.end(JSON.stringify({ __type: 'ThrottlingException', message: 'Rate exceeded' }));
      return;
    }
    res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
    res.end(JSON.stringify({ taskArns: [] }));
  });
});
let proxy: CountingProxy;

beforeAll(async () => {
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  proxy = await startCountingProxy(`http://127.0.0.1:${(upstream.address() as AddressInfo).port}`);
});
afterAll(async () => {
  await proxy.close();
  await new Promise((resolve) => upstream.close(resolve));
});

describe('counting proxy', () => {
  it('tells the SDK\'s retries from calls and counts throttled answers', async () => {
    const ecs = new ECSClient({
      endpoint: proxy.endpoint, region: 'eu-west-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
      maxAttempts: 3,
    });
    try {
      const answer = await ecs.send(new ListTasksCommand({ cluster: 'c' }));
      expect(answer.taskArns).toEqual([]);
      await ecs.send(new ListTasksCommand({ cluster: 'c' }));
    } finally {
      ecs.destroy();
    }
    expect(proxy.counts()).toEqual({
      calls: { ListTasks: 2 }, retries: { ListTasks: 1 }, throttled: { ListTasks: 1 },
      totalCalls: 2, totalRetries: 1, totalThrottled: 1,
    });
    proxy.reset();
    expect(proxy.counts().totalCalls).toBe(0);
  });
});
