import { parseArgs } from 'node:util';
import {
  PROJECT_ID_SCHEMA,
  SecretCipher,
  ajv,
  createMongoConnection,
  ensureIndexes,
  loadConfig,
  registrationsCollection,
  requireSecretCipher,
} from '@novee/shared';
import { ProjectAccess } from './projects/project-access';

const USAGE = `Usage:
  npm run cli -- project:create --id PROJECT_ID --member SUB [--member SUB ...] [--name NAME]
      Create the project (or add members to it). SUB is the caller's token subject, e.g. auth0|abc123.
  npm run cli -- secrets:generate-key [--id KEY_ID]
      Print a new SECRETS_ENCRYPTION_KEYS entry. To rotate: put it first in the list, keep the old one after it.
  npm run cli -- secrets:reencrypt
      Re-encrypt every stored webhook secret with the first key (then the old key can be dropped).`;

const isProjectId = ajv.compile(PROJECT_ID_SCHEMA);

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === 'secrets:generate-key') {
    const { values } = parseArgs({ args: rest, options: { id: { type: 'string' } } });
    console.log(SecretCipher.generateKeyEntry(values.id));
    return 0;
  }
  if (command === 'secrets:reencrypt') return reencryptSecrets();
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

/** Bring every stored secret (and a rotation's previous one) onto the current (first) key; plaintext legacy secrets get encrypted too. */
async function reencryptSecrets(): Promise<number> {
  const config = loadConfig();
  const cipher = requireSecretCipher(config);
  const mongo = createMongoConnection(config.mongodbUrl, config.mongodbDb);
  try {
    const registrations = registrationsCollection(mongo.db);
    let updated = 0;
    for await (const { _id, secret, previousSecret } of registrations.find({}, { projection: { secret: 1, previousSecret: 1 } })) {
      if (cipher.needsReencryption(secret)) {
        // Only if unchanged meanwhile (a concurrent rotation wins).
        const result = await registrations.updateOne({ _id, secret }, { $set: { secret: cipher.encrypt(cipher.decrypt(secret)) } });
        updated += result.modifiedCount;
      }
      if (previousSecret && cipher.needsReencryption(previousSecret.secret)) {
        const result = await registrations.updateOne(
          { _id, 'previousSecret.secret': previousSecret.secret },
          { $set: { 'previousSecret.secret': cipher.encrypt(cipher.decrypt(previousSecret.secret)) } },
        );
        updated += result.modifiedCount;
      }
    }
    console.log(`re-encrypted ${updated} webhook secret(s)`);
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
