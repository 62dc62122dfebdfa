import { useEffect, useState } from "react";
import { Alert, Card, Descriptions, Empty, Input, Result, Select, Space, Spin, Table, Tag, Timeline, Typography } from "antd";
import { Link, useParams } from "react-router-dom";
import { api, ApiError, PageOf, problemText, query } from "../api";
import { DEAL_KIND, DEAL_STATUS, LICENSE_TYPE, FILING_STATUS, HISTORY_KIND, ORG_KIND, PATENT_STATUS, PATENT_TYPE, PLEDGE_STATUS, PREFECTURES, SIZE, formatValue, label } from "../labels";
import type { Deal } from "./Queues";

type Row = Record<string, any>;

function useFetch<T>(url: string | null) {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    if (!url) return;
    setData(null);
    setError(null);
    api.get<T>(url).then(setData, setError);
  }, [url]);
  return { data, error };
}

export function Failure({ error, what }: { error: unknown; what: string }) {
  if (error instanceof ApiError && error.problem.status === 404) return <Result status="404" title={`${what}不存在或不在您的权限范围内`} />;
  return <Alert type="error" showIcon message={`无法加载${what}`} description={problemText(error)} />;
}

function ListPage({ title, url, columns, filters }: { title: string; url: string; columns: any[]; filters: React.ReactNode }) {
  const { data, error } = useFetch<PageOf<Row>>(url);
  return (
    <Space direction="vertical" size="middle" style={{ width: "100%" }}>
      <Typography.Title level={3}>{title}</Typography.Title>
      {filters}
      {error ? <Failure error={error} what={title} /> : (
        <Table rowKey={(r: Row) => r.id ?? r.number} loading={data === null} dataSource={data?.items ?? []} columns={columns}
               locale={{ emptyText: <Empty description="没有符合条件的记录" /> }} pagination={{ pageSize: 20 }} scroll={{ x: 900 }} />
      )}
    </Space>
  );
}

export function OrganizationsPage() {
  const [q, setQ] = useState("");
  const [prefecture, setPrefecture] = useState<string | undefined>();
  return (
    <ListPage title="机构" url={`/api/registry/organizations${query({ q, prefecture_code: prefecture, limit: 200 })}`}
      filters={<Space wrap>
        <Input.Search placeholder="名称包含…" allowClear onSearch={setQ} style={{ width: 280 }} aria-label="名称" />
        <Select placeholder="市州" allowClear style={{ width: 160 }} value={prefecture} onChange={setPrefecture} aria-label="市州"
                options={Object.entries(PREFECTURES).map(([value, l]) => ({ value, label: l }))} />
      </Space>}
      columns={[
        { title: "名称", dataIndex: "name", render: (n: string, o: Row) => <Link to={`/organizations/${o.id}`}>{n}</Link> },
        { title: "统一社会信用代码", dataIndex: "uscc" },
        { title: "类型", dataIndex: "kind", render: (k: string) => label(ORG_KIND, k) },
        { title: "规模", dataIndex: "size", render: (s: string) => label(SIZE, s) },
        { title: "市州", dataIndex: "prefecture_name" },
        { title: "行业", dataIndex: "industry_label" },
      ]} />
  );
}

export function OrganizationDetail() {
  const { id } = useParams();
  const org = useFetch<Row>(`/api/registry/organizations/${id}`);
  const reports = useFetch<PageOf<Row> | Row[]>(`/api/registry/organizations/${id}/annual-reports`);
  if (org.error) return <Failure error={org.error} what="机构" />;
  if (!org.data) return <Spin />;
  const o = org.data;
  const reportItems = reports.data ? (Array.isArray(reports.data) ? reports.data : reports.data.items) : [];
  return (
    <Space direction="vertical" size="middle" style={{ width: "100%" }}>
      <Typography.Title level={3}>{o.name}</Typography.Title>
      <Descriptions bordered size="small" column={{ xs: 1, lg: 2, xxl: 3 }} items={[
        { label: "统一社会信用代码", children: o.uscc },
        { label: "类型", children: label(ORG_KIND, o.kind) },
        { label: "规模", children: label(SIZE, o.size) },
        { label: "地区", children: `${o.region_name ?? ""}（${o.region_code}）` },
        { label: "市州", children: o.prefecture_name ?? o.prefecture_code },
        { label: "行业", children: o.industry_label ?? "—" },
      ]} />
      <Card size="small" title="年度报告">
        {reports.error ? <Alert type="warning" message={problemText(reports.error)} /> : (
          <Table rowKey="year" loading={reports.data === null} dataSource={reportItems} pagination={false}
                 locale={{ emptyText: "暂无年度报告" }} columns={[
            { title: "年度", dataIndex: "year" },
            { title: "营业收入", dataIndex: "revenue", render: (v: string) => formatValue("money", v) },
            { title: "从业人数", dataIndex: "employees" },
          ]} />
        )}
      </Card>
      <Card size="small" title="专利"><PatentTable url={`/api/registry/patents${query({ owner_id: id, limit: 200 })}`} /></Card>
    </Space>
  );
}

function OrgLinks({ ids }: { ids: string[] }) {
  const [names, setNames] = useState<Record<string, string>>({});
  useEffect(() => {
    ids.forEach((id) => api.get<Row>(`/api/registry/organizations/${id}`).then(
      (o) => setNames((n) => ({ ...n, [id]: o.name })), () => undefined));
  }, [ids.join(",")]);
  if (ids.length === 0) return <>—</>;
  return <>{ids.map((id, i) => <span key={id}>{i > 0 && "、"}<Link to={`/organizations/${id}`}>{names[id] ?? id.slice(0, 8) + "…"}</Link></span>)}</>;
}

function PatentTable({ url }: { url: string }) {
  const { data, error } = useFetch<PageOf<Row>>(url);
  if (error) return <Failure error={error} what="专利" />;
  return <Table rowKey="number" loading={data === null} dataSource={data?.items ?? []} pagination={{ pageSize: 20 }}
                locale={{ emptyText: "没有专利" }} columns={patentColumns} />;
}

const patentColumns = [
  { title: "专利号", dataIndex: "number", render: (n: string) => <Link to={`/patents/${n}`}>{n}</Link> },
  { title: "名称", dataIndex: "title" },
  { title: "类型", dataIndex: "type", render: (t: string) => label(PATENT_TYPE, t) },
  { title: "状态", dataIndex: "status", render: (t: string) => label(PATENT_STATUS, t) },
  { title: "质押", dataIndex: "pledged", render: (p: boolean) => (p ? <Tag color="orange">质押中</Tag> : "否") },
];

export function PatentsPage() {
  const [q, setQ] = useState("");
  return (
    <ListPage title="专利" url={`/api/registry/patents${query({ q, limit: 200 })}`} columns={patentColumns}
      filters={<Input.Search placeholder="名称包含…" allowClear onSearch={setQ} style={{ width: 280 }} aria-label="名称" />} />
  );
}

export function PatentDetail() {
  const { number } = useParams();
  const patent = useFetch<Row>(`/api/registry/patents/${number}`);
  const history = useFetch<PageOf<Row>>(`/api/registry/patents/${number}/history${query({ limit: 500 })}`);
  const demands = useFetch<{ items: Row[] }>(`/api/market/patents/${number}/demands`);
  if (patent.error) return <Failure error={patent.error} what="专利" />;
  if (!patent.data) return <Spin />;
  const p = patent.data;
  return (
    <Space direction="vertical" size="middle" style={{ width: "100%" }}>
      <Typography.Title level={3}>{p.title}（{p.number}）</Typography.Title>
      <Descriptions bordered size="small" column={{ xs: 1, lg: 2 }} items={[
        { label: "类型", children: label(PATENT_TYPE, p.type) }, { label: "状态", children: label(PATENT_STATUS, p.status) },
        { label: "专利权人", children: <OrgLinks ids={p.owner_ids ?? []} /> },
        { label: "质押", children: p.pledged ? "质押中" : "否" },
      ]} />
      <Card size="small" title="权属变更时间线">
        {history.error ? <Alert type="warning" message={problemText(history.error)} /> : !history.data ? <Spin /> :
          history.data.items.length === 0 ? <Empty description="暂无记录" /> : (
            <Timeline data-testid="history" items={history.data.items.map((h) => ({
              children: (
                <Space direction="vertical" size={0}>
                  <span><b>{h.effective_on ?? String(h.at).slice(0, 10)}</b> · {label(HISTORY_KIND, h.kind)}</span>
                  {h.kind === "ownership_changed" && (
                    <span>专利权人：<OrgLinks ids={h.owners_before} /> → <OrgLinks ids={h.owners_after} /></span>
                  )}
                  {h.details?.deal_id && <Link to={`/deals/${h.details.deal_id}`}>查看交易</Link>}
                </Space>
              ),
            }))} />
          )}
      </Card>
      <Card size="small" title="匹配到此专利的技术需求">
        {demands.error ? <Alert type="warning" message={problemText(demands.error)} /> : (
          <Table rowKey={(r: Row) => r.demand.id} loading={demands.data === null} dataSource={demands.data?.items ?? []}
                 pagination={false} size="small" locale={{ emptyText: "暂无技术需求匹配到此专利" }} data-testid="patent-demands" columns={[
            { title: "技术需求", render: (_: unknown, r: Row) => <Link to={`/demands/${r.demand.id}`}>{r.demand.title}</Link> },
            { title: "需求企业", render: (_: unknown, r: Row) => r.demand.sme_name },
            { title: "排名", dataIndex: "rank" },
            { title: "匹配度", dataIndex: "score" },
            { title: "截止日期", render: (_: unknown, r: Row) => r.demand.expires_on },
          ]} />
        )}
      </Card>
    </Space>
  );
}

export function DealsPage() {
  const [status, setStatus] = useState<string | undefined>();
  const [kind, setKind] = useState<string | undefined>();
  return (
    <ListPage title="交易" url={`/api/transactions/deals${query({ status, kind, limit: 200 })}`}
      filters={<Space wrap>
        <Select placeholder="状态" allowClear style={{ width: 140 }} value={status} onChange={setStatus} aria-label="状态"
                options={Object.entries(DEAL_STATUS).map(([value, l]) => ({ value, label: l }))} />
        <Select placeholder="类型" allowClear style={{ width: 140 }} value={kind} onChange={setKind} aria-label="类型"
                options={Object.entries(DEAL_KIND).map(([value, l]) => ({ value, label: l }))} />
      </Space>}
      columns={[
        { title: "交易", dataIndex: "id", render: (id: string) => <Link to={`/deals/${id}`}>{id.slice(0, 8)}…</Link> },
        { title: "类型", dataIndex: "kind", render: (k: string, d: Row) => label(DEAL_KIND, k) + (d.license_type ? `（${label(LICENSE_TYPE, d.license_type)}）` : "") },
        { title: "状态", dataIndex: "status", render: (s: string) => label(DEAL_STATUS, s) },
        { title: "受让方", render: (_: unknown, d: Row) => d.transferee?.name },
        { title: "合同金额", dataIndex: "contract_amount", render: (v: string) => formatValue("money", v) },
        { title: "实际到账", dataIndex: "received_amount", render: (v: string) => formatValue("money", v) },
        { title: "登记日期", dataIndex: "recorded_on" },
      ]} />
  );
}

export function DealDetail() {
  const { id } = useParams();
  const deal = useFetch<Deal>(`/api/transactions/deals/${id}`);
  const payments = useFetch<PageOf<Row>>(`/api/transactions/deals/${id}/payments`);
  const numbers = deal.data?.patent_numbers ?? [];
  const pledges = useFetch<PageOf<Row>>(deal.data ? `/api/pledge/pledges${query({ limit: 500 })}` : null);
  const filings = useFetch<PageOf<Row>>(deal.data ? `/api/product-filing/filings${query({ org_id: deal.data.transferee_id, limit: 500 })}` : null);
  if (deal.error) return <Failure error={deal.error} what="交易" />;
  if (!deal.data) return <Spin />;
  const d = deal.data;
  const related = (rows: Row[] | undefined) => (rows ?? []).filter((r) => (r.patent_numbers ?? []).some((n: string) => numbers.includes(n)));
  return (
    <Space direction="vertical" size="middle" style={{ width: "100%" }}>
      <Typography.Title level={3}>交易 {d.id}</Typography.Title>
      <Descriptions bordered size="small" column={{ xs: 1, lg: 2 }} items={[
        { label: "类型", children: label(DEAL_KIND, d.kind) + (d.license_type ? `（${label(LICENSE_TYPE, d.license_type)}）` : "") },
        { label: "状态", children: label(DEAL_STATUS, d.status) },
        { label: "专利", children: d.patent_numbers.map((n) => <Link key={n} to={`/patents/${n}`} style={{ marginRight: 8 }}>{n}</Link>) },
        { label: "转让方", children: d.transferors.map((t) => t.name).join("、") },
        { label: "受让方", children: d.transferee.name },
        { label: "合同日期", children: d.contract_date }, { label: "合同金额", children: formatValue("money", d.contract_amount) },
        { label: "实际到账", children: formatValue("money", d.received_amount) }, { label: "登记日期", children: d.recorded_on ?? "—" },
      ]} />
      <Card size="small" title="到账记录">
        {payments.error ? <Alert type="warning" message={problemText(payments.error)} /> : (
          <Table rowKey="id" loading={payments.data === null} dataSource={payments.data?.items ?? []} pagination={false}
                 locale={{ emptyText: "暂无到账" }} columns={[
            { title: "到账日期", dataIndex: "received_on" },
            { title: "金额", dataIndex: "amount", render: (v: string) => formatValue("money", v) },
            { title: "凭证号", dataIndex: "reference" },
          ]} />
        )}
      </Card>
      <Card size="small" title="相关质押登记">
        {pledges.error ? <Alert type="warning" message={problemText(pledges.error)} /> : (
          <Table rowKey="id" loading={pledges.data === null} dataSource={related(pledges.data?.items)} pagination={false}
                 locale={{ emptyText: "无" }} columns={[
            { title: "登记日期", dataIndex: "registered_on" }, { title: "金额", dataIndex: "amount", render: (v: string) => formatValue("money", v) },
            { title: "状态", dataIndex: "status", render: (s: string) => label(PLEDGE_STATUS, s) },
          ]} />
        )}
      </Card>
      <Card size="small" title="相关专利产品备案">
        {filings.error ? <Alert type="warning" message={problemText(filings.error)} /> : (
          <Table rowKey="id" loading={filings.data === null} dataSource={related(filings.data?.items)} pagination={false}
                 locale={{ emptyText: "无" }} columns={[
            { title: "产品", dataIndex: "product_name" }, { title: "状态", dataIndex: "status", render: (s: string) => label(FILING_STATUS, s) },
          ]} />
        )}
      </Card>
    </Space>
  );
}
