// The portal's only way to the server: the REST API under /api/v1 with the cookie
// session. State-changing requests carry the session's CSRF token; errors come back as
// ApiError with the API's own code and message, which the pages show as they are.

let csrf = '';

/** An error answered by the API ({"error":{"code","message"}}) or by the network. */
export class ApiError extends Error {
  constructor(status, code, message, body) {
    super(message);
    this.status = status;
    this.code = code;
    this.body = body;
  }
}

/** Remembers the CSRF token of the current session (from GET /portal/session). */
export function setCsrf(token) {
  csrf = token || '';
}

/**
 * Calls the API. `path` is relative to /api/v1 unless it starts with '/'. A string body is
 * sent as text/csv, anything else as JSON. Resolves to the parsed JSON (or text), null
 * for 204; rejects with ApiError. A 401 means the session ended: back to sign-in.
 */
export async function api(method, path, body) {
  const url = path.startsWith('/') ? path : `/api/v1/${path}`;
  const headers = { Accept: 'application/json' };
  if (method !== 'GET' && method !== 'HEAD') headers['X-CSRF-Token'] = csrf;
  let payload;
  if (typeof body === 'string') {
    headers['Content-Type'] = 'text/csv';
    payload = body;
  } else if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(url, { method, headers, body: payload, credentials: 'same-origin' });
  } catch (err) {
    throw new ApiError(0, 'network', `The server could not be reached (${err.message}).`, null);
  }
  if (response.status === 204) return null;
  const text = await response.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = null;
  }
  if (!response.ok) {
    const error = json && json.error;
    if (response.status === 401 && !url.startsWith('/portal/session')) {
      location.assign('/portal/signin');
    }
    throw new ApiError(
      response.status,
      (error && error.code) || `http_${response.status}`,
      (error && error.message) || text || response.statusText,
      json,
    );
  }
  return json ?? text;
}

/** URL-encodes one path segment. */
export const seg = (value) => encodeURIComponent(String(value));
