import { MongoClient } from 'mongodb';
import { startMongoJavaServer, type LocalMongo } from '@novee/devkit';

// Why the repo is on mongodb driver 6 (README: Technical choices): driver 7 refuses servers below wire
// version 9 (MongoDB 4.4), and mongo-java-server, which the tests and the local run use without MONGODB_URL,
// reports 8 even configured as MongoDB 5.0. When this fails, the server has caught up: try driver 7.
let mongo: LocalMongo;
beforeAll(async () => {
  mongo = await startMongoJavaServer();
});
afterAll(() => mongo.stop());

it('mongo-java-server reports MongoDB 5.0.0 but wire version 8, below the 9 mongodb driver 7 requires', async () => {
  const client = new MongoClient(mongo.url);
  try {
    const admin = client.db('admin');
    const hello = await admin.command({ isMaster: 1 });
    const build = await admin.command({ buildInfo: 1 });
    expect(build.version).toBe('5.0.0');
    expect(hello.maxWireVersion).toBe(8);
  } finally {
    await client.close();
  }
});
