import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import ts from 'typescript';
import { openApiDocument } from './openapi-document';

/**
 * Customers generate clients from /openapi.json: openapi-typescript turns it into types here, and the
 * TypeScript compiler checks code written against them (strict), so the document stays usable by that
 * tooling and its operations keep meaningful names.
 */
const CLIENT_USAGE = `
import type { components, operations, paths, webhooks } from './novee-api';

type Register = operations['registerWebhook'];
const body: Register['requestBody']['content']['application/json'] = {
  projectId: 'proj-1',
  url: 'https://hooks.example.com/novee',
  types: ['FALL_DETECTION', 'VITAL_THRESHOLD'],
};
type Registered = Register['responses'][201]['content']['application/json'];
export const secretOf = (registered: Registered): string => registered.secret;

const event: paths['/events']['post']['requestBody']['content']['application/json'] = {
  projectId: 'proj-1',
  userUUID: '4f1c2b7e-8d9a-4e3b-9c1d-2a3b4c5d6e7f',
  webhookType: 'FALL_DETECTION',
  data: {
    userUUID: '4f1c2b7e-8d9a-4e3b-9c1d-2a3b4c5d6e7f',
    reasons: ['impact detected'],
    happenedAt: '2026-11-23T10:15:30.000Z',
    email: 'ada@example.com',
    firstName: 'Ada',
    lastName: 'Lovelace',
  },
};
export const eventIdOf = (accepted: operations['ingestEvent']['responses'][202]['content']['application/json']): string =>
  accepted.eventId;
export const nextCursor = (page: components['schemas']['DeliveryPage']): string | null => page.nextCursor;
export type FallWebhook = webhooks['FALL_DETECTION']['post']['requestBody']['content']['application/json'];
export const fall: FallWebhook = event.data as FallWebhook;

// The types are precise, not 'any': these must not compile.
// @ts-expect-error an unknown webhook type
export const sneeze: Register['requestBody']['content']['application/json']['types'][number] = 'SNEEZE';
// @ts-expect-error an operation that does not exist
export type Nope = operations['doesNotExist'];
export { body };
`;

it('a client generated with openapi-typescript from the document compiles (strict) and is precisely typed', () => {
  const dir = mkdtempSync(join(tmpdir(), 'novee-openapi-client-'));
  try {
    writeFileSync(join(dir, 'openapi.json'), JSON.stringify(openApiDocument));
    const cli = join(dirname(require.resolve('openapi-typescript/package.json')), 'bin', 'cli.js');
    execFileSync(process.execPath, [cli, join(dir, 'openapi.json'), '--output', join(dir, 'novee-api.ts')], { stdio: 'pipe' });
    writeFileSync(join(dir, 'client.ts'), CLIENT_USAGE);

    const program = ts.createProgram([join(dir, 'client.ts')], {
      strict: true,
      noEmit: true,
      noUnusedLocals: true,
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      types: [],
    });
    const problems = ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    expect(problems).toEqual([]);
    expect(program.getSourceFiles().some((file) => file.fileName.endsWith('novee-api.ts'))).toBe(true);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
