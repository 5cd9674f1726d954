export { managementRateLimit, ingestionRateLimit, ingestionRateLimiter, type ApiRateLimitSettings } from './api-rate-limits';
export type { RateLimiter } from './rate-limit';
