// The programme's own terms.
export const DEAL_KIND: Record<string, string> = { transfer: "转让", license: "许可", equity_contribution: "作价入股" };
export const LICENSE_TYPE: Record<string, string> = { exclusive: "独占", sole: "排他", ordinary: "普通", open: "开放许可" };
export const DEAL_STATUS: Record<string, string> = { submitted: "待登记", recorded: "已登记", cancelled: "已取消" };
export const FILING_STATUS: Record<string, string> = { submitted: "待审核", approved: "已通过", rejected: "已驳回", revoked: "已撤销" };
export const PLEDGE_STATUS: Record<string, string> = { registered: "已登记", released: "已注销" };
export const ROLE: Record<string, string> = { admin: "管理员", viewer: "只读用户", prefecture: "市州用户", partner: "合作平台", bank: "银行" };
export const ORG_KIND: Record<string, string> = {
  enterprise: "企业", university: "高校", research_institute: "科研院所", state_owned_enterprise: "国有企业", individual: "个人",
  bank: "银行", other: "其他",
};
export const FEE_BASIS: Record<string, string> = { one_time: "一次性支付", royalty: "按销售额提成", annual: "按年支付" };
export const DECLARATION_STATUS: Record<string, string> = { active: "有效", withdrawn: "已撤回" };
export const DEMAND_STATUS: Record<string, string> = { open: "征集中", expired: "已到期" };
export const MATCH_KIND: Record<string, string> = { open_licence: "开放许可", sleeping: "沉睡专利" };
export const SIZE: Record<string, string> = { micro: "微型", small: "小型", medium: "中型", large: "大型" };
export const PREFECTURES: Record<string, string> = {
  "520100": "贵阳市", "520200": "六盘水市", "520300": "遵义市", "520400": "安顺市", "520500": "毕节市",
  "520600": "铜仁市", "522300": "黔西南州", "522600": "黔东南州", "522700": "黔南州",
};

export function label(map: Record<string, string>, key: string | null | undefined): string {
  if (key === null || key === undefined) return "—";
  return map[key] ?? key;
}

/** A fraction as a percentage of 2 places, rounded half up in decimal ("0.1250" is 12.50%, "0.12345" is 12.35%):
 *  the decimal string is shifted, never turned into a float. A value that is no decimal shows as sent. */
export function percent(rate: string | null | undefined): string {
  if (rate === null || rate === undefined) return "—";
  const parts = /^(-?)(\d+)(?:\.(\d+))?$/.exec(String(rate).trim());
  if (!parts) return String(rate);
  const [, sign, whole, fraction = ""] = parts;
  // The value in ten-thousandths (hundredths of a percent), rounded half up.
  let basisPoints = BigInt(whole + fraction.slice(0, 4).padEnd(4, "0"));
  if (fraction.length > 4 && fraction[4] >= "5") basisPoints += 1n;
  const digits = basisPoints.toString().padStart(3, "0");
  const negative = sign === "-" && basisPoints !== 0n;
  return `${negative ? "-" : ""}${digits.slice(0, -2)}.${digits.slice(-2)}%`;
}

/** Thousands separators in the whole part only: "1234567.1250" is "1,234,567.1250". */
function grouped(value: string): string {
  const [whole, fraction] = value.split(".");
  const out = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  return fraction === undefined ? out : `${out}.${fraction}`;
}

/** An indicator's value by its unit: a rate or ratio (a fraction) as a percentage of 2 places ("0.1250" is
 *  12.50%), money in yuan; a count, or a unit the console does not know, with its whole part grouped. */
export function formatValue(unit: string, value: number | string | null | undefined): string {
  if (value === null || value === undefined) return "—";
  if (unit === "ratio" || unit === "rate") return percent(String(value));
  if (unit === "yuan" || unit === "money") {
    const [whole, cents = "00"] = String(value).split(".");
    return `${grouped(whole)}.${cents} 元`;
  }
  return grouped(String(value));
}

/** The fee standard of an open licence, as a licensee reads it. */
export function feeText(fee: { basis: string; amount: string | null; rate: string | null; minimum: string | null }): string {
  if (fee.basis === "royalty") {
    return `销售额的 ${percent(fee.rate)}` + (fee.minimum ? `，最低 ${formatValue("money", fee.minimum)}` : "");
  }
  return `${label(FEE_BASIS, fee.basis)} ${formatValue("money", fee.amount)}${fee.basis === "annual" ? "/年" : ""}`;
}
export const PATENT_TYPE: Record<string, string> = { invention: "发明", utility_model: "实用新型", design: "外观设计" };
export const PATENT_STATUS: Record<string, string> = { valid: "有效", lapsed: "失效", expired: "届满", invalidated: "无效宣告" };
export const HISTORY_KIND: Record<string, string> = {
  registered: "登记入库", ownership_changed: "权属变更", license_recorded: "许可备案", license_cancelled: "许可撤销",
  pledge_registered: "质押登记", pledge_released: "质押注销", open_licence_declared: "开放许可声明",
  open_licence_withdrawn: "开放许可撤回",
};

// The audit log's action codes (`<what>.<verb>`, `.refused` when the owning service refused it).
export const AUDIT_ACTION: Record<string, string> = {
  "client.create": "创建 API 客户端", "client.update": "修改 API 客户端", "client.rotate_secret": "重置客户端密钥",
  "client.bootstrap": "初始化管理客户端", "token.issue": "签发访问令牌",
  "user.create": "创建工作人员", "user.update": "修改工作人员", "user.reset_password": "重置密码", "user.unlock": "解锁账户",
  "user.change_password": "修改本人密码", "user.sign_in": "登录", "user.sign_in_failed": "登录失败",
  "user.sign_in_throttled": "登录尝试过多，暂被限制", "user.lock": "锁定账户",
  "organization.register": "登记机构", "organization.update": "修改机构", "organization.annual_report": "报送年度报告",
  "patent.register": "登记专利", "patent.update": "修改专利", "patent.ownership_change": "专利权属变更",
  "deal.create": "提交交易", "deal.record": "登记交易", "deal.cancel": "取消交易", "deal.payment": "登记到账",
  "deal.import": "导入交易",
  "pledge.register": "质押登记", "pledge.release": "质押注销",
  "filing.submit": "提交专利产品备案", "filing.approve": "通过专利产品备案", "filing.reject": "驳回专利产品备案",
  "filing.revoke": "撤销专利产品备案",
  "program.create": "创建计划", "program.update": "修改计划目标", "program.baseline.set": "设置基数", "program.seed": "初始化计划",
  "projections.rebuild": "重建指标",
  "open_licence.declare": "开放许可声明", "open_licence.withdraw": "撤回开放许可", "open_licence.accept": "接受开放许可",
  "demand.post": "发布技术需求", "demand.expire": "技术需求到期关闭",
  "outbox.retry": "重发滞留事件",
};

/** An action code in Chinese: a refused one says so; a code the console does not know shows as it is. */
export function auditAction(code: string): string {
  const refused = code.endsWith(".refused");
  const base = refused ? code.slice(0, -".refused".length) : code;
  const history = base.startsWith("patent.") ? HISTORY_KIND[base.slice("patent.".length)] : undefined;
  const known = AUDIT_ACTION[base] ?? (history ? `专利${history}` : undefined);
  if (!known) return code;
  return refused ? `${known}（被拒绝）` : known;
}

export const AUDIT_TARGET: Record<string, string> = {
  client: "API 客户端", user: "工作人员", address: "来源地址", organization: "机构", patent: "专利", deal: "交易",
  pledge: "质押", filing: "专利产品备案", program: "计划", rebuild: "指标重建", outbox: "事件", open_licence: "开放许可",
  demand: "技术需求",
};

// The words of the audit details most entries carry; any other key shows as it is.
export const DETAIL_KEY: Record<string, string> = {
  reason: "原因", kind: "类型", license_type: "许可类型", patent_numbers: "专利号", external_ref: "外部编号",
  transferor_ids: "转让方", transferee_id: "受让方", contract_date: "合同日期", contract_amount: "合同金额",
  recorded_on: "登记日期", recordation_no: "登记号", amount: "金额", received_on: "到账日期", payment_id: "到账记录",
  deal_id: "交易", declaration_id: "开放许可声明", acceptance_id: "接受记录", licensee_id: "被许可企业", sme_id: "需求企业",
  username: "用户名", role: "角色", prefecture_code: "市州", name: "名称", org_id: "机构", address: "来源地址",
  failures: "失败次数", until: "锁定至", was_locked: "原已锁定", created: "新建", generation: "代次", ids: "编号",
  status: "状态", year: "年度", values: "数值", owners_before: "原专利权人", owners_after: "新专利权人", cause: "来源事件",
  title: "名称", number: "专利号", type: "类型", uscc: "统一社会信用代码", region_code: "地区代码", size: "规模",
  industry: "行业", revenue: "营业收入", employees: "从业人数", active: "启用", display_name: "姓名", indicators: "指标",
  declarant_ids: "专利权人", declared_on: "声明日期", withdrawn_on: "撤回日期", accepted_on: "接受日期", term_years: "许可年限",
  fee: "许可费", contact: "联系人", description: "说明", evaluation_reports: "评价报告", pledgee_consent: "质权人同意",
  sme_sector: "中小企业所属行业", annual_report: "年度报告", owner_ids: "专利权人", filing_date: "申请日", grant_date: "授权日",
  ipc: "IPC 分类", licensee_ids: "被许可人", pledged: "质押中", pledgor_id: "出质人", pledgee_id: "质权人",
  registered_on: "登记日期", term_start: "起始日", term_end: "终止日", approved_on: "认定日期", product_name: "产品名称",
  floor: "底线", growth_target: "增长目标", budget_min: "预算下限", budget_max: "预算上限", expires_on: "截止日期",
  first_year: "起始年度", last_year: "结束年度",
};

// The codes some detail keys hold, in Chinese (an organization's or a deal's kind share the key `kind`).
export const DETAIL_VALUE: Record<string, Record<string, string>> = {
  kind: { ...ORG_KIND, ...DEAL_KIND }, size: SIZE, license_type: LICENSE_TYPE, role: ROLE, prefecture_code: PREFECTURES,
  type: PATENT_TYPE,
};

/** One audit detail's value, readable: lists joined, yes/no for booleans, anything nested as compact JSON. */
export function detailValue(value: unknown): string {
  if (value === null || value === undefined || value === "") return "—";
  if (typeof value === "boolean") return value ? "是" : "否";
  if (Array.isArray(value)) return value.every((v) => typeof v !== "object" || v === null) ? value.join("、") : JSON.stringify(value);
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}
