import type { NextFunction, Request, Response } from 'express';

/**
 * The pages people open (the dashboard, the API documents) allow nothing but
 * this origin: no inline script or style, no eval, no other host, no framing.
 * The pages are plain modules and stylesheets, and set styles only through the
 * CSSOM, which the policy allows.
 */
export const PAGE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** The headers of every such page and of what it loads. */
export function pageHeaders(_req: Request, res: Response, next: NextFunction): void {
  res.set('Content-Security-Policy', PAGE_CSP);
  res.set('X-Content-Type-Options', 'nosniff');
  res.set('X-Frame-Options', 'DENY');
  res.set('Referrer-Policy', 'same-origin');
  res.set('Cross-Origin-Opener-Policy', 'same-origin');
  res.set('Cross-Origin-Resource-Policy', 'same-origin');
  res.set('Permissions-Policy', 'camera=(), microphone=(), geolocation=(), payment=()');
  next();
}
