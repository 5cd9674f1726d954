import { MongoClient, type Db } from 'mongodb';

export interface MongoConnection {
  client: MongoClient;
  db: Db;
}

/**
 * Connect lazily: the driver connects on first use and keeps reconnecting, so a process can start
 * while MongoDB is down and report 503 / retry jobs instead of crashing.
 */
export function createMongoConnection(url: string, dbName: string): MongoConnection {
  const client = new MongoClient(url, {
    serverSelectionTimeoutMS: 3_000,
    connectTimeoutMS: 3_000,
    appName: 'novee-webhooks',
    // Optional fields that are undefined are left out rather than stored as null.
    ignoreUndefined: true,
  });
  return { client, db: client.db(dbName) };
}
