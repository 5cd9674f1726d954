import { randomUUID } from 'node:crypto';

export function fallDetection(projectId: string, userUUID: string = randomUUID()) {
  return {
    projectId,
    userUUID,
    webhookType: 'FALL_DETECTION' as const,
    data: {
      userUUID,
      reasons: ['impact detected', 'no movement for 60 s'],
      happenedAt: '2026-11-23T10:15:30.000Z',
      email: 'ada@example.com',
      firstName: 'Ada',
      lastName: 'Lovelace',
    },
  };
}

export function vitalThreshold(projectId: string, userUUID: string = randomUUID()) {
  return {
    projectId,
    userUUID,
    webhookType: 'VITAL_THRESHOLD' as const,
    data: {
      triggeredVitals: [
        { vitalType: 'heartrate' as const, badValue: 182, thresholdValue: 150, vital_id: 'vital-1', reason: 'high' as const },
        { vitalType: 'pulseox' as const, badValue: 85.5, thresholdValue: 90, vital_id: 'vital-2', reason: 'low' as const },
        { vitalType: 'EKG' as const, badValue: 1, thresholdValue: 0, vital_id: 'vital-3', reason: null },
      ],
      userUUID,
      email: 'ada@example.com',
      firstName: 'Ada',
      lastName: 'Lovelace',
    },
  };
}
