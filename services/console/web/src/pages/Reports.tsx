import { useEffect, useState } from "react";
import { Alert, Button, Card, Space, Spin, Typography } from "antd";
import { defaultYear, ProgramYearPicker, usePrograms } from "./Dashboard";
import { query } from "../api";

export function ReportsPage() {
  const { programs, error } = usePrograms();
  const [programId, setProgramId] = useState<string | null>(null);
  const [year, setYear] = useState<number | null>(null);
  useEffect(() => {
    if (programs && programs.length && !programId) {
      const first = programs.find((p) => p.id === "gz-2021-2023") ?? programs[0];
      setProgramId(first.id);
      setYear(defaultYear(first));
    }
  }, [programs]);
  if (error) return <Alert type="error" showIcon message="无法加载计划" description={error} />;
  if (!programs || !programId || !year) return <Spin />;
  const href = (format: string) => `/api/metrics/programs/${programId}/report${query({ year, format })}`;
  return (
    <Space direction="vertical" size="middle" style={{ width: "100%" }}>
      <Typography.Title level={3}>报表</Typography.Title>
      <Card>
        <Space direction="vertical">
          <ProgramYearPicker programs={programs} programId={programId} year={year}
                             onChange={(p, y) => { setProgramId(p); setYear(y); }} />
          <Typography.Text type="secondary">年度进度表（中文表头），用于向上级报送。</Typography.Text>
          <Space>
            <Button type="primary" href={href("xlsx")} download data-testid="download-xlsx">下载 Excel（xlsx）</Button>
            <Button href={href("csv")} download data-testid="download-csv">下载 CSV</Button>
          </Space>
        </Space>
      </Card>
    </Space>
  );
}
