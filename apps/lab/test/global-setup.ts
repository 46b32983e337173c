import { join } from 'node:path';
import { build } from 'vite';
import type { TestProject } from 'vitest/node';
import { serveStatic } from './static-server.js';
import type { StaticServer } from './static-server.js';

declare module 'vitest' {
  export interface ProvidedContext {
    labUrl: string;
  }
}

const root = join(import.meta.dirname, '..');
let server: StaticServer | undefined;

/** Builds the page once (what `pnpm --filter @kernsim/lab build` writes) and serves dist/ on 127.0.0.1. */
export async function setup(project: TestProject): Promise<void> {
  await build({ root, configFile: join(root, 'vite.config.ts'), logLevel: 'error' });
  server = await serveStatic(join(root, 'dist'));
  project.provide('labUrl', server.url);
}

export async function teardown(): Promise<void> {
  await server?.close();
}
