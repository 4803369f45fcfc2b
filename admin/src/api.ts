// The admin API, called with the console's session cookie (same origin) instead of the admin
// token; every change carries the session's CSRF token.

export class ApiError extends Error {
  constructor(public status: number, message: string) { super(message); }
}

let csrf = '';
export function setCsrf(token: string): void { csrf = token; }

export async function call<T>(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (method !== 'GET') headers['x-csrf-token'] = csrf;
  let payload: BodyInit | undefined;
  if (body !== undefined) {
    headers['content-type'] = contentType;
    payload = typeof body === 'string' ? body : JSON.stringify(body);
  }
  const r = await fetch(path, { method, headers, body: payload, credentials: 'same-origin', cache: 'no-store' });
  if (r.status === 204) return undefined as T;
  const json = await r.json().catch(() => null);
  if (!r.ok) {
    const message = json?.error?.message ?? `${r.status} ${r.statusText}`;
    if (r.status === 401) window.dispatchEvent(new CustomEvent('signed-out'));
    throw new ApiError(r.status, message);
  }
  return json as T;
}

export const q = (params: Record<string, string | number | boolean | null | undefined>): string => {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== null && v !== undefined && v !== '') u.set(k, String(v));
  const s = u.toString();
  return s ? `?${s}` : '';
};

export const seg = encodeURIComponent;

export interface Session { email: string; name: string; csrf: string; organisation: boolean }
export interface UserInfo { id: string; name: string; email: string | null; disabled_at: string | null; agent_id: string | null; crm_sso_id: string | null; devices: number }
export interface UsersPage { items: UserInfo[]; next_after: string | null }
export interface DeviceInfo { id: string; user_id: string; name: string; os: string; app_version: string; signed_in: boolean; created_at: string; last_seen_at: string | null; last_address: string | null; revoked_at: string | null; revoked_why: string | null }
export interface ImportRow { line: number; email: string; name: string; qontak_agent_id: string | null; crm_sso_id: string | null; user_id: string | null; error: string | null }
export interface ImportReport { dry_run: boolean; rows: ImportRow[]; imported: number; errors: number }
export interface SecretInfo { id: string; created_at: string; rotated_at: string | null; previous_valid_until: string | null; last_used_at: string | null }
export interface IssuedSecret { id: string; secret: string; path: string; previous_valid_until: string | null }
export interface DeadLetter { id: number; source: string; received_at: string; reason: string; body: string; replays: number }
export interface DeadLetterPage { items: DeadLetter[]; next_before: number | null }
export interface AgentStatus { last_success_at: string | null; last_error: string | null; last_error_at: string | null; requests: number; backoff_until: string | null }
export interface AgentView { user_id: string; name: string; agent_id: string | null; crm_sso_id: string | null; crm: AgentStatus | null }
export interface BridgeStatus { configured: boolean; budget_per_minute: number | null; poll_interval_seconds: number | null; paused_until: string | null; pause_reason: string | null }
export interface MaintenanceWindow { id: number; starts_at: string; ends_at: string; message: string }
export interface MaintenanceStatus { active: boolean; until: string | null; windows: MaintenanceWindow[] }
export interface NodeView { id: string; version: string; started_at: string; seen_at: string; streams_open: number; events_received: number; changes_sent: number; delivery_lag_p50_ms: number | null; delivery_lag_p99_ms: number | null; db_p99_ms: number | null; db_unavailable: number; dead_letters: number; stale: boolean }
export interface AuditEntry { id: number; at: string; actor: string; action: string; target: string; address: string | null; detail: string }
export interface AuditPage { items: AuditEntry[]; next_before: number | null }
export interface WebhookAnswer { status: string; [k: string]: unknown }
