import { ListTaskDefinitionsCommand, type Task } from '@aws-sdk/client-ecs';
import type { LocalStack } from '@gitlab-fargate/local-stack';
import { runJob, type JobSpec, type RunnerSettings } from '@gitlab-fargate/runner-harness';
import { beforeAll, describe, expect, it } from 'vitest';
import { useLocalStack } from '../shared-stack.js';
import { CapturedLog, describeAllTasks, discard, job, waitForNothingLeft } from '../index.js';
import { buildJobImageFixtures, type JobImageFixtures } from './job-image-fixtures.js';

// Behaviours of issue 12 that job-image.int.test.ts does not show on real parts (harness, compiled driver, emulator,
// job-agent and fixture images): what a service's environment holds and does not, its default names and localhost,
// `image: entrypoint:`, and the job user against the image's passwd and USER.
let stack: LocalStack;
let runner: RunnerSettings;
let images: JobImageFixtures;

useLocalStack(
  (started, settings) => {
    stack = started;
    runner = settings;
  },
  { jobImages: true },
);

beforeAll(async () => {
  images = await buildJobImageFixtures();
}, 900_000);

const nothingLeft = { runningTasks: [], containers: [], metadataFiles: [] };

async function run(spec: JobSpec): Promise<{ outcome: string; log: string }> {
  const log = new CapturedLog();
  const result = await runJob({ runner, env: stack.env, log, runnerLog: discard, prepareAttempts: 1, job: spec });
  return { outcome: result.outcome, log: log.text };
}

/** The environment RunTask gave a container of the task, as DescribeTasks shows it to anyone allowed to call it. */
function overrideEnvironment(task: Task, containerName: string): Record<string, string> {
  const override = task.overrides?.containerOverrides?.find((candidate) => candidate.name === containerName);
  return Object.fromEntries((override?.environment ?? []).map((entry) => [entry.name ?? '', entry.value ?? '']));
}

// busybox nc as PID 1 would ignore SIGTERM: the shell traps it, so the task stops at once after the job.
const envServer = 'trap "exit 0" TERM; /bin/busybox nc -ll -p 8080 -e /bin/busybox env & wait';

describe("a service's environment and names", () => {
  it('holds the public variables and its own, never a masked or protected one; answers on its default names and localhost', async () => {
    const service = images.scratchBusybox.replace(/:latest$/, '');
    const { outcome, log } = await run(
      job({
        image: { name: images.debian },
        variables: { GREETING: 'hello-public' },
        services: [{ name: images.scratchBusybox, entrypoint: ['/bin/sh', '-c', envServer], variables: { OWN: 'svc-own', LEAK: 'token=$CI_JOB_TOKEN' } }],
        script: [
          'read_env() { exec 3<>"/dev/tcp/$1/8080" && cat <&3; exec 3<&-; }',
          `read_env ${service.replaceAll('/', '__')} > /tmp/a && read_env ${service.replaceAll('/', '-')} > /tmp/b && read_env localhost > /tmp/c`,
          'echo "answers with OWN=svc-own: $(cat /tmp/a /tmp/b /tmp/c | grep -c "^OWN=svc-own$")"',
          'grep -E "^(GREETING|OWN|LEAK)=" /tmp/a | sort | sed "s/^/service env: /"',
          'echo "lines naming CI_JOB_TOKEN: $(grep -c CI_JOB_TOKEN /tmp/a || true)"',
          'echo "lines holding its value: $(grep -c -F "$CI_JOB_TOKEN" /tmp/a || true)"',
        ],
      }),
    );
    expect(outcome, log).toBe('success');
    expect(log).toContain('answers with OWN=svc-own: 3');
    expect(log).toMatch(/^service env: GREETING=hello-public\nservice env: LEAK=token=\nservice env: OWN=svc-own$/m);
    expect(log).toContain('lines naming CI_JOB_TOKEN: 0');
    expect(log).toContain('lines holding its value: 0');
    expect(log).toMatch(/svc-0 \(.*scratch-busybox.*\): its variables refer to CI_JOB_TOKEN, which are masked, protected, file or unknown variables/);
    // What RunTask carried, readable with ecs:DescribeTasks: the same, without the token.
    const task = (await describeAllTasks(stack)).find((candidate) => overrideEnvironment(candidate, 'svc-0')['OWN'] === 'svc-own');
    expect(task, 'the task of this job').toBeDefined();
    const sent = overrideEnvironment(task as Task, 'svc-0');
    expect(sent).toMatchObject({ GREETING: 'hello-public', OWN: 'svc-own', LEAK: 'token=' });
    expect(Object.keys(sent)).not.toContain('CI_JOB_TOKEN');
    expect(await waitForNothingLeft(stack)).toEqual(nothingLeft);
  });
});

describe('image: entrypoint:', () => {
  it('runs the given entry point first, which starts the agent with exec "$@", as with the Docker executor', async () => {
    const { outcome, log } = await run(
      job({
        image: { name: images.debian, entrypoint: ['/bin/sh', '-c', 'echo "set up by $0" > /entrypoint-ran && exec "$@"', 'the-entrypoint'] },
        script: ['cat /entrypoint-ran'],
      }),
    );
    expect(outcome, log).toBe('success');
    expect(log).toMatch(/^set up by the-entrypoint$/m);
  });
});

describe('the job user', () => {
  it('docker: user: "1000" in an image without that user: the agent adds the passwd entry', async () => {
    const { outcome, log } = await run(
      job({ image: { name: images.debian, user: '1000' }, script: ['echo "uid=$(id -u) gid=$(id -g) home=$HOME"', 'getent passwd 1000 | cut -d: -f1,3'] }),
    );
    expect(outcome, log).toBe('success');
    expect(log).toMatch(/^uid=1000 gid=0 home=\S+$/m);
    expect(log).toMatch(/^\S+:1000$/m);
  });

  it("a USER 1000 image without docker: user: runs as root, as documented (ECS does not tell the image's user)", async () => {
    const { outcome, log } = await run(job({ image: { name: images.user1000 }, script: ['echo "uid=$(id -u)"'] }));
    expect(outcome, log).toBe('success');
    expect(log).toMatch(/^uid=0$/m);
  });
});

describe('refused at prepare, with the reason, before any task or registration', () => {
  async function counts(): Promise<{ tasks: number; definitions: number }> {
    const definitions = await stack.ecs.send(new ListTaskDefinitionsCommand({ maxResults: 100 }));
    return { tasks: (await describeAllTasks(stack)).length, definitions: definitions.taskDefinitionArns?.length ?? 0 };
  }

  async function refused(spec: JobSpec): Promise<string> {
    const before = await counts();
    const { outcome, log } = await run(spec);
    expect(outcome, log).toBe('system_failure');
    expect(await counts()).toEqual(before);
    return log;
  }

  it('a docker:dind service: Fargate has no privileged mode', async () => {
    const log = await refused(job({ image: { name: images.debian }, services: [{ name: 'docker:27-dind' }], script: ['true'] }));
    expect(log).toContain('the service "docker:27-dind" is refused: Docker-in-Docker (dind) needs Docker\'s privileged mode');
  });

  it("docker: platform: for another architecture than the task's", async () => {
    const log = await refused(job({ image: { name: images.debian, platform: 'linux/arm64' }, script: ['true'] }));
    expect(log).toContain('image: docker: platform: "linux/arm64" does not match the task\'s architecture X86_64');
  });

  it('more services than a task definition has containers for, naming the limit and the numbers', async () => {
    const services = Array.from({ length: 8 }, (_, index) => ({ name: `local/service-${index}:1` }));
    const log = await refused(job({ image: { name: images.debian }, services, script: ['true'] }));
    expect(log).toMatch(/the job needs 11 containers \(.*\), and a Fargate task definition holds at most 10: this job may have at most 7 services, it has 8/);
  });

  it("a task definition over ECS's 64 KiB, naming the limit and the size", async () => {
    const log = await refused(job({ image: { name: images.debian }, services: [{ name: images.debian, command: ['x'.repeat(70_000)] }], script: ['true'] }));
    expect(log).toMatch(/the job's task definition \S+-job-[0-9a-f]{16} is \d+ bytes, over ECS's limit of 65536 bytes \(64 KiB\)/);
  });
});
