import { parseArgs } from 'node:util';
import { ajv, PROJECT_ID_SCHEMA, createMongoConnection, ensureIndexes, loadConfig } from '@novee/shared';
import { ProjectAccess } from './projects/project-access';

const USAGE = `Usage:
  npm run cli -- project:create --id PROJECT_ID --member SUB [--member SUB ...] [--name NAME]
      Create the project (or add members to it). SUB is the caller's token subject, e.g. auth0|abc123.`;

const isProjectId = ajv.compile(PROJECT_ID_SCHEMA);

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command !== 'project:create') {
    console.error(USAGE);
    return 2;
  }
  const { values } = parseArgs({
    args: rest,
    options: { id: { type: 'string' }, member: { type: 'string', multiple: true }, name: { type: 'string' } },
  });
  if (!values.id || !isProjectId(values.id) || !values.member?.length) {
    console.error(USAGE);
    return 2;
  }
  const config = loadConfig();
  const mongo = createMongoConnection(config.mongodbUrl, config.mongodbDb);
  try {
    await ensureIndexes(mongo.db);
    await new ProjectAccess(mongo.db).addMembers(values.id, values.member, values.name);
    console.log(`project ${values.id}: members ${values.member.join(', ')} added`);
    return 0;
  } finally {
    await mongo.client.close();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: Error) => {
    console.error(`cli failed: ${error.message}`);
    process.exit(1);
  },
);
