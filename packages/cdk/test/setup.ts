import { CloudAssembly } from 'aws-cdk-lib/cx-api';
import { afterAll } from 'vitest';

// Every App without an outdir synthesizes into a fresh temporary directory; remove them when a file's tests end.
afterAll(() => CloudAssembly.cleanupTemporaryDirectories());
