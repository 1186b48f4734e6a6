import { Suspense } from "react";

import { RequireAuth } from "@/components/auth/RequireAuth";
import { ProjectDashboard } from "@/components/project/ProjectDashboard";
import { Loading } from "@/components/ui/states";

export const metadata = { title: "Dashboard · Pulse" };

// A static export cannot pre-render one page per project, so the project is in the query
// string (?id=…): the same HTML serves every project from S3/CloudFront and the local runtime.
export default function Page() {
  return (
    <RequireAuth>
      <Suspense fallback={<Loading />}>
        <ProjectDashboard />
      </Suspense>
    </RequireAuth>
  );
}
