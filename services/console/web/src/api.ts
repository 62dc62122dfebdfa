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

// What a refusal means, in the office's words, before the service's own detail (which the services write in
// English and which stays word for word: it is what an operator quotes to support).
const STATUS_SUMMARY: Record<number, string> = {
  400: "请求有误", 401: "未登录或登录已过期", 403: "无权执行此操作", 404: "记录不存在或不在您的权限范围内",
  409: "与现有记录冲突，未作任何更改", 412: "记录已被他人修改，请刷新后重试", 413: "提交的内容过大", 422: "输入有误，未作任何更改",
  423: "账户已锁定", 428: "缺少前提条件，请刷新后重试", 429: "操作过于频繁，请稍后再试", 503: "服务暂不可用，请稍后重试",
};

// pydantic's usual messages of a field, in Chinese; any other message shows as the service wrote it.
const FIELD_MESSAGES: [RegExp, (m: RegExpMatchArray) => string][] = [
  [/^Field required$/, () => "必填"],
  [/^Input should be a valid date/, () => "应为日期，格式 YYYY-MM-DD"],
  [/^Input should be a valid integer/, () => "应为整数"],
  [/^Input should be a valid (number|decimal)/, () => "应为数字"],
  [/^Input should be a valid boolean/, () => "应为是或否"],
  [/^String should have at most (\d+) characters?$/, (m) => `最多 ${m[1]} 个字符`],
  [/^String should have at least (\d+) characters?$/, (m) => `至少 ${m[1]} 个字符`],
  [/^List should have at least (\d+) items?/, (m) => `至少 ${m[1]} 项`],
  [/^Extra inputs are not permitted$/, () => "不接受此字段"],
];

export function fieldMessage(msg: string): string {
  const text = msg.replace(/^Value error, /, "");
  for (const [pattern, say] of FIELD_MESSAGES) {
    const found = text.match(pattern);
    if (found) return say(found);
  }
  return text;
}

/** A failure for a person: what it means in Chinese, the service's detail, and each field it names. */
export function problemText(error: unknown, summaries: Record<number, string> = {}): string {
  if (error instanceof ApiError) {
    const { status, detail } = error.problem;
    const fields = (error.problem.errors ?? []).filter((e) => e.msg !== detail)
      .map((e) => `${e.loc.slice(1).join(".")}：${fieldMessage(e.msg)}`);
    const summary = summaries[status] ?? STATUS_SUMMARY[status] ?? (status >= 500 ? "服务器内部错误，请联系运维人员" : undefined);
    const said = [detail, ...fields].filter(Boolean).join("；");
    return summary && summary !== detail ? `${summary}${said ? `：${said}` : ""}` : said;
  }
  return String(error);
}

export function fieldErrors(error: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (error instanceof ApiError) {
    for (const e of error.problem.errors ?? []) {
      const name = String(e.loc[e.loc.length - 1]);
      const msg = fieldMessage(e.msg);
      out[name] = out[name] ? `${out[name]}；${msg}` : msg;
    }
  }
  return out;
}
