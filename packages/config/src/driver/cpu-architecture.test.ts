import { describe, expect, it } from 'vitest';
import { renderCommand } from '../cli/render-command.js';
import { issuesOf } from '../test-support.js';
import { parseDriverConfig } from './parse.js';
import { renderDriverConfig } from './render.js';

const FARGATE = '[Fargate]\nCluster = "ci"\nSubnets = ["subnet-0123456789abcdef0"]\nTaskDefinition = "ci-job:1"\n';
const parse = (text: string) => () => parseDriverConfig(text, { file: 'f.toml' });

describe('parseDriverConfig: ARM64 task definition and CpuArchitectures', () => {
  it('reads the ARM64 task definition and the architectures jobs may choose, and renders them back', () => {
    const text = `${FARGATE}Arm64TaskDefinition = "ci-job-arm64:2"\n[Overrides]\nCpuArchitectures = ["ARM64", "X86_64"]\n`;
    const { config } = parseDriverConfig(text, { file: 'f.toml' });
    expect(config.fargate.arm64TaskDefinition).toBe('ci-job-arm64:2');
    expect(config.overrides.cpuArchitectures).toEqual(['ARM64', 'X86_64']);
    expect(parseDriverConfig(renderDriverConfig(config), { file: 'rendered.toml' }).config).toEqual(config);
  });

  it('offers no architecture choice by default', () => {
    const { config } = parseDriverConfig(FARGATE, { file: 'f.toml' });
    expect(config.fargate.arm64TaskDefinition).toBeUndefined();
    expect(config.overrides.cpuArchitectures).toBeUndefined();
  });

  it('refuses ARM64 in CpuArchitectures when the environment has no ARM64 task definition', () => {
    expect(issuesOf(parse(`${FARGATE}[Overrides]\nCpuArchitectures = ["ARM64"]\n`))).toEqual([
      'f.toml:6:1: error: Overrides.CpuArchitectures: expected ARM64 only with [Fargate] Arm64TaskDefinition set, found ARM64 allowed without it; ' +
        'set [Fargate] Arm64TaskDefinition to the environment\'s ARM64 task definition, or remove "ARM64"',
    ]);
  });

  it('refuses an architecture Fargate does not have and a malformed task definition', () => {
    expect(issuesOf(parse(`${FARGATE}Arm64TaskDefinition = "ci job"\n[Overrides]\nCpuArchitectures = ["AMD64"]\n`))).toEqual([
      'f.toml:5:1: error: Fargate.Arm64TaskDefinition: expected the ARM64 task definition: family, family:revision or ARN, found "ci job"',
      'f.toml:7:21: error: Overrides.CpuArchitectures[0]: expected one of "X86_64", "ARM64", found "AMD64"',
    ]);
  });
});

describe('render driver: ARM64_TASK_DEFINITION and ALLOWED_CPU_ARCHITECTURES', () => {
  const ENV = { CLUSTER: 'ci', SUBNETS: 'subnet-0123456789abcdef0', TASK_DEFINITION: 'ci-job:1' };
  const render = async (env: Record<string, string>) => {
    let out = '';
    let err = '';
    const code = await renderCommand(['driver'], { ...ENV, ...env }, { out: (t) => (out += t), err: (t) => (err += t) });
    return { code, out, err };
  };

  it('writes the ARM64 task definition and the allowed architectures from the environment', async () => {
    const result = await render({ ARM64_TASK_DEFINITION: 'ci-job-arm64:4', ALLOWED_CPU_ARCHITECTURES: 'X86_64,ARM64' });
    expect(result.err).toBe('');
    const { config } = parseDriverConfig(result.out, { file: 'rendered.toml' });
    expect(config.fargate.arm64TaskDefinition).toBe('ci-job-arm64:4');
    expect(config.overrides.cpuArchitectures).toEqual(['X86_64', 'ARM64']);
  });

  it('refuses ARM64 without an ARM64 task definition, naming the variable', async () => {
    const result = await render({ ALLOWED_CPU_ARCHITECTURES: 'ARM64' });
    expect(result.code).toBe(2);
    expect(result.err).toContain('Overrides.CpuArchitectures');
    expect(result.err).toContain('ALLOWED_CPU_ARCHITECTURES');
    expect(result.out).toBe('');
  });
});
