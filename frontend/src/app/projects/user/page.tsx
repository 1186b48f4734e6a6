import { Suspense } from "react";

import { RequireAuth } from "@/components/auth/RequireAuth";
import { UserPage } from "@/components/project/UserPage";
import { Loading } from "@/components/ui/states";

export const metadata = { title: "User · Pulse" };

// A static export cannot pre-render one page per project, so the project is in the query
// string (?id=…): the same HTML serves every project from S3/CloudFront and the local runtime.
export default function Page() {
  return (
    <RequireAuth>
      <Suspense fallback={<Loading />}>
        <UserPage />
      </Suspense>
    </RequireAuth>
  );
}
