import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { DriverConfig } from './driver/model.js';
import { parseDriverConfig } from './driver/parse.js';
import { renderDriverConfig } from './driver/render.js';
import type { RunnerConfig } from './runner/model.js';
import { parseRunnerConfig } from './runner/parse.js';
import { renderRunnerConfig } from './runner/render.js';
import { fixture } from './test-support.js';

const hex = (length: number): fc.Arbitrary<string> => fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: length, maxLength: length });
const awsId = (prefix: string): fc.Arbitrary<string> => fc.oneof(hex(8), hex(17)).map((id) => `${prefix}-${id}`);
const name = fc.string({ unit: fc.constantFrom(...'abcXYZ019_-'), minLength: 1, maxLength: 20 });
/** Any text, including quotes, backslashes, newlines, control characters and DEL, which the renderer must escape. */
const anyText = fc.string({ unit: 'binary', minLength: 1, maxLength: 30 });
const tagText = fc.string({ unit: fc.constantFrom(...'aZ9 _.:/=+-@é'), minLength: 1, maxLength: 12 }).filter((key) => !/^aws:/i.test(key));
const seconds = fc.integer({ min: 10, max: 3600 });

const driverConfig: fc.Arbitrary<DriverConfig> = fc.record(
  {
    logLevel: fc.constantFrom('trace', 'debug', 'info', 'warning', 'error', 'fatal', 'panic'),
    logFormat: fc.constantFrom('text', 'text-simple', 'json'),
    logFile: anyText,
    fargate: fc.record(
      {
        cluster: name,
        region: fc.constantFrom('eu-west-1', 'us-east-1', 'us-gov-west-1', 'ap-southeast-2'),
        subnets: fc.uniqueArray(awsId('subnet'), { minLength: 1, maxLength: 16 }),
        securityGroups: fc.uniqueArray(awsId('sg'), { maxLength: 5 }),
        taskDefinition: fc.oneof(name, fc.tuple(name, fc.integer({ min: 1, max: 999 })).map(([family, revision]) => `${family}:${revision}`)),
        enablePublicIp: fc.boolean(),
        usePublicIp: fc.boolean(),
        platformVersion: fc.constantFrom('LATEST', '1.4.0', '1.3.0'),
        cpu: fc.constant(4096),
        memory: fc.integer({ min: 8, max: 30 }).map((gib) => gib * 1024),
        ephemeralStorage: fc.integer({ min: 21, max: 200 }),
        enableExecuteCommand: fc.boolean(),
        containerName: name,
        capacityProviderStrategy: fc.constantFrom(
          [],
          [{ capacityProvider: 'FARGATE_SPOT' as const, weight: 1, base: 0 }],
          [
            { capacityProvider: 'FARGATE_SPOT' as const, weight: 3, base: 0 },
            { capacityProvider: 'FARGATE' as const, weight: 0, base: 2 },
          ],
        ),
        onDemandFallback: fc.boolean(),
        tags: fc.dictionary(tagText, fc.string({ unit: fc.constantFrom(...'aZ9 _.:/=+-@ü'), maxLength: 12 }), { maxKeys: 5 }),
        propagateTags: fc.constantFrom('TASK_DEFINITION' as const, 'NONE' as const),
        enableEcsManagedTags: fc.boolean(),
      },
      { requiredKeys: ['cpu', 'memory', 'cluster', 'subnets', 'securityGroups', 'taskDefinition', 'enablePublicIp', 'usePublicIp', 'enableExecuteCommand', 'containerName', 'capacityProviderStrategy', 'onDemandFallback', 'tags', 'propagateTags', 'enableEcsManagedTags'] },
    ),
    taskMetadata: fc.record({ directory: anyText }, { requiredKeys: [] }),
    ssh: fc.record({
      username: fc.constantFrom('root', 'ci', 'gitlab-runner'),
      port: fc.integer({ min: 1, max: 65535 }),
      connectTimeout: fc.constantFrom(1, 2.5, 300),
      keepaliveInterval: fc.constantFrom(0, 15, 0.5),
      keepaliveCountMax: fc.integer({ min: 1, max: 100 }),
      multiplex: fc.boolean(),
    }),
    timeouts: fc.record({
      taskStart: seconds,
      sshReady: seconds,
      stopTask: fc.integer({ min: 1, max: 600 }),
      taskPollInterval: fc.constantFrom(0.1, 2, 60),
      sshPollInterval: fc.constantFrom(0.25, 1),
    }),
    overrides: fc.record(
      {
        taskDefinitions: fc.uniqueArray(fc.oneof(name, name.map((family) => `${family}:*`), fc.constant('*')), { maxLength: 4 }),
        platformVersions: fc.uniqueArray(fc.constantFrom('LATEST', '1.4.0'), { maxLength: 2 }),
        maxCpu: fc.constantFrom(256, 1024, 16384),
        maxMemory: fc.integer({ min: 512, max: 122880 }),
        maxEphemeralStorage: fc.integer({ min: 21, max: 200 }),
        allowSpot: fc.boolean(),
      },
      { requiredKeys: ['taskDefinitions', 'platformVersions', 'allowSpot'] },
    ),
    pricing: fc.record(
      {
        vcpuHour: fc.constantFrom(0, 0.04048, 0.0121),
        gbHour: fc.constantFrom(0.004445, 0.00133),
        armVcpuHour: fc.constant(0.03238),
        armGbHour: fc.constant(0.00356),
        spotVcpuHour: fc.constant(0.012144),
        spotGbHour: fc.constant(0.0013335),
        armSpotVcpuHour: fc.constant(0.009714),
        armSpotGbHour: fc.constant(0.001068),
        ephemeralGbHour: fc.constant(0.000111),
        discountPercent: fc.constantFrom(0, 12.5, 100),
        source: fc.constantFrom('EDP 2026', 'négocié "q3"'),
      },
      { requiredKeys: ['discountPercent'] },
    ),
    jobImages: fc.record(
      {
        enabled: fc.boolean(),
        allowedImages: fc.uniqueArray(fc.constantFrom('ruby:*', 'registry.example.com/**', '{node,deno}:[0-9]*', 'a\\*'), { maxLength: 3 }),
        allowedServices: fc.uniqueArray(fc.constantFrom('postgres:*', 'redis:7'), { maxLength: 2 }),
        agentImage: fc.constant('123456789012.dkr.ecr.eu-west-1.amazonaws.com/gitlab-fargate/job-agent:1.0.0'),
        arm64AgentImage: fc.constant('123456789012.dkr.ecr.eu-west-1.amazonaws.com/gitlab-fargate/job-agent:1.0.0-arm64'),
        registryCredentials: fc.constantFrom([], [{ registry: 'registry.example.com', secretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:reg-AbCdEf' }]),
        familyPrefix: name,
        unusedFamilyTtl: fc.integer({ min: 3600, max: 31_622_400 }),
        serviceWaitTimeout: fc.constantFrom(0, 30, 2.5),
      },
      { requiredKeys: ['enabled', 'allowedImages', 'allowedServices', 'agentImage', 'registryCredentials', 'familyPrefix', 'unusedFamilyTtl', 'serviceWaitTimeout'] },
    ),
    pools: fc.constantFrom(
      [],
      [
        {
          name: 'business-hours',
          idleCount: 0,
          idleTime: 1200,
          maxIdle: 10,
          maxAge: 14_400,
          policies: [{ periods: ['* 8-17 * * mon-fri'], timezone: 'Europe/Berlin', idleCount: 3 }, { periods: ['*/5 * 1 1 *'], timezone: 'UTC', idleCount: 0, idleTime: 60 }],
        },
      ],
    ),
    poolDefaults: fc.record(
      { directory: fc.constant('/var/lib/gitlab-fargate/pool'), reconcileInterval: fc.constantFrom(20, 2.5), claimMargin: fc.constantFrom(0, 120), metricsPort: fc.constant(9402) },
      { requiredKeys: ['directory', 'reconcileInterval', 'claimMargin'] },
    ),
  },
  { requiredKeys: ['logLevel', 'logFormat', 'fargate', 'taskMetadata', 'ssh', 'timeouts', 'overrides', 'pricing', 'jobImages', 'pools', 'poolDefaults'] },
);

const path = anyText;
const runnerConfig: fc.Arbitrary<RunnerConfig> = fc.record(
  {
    concurrent: fc.integer({ min: 1, max: 100 }),
    checkInterval: fc.integer({ min: 1, max: 60 }),
    runners: fc.array(
      fc
        .record(
          {
            name: anyText,
            url: fc.constantFrom('https://gitlab.com/', 'http://gitlab.internal:8080/path'),
            id: fc.nat(),
            token: fc.oneof(hex(20).map((t) => `glrt-${t}`), hex(20).map((t) => `GR1348941${t}`), hex(20)),
            tokenObtainedAt: fc.constantFrom('2025-01-01T00:00:00.000Z', '0001-01-01T00:00:00.000Z'),
            executor: fc.constant('custom' as const),
            buildsDir: path,
            cacheDir: path,
            limit: fc.nat({ max: 50 }),
            requestConcurrency: fc.integer({ min: 1, max: 10 }),
            environment: fc.array(anyText.map((value) => `KEY_1=${value}`), { maxLength: 3 }),
            custom: fc.record(
              {
                configExec: path,
                configArgs: fc.array(fc.string({ unit: 'grapheme', maxLength: 10 }), { maxLength: 4 }),
                configExecTimeout: fc.integer({ min: 1, max: 7200 }),
                prepareArgs: fc.array(path, { maxLength: 4 }),
                prepareExecTimeout: fc.integer({ min: 1, max: 7200 }),
                runExec: path,
                runArgs: fc.array(path, { maxLength: 4 }),
                cleanupArgs: fc.constant([]),
                cleanupExecTimeout: fc.integer({ min: 1, max: 7200 }),
                gracefulKillTimeout: fc.integer({ min: 1, max: 7200 }),
                forceKillTimeout: fc.integer({ min: 1, max: 7200 }),
              },
              { requiredKeys: ['configArgs', 'configExecTimeout', 'prepareArgs', 'prepareExecTimeout', 'runExec', 'runArgs', 'cleanupArgs', 'cleanupExecTimeout', 'gracefulKillTimeout', 'forceKillTimeout'] },
            ),
            cache: fc.record({ type: fc.constant('s3' as const), shared: fc.boolean(), path, s3: fc.record({ bucketName: fc.constantFrom('ci-cache', 'a.b-c'), insecure: fc.boolean(), authenticationType: fc.constant('iam' as const) }) }, { requiredKeys: ['type', 'shared', 's3'] }),
            featureFlags: fc.dictionary(fc.constantFrom('FF_A', 'FF_B'), fc.boolean()),
            customBuildDir: fc.record({ enabled: fc.boolean() }, { requiredKeys: [] }),
            shell: fc.constantFrom('bash', 'pwsh'),
            outputLimit: fc.integer({ min: 1, max: 100000 }),
            cloneUrl: fc.constant('https://gitlab.example.com'),
          },
          { requiredKeys: ['name', 'url', 'token', 'executor', 'buildsDir', 'cacheDir', 'limit', 'requestConcurrency', 'environment', 'custom', 'featureFlags'] },
        )
        .map((runner) => ({ ...runner, tokenKind: runner.token.startsWith('glrt-') ? ('authentication' as const) : runner.token.startsWith('GR1348941') ? ('registration' as const) : ('legacy-authentication' as const) })),
      { minLength: 1, maxLength: 3 },
    ),
  },
  { requiredKeys: ['concurrent', 'checkInterval', 'runners'] },
);

describe('render → parse round trip', () => {
  it('gives back every driver config it renders', () => {
    fc.assert(
      fc.property(driverConfig, (config) => {
        expect(parseDriverConfig(renderDriverConfig(config)).config).toEqual(config);
      }),
      { numRuns: 300 },
    );
  });

  it('gives back every runner config it renders', () => {
    fc.assert(
      fc.property(runnerConfig, (config) => {
        expect(parseRunnerConfig(renderRunnerConfig(config)).config).toEqual(config);
      }),
      { numRuns: 300 },
    );
  });

  it.each(['upstream-driver-example.toml', 'lowercase-driver.toml', 'extended-driver.toml'])('normalizes %s to a fixed point', (name) => {
    const once = parseDriverConfig(fixture(name)).config;
    const rendered = renderDriverConfig(once);
    expect(parseDriverConfig(rendered).config).toEqual(once);
    expect(renderDriverConfig(parseDriverConfig(rendered).config)).toBe(rendered);
  });

  it('normalizes the documented runner config.toml to a fixed point, and can hide its secrets', () => {
    const once = parseRunnerConfig(fixture('runner-custom-executor.toml')).config;
    expect(parseRunnerConfig(renderRunnerConfig(once)).config).toEqual(once);
    const shown = renderRunnerConfig({ ...once, runners: once.runners.map((runner) => ({ ...runner, token: 'glrt-very-secret' })) }, { redactSecrets: true });
    expect(shown).toContain('token = "[REDACTED]"');
    expect(shown).not.toContain('very-secret');
  });
});
