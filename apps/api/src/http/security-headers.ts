import type { RequestHandler } from 'express';
import helmet, { contentSecurityPolicy } from 'helmet';

/**
 * The JSON API is never a document: it may load nothing and be framed by nobody. helmet also sends nosniff,
 * X-Frame-Options DENY, HSTS (honoured by browsers once TLS terminates in front of the API), a strict
 * Referrer-Policy and Cross-Origin-*-Policy, and removes X-Powered-By.
 */
const API_POLICY = {
  defaultSrc: ["'none'"],
  frameAncestors: ["'none'"],
  baseUri: ["'none'"],
  formAction: ["'none'"],
};

/**
 * The pages operators open (Swagger UI at /docs, Bull Board and its login at /admin): their own scripts and
 * styles only (inline styles, which both UIs use, but never inline scripts), calls back to this origin only.
 * Third-party fonts the board asks for are refused rather than leak an admin's browsing to a font host.
 */
const UI_POLICY = {
  defaultSrc: ["'self'"],
  scriptSrc: ["'self'"],
  styleSrc: ["'self'", "'unsafe-inline'"],
  imgSrc: ["'self'", 'data:'],
  fontSrc: ["'self'", 'data:'],
  connectSrc: ["'self'"],
  objectSrc: ["'none'"],
  frameAncestors: ["'none'"],
  baseUri: ["'self'"],
  formAction: ["'self'"],
};

/** Security headers on every response (errors and 404s included): mount first. */
export const securityHeaders = (): RequestHandler =>
  helmet({
    contentSecurityPolicy: { useDefaults: false, directives: API_POLICY },
    frameguard: { action: 'deny' },
    referrerPolicy: { policy: 'no-referrer' },
  });

/** The CSP for the HTML pages: mount on their paths, after securityHeaders (it replaces the API's policy). */
export const uiContentSecurityPolicy = (): RequestHandler => contentSecurityPolicy({ useDefaults: false, directives: UI_POLICY });

/**
 * Authenticated answers carry a project's data, and register / rotate carry a signing secret: no browser,
 * proxy or CDN may keep a copy.
 */
export const noStore: RequestHandler = (_req, res, next) => {
  res.set('Cache-Control', 'no-store');
  next();
};
