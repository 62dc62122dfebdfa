import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

// `npm run dev` proxies the console server's endpoints to a `make run` on this machine.
export default defineConfig({
  plugins: [react()],
  build: { outDir: "dist", chunkSizeWarningLimit: 4000 },
  server: { proxy: { "/api": "http://127.0.0.1:8000", "/console/api": "http://127.0.0.1:8000" } },
});
