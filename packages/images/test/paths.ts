import { fileURLToPath } from 'node:url';

/** packages/images */
export const PACKAGE_DIR = fileURLToPath(new URL('..', import.meta.url));
/** The repository root. */
export const REPO_ROOT = fileURLToPath(new URL('../../..', import.meta.url));
/** The committed generator output. */
export const IMAGES_DIR = fileURLToPath(new URL('../../../images', import.meta.url));
/** The config package, which the runner-manager image runs. */
export const CONFIG_PACKAGE_DIR = fileURLToPath(new URL('../../config', import.meta.url));
