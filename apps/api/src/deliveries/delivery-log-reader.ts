import { ObjectId, type Db, type Filter } from 'mongodb';
import { deliveriesCollection, type DeliveryRecord, type DeliveryStatus, type WebhookType } from '@novee/shared';

export interface DeliveryQuery {
  status?: DeliveryStatus;
  type?: WebhookType;
  limit: number;
  /** Opaque: the id of the last item of the previous page. */
  cursor?: string;
}

/** Reads a project's delivery attempts, newest first, a page at a time (cursor on the time-ordered _id). */
export class DeliveryLogReader {
  constructor(private readonly db: Db) {}

  async page(projectId: string, query: DeliveryQuery) {
    const filter: Filter<DeliveryRecord> = { projectId };
    if (query.status) filter.status = query.status;
    if (query.type) filter.webhookType = query.type;
    if (query.cursor) filter._id = { $lt: new ObjectId(query.cursor) };
    const docs = await deliveriesCollection(this.db)
      .find(filter)
      .sort({ _id: -1 })
      .limit(query.limit + 1)
      .toArray();
    const items = docs.slice(0, query.limit).map(({ _id, projectId: _project, ...record }) => ({ id: _id.toHexString(), ...record }));
    const nextCursor = docs.length > query.limit ? items[items.length - 1]!.id : null;
    return { items, nextCursor };
  }

  /** Whether any attempt of this event belongs to the project (so one project cannot redeliver another's). */
  async hasEvent(projectId: string, eventId: string): Promise<boolean> {
    return (await deliveriesCollection(this.db).countDocuments({ projectId, eventId }, { limit: 1 })) > 0;
  }
}
