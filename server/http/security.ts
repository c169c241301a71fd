/**
 * Security headers (DESIGN.md "HTTP"): a strict CSP with no inline script or style,
 * no referrer, no framing, no X-Powered-By.
 */
import helmet from 'helmet';

export const CONTENT_SECURITY_POLICY = {
  'default-src': ["'none'"],
  'script-src': ["'self'", "'wasm-unsafe-eval'"],
  'style-src': ["'self'"],
  'img-src': ["'self'", 'data:', 'blob:'],
  'connect-src': ["'self'"],
  // Only the KDF worker (client/lib/kdf.ts), started from a blob: URL of script bytes the page
  // fetched under their integrity hash; nothing else may run as a worker.
  'worker-src': ['blob:'],
  // Stricter than DESIGN.md's 'self': every form is handled by script (preventDefault), so a
  // native submission can only be an accident (a script not yet loaded, or blocked), and it
  // would put a codename, a password or a testimony into a URL. None is allowed.
  'form-action': ["'none'"],
  'base-uri': ["'none'"],
  'frame-ancestors': ["'none'"],
};

export function securityHeaders() {
  return helmet({
    contentSecurityPolicy: { useDefaults: false, directives: CONTENT_SECURITY_POLICY },
    referrerPolicy: { policy: 'no-referrer' },
    frameguard: { action: 'deny' },
    crossOriginEmbedderPolicy: false,
    strictTransportSecurity: false, // set by the TLS-terminating proxy, which knows whether TLS is on
  });
}
