import { useEffect, useState } from "react";
import { Link, Navigate, Route, Routes, useLocation, useNavigate } from "react-router-dom";
import { Button, Layout, Menu, Result, Space, Spin, Typography } from "antd";
import { api, setCsrf, User, whenSignedOut } from "./api";
import { ROLE, PREFECTURES, label } from "./labels";
import { LoginPage } from "./pages/Login";
import { DashboardPage } from "./pages/Dashboard";
import { QueuesPage } from "./pages/Queues";
import { ReportsPage } from "./pages/Reports";
import { AdminPage } from "./pages/Admin";
import { DemandDetail, DemandsPage, OpenLicencesPage } from "./pages/Market";
import { DealDetail, DealsPage, OrganizationDetail, OrganizationsPage, PatentDetail, PatentsPage } from "./pages/Search";

interface SessionInfo {
  user: User;
  csrf_token: string;
}

export function useUser(): User {
  return currentUser!;
}
let currentUser: User | null = null;

export function App() {
  const [session, setSession] = useState<SessionInfo | null | undefined>(undefined);
  const navigate = useNavigate();
  const location = useLocation();

  useEffect(() => {
    whenSignedOut(() => setSession(null));
    api.get<SessionInfo>("/console/api/session").then(
      (s) => {
        setCsrf(s.csrf_token);
        setSession(s);
      },
      () => setSession(null),
    );
  }, []);

  if (session === undefined) return <Spin style={{ margin: 80 }} tip="加载中" fullscreen />;
  if (session === null) {
    return (
      <LoginPage
        onSignedIn={(s: SessionInfo) => {
          setCsrf(s.csrf_token);
          setSession(s);
          if (location.pathname === "/login") navigate("/");
        }}
      />
    );
  }
  currentUser = session.user;
  const admin = session.user.role === "admin";
  const selected = "/" + (location.pathname.split("/")[1] ?? "");
  const items = [
    { key: "/", label: <Link to="/">总览</Link> },
    { key: "/queues", label: <Link to="/queues">待办</Link> },
    { key: "/organizations", label: <Link to="/organizations">机构</Link> },
    { key: "/patents", label: <Link to="/patents">专利</Link> },
    { key: "/deals", label: <Link to="/deals">交易</Link> },
    { key: "/open-licences", label: <Link to="/open-licences">开放许可</Link> },
    { key: "/demands", label: <Link to="/demands">技术需求</Link> },
    { key: "/reports", label: <Link to="/reports">报表</Link> },
    ...(admin ? [{ key: "/admin", label: <Link to="/admin">系统管理</Link> }] : []),
  ];
  const signOut = async () => {
    await api.post("/console/api/logout").catch(() => undefined);
    setSession(null);
    navigate("/");
  };
  return (
    <Layout style={{ minHeight: "100vh" }}>
      <Layout.Header style={{ display: "flex", alignItems: "center", gap: 24, paddingInline: 24 }}>
        <Typography.Text strong style={{ color: "#fff", fontSize: 16, whiteSpace: "nowrap" }}>
          贵州省专利转化运营 · 管理控制台
        </Typography.Text>
        <Menu theme="dark" mode="horizontal" selectedKeys={[selected]} items={items} style={{ flex: 1, minWidth: 0 }} />
        <Space>
          <Typography.Text style={{ color: "#fff" }} data-testid="whoami">
            {session.user.display_name}（{label(ROLE, session.user.role)}
            {session.user.prefecture_code ? ` · ${label(PREFECTURES, session.user.prefecture_code)}` : ""}）
          </Typography.Text>
          <Button size="small" onClick={signOut}>退出登录</Button>
        </Space>
      </Layout.Header>
      <Layout.Content style={{ padding: 24, maxWidth: 1800, width: "100%", margin: "0 auto" }}>
        <Routes>
          <Route path="/" element={<DashboardPage />} />
          <Route path="/queues" element={<QueuesPage />} />
          <Route path="/reports" element={<ReportsPage />} />
          <Route path="/admin" element={admin ? <AdminPage /> : <Result status="403" title="无权访问" />} />
          <Route path="/organizations" element={<OrganizationsPage />} />
          <Route path="/organizations/:id" element={<OrganizationDetail />} />
          <Route path="/patents" element={<PatentsPage />} />
          <Route path="/patents/:number" element={<PatentDetail />} />
          <Route path="/deals" element={<DealsPage />} />
          <Route path="/deals/:id" element={<DealDetail />} />
          <Route path="/open-licences" element={<OpenLicencesPage />} />
          <Route path="/demands" element={<DemandsPage />} />
          <Route path="/demands/:id" element={<DemandDetail />} />
          <Route path="/login" element={<Navigate to="/" />} />
          <Route path="*" element={<Result status="404" title="页面不存在" />} />
        </Routes>
      </Layout.Content>
    </Layout>
  );
}
