import { writeFileSync } from 'node:fs';
import { openApiDocument } from './openapi-document';

/** `node apps/api/dist/openapi/write-openapi-json.js FILE`: the served document as a file, for linters and generators. */
const [file] = process.argv.slice(2);
if (!file) {
  console.error('usage: write-openapi-json FILE');
  process.exit(2);
}
writeFileSync(file, `${JSON.stringify(openApiDocument, null, 2)}\n`);
