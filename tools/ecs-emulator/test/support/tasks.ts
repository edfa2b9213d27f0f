import { execFileSync } from 'node:child_process';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import type { Task } from '@aws-sdk/client-ecs';

/** The base image every machine here has (tools/docker/ensure-engine builds it): bash, perl, coreutils. */
export const BASE_IMAGE = 'local/debian:bookworm';

/** An image with `/opt/gf/marker` under `VOLUME /opt/gf` (the VOLUME-directive copy-in fixture). */
export const TOOLS_IMAGE = 'gitlab-fargate/ecs-emulator-test-tools:latest';

const TOOLS_CONTEXT = fileURLToPath(new URL('../fixtures/tools-image', import.meta.url));

/** Builds the tools fixture (one tiny layer over the base; cached after the first time). */
export function ensureToolsImage(): string {
  execFileSync('docker', ['build', '--quiet', '--tag', TOOLS_IMAGE, TOOLS_CONTEXT], { stdio: ['ignore', 'ignore', 'pipe'] });
  return TOOLS_IMAGE;
}

/**
 * A shell command that answers every TCP connection on `port` with the output of `script` (run per
 * connection by bash), using perl from the base image.
 */
export function serveScript(port: number, script: string, bind = '0.0.0.0'): string {
  const perl = [
    'use IO::Socket::INET;',
    `my $s = IO::Socket::INET->new(LocalAddr => "${bind}", LocalPort => ${port}, Listen => 5, ReuseAddr => 1) or die "listen: $!";`,
    'while (my $c = $s->accept) { open(my $p, "-|", "bash", "-c", $ENV{SERVE_SCRIPT}) or die; my $out = do { local $/; <$p> }; print $c $out; close $p; close $c }',
  ].join(' ');
  return `SERVE_SCRIPT=${shellQuote(script)} exec perl -e ${shellQuote(perl)}`;
}

function shellQuote(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}

/** Reads what a server sends on connect, retrying until it sends something (the process may not listen yet). */
export async function readWhenServing(host: string, port: number, timeoutMs = 20_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const text = await readOnce(host, port).catch(() => '');
    if (text !== '') return text;
    if (Date.now() > deadline) throw new Error(`Nothing served on ${host}:${port} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function readOnce(host: string, port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const socket = net.connect({ host, port });
    socket.setTimeout(3000, () => socket.destroy(new Error('timeout')));
    socket.on('data', (chunk: Buffer) => (text += chunk.toString()));
    socket.on('end', () => resolve(text));
    socket.on('error', reject);
  });
}

/** The task's private address (from its ENI attachment). */
export function taskAddress(task: Task): string {
  return task.attachments![0]!.details!.find((detail) => detail.name === 'privateIPv4Address')!.value!;
}

/** One container of a described task, by name. */
export function containerNamed(task: Task, name: string): NonNullable<Task['containers']>[number] {
  const found = task.containers?.find((container) => container.name === name);
  if (!found) throw new Error(`Task ${task.taskArn} has no container ${name}`);
  return found;
}
