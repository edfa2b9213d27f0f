export { arm64BaseImage, DockerEngineError, ensureDockerEngine, ensureEngineScript } from './ensure-engine.js';
export type { EnsureDockerEngineOptions } from './ensure-engine.js';
