import { Suspense } from "react";

import { RequireAuth } from "@/components/auth/RequireAuth";
import { FunnelsPage } from "@/components/funnels/FunnelsPage";
import { Loading } from "@/components/ui/states";

export const metadata = { title: "Funnels · Pulse" };

// The project is in the query string (?id=…), as on the other project pages (static export).
export default function Page() {
  return (
    <RequireAuth>
      <Suspense fallback={<Loading />}>
        <FunnelsPage />
      </Suspense>
    </RequireAuth>
  );
}
