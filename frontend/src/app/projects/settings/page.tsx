import { Suspense } from "react";

import { RequireAuth } from "@/components/auth/RequireAuth";
import { SettingsPage } from "@/components/project/SettingsPage";
import { Loading } from "@/components/ui/states";

export const metadata = { title: "Settings · Pulse" };

// A static export cannot pre-render one page per project, so the project is in the query
// string (?id=…): the same HTML serves every project from S3/CloudFront and the local runtime.
export default function Page() {
  return (
    <RequireAuth>
      <Suspense fallback={<Loading />}>
        <SettingsPage />
      </Suspense>
    </RequireAuth>
  );
}
