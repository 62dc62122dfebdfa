import { useCallback, useEffect, useState } from "react";
import { Alert, Input, Space, Table, Tabs, Typography } from "antd";
import { Link } from "react-router-dom";
import { api, PageOf, problemText, query } from "../api";
import { ConfirmAction, today } from "../Action";
import { DEAL_KIND, FILING_STATUS, LICENSE_TYPE, PREFECTURES, formatValue, label } from "../labels";
import { useUser } from "../App";

interface Party { id?: string; org_id?: string; name?: string }
export interface Deal {
  id: string; kind: string; license_type: string | null; patent_numbers: string[]; transferors: Party[];
  transferee: Party; transferee_id: string; contract_date: string; contract_amount: string; status: string;
  pledgee_consent: boolean; recorded_on: string | null; received_amount: string;
}
interface Filing {
  id: string; status: string; org_id: string; filer: Party; product_name: string; patent_numbers: string[];
  region_code: string; prefecture_code: string; approved_on: string | null; reason: string | null;
}

function useList<T>(url: string) {
  const [items, setItems] = useState<T[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const load = useCallback(() => {
    api.get<PageOf<T>>(url).then((p) => { setItems(p.items); setError(null); }, (e) => setError(problemText(e)));
  }, [url]);
  useEffect(load, [load]);
  return { items, error, reload: load };
}

function DealQueue() {
  const admin = useUser().role === "admin";
  const { items, error, reload } = useList<Deal>(`/api/transactions/deals${query({ status: "submitted", limit: 200 })}`);
  if (error) return <Alert type="error" showIcon message="无法加载待登记交易" description={error} />;
  return (
    <Table<Deal> rowKey="id" loading={items === null} dataSource={items ?? []} size="middle" data-testid="deal-queue"
                 locale={{ emptyText: "没有待登记的交易" }} pagination={{ pageSize: 20 }} scroll={{ x: 1000 }}
                 columns={[
      { title: "交易", dataIndex: "id", render: (id: string) => <Link to={`/deals/${id}`}>{id.slice(0, 8)}…</Link> },
      { title: "类型", dataIndex: "kind", render: (k: string, d) => label(DEAL_KIND, k) + (d.license_type ? `（${label(LICENSE_TYPE, d.license_type)}）` : "") },
      { title: "专利", dataIndex: "patent_numbers", render: (p: string[]) => p.join("、") },
      { title: "转让方", render: (_, d) => d.transferors.map((t) => t.name).join("、") },
      { title: "受让方", render: (_, d) => d.transferee.name },
      { title: "合同金额", dataIndex: "contract_amount", render: (v: string) => formatValue("money", v) },
      { title: "合同日期", dataIndex: "contract_date" },
      { title: "质权人同意", dataIndex: "pledgee_consent", render: (v: boolean) => (v ? "是" : "否") },
      ...(admin ? [{
        title: "操作", key: "actions", render: (_: unknown, d: Deal) => (
          <Space data-testid={`deal-actions-${d.id}`}>
            <ConfirmAction title="登记交易（登记/备案生效）" buttonText="登记" testId={`record-${d.id}`} onDone={reload}
              fields={[
                { name: "recorded_on", label: "登记日期", initial: today(), input: <Input placeholder="YYYY-MM-DD" /> },
                { name: "recordation_no", label: "登记号", required: false, input: <Input /> },
              ]}
              onConfirm={(v) => api.post(`/api/transactions/deals/${d.id}/record`,
                { recorded_on: v.recorded_on, ...(v.recordation_no ? { recordation_no: v.recordation_no } : {}) })} />
            <ConfirmAction title="取消交易" buttonText="取消" danger testId={`cancel-${d.id}`} onDone={reload}
              fields={[{ name: "reason", label: "取消原因", input: <Input.TextArea rows={2} /> }]}
              onConfirm={(v) => api.post(`/api/transactions/deals/${d.id}/cancel`, { reason: v.reason })} />
          </Space>
        ),
      }] : []),
    ]} />
  );
}

function FilingQueue({ status }: { status: "submitted" | "approved" }) {
  const admin = useUser().role === "admin";
  const { items, error, reload } = useList<Filing>(`/api/product-filing/filings${query({ status, limit: 200 })}`);
  if (error) return <Alert type="error" showIcon message="无法加载专利产品备案" description={error} />;
  return (
    <Table<Filing> rowKey="id" loading={items === null} dataSource={items ?? []} size="middle"
                   locale={{ emptyText: status === "submitted" ? "没有待审核的备案" : "没有已通过的备案" }}
                   pagination={{ pageSize: 20 }} scroll={{ x: 900 }} columns={[
      { title: "产品", dataIndex: "product_name" },
      { title: "备案企业", render: (_, f) => f.filer?.name ?? f.org_id },
      { title: "市州", dataIndex: "prefecture_code", render: (c: string) => label(PREFECTURES, c) },
      { title: "专利", dataIndex: "patent_numbers", render: (p: string[]) => p.join("、") },
      { title: "状态", dataIndex: "status", render: (s: string) => label(FILING_STATUS, s) },
      ...(admin ? [{
        title: "操作", key: "actions", render: (_: unknown, f: Filing) => status === "submitted" ? (
          <Space>
            <ConfirmAction title="通过专利产品备案" buttonText="通过" testId={`approve-${f.id}`} onDone={reload}
              fields={[{ name: "approved_on", label: "认定日期", initial: today(), input: <Input placeholder="YYYY-MM-DD" /> }]}
              onConfirm={(v) => api.post(`/api/product-filing/filings/${f.id}/approve`, { approved_on: v.approved_on })} />
            <ConfirmAction title="驳回专利产品备案" buttonText="驳回" danger testId={`reject-${f.id}`} onDone={reload}
              fields={[{ name: "reason", label: "驳回原因", input: <Input.TextArea rows={2} /> }]}
              onConfirm={(v) => api.post(`/api/product-filing/filings/${f.id}/reject`, { reason: v.reason })} />
          </Space>
        ) : (
          <ConfirmAction title="撤销专利产品备案" buttonText="撤销" danger testId={`revoke-${f.id}`} onDone={reload}
            fields={[{ name: "reason", label: "撤销原因", input: <Input.TextArea rows={2} /> }]}
            onConfirm={(v) => api.post(`/api/product-filing/filings/${f.id}/revoke`, { reason: v.reason })} />
        ),
      }] : []),
    ]} />
  );
}

export function QueuesPage() {
  return (
    <Space direction="vertical" style={{ width: "100%" }}>
      <Typography.Title level={3}>待办</Typography.Title>
      <Tabs items={[
        { key: "deals", label: "待登记交易", children: <DealQueue /> },
        { key: "filings", label: "待审核专利产品备案", children: <FilingQueue status="submitted" /> },
        { key: "approved", label: "已通过备案（可撤销）", children: <FilingQueue status="approved" /> },
      ]} />
    </Space>
  );
}
