/**
 * Security headers (DESIGN.md "HTTP"): a strict CSP with no inline script or style,
 * no referrer, no framing, no X-Powered-By, no powerful browser feature; and a check that a
 * request which changes something comes from this server's own pages.
 */
import type { Request, RequestHandler } from 'express';
import helmet from 'helmet';
import { HttpError } from './errors';

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

/**
 * Powerful features no page uses, denied to every page and frame: a script that got in
 * (or a page of ours tricked into it) cannot ask for the camera, the microphone, the
 * location, payment, devices or ad-interest signals (features a browser does not know are
 * ignored, with a console warning: Debian's Chromium knows neither bluetooth nor
 * attribution-reporting, which phones' Chrome does). Not needed and so not denied: <input
 * type=file> (no permission) and clipboard writes, which the codename's copy button makes
 * (clipboard-write stays allowed for this origin only).
 */
export const PERMISSIONS_POLICY = [
  'accelerometer',
  'attribution-reporting',
  'autoplay',
  'bluetooth',
  'browsing-topics',
  'camera',
  'clipboard-read',
  'compute-pressure',
  'display-capture',
  'encrypted-media',
  'fullscreen',
  'gamepad',
  'geolocation',
  'gyroscope',
  'hid',
  'identity-credentials-get',
  'idle-detection',
  'local-fonts',
  'magnetometer',
  'microphone',
  'midi',
  'otp-credentials',
  'payment',
  'picture-in-picture',
  'publickey-credentials-create',
  'publickey-credentials-get',
  'screen-wake-lock',
  'serial',
  'storage-access',
  'usb',
  'window-management',
  'xr-spatial-tracking',
]
  .map((feature) => `${feature}=()`)
  .concat('clipboard-write=(self)')
  .join(', ');

export function securityHeaders(): RequestHandler {
  const fromHelmet = helmet({
    contentSecurityPolicy: { useDefaults: false, directives: CONTENT_SECURITY_POLICY },
    referrerPolicy: { policy: 'no-referrer' },
    frameguard: { action: 'deny' },
    crossOriginEmbedderPolicy: false,
    strictTransportSecurity: false, // set by the TLS-terminating proxy, which knows whether TLS is on
  });
  return (req, res, next) => {
    res.setHeader('Permissions-Policy', PERMISSIONS_POLICY);
    fromHelmet(req, res, next);
  };
}

/** Whether a request changes something: anything but GET and HEAD (OPTIONS is refused before). */
export const changesState = (req: Request) => req.method !== 'GET' && req.method !== 'HEAD';

export const crossSiteRequest = () =>
  new HttpError(403, 'cross_site_request', "this request came from another site's page; send it from this server's own pages");

/**
 * Refuses a request that changes something when the browser says it comes from another
 * site. Defence in depth: staff cookies are SameSite=Strict and every body must be JSON
 * (which a cross-site form cannot send, and a cross-site script cannot without a CORS
 * preflight this server never grants). `Sec-Fetch-Site` decides when present (`same-origin`,
 * or `none` for a request the user started themselves); else `Origin`, when present, must be
 * this server's (PUBLIC_URL's origin, or the Host the request was sent to). A request with
 * neither header is not a browser's cross-site request (curl, native clients, old
 * browsers that send no Origin on same-origin requests) and goes through.
 */
export function sameOriginWrites(publicUrl: string): RequestHandler {
  const own = new URL(publicUrl).origin;
  return (req, _res, next) => {
    if (!changesState(req)) return next();
    const site = req.headers['sec-fetch-site'];
    if (site !== undefined) return next(site === 'same-origin' || site === 'none' ? undefined : crossSiteRequest());
    const origin = req.headers.origin;
    if (origin === undefined || origin === own || hostOf(origin) === req.headers.host) return next();
    next(crossSiteRequest());
  };
}

function hostOf(origin: string): string | undefined {
  try {
    return new URL(origin).host || undefined;
  } catch {
    return undefined;
  }
}
