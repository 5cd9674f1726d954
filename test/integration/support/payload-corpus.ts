import { randomUUID } from 'node:crypto';

/**
 * The fixed payloads every receiver check runs on: what real patients' alerts look like when names are not
 * ASCII, and the numbers that JSON serializers print differently. `pythonReserializes` says whether Python's
 * json.dumps(json.loads(body), separators=(",", ":")) gives back the very bytes we sent (the public docs'
 * re-serializing receiver): false for every non-ASCII name (Python escapes them as \u00e9) and for numbers
 * below 1e-4 (Python prints 1e-05 where JavaScript prints 0.00001).
 */
export interface CorpusEntry {
  name: string;
  webhookType: 'FALL_DETECTION' | 'VITAL_THRESHOLD';
  data: Record<string, unknown>;
  pythonReserializes: boolean;
}

const fall = (firstName: string, lastName: string, reasons: string[], email = 'patient@example.com') => ({
  userUUID: randomUUID(),
  reasons,
  happenedAt: '2026-11-23T10:15:30.000Z',
  email,
  firstName,
  lastName,
});

const vital = (triggeredVitals: Array<Record<string, unknown>>) => ({
  triggeredVitals,
  userUUID: randomUUID(),
  email: 'patient@example.com',
  firstName: 'Ada',
  lastName: 'Lovelace',
});

export function payloadCorpus(): CorpusEntry[] {
  return [
    {
      name: 'ASCII names',
      webhookType: 'FALL_DETECTION',
      pythonReserializes: true,
      data: fall('Ada', 'Lovelace', ['impact detected', 'no movement for 60 s']),
    },
    {
      name: 'Latin names',
      webhookType: 'FALL_DETECTION',
      pythonReserializes: false,
      data: fall('José', 'Nuñez Müller', ['caída detectada'], 'jose.nunez@example.com'),
    },
    { name: 'CJK names', webhookType: 'FALL_DETECTION', pythonReserializes: false, data: fall('雷', '李', ['跌倒检测', '60 秒无活动']) },
    { name: 'emoji', webhookType: 'FALL_DETECTION', pythonReserializes: false, data: fall('Zoë', 'Okafor 🙂', ['fell 🚑']) },
    {
      name: 'small numbers (1e-05)',
      webhookType: 'VITAL_THRESHOLD',
      pythonReserializes: false,
      data: vital([
        { vitalType: 'glucose', badValue: 0.00001, thresholdValue: 0.0001, vital_id: 'v-small-1', reason: 'low' },
        { vitalType: 'temperature', badValue: 1e-7, thresholdValue: 35.5, vital_id: 'v-small-2', reason: 'low' },
      ]),
    },
    {
      name: 'large numbers',
      webhookType: 'VITAL_THRESHOLD',
      pythonReserializes: true,
      // Written as the doubles they are (what JSON.stringify sends): 12345678901234567890 and 2^53 + 1 were
      // these values already, rounded when the source was parsed.
      data: vital([
        { vitalType: 'heartrate', badValue: 1e21, thresholdValue: 12345678901234567000, vital_id: 'v-large-1', reason: 'high' },
        {
          vitalType: 'bloodPressureSystolic',
          badValue: 1.7976931348623157e308,
          thresholdValue: 9007199254740992,
          vital_id: 'v-large-2',
          reason: 'high',
        },
      ]),
    },
    {
      name: 'null reasons',
      webhookType: 'VITAL_THRESHOLD',
      pythonReserializes: true,
      data: vital([
        { vitalType: 'EKG', badValue: 1, thresholdValue: 0, vital_id: 'v-null-1', reason: null },
        { vitalType: 'temperature', badValue: 38.25, thresholdValue: 37.5, vital_id: 'v-null-2', reason: null },
      ]),
    },
  ];
}
