// The console server's API: the session (/console/api/…) and the services behind its proxy (/api/<service>/…).
// The session cookie is HttpOnly; the CSRF token lives only in memory and goes back on every write.

export interface Problem {
  type?: string;
  title?: string;
  status: number;
  detail: string;
  errors?: { loc: (string | number)[]; msg: string }[];
}

export class ApiError extends Error {
  problem: Problem;
  constructor(problem: Problem) {
    super(problem.detail);
    this.problem = problem;
  }
}

export interface User {
  id: string;
  username: string;
  display_name: string;
  role: "admin" | "viewer" | "prefecture";
  prefecture_code: string | null;
}

let csrfToken = "";
export function setCsrf(token: string) {
  csrfToken = token;
}

let onSignedOut: () => void = () => {};
export function whenSignedOut(callback: () => void) {
  onSignedOut = callback;
}

let sequence = 0;
function idempotencyKey(): string {
  sequence += 1;
  return `console-${Date.now()}-${sequence}-${Math.random().toString(36).slice(2)}`;
}

export async function request<T>(method: string, url: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "GET") {
    headers["X-CSRF-Token"] = csrfToken;
    if (method === "POST" || method === "PUT") headers["Idempotency-Key"] = idempotencyKey();
  }
  let response: Response;
  try {
    response = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body),
                                  credentials: "same-origin" });
  } catch {
    throw new ApiError({ status: 0, detail: "无法连接控制台服务器" });
  }
  if (response.status === 204) return undefined as T;
  const text = await response.text();
  let data: unknown = undefined;
  try {
    data = text ? JSON.parse(text) : undefined;
  } catch {
    data = undefined;
  }
  if (!response.ok) {
    const problem = (data as Problem) ?? { status: response.status, detail: text || response.statusText };
    if (response.status === 401 && !url.startsWith("/console/api/login")) onSignedOut();
    throw new ApiError({ ...problem, status: response.status, detail: problem.detail ?? response.statusText });
  }
  return data as T;
}

export const api = {
  get: <T>(url: string) => request<T>("GET", url),
  post: <T>(url: string, body?: unknown) => request<T>("POST", url, body ?? {}),
  put: <T>(url: string, body?: unknown) => request<T>("PUT", url, body ?? {}),
  patch: <T>(url: string, body?: unknown) => request<T>("PATCH", url, body ?? {}),
};

export interface PageOf<T> {
  items: T[];
  next_cursor: string | null;
}

export function query(params: Record<string, string | number | boolean | undefined | null>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== "") search.set(key, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}

/** The detail of a failure, and of each field it names (the last part of `loc`). */
export function problemText(error: unknown): string {
  if (error instanceof ApiError) {
    const fields = (error.problem.errors ?? []).filter((e) => e.msg !== error.problem.detail)
      .map((e) => `${e.loc.slice(1).join(".")}: ${e.msg}`);
    return [error.problem.detail, ...fields].filter(Boolean).join("；");
  }
  return String(error);
}

export function fieldErrors(error: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (error instanceof ApiError) {
    for (const e of error.problem.errors ?? []) {
      const name = String(e.loc[e.loc.length - 1]);
      out[name] = out[name] ? `${out[name]}；${e.msg}` : e.msg;
    }
  }
  return out;
}
