import { expect } from '@jest/globals';
import { validateEventData, validateInternalEvent } from './validate-event';

const userUUID = '4f1c2b7e-8d9a-4e3b-9c1d-2a3b4c5d6e7f';
export const fall = {
  userUUID,
  reasons: ['impact detected', 'no movement for 60s'],
  happenedAt: '2026-11-23T10:15:30.000Z',
  email: 'ada@example.com',
  firstName: 'Ada',
  lastName: 'Lovelace',
};
export const vitals = {
  triggeredVitals: [
    { vitalType: 'heartrate', badValue: 182, thresholdValue: 150, vital_id: 'v-1', reason: 'high' },
    { vitalType: 'pulseox', badValue: 85.5, thresholdValue: 90, vital_id: 'v-2', reason: 'low' },
    { vitalType: 'EKG', badValue: 1, thresholdValue: 0, vital_id: 'v-3', reason: null },
  ],
  userUUID,
  email: 'ada@example.com',
  firstName: 'Ada',
  lastName: 'Lovelace',
};
const envelope = (webhookType: string, data: unknown) => ({ projectId: 'proj-1', userUUID, webhookType, data });

describe('event data schemas (SPEC examples)', () => {
  it('accepts the documented FALL_DETECTION, VITAL_THRESHOLD and TEST bodies', () => {
    expect(validateEventData('FALL_DETECTION', fall)).toEqual({ valid: true, value: fall });
    expect(validateEventData('VITAL_THRESHOLD', vitals).valid).toBe(true);
    expect(validateEventData('TEST', { test: 'test' }).valid).toBe(true);
  });

  it('accepts every documented vitalType', () => {
    for (const vitalType of [
      'heartrate',
      'heartrateVariability',
      'respiratoryRate',
      'pulseox',
      'bloodPressureSystolic',
      'bloodPressureDiastolic',
      'glucose',
      'temperature',
      'EKG',
    ]) {
      const data = { ...vitals, triggeredVitals: [{ ...vitals.triggeredVitals[0], vitalType }] };
      expect(validateEventData('VITAL_THRESHOLD', data).valid).toBe(true);
    }
  });

  it.each([
    ['a missing field', { ...fall, email: undefined }, 'data.email is required'],
    ['a non ISO-8601 happenedAt', { ...fall, happenedAt: 'yesterday' }, 'data.happenedAt must be a valid date-time'],
    ['reasons that are not strings', { ...fall, reasons: [1] }, 'data.reasons[0] must be of type string'],
    ['an extra field', { ...fall, diagnosis: 'x' }, 'data.diagnosis is not an allowed field'],
    ['a userUUID that is not a UUID', { ...fall, userUUID: 'bob' }, 'data.userUUID must be a valid uuid'],
  ])('rejects FALL_DETECTION with %s, naming the field', (_case, data, message) => {
    expect(validateEventData('FALL_DETECTION', data)).toEqual({ valid: false, errors: expect.arrayContaining([message]) });
  });

  it.each([
    ['an unknown vitalType', { vitalType: 'mood' }, 'data.triggeredVitals[0].vitalType must be one of:'],
    ['a string badValue', { badValue: '182' }, 'data.triggeredVitals[0].badValue must be of type number'],
    ['an unknown reason', { reason: 'weird' }, 'data.triggeredVitals[0].reason must be one of: high, low, null'],
  ])('rejects VITAL_THRESHOLD with %s', (_case, change, message) => {
    const data = { ...vitals, triggeredVitals: [{ ...vitals.triggeredVitals[0], ...change }] };
    const result = validateEventData('VITAL_THRESHOLD', data);
    expect(result.valid).toBe(false);
    expect(!result.valid && result.errors.join('\n')).toContain(message);
  });

  it('rejects VITAL_THRESHOLD without triggered vitals, and a TEST body other than {"test":"test"}', () => {
    expect(validateEventData('VITAL_THRESHOLD', { ...vitals, triggeredVitals: [] }).valid).toBe(false);
    expect(validateEventData('TEST', { test: 'other' })).toEqual({ valid: false, errors: ['data.test must be "test"'] });
  });
});

describe('validateInternalEvent', () => {
  it('accepts the envelope {projectId, userUUID, webhookType, data}', () => {
    expect(validateInternalEvent(envelope('FALL_DETECTION', fall)).valid).toBe(true);
  });

  it('checks data against the schema of its own webhookType', () => {
    const result = validateInternalEvent(envelope('VITAL_THRESHOLD', fall));
    expect(result.valid).toBe(false);
    expect(!result.valid && result.errors).toContain('data.triggeredVitals is required');
  });

  it('names bad envelope fields', () => {
    expect(validateInternalEvent({ ...envelope('FALL', fall) })).toEqual({
      valid: false,
      errors: ['webhookType must be one of: FALL_DETECTION, VITAL_THRESHOLD, TEST'],
    });
    expect(validateInternalEvent({ userUUID, webhookType: 'TEST', data: { test: 'test' } })).toEqual({
      valid: false,
      errors: ['projectId is required'],
    });
    expect(validateInternalEvent('nope')).toEqual({ valid: false, errors: ['body must be of type object'] });
  });

  it('refuses an envelope whose userUUID differs from the data', () => {
    expect(validateInternalEvent({ ...envelope('FALL_DETECTION', fall), userUUID: 'someone-else' })).toEqual({
      valid: false,
      errors: ['userUUID must equal data.userUUID'],
    });
  });
});

describe('event text refuses control and bidi override characters (hostile corpus)', () => {
  const MESSAGE = 'must not contain control characters or bidirectional override characters';
  it.each([
    ['NUL, BEL and an ANSI escape', 'A\u0000\u0007\u001b[31m'],
    ['a newline (log injection)', 'Ada\nERROR forged line'],
    ['a tab', 'Ada\tLovelace'],
    ['DEL', 'Ada\u007f'],
    ['a C1 control (CSI)', 'Ada\u009b31m'],
    ['NEL', 'Ada\u0085'],
    ['RIGHT-TO-LEFT OVERRIDE', 'Ada\u202eecalevoL'],
    ['LEFT-TO-RIGHT EMBEDDING', '\u202aAda'],
    ['POP DIRECTIONAL FORMATTING', 'Ada\u202c'],
    ['RIGHT-TO-LEFT ISOLATE', 'Ada\u2067x\u2069'],
    ['FIRST STRONG ISOLATE', '\u2068Ada'],
  ])('refuses %s, naming the field', (_name, value) => {
    for (const field of ['firstName', 'lastName', 'email'] as const) {
      expect(validateEventData('FALL_DETECTION', { ...fall, [field]: value })).toEqual({
        valid: false,
        errors: [`data.${field} ${MESSAGE}`],
      });
    }
    expect(validateEventData('FALL_DETECTION', { ...fall, reasons: ['ok', value] })).toEqual({
      valid: false,
      errors: [`data.reasons[1] ${MESSAGE}`],
    });
    const badVital = { ...vitals, triggeredVitals: [{ ...vitals.triggeredVitals[0], vital_id: value }] };
    expect(validateEventData('VITAL_THRESHOLD', badVital)).toEqual({
      valid: false,
      errors: [`data.triggeredVitals[0].vital_id ${MESSAGE}`],
    });
    expect(validateInternalEvent({ ...envelope('FALL_DETECTION', fall), userUUID: value })).toEqual({
      valid: false,
      errors: [`userUUID ${MESSAGE}`],
    });
  });

  it('accepts ordinary international text, right-to-left names and their direction marks', () => {
    for (const name of ['Zoë Ørsted-Łukasiewicz', 'محمد\u200f', 'דוד', '山田 太郎', "O'Brien 👩‍⚕️"]) {
      expect(validateEventData('FALL_DETECTION', { ...fall, firstName: name, reasons: [name] }).valid).toBe(true);
    }
  });
});
