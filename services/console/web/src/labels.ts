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
