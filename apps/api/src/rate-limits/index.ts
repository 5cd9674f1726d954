export { managementRateLimit, ingestionRateLimit, type ApiRateLimitSettings } from './api-rate-limits';
