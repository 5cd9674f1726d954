import type { Db } from 'mongodb';
import type { Redis } from 'ioredis';
import { Counter, type Registry } from 'prom-client';
import { markRegistrationChanged, registrationsCollection, type Logger, type WebhookRegistrationDocument } from '@novee/shared';
import type { FailureStreak } from './failure-streak';

/** What happened to an endpoint's health; each is reported once per transition (see EndpointHealthNotices). */
export type HealthTransition =
  | { kind: 'failing'; projectId: string; urlHost: string; failingSince: Date }
  | { kind: 'disabled'; projectId: string; urlHost: string; reason: string; failingSince?: Date }
  | { kind: 'recovered'; projectId: string; urlHost: string; failingSince: Date };

export interface EndpointHealthOptions {
  /** Failing continuously this long disables the endpoint (ENDPOINT_DISABLE_AFTER). */
  disableAfterMs: number;
  /** Failing continuously this long is announced once as `failing` (0: never). */
  failingNoticeAfterMs: number;
}

/**
 * An endpoint's health: `failingSince` while every attempt fails, cleared by a success; disabled once it has
 * failed for `disableAfterMs`, or at once when the receiver answers 410 Gone. The streak lives in Redis
 * (FailureStreak); the registration in MongoDB is written only on a transition, then marked changed so that
 * every worker sees it. Never throws: health is bookkeeping, it must not fail a delivery.
 */
export class EndpointHealth {
  private readonly transitions: Counter<'transition'>;

  constructor(
    private readonly streak: FailureStreak,
    private readonly db: Db,
    private readonly redis: Redis,
    private readonly queuePrefix: string,
    private readonly options: EndpointHealthOptions,
    private readonly logger: Logger,
    registry: Registry,
    /** Told of each transition once (operational webhooks). */
    private readonly notify: (transition: HealthTransition) => void = () => undefined,
  ) {
    this.transitions = new Counter({
      name: 'novee_endpoint_health_transitions_total',
      help: 'Endpoints that started failing, were disabled, or recovered',
      labelNames: ['transition'],
      registers: [registry],
    });
  }

  /** The outcome of one attempt to the project's endpoint. */
  async observe(projectId: string, registration: WebhookRegistrationDocument, delivered: boolean, urlHost: string): Promise<void> {
    const epoch = registration.enabledAt?.getTime() ?? 0;
    try {
      if (delivered) {
        const since = await this.streak.delivered(projectId, epoch);
        if (since !== null || registration.failingSince)
          await this.recovered(projectId, urlHost, new Date(since ?? registration.failingSince!));
        return;
      }
      const failure = await this.streak.failed(projectId, epoch);
      const failingSince = new Date(failure.since);
      if (failure.started) await this.startedFailing(projectId, failingSince);
      const failingFor = failure.now - failure.since;
      if (failingFor >= this.options.disableAfterMs) {
        const reason = `failing continuously since ${failingSince.toISOString()}`;
        await this.disable(projectId, reason, urlHost, failingSince);
      } else if (
        this.options.failingNoticeAfterMs > 0 &&
        failingFor >= this.options.failingNoticeAfterMs &&
        (await this.streak.claimNotice(projectId, epoch))
      ) {
        this.report({ kind: 'failing', projectId, urlHost, failingSince });
      }
    } catch (error) {
      this.logger.warn('endpoint health not updated', { projectId, error: (error as Error).message });
    }
  }

  /** Disable the endpoint (once: only the worker that changes it reports it). Returns whether this call did. */
  async disable(projectId: string, reason: string, urlHost: string, failingSince?: Date): Promise<boolean> {
    try {
      const now = new Date();
      const { modifiedCount } = await registrationsCollection(this.db).updateOne(
        { projectId, status: { $ne: 'disabled' } },
        { $set: { status: 'disabled', disabledReason: reason, disabledAt: now } },
      );
      if (modifiedCount === 0) return false;
      await markRegistrationChanged(this.redis, this.queuePrefix, projectId);
      this.report({ kind: 'disabled', projectId, urlHost, reason, ...(failingSince && { failingSince }) });
      return true;
    } catch (error) {
      this.logger.warn('endpoint not disabled', { projectId, reason, error: (error as Error).message });
      return false;
    }
  }

  private async startedFailing(projectId: string, failingSince: Date): Promise<void> {
    const { modifiedCount } = await registrationsCollection(this.db).updateOne(
      { projectId, failingSince: { $exists: false } },
      { $set: { failingSince } },
    );
    if (modifiedCount > 0) await markRegistrationChanged(this.redis, this.queuePrefix, projectId);
  }

  private async recovered(projectId: string, urlHost: string, failingSince: Date): Promise<void> {
    const { modifiedCount } = await registrationsCollection(this.db).updateOne(
      { projectId, failingSince: { $exists: true } },
      { $unset: { failingSince: '' } },
    );
    if (modifiedCount === 0) return;
    await markRegistrationChanged(this.redis, this.queuePrefix, projectId);
    this.report({ kind: 'recovered', projectId, urlHost, failingSince });
  }

  private report(transition: HealthTransition): void {
    this.transitions.inc({ transition: transition.kind });
    const { kind, ...details } = transition;
    this.logger.log(kind === 'recovered' ? 'info' : 'warn', `endpoint ${kind}`, details);
    this.notify(transition);
  }
}
