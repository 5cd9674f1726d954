/** The event types a webhook can carry. TEST is only produced by the API's test endpoint. */
export const WEBHOOK_TYPES = ['FALL_DETECTION', 'VITAL_THRESHOLD', 'TEST'] as const;
export type WebhookType = (typeof WEBHOOK_TYPES)[number];

/** The types a registration may subscribe to (TEST is always delivered, so it is not subscribable). */
export const SUBSCRIBABLE_TYPES = ['FALL_DETECTION', 'VITAL_THRESHOLD'] as const;
export type SubscribableType = (typeof SUBSCRIBABLE_TYPES)[number];

export const VITAL_TYPES = [
  'heartrate',
  'heartrateVariability',
  'respiratoryRate',
  'pulseox',
  'bloodPressureSystolic',
  'bloodPressureDiastolic',
  'glucose',
  'temperature',
  'EKG',
] as const;
export type VitalType = (typeof VITAL_TYPES)[number];

export interface FallDetectionData {
  userUUID: string;
  reasons: string[];
  /** ISO-8601 date-time */
  happenedAt: string;
  email: string;
  firstName: string;
  lastName: string;
}

export interface TriggeredVital {
  vitalType: VitalType;
  badValue: number;
  thresholdValue: number;
  vital_id: string;
  reason: 'high' | 'low' | null;
}

export interface VitalThresholdData {
  triggeredVitals: TriggeredVital[];
  userUUID: string;
  email: string;
  firstName: string;
  lastName: string;
}

export interface TestData {
  test: 'test';
}

export interface EventDataByType {
  FALL_DETECTION: FallDetectionData;
  VITAL_THRESHOLD: VitalThresholdData;
  TEST: TestData;
}

/** What upstream pipelines enqueue. Only `data` is ever sent to the receiver. */
export type InternalEvent<T extends WebhookType = WebhookType> = {
  [K in T]: { projectId: string; userUUID: string; webhookType: K; data: EventDataByType[K] };
}[T];

/** Device events, i.e. what pipelines and POST /events may send (not TEST). */
export type DeviceEvent = InternalEvent<SubscribableType>;
